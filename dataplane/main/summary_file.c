/* Where siphon's live backends (--io xdp, --io dpdk) write their JSON
 * summary (siphon_main.h): stdout, or --summary FILE replaced whole. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "siphon/json_write.h"
#include "siphon_main.h"

FILE *summary_open(struct summary_out *s, const struct options *o, bool running)
{
	int first = 1;

	s->path = o->summary;
	s->f = stdout;
	snprintf(s->tmp, sizeof(s->tmp), "%s.tmp", s->path ? s->path : "");
	if (s->path && !(s->f = fopen(s->tmp, "w"))) {
		fprintf(stderr, "siphon: --summary %s: %s; the summary goes to stdout\n", s->tmp,
			strerror(errno));
		s->f = stdout;
	}
	fputc('{', s->f);
	json_key(s->f, "io", &first);
	json_write_str(s->f, o->io);
	json_key(s->f, "running", &first);
	fputs(running ? "true" : "false", s->f);
	return s->f;
}

void summary_close(struct summary_out *s)
{
	fputs("}\n", s->f);
	if (s->f == stdout)
		fflush(s->f);
	else if (fclose(s->f) || rename(s->tmp, s->path))
		fprintf(stderr, "siphon: --summary %s: %s\n", s->path, strerror(errno));
	s->f = NULL;
}

bool summary_due(const struct options *o, struct summary_clock *c)
{
	struct timespec t;

	if (!o->stats_interval)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!c->last) {
		c->last = t.tv_sec;
		return false;
	}
	if ((unsigned)(t.tv_sec - c->last) < o->stats_interval)
		return false;
	c->last = t.tv_sec;
	return true;
}
