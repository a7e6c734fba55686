/* Fuzz harness over probe answers (controlplane/health/probe_answer.c,
 * docs/health.md): any bytes as a datagram that may answer a probe. What
 * the parser reports must be in range and acceptable to the node state
 * machine; and a probe named by the input's first bytes, answered by
 * answer_options(), is read back as the same probe. */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"

#include "answer.h"
#include "probe.h"

static uint32_t word(const uint8_t *p, size_t size, size_t at)
{
	uint32_t w = 0;

	for (size_t i = 0; i < 4; i++)
		w = w << 8 | (at + i < size ? p[at + i] : 0);
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct health_params params;
	static uint8_t probe[PROBE_MAX_BYTES], resp[2048];
	struct sip_endpoint control = { .ip = { .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } },
					.port = 5060 };
	struct sip_endpoint node = { .ip = { .family = AF_INET, .addr = { 198, 51, 100, 21 } }, .port = 5080 };
	const struct answer_status ok = { 200, "OK", 0 };
	struct probe_answer a, b;
	struct health_node n;
	size_t plen, rlen;
	struct probe_id id;

	if (params.interval_ms == 0)
		health_params_default(&params);
	if (probe_answer_parse(data, size, &a) == 0) {
		CHECK(a.status == PROBE_STATUS_OK && a.result.kind == HEALTH_RESULT_REPLY);
		CHECK(a.result.code >= 100 && a.result.code <= 699);
		CHECK(a.result.oc >= HEALTH_OC_INVALID && a.result.oc <= 100);
		CHECK(!a.result.bad_retry_after || a.result.retry_after_s == 0);
		health_node_init(&n, &params, 100, 0);
		CHECK(health_probe_sent(&n, 0, &id.seq) == 0);
		CHECK(health_probe_result(&n, 1, &a.result) == 0);
		CHECK(health_state_takes_calls(n.state) || health_effective_weight(&n) == 0);
		CHECK(health_effective_weight(&n) <= 100);
	} else {
		CHECK(a.status != PROBE_STATUS_OK && a.status < PROBE_STATUS__COUNT);
	}

	id = (struct probe_id){ word(data, size, 0), word(data, size, 4), word(data, size, 8) };
	if (size % 2)
		node.ip = control.ip;
	CHECK(probe_build(&control, &node, &id, probe, sizeof(probe), &plen) == 0);
	CHECK(answer_options(probe, plen, &node, &ok, resp, sizeof(resp), &rlen) == 0);
	CHECK(probe_answer_parse(resp, rlen, &b) == 0);
	CHECK(b.id.instance == id.instance && b.id.node == id.node && b.id.seq == id.seq);
	CHECK(b.result.code == 200 && b.result.oc == HEALTH_OC_ABSENT && b.result.retry_after_s == 0);
	return 0;
}
