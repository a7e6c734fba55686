/* The `help` method's array as text and roff (rpc_doc.h). */
#include <stdio.h>
#include <string.h>

#include "rpc_doc.h"
#include "siphon/optdoc.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

void rpc_doc_param(const json_t *p, char *buf, size_t size)
{
	const json_t *min = json_object_get(p, "min"), *max = json_object_get(p, "max");
	char range[64] = "";

	if (min && max)
		snprintf(range, sizeof(range), "; %lld to %lld", (long long)json_integer_value(min),
			 (long long)json_integer_value(max));
	else if (min)
		snprintf(range, sizeof(range), "; at least %lld", (long long)json_integer_value(min));
	snprintf(buf, size, "%s (%s, %s%s): %s", str(p, "name"), str(p, "type"),
		 json_is_true(json_object_get(p, "required")) ? "required" : "optional", range,
		 str(p, "doc"));
}

void rpc_doc_text(FILE *f, const json_t *methods)
{
	size_t i, j;
	const json_t *m, *p;

	json_array_foreach (methods, i, m) {
		char line[1024];

		fprintf(f, "  %s\n      %s\n", str(m, "name"), str(m, "doc"));
		json_array_foreach (json_object_get(m, "params"), j, p) {
			rpc_doc_param(p, line, sizeof(line));
			fprintf(f, "        %s\n", line);
		}
	}
}

void rpc_doc_man(FILE *f, const json_t *methods)
{
	size_t i, j;
	const json_t *m, *p;

	json_array_foreach (methods, i, m) {
		char line[1024];

		fputs(".TP\n.B ", f);
		roff_text(f, str(m, "name"));
		roff_text(f, str(m, "doc"));
		json_array_foreach (json_object_get(m, "params"), j, p) {
			rpc_doc_param(p, line, sizeof(line));
			fputs(".br\n\\(bu ", f);
			roff_text(f, line);
		}
	}
}
