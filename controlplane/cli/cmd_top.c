/* siphonctl top: a live view of siphond's pools and nodes (docs/metrics.md
 * "siphonctl top"). Every interval it asks siphond for `stats` (the
 * continuous per-node totals of every fast path: packets per lane,
 * requests by method, responses by class) and `pool.show` (each node's
 * state, draining included); a frame is the difference of two samples
 * over the time between them. Plain ANSI escapes on a terminal (the
 * alternate screen, the cursor hidden, both restored on q, Ctrl-C or an
 * error); without a terminal, or with --once, plain frames. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *const methods[] = { "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER",
				       "other" };
static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "6xx" };
#define N_METHODS 7
#define N_CLASSES 6

struct node_sample {
	char pool[64], node[64], state[16];
	double afxdp, kernel, req[N_METHODS], resp[N_CLASSES];
	double rtt_ms; /* last probe round trip; < 0: none */
};

struct sample {
	struct node_sample *n;
	size_t len;
	long long generation;
	double age_s, at_s;
	size_t fast_paths;
};

static volatile sig_atomic_t stop;
static struct termios saved;
static bool tty_on;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void tty_restore(void)
{
	if (!tty_on)
		return;
	tty_on = false;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

static void tty_setup(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C is SIGINT */
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	tty_on = true;
	atexit(tty_restore);
	fputs("\033[?1049h\033[?25l", stdout);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static struct node_sample *node_of(struct sample *s, const char *pool, const char *node)
{
	struct node_sample *m;

	for (size_t i = 0; i < s->len; i++)
		if (!strcmp(s->n[i].pool, pool) && !strcmp(s->n[i].node, node))
			return &s->n[i];
	m = realloc(s->n, (s->len + 1) * sizeof(*m));
	if (!m)
		return NULL;
	s->n = m;
	m = &s->n[s->len++];
	memset(m, 0, sizeof(*m));
	snprintf(m->pool, sizeof(m->pool), "%s", pool);
	snprintf(m->node, sizeof(m->node), "%s", node);
	snprintf(m->state, sizeof(m->state), "-");
	m->rtt_ms = -1;
	return m;
}

/* Adds {"INVITE": n, ...} of both lanes of o[key] into v. */
static void add_lanes(double *v, const json_t *o, const char *const *names, unsigned n)
{
	const json_t *lanes = o;

	for (unsigned k = 0; k < n; k++)
		v[k] += num(json_object_get(lanes, "afxdp"), names[k]) +
			num(json_object_get(lanes, "kernel"), names[k]);
}

/* One sample from siphond: CLI_OK, or CLI_FAILED (cli_call said why). */
static int take(struct sample *s)
{
	json_t *st, *ps;
	const json_t *fp, *n, *p;
	size_t i, k;

	memset(s, 0, sizeof(*s));
	if (cli_call("top", "stats", NULL, &st))
		return CLI_FAILED;
	if (cli_call("top", "pool.show", NULL, &ps)) {
		json_decref(st);
		return CLI_FAILED;
	}
	s->at_s = mono_s();
	s->generation = (long long)json_integer_value(json_object_get(st, "generation"));
	s->age_s = num(st, "age_s");
	/* the nodes in pool.show's order, with their state */
	json_array_foreach (json_object_get(ps, "pools"), i, p)
		json_array_foreach (json_object_get(p, "nodes"), k, n) {
			struct node_sample *m = node_of(s, json_string_value(json_object_get(p, "name")),
							json_string_value(json_object_get(n, "name")));

			if (m)
				snprintf(m->state, sizeof(m->state), "%s",
					 json_string_value(json_object_get(n, "state")));
		}
	json_array_foreach (json_object_get(st, "nodes"), i, n) {
		struct node_sample *m = node_of(s, json_string_value(json_object_get(n, "pool")),
						json_string_value(json_object_get(n, "node")));

		if (m && json_integer_value(json_object_get(n, "rtt_count")))
			m->rtt_ms = num(n, "rtt_last_ms");
	}
	json_array_foreach (json_object_get(st, "fast_paths"), i, fp) {
		const json_t *c = json_object_get(fp, "counters");

		s->fast_paths++;
		json_array_foreach (json_object_get(c, "nodes"), k, n) {
			struct node_sample *m = node_of(s, json_string_value(json_object_get(n, "pool")),
							json_string_value(json_object_get(n, "node")));

			if (!m)
				continue;
			if (json_is_true(json_object_get(n, "removed")) && !strcmp(m->state, "-"))
				snprintf(m->state, sizeof(m->state), "removed");
			m->afxdp += num(n, "afxdp_packets");
			m->kernel += num(n, "kernel_packets");
			add_lanes(m->req, json_object_get(n, "requests"), methods, N_METHODS);
			add_lanes(m->resp, json_object_get(n, "responses"), classes, N_CLASSES);
		}
	}
	json_decref(st);
	json_decref(ps);
	return CLI_OK;
}

static const struct node_sample *find(const struct sample *s, const char *pool, const char *node)
{
	for (size_t i = 0; i < s->len; i++)
		if (!strcmp(s->n[i].pool, pool) && !strcmp(s->n[i].node, node))
			return &s->n[i];
	return NULL;
}

static double per_s(double now, double before, double dt)
{
	return now > before && dt > 0 ? (now - before) / dt : 0;
}

/* One frame: the rates between a and b. */
static void frame(FILE *f, const struct sample *a, const struct sample *b, double interval)
{
	double dt = b->at_s - a->at_s;
	char clock[16];
	time_t now = time(NULL);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	fprintf(f, "siphon top: generation %lld (%.1f s old), %zu fast path%s, every %.1f s"
		   "  %s\n\n", b->generation, b->age_s, b->fast_paths, b->fast_paths == 1 ? "" : "s",
		interval, clock);
	fprintf(f, "%-24s %-9s %9s %9s |", "POOL/NODE", "STATE", "AFXDP/s", "KERNEL/s");
	for (unsigned k = 0; k < N_METHODS; k++)
		fprintf(f, " %8s", methods[k]);
	fprintf(f, " |");
	for (unsigned k = 0; k < N_CLASSES; k++)
		fprintf(f, " %6s", classes[k]);
	fprintf(f, " | %7s\n", "RTT ms");
	for (size_t i = 0; i < b->len; i++) {
		const struct node_sample *y = &b->n[i], *x = find(a, y->pool, y->node);
		const struct node_sample zero = { .rtt_ms = -1 };
		char name[160];

		if (!x)
			x = &zero;
		snprintf(name, sizeof(name), "%s/%s", y->pool, y->node);
		fprintf(f, "%-24.24s %-9.9s %9.1f %9.1f |", name, y->state,
			per_s(y->afxdp, x->afxdp, dt), per_s(y->kernel, x->kernel, dt));
		for (unsigned k = 0; k < N_METHODS; k++)
			fprintf(f, " %8.1f", per_s(y->req[k], x->req[k], dt));
		fprintf(f, " |");
		for (unsigned k = 0; k < N_CLASSES; k++)
			fprintf(f, " %6.1f", per_s(y->resp[k], x->resp[k], dt));
		if (y->rtt_ms >= 0)
			fprintf(f, " | %7.2f\n", y->rtt_ms);
		else
			fprintf(f, " | %7s\n", "-");
	}
	if (!b->fast_paths)
		fprintf(f, "\n(no fast path attached: no traffic to show)\n");
}

/* Waits up to s seconds; true when q was typed (a terminal) or a signal
 * came. */
static bool wait_or_quit(double s)
{
	double end = mono_s() + s;

	while (!stop) {
		double left = end - mono_s();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		char c;

		if (left <= 0)
			return false;
		if (!tty_on) {
			struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&p, 1, (int)(left * 1000) + 1) > 0 && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q'))
			return true;
	}
	return true;
}


int cmd_top(int argc, char **argv)
{
	bool once = false;
	double interval = 1.0;
	struct sample a, b;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			char *end;

			errno = 0;
			interval = strtod(argv[++i], &end);
			if (errno || *end || end == argv[i] || !(interval >= 0.1 && interval <= 3600)) {
				cli_error("top", "--interval '%s': seconds from 0.1 to 3600", argv[i]);
				return CLI_USAGE;
			}
		} else {
			cli_error("top", "'%s': usage: siphonctl [--socket PATH] %s", argv[i],
				  TOP_USAGE);
			return CLI_USAGE;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = take(&a);
	if (rc)
		return rc;
	if (!once && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		tty_setup();
	for (;;) {
		if (wait_or_quit(interval))
			break;
		rc = take(&b);
		if (rc)
			break;
		if (tty_on)
			fputs("\033[H\033[2J", stdout);
		else if (!once)
			putchar('\n');
		frame(stdout, &a, &b, interval);
		if (tty_on)
			fputs("\n(q or Ctrl-C: quit)", stdout);
		fflush(stdout);
		free(a.n);
		a = b;
		if (once)
			break;
	}
	tty_restore();
	free(a.n);
	return rc;
}
