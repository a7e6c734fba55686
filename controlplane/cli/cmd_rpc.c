/* siphonctl ping and rpc: calls to siphond over its socket (docs/rpc.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpc_client.h"

/* Makes the call; prints why it failed and returns CLI_FAILED, or CLI_OK. */
static int call(const char *cmd, const char *method, json_t *params, json_t **reply)
{
	char err[512];
	const char *path = cli_socket_path();
	int rc = rpc_call(path, method, params, cli_timeout_ms(), reply, err, sizeof(err));

	if (rc == 0)
		return CLI_OK;
	if (rc == -ETIMEDOUT)
		cli_error(cmd, "siphond at %s: no reply within %d s", path, cli_timeout_ms() / 1000);
	else if (rc == -EPROTO)
		cli_error(cmd, "siphond at %s: %s", path, err);
	else
		cli_error(cmd, "%s", err); /* says the path and why */
	return CLI_FAILED;
}

/* The "error" member of a reply; NULL for a result. */
static const json_t *reply_error(const json_t *reply)
{
	return json_object_get(reply, "error");
}

static void print_error(const char *cmd, const json_t *e)
{
	cli_error(cmd, "%s: %s", json_string_value(json_object_get(e, "code")),
		  json_string_value(json_object_get(e, "message")));
}

int cmd_ping(int argc, char **argv)
{
	json_t *reply;
	const json_t *e, *result;
	int rc;

	if (argc > 1) {
		cli_error("ping", "'%s': usage: siphonctl [--socket PATH] ping", argv[1]);
		return CLI_USAGE;
	}
	rc = call("ping", "ping", NULL, &reply);
	if (rc)
		return rc;
	e = reply_error(reply);
	result = json_object_get(reply, "result");
	if (e) {
		print_error("ping", e);
		rc = CLI_FAILED;
	} else if (!json_is_string(result) || strcmp(json_string_value(result), "pong") != 0) {
		cli_error("ping", "siphond at %s: the reply is not \"pong\"", cli_socket_path());
		rc = CLI_FAILED;
	} else {
		puts("pong");
	}
	json_decref(reply);
	return rc;
}

int cmd_rpc(int argc, char **argv)
{
	json_t *params = NULL, *reply;
	json_error_t jerr;
	char *line;
	int rc;

	if (argc < 2 || argc > 3 || argv[1][0] == '-') {
		cli_error("rpc", "usage: siphonctl [--socket PATH] rpc %s", RPC_USAGE);
		return CLI_USAGE;
	}
	if (argc == 3) {
		params = json_loads(argv[2], JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(params)) {
			cli_error("rpc", "JSON-PARAMS: expected a JSON object, as in '{\"method\": \"ping\"}'%s%s",
				  params ? "" : ": ", params ? "" : jerr.text);
			json_decref(params);
			return CLI_USAGE;
		}
	}
	rc = call("rpc", argv[1], params, &reply);
	json_decref(params);
	if (rc)
		return rc;
	line = json_dumps(reply, JSON_COMPACT);
	if (line)
		puts(line);
	free(line);
	if (reply_error(reply)) {
		print_error("rpc", reply_error(reply));
		rc = CLI_FAILED;
	}
	json_decref(reply);
	return rc;
}
