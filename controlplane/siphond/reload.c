/* A reload: the config compiled again off to the side. Rejected, the
 * running generation stays; unchanged, nothing is published; else the new
 * generation is persisted, then published. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* cfg and its health set become the running ones. */
static void adopt(struct siphond *d, struct siphon_config *cfg, struct health_set *hs)
{
	config_free(d->cfg);
	d->cfg = cfg;
	health_set_free(d->hl->set);
	d->hl->set = hs;
	health_loop_rebind(d);
	punt_tables_changed(d); /* the classifier pointed into the old config */
}

int siphond_reload(struct siphond *d, bool dry_run, const char *why, json_t **result,
		   char *err, size_t errlen)
{
	struct siphon_config *cfg;
	struct config_error cerr;
	struct generation *g;
	json_t *changes;
	bool unchanged;
	int rc;

	struct health_set *hs = NULL;
	const uint64_t now_ms = health_now_ms();

	*result = NULL;
	if (config_load(d->o.config, &cfg, &cerr))
		return reject(d, why, cerr.text, err, errlen);
	/* node states carry over by pool and node name: a reload does not
	 * bring a dead node back; dialogs of nodes that stay keep their node
	 * through the running table, kept as `previous` for grace_s */
	if (health_set_new(cfg, d->hl->set, now_ms, &hs) ||
	    health_set_apply(hs, cfg, now_ms / 1000, false) ||
	    health_set_reload_grace(hs, d->hl->set, cfg, now_ms / 1000)) {
		health_set_free(hs);
		config_free(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	changes = config_diff(d->cfg, cfg);
	if (!changes) {
		health_set_free(hs);
		config_free(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = gen_build(cfg, d->last_number + 1, d->cur->blob, d->cur->len, &g, &unchanged, err,
		       errlen);
	if (rc) {
		json_decref(changes);
		health_set_free(hs);
		config_free(cfg);
		return reject(d, why, err, err, errlen);
	}
	if (dry_run) {
		d->c.dry_runs++;
		*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", true, "generation",
				    (json_int_t)d->cur->number, "unchanged", unchanged, "changes",
				    changes);
		gen_unref(g);
		health_set_free(hs);
		config_free(cfg);
		siphond_log("reload (%s, dry run): %s", why,
			    unchanged ? "no change" : "changes reported, nothing published");
		return *result ? 0 : -ENOMEM;
	}
	d->c.reloads++;
	if (unchanged) {
		/* the same tables, but siphond's own settings (probe, fallback,
		 * retry_after_s) may have changed: they are taken all the same */
		d->c.reloads_unchanged++;
		adopt(d, cfg, hs);
		*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", false, "generation",
				    (json_int_t)d->cur->number, "unchanged", true, "changes", changes);
		siphond_log("reload (%s): %s holds the same tables; generation %llu stays", why,
			    d->o.config, (unsigned long long)d->cur->number);
		return *result ? 0 : -ENOMEM;
	}
	rc = gen_persist(d->o.state_dir, g, err, errlen);
	if (rc) {
		d->c.persist_failed++;
		json_decref(changes);
		gen_unref(g);
		health_set_free(hs);
		config_free(cfg);
		siphond_log("reload (%s) failed: %s; generation %llu stays", why, err,
			    (unsigned long long)d->cur->number);
		return rc;
	}
	d->last_number = g->number;
	gen_unref(d->cur);
	d->cur = g;
	adopt(d, cfg, hs);
	siphond_log("reload (%s): generation %llu published: %s (%zu bytes)", why,
		    (unsigned long long)g->number, d->o.config, g->len);
	publisher_publish(d->pub, g);
	*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", false, "generation",
			    (json_int_t)g->number, "unchanged", false, "changes", changes);
	return *result ? 0 : -ENOMEM;
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
	d->last_number = g->number;
	gen_unref(d->cur);
	d->cur = g;
	siphond_log("%s: generation %llu published (%zu bytes)", why, (unsigned long long)g->number,
		    g->len);
	publisher_publish(d->pub, g);
	return 0;
}
