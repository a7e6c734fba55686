/* Network-order fields read and written byte by byte (no alignment, no
 * aliasing assumptions): the one copy for the packet parser, frame kinds,
 * rewrite, checksums and fragments. */
#ifndef SIPHON_BYTES_H
#define SIPHON_BYTES_H

#include <stdint.h>

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
