/* balancer.on_node_change (docs/siphond.md "Events"): an operator's
 * command run on each node state change, like Kamailio's
 * event_route[dispatcher:dst-down]. It never holds siphond up: spawned
 * (posix_spawn, no shell) after the turn that made the change has
 * published its generation, reaped on SIGCHLD, killed past its time, and
 * at most on_node_change_max run at once: an event beyond is dropped,
 * counted and logged, never queued beyond the turn. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health_loop.h"
#include "siphond.h"

#define EV_QUEUE   32 /* changes one turn can hand on */
#define EV_RUN_MAX 64 /* the highest on_node_change_max */

struct ev_pending {
	char pool[TABLES_NAME_MAX], node[TABLES_NAME_MAX], id[TABLES_NAME_MAX];
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	enum health_state before, after;
	enum health_why why;
	double at; /* Unix time */
};

struct ev_child {
	pid_t pid;
	uint64_t started_ms;
	bool killed;
	char what[2 * TABLES_NAME_MAX + 40]; /* "core/b2 active -> trying" */
};

struct events {
	struct ev_pending q[EV_QUEUE];
	unsigned n_q;
	struct ev_child run[EV_RUN_MAX];
	unsigned n_run;
	struct {
		uint64_t events, started, succeeded, failed, killed, dropped, spawn_failed;
	} c;
};

int events_open(struct siphond *d)
{
	d->ev = calloc(1, sizeof(*d->ev));
	return d->ev ? 0 : -ENOMEM;
}

static void drop(struct siphond *d, const struct ev_pending *p, const char *why)
{
	d->ev->c.dropped++;
	siphond_log("on_node_change: %s/%s %s -> %s not run: %s (%llu dropped so far)", p->pool,
		    p->node, health_state_name(p->before), health_state_name(p->after), why,
		    (unsigned long long)d->ev->c.dropped);
}

void events_node_change(struct siphond *d, const struct hl_pool *p, uint32_t i,
			enum health_state before)
{
	const struct cfg_node *cn = &p->cp->nodes[i];
	struct events *ev = d->ev;
	struct ev_pending e = { .port = cn->port, .before = before, .after = p->nodes[i].state,
				.why = p->nodes[i].why };
	struct timespec ts;

	if (!ev || !d->cfg->on_node_change[0] || e.before == e.after)
		return;
	ev->c.events++;
	clock_gettime(CLOCK_REALTIME, &ts);
	e.at = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	snprintf(e.pool, sizeof(e.pool), "%s", p->cp->name);
	snprintf(e.node, sizeof(e.node), "%s", cn->name);
	snprintf(e.id, sizeof(e.id), "%s", cn->id);
	inet_ntop(cn->addr.family, cn->addr.addr, e.addr, sizeof(e.addr));
	if (ev->n_q == EV_QUEUE) {
		drop(d, &e, "too many changes in one turn");
		return;
	}
	ev->q[ev->n_q++] = e;
}

static void spawn(struct siphond *d, const struct ev_pending *p)
{
	struct events *ev = d->ev;
	const char *cmd = d->cfg->on_node_change;
	char env[13][TABLES_NAME_MAX + 64];
	char *envp[14], *argv[] = { (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	pid_t pid;
	int rc, k = 0;

	snprintf(env[k++], sizeof(env[0]), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(env[k++], sizeof(env[0]), "SIPHON_EVENT=node_change");
	snprintf(env[k++], sizeof(env[0]), "SIPHON_POOL=%s", p->pool);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_NODE=%s", p->node);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_NODE_ID=%s", p->id);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_ADDRESS=%s", p->addr);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_PORT=%u", p->port);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_OLD_STATE=%s", health_state_name(p->before));
	snprintf(env[k++], sizeof(env[0]), "SIPHON_NEW_STATE=%s", health_state_name(p->after));
	snprintf(env[k++], sizeof(env[0]), "SIPHON_WHY=%s", health_why_name(p->why));
	snprintf(env[k++], sizeof(env[0]), "SIPHON_TAKES_CALLS=%d",
		 health_state_takes_calls(p->after) ? 1 : 0);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_GENERATION=%llu",
		 (unsigned long long)d->cur->number);
	snprintf(env[k++], sizeof(env[0]), "SIPHON_TIME=%.3f", p->at);
	for (int i = 0; i < k; i++)
		envp[i] = env[i];
	envp[k] = NULL;

	/* stdin and stdout /dev/null, stderr siphond's (the log), nothing
	 * else open; signals as a fresh process has them; its own process
	 * group, so that a kill takes what it started too */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, cmd, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		ev->c.spawn_failed++;
		siphond_log("on_node_change: %s/%s: %s: %s (%llu failed to start so far)", p->pool,
			    p->node, cmd, strerror(rc), (unsigned long long)ev->c.spawn_failed);
		return;
	}
	ev->c.started++;
	ev->run[ev->n_run] = (struct ev_child){ .pid = pid, .started_ms = health_now_ms() };
	snprintf(ev->run[ev->n_run].what, sizeof(ev->run[0].what), "%s/%s %s -> %s", p->pool,
		 p->node, health_state_name(p->before), health_state_name(p->after));
	ev->n_run++;
}

void events_reap(struct siphond *d)
{
	struct events *ev = d->ev;

	for (unsigned i = 0; ev && i < ev->n_run;) {
		struct ev_child *c = &ev->run[i];
		int status;

		if (waitpid(c->pid, &status, WNOHANG) != c->pid) {
			i++;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			ev->c.succeeded++;
		} else if (WIFEXITED(status)) {
			ev->c.failed++;
			siphond_log("on_node_change (%s, pid %d): exit status %d (%llu failed so far)",
				    c->what, (int)c->pid, WEXITSTATUS(status),
				    (unsigned long long)ev->c.failed);
		} else if (!c->killed) {
			ev->c.failed++;
			siphond_log("on_node_change (%s, pid %d): killed by signal %d (%llu failed "
				    "so far)", c->what, (int)c->pid, WTERMSIG(status),
				    (unsigned long long)ev->c.failed);
		}
		ev->run[i] = ev->run[--ev->n_run];
	}
}

void events_tick(struct siphond *d)
{
	struct events *ev = d->ev;
	const uint64_t now = health_now_ms(), limit = d->cfg->on_node_change_timeout_s * 1000ull;

	if (!ev)
		return;
	for (unsigned i = 0; i < ev->n_run; i++) {
		struct ev_child *c = &ev->run[i];

		if (c->killed || now - c->started_ms < limit)
			continue;
		/* the group: a script's own children go too */
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		c->killed = true;
		ev->c.killed++;
		siphond_log("on_node_change (%s, pid %d): still running after %u s: killed (%llu so "
			    "far)", c->what, (int)c->pid, d->cfg->on_node_change_timeout_s,
			    (unsigned long long)ev->c.killed);
	}
	/* the turn's changes, now that its generation is published */
	for (unsigned i = 0; i < ev->n_q; i++) {
		if (ev->n_run >= d->cfg->on_node_change_max || ev->n_run >= EV_RUN_MAX) {
			char why[64];

			snprintf(why, sizeof(why), "%u commands still running", ev->n_run);
			drop(d, &ev->q[i], why);
			continue;
		}
		spawn(d, &ev->q[i]);
	}
	ev->n_q = 0;
}

int events_timeout(const struct siphond *d, int max_ms)
{
	const struct events *ev = d->ev;
	const uint64_t now = health_now_ms(), limit = d->cfg->on_node_change_timeout_s * 1000ull;
	uint64_t wait = (uint64_t)max_ms;

	for (unsigned i = 0; ev && i < ev->n_run; i++) {
		uint64_t end = ev->run[i].started_ms + limit;

		if (ev->run[i].killed)
			continue;
		wait = end <= now ? 0 : end - now < wait ? end - now : wait;
	}
	return ev && ev->n_q ? 0 : (int)wait;
}

json_t *events_json(const struct siphond *d)
{
	const struct events *ev = d->ev;

	if (!ev)
		return json_null();
	return json_pack("{s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "command",
			 d->cfg->on_node_change[0] ? d->cfg->on_node_change : NULL, "timeout_s",
			 (json_int_t)d->cfg->on_node_change_timeout_s, "max_running",
			 (json_int_t)d->cfg->on_node_change_max, "running", (json_int_t)ev->n_run,
			 "events", (json_int_t)ev->c.events, "started", (json_int_t)ev->c.started,
			 "succeeded", (json_int_t)ev->c.succeeded, "failed", (json_int_t)ev->c.failed,
			 "killed", (json_int_t)ev->c.killed, "dropped", (json_int_t)ev->c.dropped,
			 "spawn_failed", (json_int_t)ev->c.spawn_failed);
}

void events_close(struct siphond *d)
{
	struct events *ev = d->ev;

	/* what still runs is told to stop; init reaps it */
	for (unsigned i = 0; ev && i < ev->n_run; i++) {
		kill(-ev->run[i].pid, SIGTERM);
		kill(ev->run[i].pid, SIGTERM);
	}
	free(ev);
	d->ev = NULL;
}
