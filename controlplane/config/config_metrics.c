/* balancer.metrics: where siphond serves /metrics (docs/metrics.md). A
 * build without libmicrohttpd has no server: the key is refused there
 * rather than accepted and ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"

void config_metrics_default(struct siphon_config *cfg)
{
#ifdef SIPHON_METRICS
	cfg->metrics_on = true;
	cfg_parse_addr(CONFIG_METRICS_DEFAULT_ADDR, &cfg->metrics_addr);
	cfg->metrics_port = CONFIG_METRICS_DEFAULT_PORT;
	snprintf(cfg->metrics, sizeof(cfg->metrics), "%s:%u", CONFIG_METRICS_DEFAULT_ADDR,
		 CONFIG_METRICS_DEFAULT_PORT);
#else
	snprintf(cfg->metrics, sizeof(cfg->metrics), "off");
#endif
}

/* "A.B.C.D:PORT" or "[V6]:PORT" into addr and port. */
static bool parse(const char *text, struct self_addr *addr, uint16_t *port)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long p;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
		colon = close + 1;
		if (!strchr(host, ':'))
			return false; /* brackets are for IPv6 */
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host) || memchr(text, ':', (size_t)(colon - text)))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	}
	if (cfg_parse_addr(host, addr) || colon[1] < '0' || colon[1] > '9')
		return false;
	p = strtoul(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return false;
	*port = (uint16_t)p;
	return true;
}

int load_metrics(struct loader *L, const config_setting_t *bal)
{
	const config_setting_t *s = config_setting_get_member(bal, "metrics");
	struct siphon_config *cfg = L->cfg;
	const char *text;
	int err;

	if (!s)
		return 0;
	err = cfg_string(L, bal, "balancer", "metrics", false, &text);
	if (err)
		return err;
	cfg->metrics_line = config_setting_source_line(s);
	if (strcmp(text, "off") == 0) {
		cfg->metrics_on = false;
		snprintf(cfg->metrics, sizeof(cfg->metrics), "off");
		return 0;
	}
#ifndef SIPHON_METRICS
	return cfg_fail(L, s, "balancer: metrics: '%s': this build has no metrics server "
			"(libmicrohttpd was missing when it was built: install libmicrohttpd-dev "
			"and build again); write \"off\" or leave the key out", text);
#else
	if (!parse(text, &cfg->metrics_addr, &cfg->metrics_port))
		return cfg_fail(L, s, "balancer: metrics: '%s' is not ADDRESS:PORT (an IPv4 "
				"address, or an IPv6 one in brackets: \"127.0.0.1:9109\", "
				"\"[::1]:9109\") or \"off\"", text);
	cfg->metrics_on = true;
	snprintf(cfg->metrics, sizeof(cfg->metrics), "%s", text);
	return 0;
#endif
}
