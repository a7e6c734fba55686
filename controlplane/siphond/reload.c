/* A reload: the config compiled again off to the side. Rejected, the
 * running generation stays; unchanged, nothing is published; else the new
 * generation is persisted, then published. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "health_loop.h"
#include "siphond.h"

/* what: "reload (rpc)", "reload (SIGHUP)", "dns" */
static int reject(struct siphond *d, const char *what, const char *text, char *err,
		  size_t errlen)
{
	if (strncmp(what, "reload", 6) == 0)
		d->c.reloads_rejected++;
	if (text != err)
		snprintf(err, errlen, "%s", text);
	siphond_log("%s rejected: %s; generation %llu stays", what, text,
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
	dns_sync(d);            /* new names resolved, gone ones forgotten */
}

/* cfg (taken) becomes the running config, as a reload (what: "reload
 * (why)") or the resolver's new answers ("dns"). */
static int install(struct siphond *d, struct siphon_config *cfg, bool dry_run, const char *what,
		   json_t **result, char *err, size_t errlen)
{
	const bool reload = strncmp(what, "reload", 6) == 0;
	struct generation *g;
	json_t *changes;
	bool unchanged;
	int rc;

	struct health_set *hs = NULL;
	const uint64_t now_ms = health_now_ms();

	*result = NULL;
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
		return reject(d, what, err, err, errlen);
	}
	if (dry_run) {
		d->c.dry_runs++;
		*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", true, "generation",
				    (json_int_t)d->cur->number, "unchanged", unchanged, "changes",
				    changes);
		gen_unref(g);
		health_set_free(hs);
		config_free(cfg);
		siphond_log("%.*s, dry run): %s", (int)strlen(what) - 1, what,
			    unchanged ? "no change" : "changes reported, nothing published");
		return *result ? 0 : -ENOMEM;
	}
	d->c.reloads += reload;
	if (unchanged) {
		/* the same tables, but siphond's own settings (probe, fallback,
		 * retry_after_s) may have changed: they are taken all the same */
		d->c.reloads_unchanged += reload;
		adopt(d, cfg, hs);
		*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", false, "generation",
				    (json_int_t)d->cur->number, "unchanged", true, "changes", changes);
		siphond_log("%s: %s holds the same tables; generation %llu stays", what,
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
		siphond_log("%s failed: %s; generation %llu stays", what, err,
			    (unsigned long long)d->cur->number);
		return rc;
	}
	d->last_number = g->number;
	gen_unref(d->cur);
	d->cur = g;
	adopt(d, cfg, hs);
	siphond_log("%s: generation %llu published: %s (%zu bytes)", what,
		    (unsigned long long)g->number, d->o.config, g->len);
	publisher_publish(d->pub, g);
	*result = json_pack("{s:b, s:I, s:b, s:o}", "dry_run", false, "generation",
			    (json_int_t)g->number, "unchanged", false, "changes", changes);
	return *result ? 0 : -ENOMEM;
}

int siphond_reload(struct siphond *d, bool dry_run, const char *why, json_t **result,
		   char *err, size_t errlen)
{
	struct siphon_config *cfg;
	struct config_error cerr;
	char what[64];

	*result = NULL;
	snprintf(what, sizeof(what), "reload (%s)", why);
	/* nodes given by name take the answers the running config has */
	if (config_load(d->o.config, &cfg, &cerr) || dns_resolved_config(d, &cfg, &cerr))
		return reject(d, what, cerr.text, err, errlen);
	return install(d, cfg, dry_run, what, result, err, errlen);
}

int siphond_install(struct siphond *d, struct siphon_config *cfg, const char *what)
{
	char err[SIPHOND_ERR_MAX];
	json_t *result = NULL;
	int rc = install(d, cfg, false, what, &result, err, sizeof(err));

	json_decref(result);
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
	d->last_number = g->number;
	gen_unref(d->cur);
	d->cur = g;
	siphond_log("%s: generation %llu published (%zu bytes)", why, (unsigned long long)g->number,
		    g->len);
	publisher_publish(d->pub, g);
	return 0;
}
