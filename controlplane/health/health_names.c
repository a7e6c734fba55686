/* Name tables from the health .def lists, and the accepted reply codes. */
#include <errno.h>
#include <string.h>

#include "health.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_OR_UNKNOWN(table, i) ((i) < COUNT_OF(table) ? (table)[i] : "?")

static const char *const state_names[] = {
#define HEALTH_STATE(id, name, calls, help) [HEALTH_##id] = name,
#include "health_states.def"
#undef HEALTH_STATE
};
static const char *const state_helps[] = {
#define HEALTH_STATE(id, name, calls, help) [HEALTH_##id] = help,
#include "health_states.def"
#undef HEALTH_STATE
};
static const bool state_calls[] = {
#define HEALTH_STATE(id, name, calls, help) [HEALTH_##id] = calls,
#include "health_states.def"
#undef HEALTH_STATE
};
static const char *const why_names[] = {
#define HEALTH_WHY(id, name, help) [HEALTH_WHY_##id] = name,
#include "health_why.def"
#undef HEALTH_WHY
};
static const char *const result_names[] = {
#define HEALTH_RESULT(id, name, help) [HEALTH_RESULT_##id] = name,
#include "health_results.def"
#undef HEALTH_RESULT
};
static const char *const counter_names[] = {
#define HEALTH_COUNTER(id, name, help) [HEALTH_CNT_##id] = name,
#include "health_counters.def"
#undef HEALTH_COUNTER
};

const char *health_state_name(unsigned s) { return NAME_OR_UNKNOWN(state_names, s); }
const char *health_state_help(unsigned s) { return NAME_OR_UNKNOWN(state_helps, s); }
bool health_state_takes_calls(unsigned s) { return s < COUNT_OF(state_calls) && state_calls[s]; }
const char *health_why_name(unsigned w) { return NAME_OR_UNKNOWN(why_names, w); }
const char *health_result_name(unsigned r) { return NAME_OR_UNKNOWN(result_names, r); }
const char *health_counter_name(unsigned c) { return NAME_OR_UNKNOWN(counter_names, c); }

int health_state_from_name(const char *name)
{
	for (unsigned i = 0; i < COUNT_OF(state_names); i++)
		if (strcmp(state_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* "2xx" or three digits, 100-699 */
int health_codes_add(struct health_codes *c, const char *item)
{
	uint16_t lo, hi;

	if (strlen(item) != 3 || item[0] < '1' || item[0] > '6')
		return -EINVAL;
	if ((item[1] == 'x' || item[1] == 'X') && (item[2] == 'x' || item[2] == 'X')) {
		lo = (uint16_t)((item[0] - '0') * 100);
		hi = (uint16_t)(lo + 99);
	} else if (item[1] >= '0' && item[1] <= '9' && item[2] >= '0' && item[2] <= '9') {
		lo = hi = (uint16_t)((item[0] - '0') * 100 + (item[1] - '0') * 10 + (item[2] - '0'));
	} else {
		return -EINVAL;
	}
	if (c->n >= HEALTH_CODES_MAX)
		return -ENOSPC;
	c->range[c->n].lo = lo;
	c->range[c->n].hi = hi;
	c->n++;
	return 0;
}

bool health_codes_accept(const struct health_codes *c, uint16_t code)
{
	if (c->n == 0)
		return code >= 200 && code <= 299;
	for (unsigned i = 0; i < c->n && i < HEALTH_CODES_MAX; i++)
		if (code >= c->range[i].lo && code <= c->range[i].hi)
			return true;
	return false;
}
