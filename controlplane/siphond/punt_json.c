/* The punts' part of `siphonctl state --json` (docs/siphond.md "Punts"). */
#include <stdio.h>
#include <string.h>

#include "punt_sock.h"
#include "siphond.h"

static json_t *by_code(const struct punt_code *c)
{
	json_t *o = json_object();
	char k[8];

	for (unsigned i = 0; o && i < 600; i++)
		if (c->n[i]) {
			snprintf(k, sizeof(k), "%u", i + 100);
			json_object_set_new(o, k, json_integer((json_int_t)c->n[i]));
		}
	return o;
}

static json_t *by_why(const struct punt_why *w, unsigned n)
{
	json_t *o = json_object();

	for (unsigned i = 0; o && i < n; i++)
		json_object_set_new(o, w[i].name, json_integer((json_int_t)w[i].count));
	return o;
}

static json_t *sockets(const struct punt *p)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < p->n_socks; i++) {
		const struct punt_sock *s = &p->socks[i];

		json_array_append_new(a, json_pack("{s:s, s:b, s:s}", "socket", s->name, "bound",
						   s->fd >= 0, "error",
						   s->err ? strerror(s->err) : ""));
	}
	return a;
}

json_t *punt_json(const struct siphond *d)
{
	const struct punt *p = d->punt;
	const struct punt_counters *c;

	if (!p)
		return json_null();
	c = &p->c;
	return json_pack("{s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I}",
			 "sockets", sockets(p), "received", (json_int_t)c->received,
			 "answered_options", by_code(&c->options), "answered_reply",
			 by_code(&c->replies), "answered_stun", (json_int_t)c->stun,
			 "answered_503", (json_int_t)c->no_live_node, "probe_answers",
			 (json_int_t)c->probe_answers, "unanswered",
			 by_why(c->unanswered, c->n_unanswered), "bad", by_why(c->bad, c->n_bad),
			 "send_failed", (json_int_t)c->send_failed, "bind_failed",
			 (json_int_t)c->bind_failed, "read_failed", (json_int_t)c->read_failed,
			 "tables_failed", (json_int_t)c->tables_failed);
}
