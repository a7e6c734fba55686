/* Runs every message of tests/corpus/ through the scanner and checks the
 * verdict, reason, start line, Call-ID, dialog state and forwarded length
 * against tests/corpus/expected.tsv. One cmocka test per corpus row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "siphon/sip_scan.h"

#define MAX_ROWS 1024

struct row {
	char file[128];
	char verdict[16], reason[32], start[64], call_id[4096], in_dialog[8], msg_len[16];
	char name[160];
};

static const char *corpus_dir;
static struct row rows[MAX_ROWS];

/* Undoes the escapes of the call_id column: \\ \t \r \n \xHH. */
static size_t unescape(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = in; *p && n < cap; p++) {
		if (*p != '\\') {
			out[n++] = (uint8_t)*p;
			continue;
		}
		p++;
		switch (*p) {
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case '\\': out[n++] = '\\'; break;
		case 'x': {
			char hex[3] = { p[1], p[2], 0 };
			out[n++] = (uint8_t)strtoul(hex, NULL, 16);
			p += 2;
			break;
		}
		default:
			fail_msg("bad escape \\%c in expected.tsv", *p);
		}
	}
	return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_row(void **state)
{
	const struct row *r = *state;
	char path[1024];
	struct sip_msg msg;
	size_t len;
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, r->file);
	buf = read_file(path, &len);
	assert_non_null(buf);
	sip_scan(buf, len, NULL, NULL, &msg);

	assert_string_equal(sip_reason_name(msg.reason), r->reason);
	assert_string_equal(sip_verdict_name(msg.verdict), r->verdict);

	if (strcmp(r->start, "-") == 0) {
		assert_false(msg.parsed);
	} else {
		char start[64];
		assert_true(msg.parsed);
		if (msg.is_request)
			snprintf(start, sizeof(start), "%.*s", (int)msg.method_name.len,
				 (const char *)buf + msg.method_name.off);
		else
			snprintf(start, sizeof(start), "%u", msg.status);
		assert_string_equal(start, r->start);
	}

	if (strcmp(r->call_id, "-") == 0) {
		assert_true(!msg.parsed || msg.hdr_count[SIP_HDR_CALL_ID] == 0);
	} else {
		uint8_t want[4096];
		size_t n = strcmp(r->call_id, "<empty>") == 0 ? 0 : unescape(r->call_id, want, sizeof(want));
		assert_true(msg.parsed);
		assert_int_equal(msg.call_id.len, n);
		assert_memory_equal(buf + msg.call_id.off, want, n);
	}

	if (strcmp(r->in_dialog, "-") != 0)
		assert_int_equal(sip_in_dialog(&msg), strcmp(r->in_dialog, "true") == 0);
	if (strcmp(r->msg_len, "-") != 0)
		assert_int_equal(msg.msg_len, strtoul(r->msg_len, NULL, 10));
	free(buf);
}

static int load_rows(const char *dir)
{
	char path[1024], line[8192];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/expected.tsv", dir);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && n < MAX_ROWS) {
		struct row *r = &rows[n];
		char *fields[8], *save = NULL, *tok;
		int k = 0;

		line[strcspn(line, "\r\n")] = 0;
		memset(r, 0, sizeof(*r));
		if (line[0] == '#' || line[0] == 0)
			continue;
		for (tok = strtok_r(line, "\t", &save); tok && k < 8; tok = strtok_r(NULL, "\t", &save))
			fields[k++] = tok;
		if (k < 7) {
			fprintf(stderr, "expected.tsv: row %d has %d columns, want 8\n", n + 1, k);
			fclose(f);
			return -1;
		}
		if (strlen(fields[0]) >= sizeof(r->file) || strlen(fields[4]) >= sizeof(r->call_id)) {
			fprintf(stderr, "expected.tsv: row %d: a column is too long\n", n + 1);
			fclose(f);
			return -1;
		}
		memcpy(r->file, fields[0], strlen(fields[0]));
		snprintf(r->verdict, sizeof(r->verdict), "%s", fields[1]);
		snprintf(r->reason, sizeof(r->reason), "%s", fields[2]);
		snprintf(r->start, sizeof(r->start), "%s", fields[3]);
		snprintf(r->call_id, sizeof(r->call_id), "%s", fields[4]);
		snprintf(r->in_dialog, sizeof(r->in_dialog), "%s", fields[5]);
		snprintf(r->msg_len, sizeof(r->msg_len), "%s", fields[6]);
		memcpy(r->name, "corpus/", 7);
		memcpy(r->name + 7, r->file, strlen(r->file));
		n++;
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[MAX_ROWS];
	int n;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus_dir = argv[1];
	n = load_rows(corpus_dir);
	if (n <= 0) {
		fprintf(stderr, "no corpus rows in %s\n", corpus_dir);
		return 1;
	}
	for (int i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = rows[i].name, .test_func = test_row,
						.initial_state = &rows[i] };
	return _cmocka_run_group_tests("scan-corpus", tests, (size_t)n, NULL, NULL);
}
