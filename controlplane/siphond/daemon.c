/* The daemon's life: start (config, socket, the first generation), the
 * poll() loop over the RPC server, the fast paths and a signalfd, and a
 * clean stop. Nothing here blocks on a client. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "health_loop.h"
#include "metrics.h"
#include "siphon/table_blob.h"
#include "siphond.h"

#define TICK_MS 1000 /* the stall check of the fast paths */

void siphond_log(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line: lines of concurrent writers never interleave */
	fprintf(stderr, "siphond: %s\n", line);
	fflush(stderr);
}

/* --socket-group: the group's members may connect too (0660). Set after
 * the socket appears 0600, so it is never wider than asked. */
static int share_socket(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *g;

	if (!group)
		return 0;
	errno = 0;
	g = getgrnam(group);
	if (!g) {
		snprintf(err, errlen, "--socket-group '%s': %s", group,
			 errno ? strerror(errno) : "no such group");
		return -ENOENT;
	}
	if (chown(path, (uid_t)-1, g->gr_gid) != 0 || chmod(path, 0660) != 0) {
		int rc = -errno;

		snprintf(err, errlen, "%s: cannot give the socket to group '%s': %s", path, group,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

static int open_signals(struct siphond *d, char *err, size_t errlen)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD); /* on_node_change commands that end */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The first generation: the persisted one when it holds the same tables
 * (a restart with the same config republishes nothing), else the next
 * number, persisted before anything is published. */
/* A restart keeps the persisted generation's grace: siphond killed and
 * started again during grace_s must not move dialogs (health_loop.h). */
static int start_grace(struct siphond *d, const struct persisted *p, char *err, size_t errlen)
{
	struct compiled_tables *was;
	char why[256];
	int rc = 0;

	if (!p->blob)
		return 0;
	was = malloc(sizeof(*was));
	if (!was) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (tables_blob_open(p->blob, p->len, was, why, sizeof(why)) == 0)
		rc = health_set_start_grace(d->hl->set, was, d->cfg, health_now_ms() / 1000);
	free(was);
	if (rc)
		snprintf(err, errlen, "out of memory");
	return rc;
}

static int first_generation(struct siphond *d, char *err, size_t errlen)
{
	struct persisted p;
	bool unchanged;
	char note[SIPHOND_ERR_MAX];
	int rc = gen_read_persisted(d->o.state_dir, &p, note, sizeof(note));

	if (rc) {
		snprintf(err, errlen, "%s", note);
		return rc;
	}
	if (note[0])
		siphond_log("%s", note);
	d->last_number = p.number;
	rc = start_grace(d, &p, err, errlen);
	if (rc) {
		free(p.blob);
		return rc;
	}
	rc = gen_build(d->cfg, p.number + 1, p.blob, p.len, &d->cur, &unchanged, err, errlen);
	if (rc == 0 && unchanged) {
		d->cur = calloc(1, sizeof(*d->cur));
		if (!d->cur) {
			free(p.blob);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*d->cur = (struct generation){ .refs = 1, .number = p.number, .blob = p.blob,
					       .len = p.len, .made = p.mtime };
		siphond_log("generation %llu kept: %s holds the same tables as %s/%s",
			    (unsigned long long)p.number, d->cfg->path, d->o.state_dir,
			    SIPHOND_STATE_BLOB);
		return 0;
	}
	free(p.blob);
	if (rc)
		return rc;
	rc = gen_persist(d->o.state_dir, d->cur, err, errlen);
	if (rc)
		return rc;
	d->last_number = d->cur->number;
	siphond_log("generation %llu published: %s (%zu bytes)", (unsigned long long)d->cur->number,
		    d->cfg->path, d->cur->len);
	return 0;
}

int siphond_start(struct siphond *d, char *err, size_t errlen)
{
	int rc;

	d->sigfd = -1;
	rc = siphond_load_start(d, err, errlen);
	if (rc)
		return rc;
	rc = publisher_new(&d->pub);
	if (!rc)
		rc = events_open(d);
	if (!rc)
		rc = dns_open(d);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rpc_table_init(&d->table);
	rc = rpc_builtin_add(&d->table);
	if (!rc)
		rc = siphond_methods_add(d);
	if (rc) {
		snprintf(err, errlen, "the method table: %s", strerror(-rc));
		return rc;
	}
	rc = open_signals(d, err, errlen);
	if (rc)
		return rc;
	/* the socket before the state: a second siphond is refused here,
	 * before it could persist anything */
	rc = rpc_server_open(&d->rpc, d->o.socket, &d->table, NULL, err, errlen);
	if (rc)
		return rc;
	rc = share_socket(d->o.socket, d->o.socket_group, err, errlen);
	if (rc)
		return rc;
	/* names resolved before the first generation (a bounded wait), so
	 * that a restart with the same answers is the same generation */
	dns_start_wait(d, DNS_START_MS);
	rc = health_loop_open(d, err, errlen);
	if (!rc) {
		/* the nodes disabled over the RPC before a restart stay so */
		siphond_overrides_states(d, d->hl->set, &d->ovr, OVR_FILE);
		if (health_set_apply(d->hl->set, d->cfg, health_now_ms() / 1000, false)) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (!rc)
		rc = first_generation(d, err, errlen);
	if (!rc)
		rc = punt_open(d, err, errlen);
	if (rc)
		return rc;
	d->tot = ctotals_new();
	if (!d->tot) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	metrics_generation(d);
	publisher_set_limits(d->pub, metrics_limits, d);
	publisher_set_snap_hook(d->pub, metrics_snap, d);
	metrics_http_sync(d);
	siphond_log("listening on %s; state in %s", d->o.socket, d->o.state_dir);
	return 0;
}

static void on_signal(struct siphond *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			events_reap(d);
		} else if (si.ssi_signo == SIGHUP) {
			json_t *result = NULL;
			char err[SIPHOND_ERR_MAX];

			/* siphond_reload logs the outcome either way */
			siphond_reload(d, false, "SIGHUP", &result, err, sizeof(err));
			json_decref(result);
		} else {
			siphond_log("%s: stopping", strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
}

int siphond_run(struct siphond *d)
{
	while (!d->stop) {
		struct pollfd fds[1 + RPC_SERVER_FDS_MAX + PUB_MAX_FASTPATHS + PUNT_POLL_MAX + 2 + 1 +
				  DNS_POLL_MAX];
		size_t n = 0;
		int timeout;

		metrics_http_sync(d); /* a reload may have moved it */
		fds[n++] = (struct pollfd){ .fd = d->sigfd, .events = POLLIN };
		n += rpc_server_poll_fds(d->rpc, fds + n, RPC_SERVER_FDS_MAX);
		n += publisher_poll_fds(d->pub, fds + n, PUB_MAX_FASTPATHS);
		n += punt_poll_fds(d, fds + n, PUNT_POLL_MAX);
		n += health_loop_poll_fds(d->hl, fds + n, 2);
		n += metrics_http_poll_fds(d, fds + n, 1);
		n += dns_poll_fds(d, fds + n, DNS_POLL_MAX);
		timeout = events_timeout(d, dns_timeout(d, metrics_http_timeout(d, health_loop_timeout(
						     d->hl, TICK_MS))));
		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			siphond_log("poll: %s", strerror(errno));
			return -errno;
		}
		if (fds[0].revents)
			on_signal(d);
		/* an fd closed and reused within one turn may meet a stale
		 * entry: at most one EAGAIN, every socket is non-blocking */
		publisher_handle(d->pub, fds + 1, n - 1);
		rpc_server_handle(d->rpc, fds + 1, n - 1);
		punt_handle(d, fds + 1, n - 1);
		health_loop_handle(d, fds + 1, n - 1);
		metrics_http_handle(d, fds + 1, n - 1);
		dns_handle(d, fds + 1, n - 1);
		events_tick(d); /* after the turn's generation is published */
		publisher_tick(d->pub);
	}
	return 0;
}

void siphond_stop(struct siphond *d)
{
	metrics_http_close(d);
	punt_close(d);
	events_close(d);
	dns_close(d);
	rpc_server_close(d->rpc);
	publisher_free(d->pub);
	ctotals_free(d->tot);
	d->tot = NULL;
	health_loop_close(d->hl);
	gen_unref(d->cur);
	config_free(d->cfg);
	free(d->cfg_text);
	ovr_free(&d->ovr);
	if (d->sigfd >= 0)
		close(d->sigfd);
	*d = (struct siphond){ .sigfd = -1 };
}
