/* balancer keys that only siphond applies (docs/config.md): the command
 * run on a node's state change (docs/siphond.md "Events") and the DNS
 * servers that resolve nodes given by name (docs/dns.md). Neither is in
 * the tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_load.h"

/* "198.51.100.53", "198.51.100.53:5353", "2001:db8::53", "[2001:db8::53]:5353"
 * into c-ares' "ADDR:PORT" / "[ADDR]:PORT". 0 or -EINVAL. */
static int dns_server(const char *text, char *out, size_t len)
{
	char addr[64];
	const char *port = NULL;
	struct self_addr a;
	unsigned long p = 53;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (!end || (size_t)(end - text - 1) >= sizeof(addr) || (end[1] && end[1] != ':'))
			return -EINVAL;
		snprintf(addr, sizeof(addr), "%.*s", (int)(end - text - 1), text + 1);
		port = end[1] ? end + 2 : NULL;
	} else if (strchr(text, ':') != strrchr(text, ':')) {
		snprintf(addr, sizeof(addr), "%s", text); /* an IPv6 address, no port */
	} else {
		const char *colon = strchr(text, ':');

		if (strlen(text) >= sizeof(addr))
			return -EINVAL;
		snprintf(addr, sizeof(addr), "%.*s", colon ? (int)(colon - text) : (int)strlen(text),
			 text);
		port = colon ? colon + 1 : NULL;
	}
	if (cfg_parse_addr(addr, &a) || (text[0] == '[' && a.family != AF_INET6))
		return -EINVAL;
	if (port) {
		char *end;

		if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
			return -EINVAL;
		p = strtoul(port, &end, 10);
		if (p < 1 || p > 65535)
			return -EINVAL;
	}
	snprintf(out, len, a.family == AF_INET6 ? "[%s]:%lu" : "%s:%lu", addr, p);
	return 0;
}

static int load_dns_servers(struct loader *L, const config_setting_t *bal)
{
	const config_setting_t *s = config_setting_get_member(bal, "dns_servers");
	struct siphon_config *cfg = L->cfg;
	int count;

	if (!s)
		return 0;
	count = cfg_list_length(L, s, "balancer");
	if (count < 0)
		return count;
	if (count > CONFIG_DNS_SERVERS)
		return cfg_fail(L, s, "balancer: dns_servers: %d servers; at most %d", count,
				CONFIG_DNS_SERVERS);
	for (int i = 0; i < count; i++) {
		char one[56];
		size_t used = strlen(cfg->dns_servers);

		if (dns_server(cfg_list_item(s, i), one, sizeof(one)))
			return cfg_fail(L, s, "balancer: dns_servers: '%s' is not ADDRESS, "
					"ADDRESS:PORT or [IPv6]:PORT", cfg_list_item(s, i));
		snprintf(cfg->dns_servers + used, sizeof(cfg->dns_servers) - used, "%s%s",
			 used ? "," : "", one);
	}
	cfg->dns_servers_line = config_setting_source_line(s);
	return 0;
}

/* An absolute path to an executable file, checked now so that `siphonctl
 * check` and a reload say so, not the first event. */
static int load_on_node_change(struct loader *L, const config_setting_t *bal)
{
	const config_setting_t *s = config_setting_get_member(bal, "on_node_change");
	struct siphon_config *cfg = L->cfg;
	const char *path;
	struct stat st;
	int err;

	cfg->on_node_change_timeout_s = cfg_int_default("balancer", "on_node_change_timeout_s");
	cfg->on_node_change_max = cfg_int_default("balancer", "on_node_change_max");
	err = cfg_string(L, bal, "balancer", "on_node_change", false, &path);
	if (!err)
		err = cfg_int_key(L, bal, "balancer", "balancer", "on_node_change_timeout_s",
				  &cfg->on_node_change_timeout_s);
	if (!err)
		err = cfg_int_key(L, bal, "balancer", "balancer", "on_node_change_max",
				  &cfg->on_node_change_max);
	if (err)
		return err;
	if (!path) {
		if (config_setting_get_member(bal, "on_node_change_timeout_s") ||
		    config_setting_get_member(bal, "on_node_change_max"))
			return cfg_fail(L, bal, "balancer: on_node_change_timeout_s and "
					"on_node_change_max need on_node_change");
		return 0;
	}
	if (path[0] != '/' || strlen(path) >= sizeof(cfg->on_node_change))
		return cfg_fail(L, s, "balancer: on_node_change: '%s' is not an absolute path (at "
				"most %zu bytes)", path, sizeof(cfg->on_node_change) - 1);
	if (stat(path, &st) != 0)
		return cfg_fail(L, s, "balancer: on_node_change: '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cfg_fail(L, s, "balancer: on_node_change: '%s' is not a regular file", path);
	if (access(path, X_OK) != 0)
		return cfg_fail(L, s, "balancer: on_node_change: '%s' is not executable", path);
	snprintf(cfg->on_node_change, sizeof(cfg->on_node_change), "%s", path);
	cfg->on_node_change_line = config_setting_source_line(s);
	return 0;
}

int load_siphond_keys(struct loader *L, const config_setting_t *bal)
{
	int err = load_dns_servers(L, bal);

	return err ? err : load_on_node_change(L, bal);
}
