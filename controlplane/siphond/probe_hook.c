/* The default siphond_probe_answer(): counts and drops. A placeholder,
 * weak on purpose: the health loop (health_loop.c, another branch) defines
 * the real one, which replaces this at link time; this file can then be
 * deleted. */
#include "siphond.h"

__attribute__((weak)) void siphond_probe_answer(struct siphond *d, const uint8_t *buf, size_t len,
						const struct sockaddr_storage *from,
						uint64_t now_ms)
{
	(void)buf, (void)len, (void)from, (void)now_ms;
	punt_count_probe_dropped(d);
}
