/* A reload: the config compiled again off to the side. Rejected, the
 * running generation stays; unchanged, nothing is published; else the new
 * generation is persisted, then published. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "health_loop.h"
#include "siphond.h"

static int reject(struct siphond *d, const char *why, const char *text, char *err,
		  size_t errlen)
{
	d->c.reloads_rejected++;
	if (text != err)
		snprintf(err, errlen, "%s", text);
	siphond_log("reload (%s) rejected: %s; generation %llu stays", why, text,
		    (unsigned long long)d->cur->number);
	return -EINVAL;
}

void siphond_adopt(struct siphond *d, struct siphon_config *cfg, struct health_set *hs)
{
	config_free(d->cfg);
	d->cfg = cfg;
	health_set_free(d->hl->set);
	d->hl->set = hs;
	health_loop_rebind(d);
	punt_tables_changed(d); /* the classifier pointed into the old config */
	dns_sync(d);            /* names new to it resolved, gone ones forgotten (docs/dns.md) */
}

/* The running overrides are dropped by a reload that goes through:
 * overrides.json first (a crash before the generation is persisted then
 * starts from the file alone, which is what the reload publishes). */
static void drop_overrides(struct siphond *d, char *dropped, size_t size)
{
	char err[SIPHOND_ERR_MAX];

	snprintf(dropped, size, "%s", "");
	if (!d->ovr.n)
		return;
	snprintf(dropped, size, "; RPC changes dropped: ");
	ovr_describe(&d->ovr, dropped + strlen(dropped), size - strlen(dropped));
	d->c.overrides_dropped += d->ovr.n;
	ovr_free(&d->ovr);
	if (state_remove(d->o.state_dir, OVR_FILE, err, sizeof(err)))
		siphond_log("overrides: %s", err);
}

static json_t *reply(bool dry_run, uint64_t generation, bool unchanged, json_t *changes,
		     const struct overrides *dropped)
{
	return json_pack("{s:b, s:I, s:b, s:o, s:o}", "dry_run", dry_run, "generation",
			 (json_int_t)generation, "unchanged", unchanged, "changes", changes,
			 "overrides_dropped", ovr_list_json(dropped));
}

/* cfg, hs and text taken, or freed */
static void adopt_text(struct siphond *d, struct siphon_config *cfg, struct health_set *hs,
		       char *text)
{
	siphond_adopt(d, cfg, hs);
	free(d->cfg_text);
	d->cfg_text = text;
}

void siphond_set_current(struct siphond *d, struct generation *g)
{
	d->last_number = g->number;
	gen_unref(d->cur);
	d->cur = g;
	metrics_generation(d);
	publisher_publish(d->pub, g);
}

int siphond_reload(struct siphond *d, bool dry_run, const char *why, json_t **result,
		   char *err, size_t errlen)
{
	struct siphon_config *cfg = NULL;
	struct config_error cerr;
	struct generation *g = NULL;
	json_t *changes = NULL;
	bool unchanged;
	int rc;
	struct health_set *hs = NULL;
	const uint64_t now_ms = health_now_ms();
	const struct overrides none = { 0 };
	char *text = NULL, dropped[SIPHOND_ERR_MAX];

	*result = NULL;
	/* nodes given by name take the answers the running config has */
	if (config_read_text(d->o.config, &text, &cerr) ||
	    config_load_text(d->o.config, text, &cfg, &cerr) ||
	    dns_resolved_config(d, &cfg, &cerr)) {
		free(text);
		return reject(d, why, cerr.text, err, errlen);
	}
	/* node states carry over by pool and node name: a reload does not
	 * bring a dead node back; dialogs of nodes that stay keep their node
	 * through the running table, kept as `previous` for grace_s. The RPC's
	 * pool changes are dropped: the nodes it disabled come back. */
	rc = health_set_new(cfg, d->hl->set, now_ms, &hs);
	if (!rc) {
		siphond_overrides_states(d, hs, &none, NULL);
		rc = health_set_apply(hs, cfg, now_ms / 1000, false);
	}
	if (!rc)
		rc = health_set_reload_grace(hs, d->hl->set, cfg, now_ms / 1000);
	if (!rc && !(changes = config_diff(d->cfg, cfg)))
		rc = -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = gen_build(cfg, d->last_number + 1, d->cur->blob, d->cur->len, &g, &unchanged, err,
		       errlen);
	if (rc) {
		json_decref(changes);
		health_set_free(hs);
		config_free(cfg);
		free(text);
		return reject(d, why, err, err, errlen);
	}
	if (dry_run) {
		d->c.dry_runs++;
		*result = reply(true, d->cur->number, unchanged, changes, &d->ovr);
		changes = NULL;
		siphond_log("reload (%s, dry run): %s", why,
			    unchanged ? "no change" : "changes reported, nothing published");
		rc = *result ? 0 : -ENOMEM;
		goto fail; /* nothing of it is kept */
	}
	d->c.reloads++;
	if (unchanged) {
		/* the same tables, but siphond's own settings (probe, fallback,
		 * retry_after_s) may have changed: they are taken all the same */
		d->c.reloads_unchanged++;
		*result = reply(false, d->cur->number, true, changes, &d->ovr);
		drop_overrides(d, dropped, sizeof(dropped));
		adopt_text(d, cfg, hs, text);
		gen_unref(g);
		siphond_log("reload (%s): %s holds the same tables; generation %llu stays%s", why,
			    d->o.config, (unsigned long long)d->cur->number, dropped);
		return *result ? 0 : -ENOMEM;
	}
	*result = reply(false, g->number, false, changes, &d->ovr);
	changes = NULL;
	rc = d->ovr.n ? state_remove(d->o.state_dir, OVR_FILE, err, errlen) : 0;
	if (!rc)
		rc = gen_persist(d->o.state_dir, g, err, errlen);
	if (rc) {
		char ignored[SIPHOND_ERR_MAX];

		d->c.persist_failed++;
		/* the overrides run on: their file back */
		ovr_save(d->o.state_dir, &d->ovr, d->o.config, d->cfg_text, ignored, sizeof(ignored));
		siphond_log("reload (%s) failed: %s; generation %llu stays", why, err,
			    (unsigned long long)d->cur->number);
		json_decref(*result);
		*result = NULL;
		goto fail;
	}
	drop_overrides(d, dropped, sizeof(dropped));
	adopt_text(d, cfg, hs, text);
	siphond_log("reload (%s): generation %llu published: %s (%zu bytes)%s", why,
		    (unsigned long long)g->number, d->o.config, g->len, dropped);
	siphond_set_current(d, g);
	return *result ? 0 : -ENOMEM;
fail:
	json_decref(changes);
	gen_unref(g);
	health_set_free(hs);
	config_free(cfg);
	free(text);
	return rc;
}

int siphond_republish(struct siphond *d, const char *why, char *err, size_t errlen)
{
	struct generation *g;
	bool unchanged;
	int rc = gen_build(d->cfg, d->last_number + 1, d->cur->blob, d->cur->len, &g, &unchanged,
			   err, errlen);

	if (rc == 0 && unchanged)
		return 1;
	if (rc == 0)
		rc = gen_persist(d->o.state_dir, g, err, errlen);
	if (rc) {
		d->c.persist_failed += g != NULL;
		gen_unref(g);
		siphond_log("%s: no new generation: %s; generation %llu stays", why, err,
			    (unsigned long long)d->cur->number);
		return rc;
	}
	siphond_log("%s: generation %llu published (%zu bytes)", why, (unsigned long long)g->number,
		    g->len);
	siphond_set_current(d, g);
	return 0;
}
