/* The RPC's pool changes made real (docs/siphond.md "Pool management"):
 * the config text compiled again with the overrides edited in, node states
 * carried over, a generation like a reload's; and at start, the persisted
 * overrides re-applied over the config when they still fit it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "health_loop.h"
#include "siphon/lane_limits.h"
#include "siphond.h"

void siphond_node_enable(struct siphond *d, struct health_node *n, int family, uint64_t now_ms)
{
	/* no probe socket of its family: no answer would bring it back */
	if (d->hl->fd[family == AF_INET6 ? 1 : 0] < 0)
		health_enable_unprobed(n, now_ms);
	else
		health_enable(n, now_ms);
}

void siphond_overrides_states(struct siphond *d, struct health_set *s, const struct overrides *o,
			      const char *why)
{
	const uint64_t now = health_now_ms();

	for (uint32_t q = 0; q < s->n_pools; q++) {
		const struct hl_pool *p = &s->pools[q];

		for (uint32_t i = 0; i < p->cp->n_nodes; i++) {
			const struct ovr_node *e = ovr_find(o, p->cp->name, p->cp->nodes[i].name);
			struct health_node *n = &p->nodes[i];
			const enum health_state before = n->state;

			if (e && e->disabled && before != HEALTH_DISABLED)
				health_disable(n, now);
			else if (!(e && e->disabled) && before == HEALTH_DISABLED)
				siphond_node_enable(d, n, p->cp->nodes[i].addr.family, now);
			if (why && n->state != before)
				siphond_log("node %s/%s: %s -> %s (%s)", p->cp->name, p->cp->nodes[i].name,
					    health_state_name(before), health_state_name(n->state), why);
		}
	}
}

int siphond_overrides_set(struct siphond *d, struct overrides *next, char *err, size_t errlen)
{
	int rc = ovr_save(d->o.state_dir, next, d->o.config, d->cfg_text, err, errlen);

	if (rc) {
		ovr_free(next);
		return rc;
	}
	ovr_free(&d->ovr);
	d->ovr = *next;
	*next = (struct overrides){ 0 };
	return 0;
}

int siphond_prepare(struct siphond *d, struct siphon_config *cfg, const struct overrides *ovr,
		    struct health_set **hs, struct generation **g, bool *unchanged, char *err,
		    size_t errlen)
{
	const uint64_t now = health_now_ms();
	char lane[512];

	/* a config the fast paths ran may not become one siphon --io xdp refuses */
	if (kernel_lane_fits(&d->cfg->tables, lane, sizeof(lane)) == 0 &&
	    kernel_lane_fits(&cfg->tables, lane, sizeof(lane)) != 0) {
		snprintf(err, errlen, "refused: %s", lane);
		return -E2BIG;
	}
	if (health_set_new(cfg, d->hl->set, now, hs))
		goto nomem;
	siphond_overrides_states(d, *hs, ovr, NULL);
	/* as a reload: dialogs of the nodes that stay keep their node for
	 * grace_s through the running table, kept as `previous` */
	if (health_set_apply(*hs, cfg, now / 1000, false) ||
	    health_set_reload_grace(*hs, d->hl->set, cfg, now / 1000))
		goto nomem;
	return gen_build(cfg, d->last_number + 1, d->cur->blob, d->cur->len, g, unchanged, err,
			 errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int siphond_pool_change(struct siphond *d, struct overrides *next, char *err, size_t errlen)
{
	struct siphon_config *cfg = NULL;
	struct config_error cerr;
	struct health_set *hs = NULL;
	struct generation *g = NULL;
	bool unchanged = false;
	int rc = config_load_edited(d->o.config, d->cfg_text, ovr_edit, next, &cfg, &cerr);

	if (!rc) /* nodes given by name keep their answers (docs/dns.md) */
		rc = dns_resolved_config(d, &cfg, &cerr);
	if (rc) {
		snprintf(err, errlen, "the change does not load: %s", cerr.text);
		goto fail;
	}
	rc = siphond_prepare(d, cfg, next, &hs, &g, &unchanged, err, errlen);
	if (!rc)
		rc = ovr_save(d->o.state_dir, next, d->o.config, d->cfg_text, err, errlen);
	if (rc)
		goto fail;
	if (!unchanged && (rc = gen_persist(d->o.state_dir, g, err, errlen)) != 0) {
		char ignored[SIPHOND_ERR_MAX];

		d->c.persist_failed++;
		ovr_save(d->o.state_dir, &d->ovr, d->o.config, d->cfg_text, ignored, sizeof(ignored));
		goto fail;
	}
	siphond_adopt(d, cfg, hs);
	ovr_free(&d->ovr);
	d->ovr = *next;
	*next = (struct overrides){ 0 };
	if (unchanged)
		return 1;
	siphond_set_current(d, g);
	return 0;
fail:
	gen_unref(g);
	health_set_free(hs);
	config_free(cfg);
	ovr_free(next);
	return rc;
}

/* A refused overrides file: siphond starts from the config alone. */
static void refuse(struct siphond *d, const char *why)
{
	d->c.overrides_refused++;
	ovr_set_aside(d->o.state_dir);
	siphond_log("overrides: %s; refused: siphond starts from %s alone (the file is kept as "
		    "%s/%s.refused)", why, d->o.config, d->o.state_dir, OVR_FILE);
}

int siphond_load_start(struct siphond *d, char *err, size_t errlen)
{
	struct config_error cerr;
	char why[SIPHOND_ERR_MAX], list[SIPHOND_ERR_MAX];
	int rc = config_read_text(d->o.config, &d->cfg_text, &cerr);

	if (!rc)
		rc = ovr_load(d->o.state_dir, d->o.config, d->cfg_text, &d->ovr, why, sizeof(why));
	if (rc == -EINVAL || rc == -ESTALE) {
		if (!d->cfg_text) {
			snprintf(err, errlen, "%s", cerr.text);
			return rc;
		}
		refuse(d, why);
		rc = 0;
	}
	if (rc) {
		snprintf(err, errlen, "%s", d->cfg_text ? why : cerr.text);
		return rc;
	}
	if (d->ovr.n) {
		rc = config_load_edited(d->o.config, d->cfg_text, ovr_edit, &d->ovr, &d->cfg, &cerr);
		if (rc == 0) {
			ovr_describe(&d->ovr, list, sizeof(list));
			siphond_log("overrides: %u RPC changes re-applied over %s from %s/%s: %s",
				    d->ovr.n, d->o.config, d->o.state_dir, OVR_FILE, list);
			return 0;
		}
		snprintf(why, sizeof(why), "%s/%s does not apply: %s", d->o.state_dir, OVR_FILE,
			 cerr.text);
	}
	rc = config_load_text(d->o.config, d->cfg_text, &d->cfg, &cerr);
	if (rc) {
		/* the config itself does not load: the overrides are not to blame */
		snprintf(err, errlen, "%s", cerr.text);
		return rc;
	}
	if (d->ovr.n) {
		ovr_free(&d->ovr);
		refuse(d, why);
	}
	return 0;
}
