/* The bounded writer (sip_out.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_out.h"

void sip_out_init(struct sip_out *o, uint8_t *buf, size_t cap)
{
	*o = (struct sip_out){ .buf = buf, .cap = buf ? cap : 0 };
}

void sip_out_put(struct sip_out *o, const void *bytes, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	if (n)
		memcpy(o->buf + o->len, bytes, n);
	o->len += n;
}

void sip_out_str(struct sip_out *o, const char *s)
{
	sip_out_put(o, s, strlen(s));
}

void sip_out_uint(struct sip_out *o, uint32_t v)
{
	char d[10];
	unsigned i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sip_out_put(o, d + i, sizeof(d) - i);
}

void sip_out_hex32(struct sip_out *o, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	char d[8];

	for (int i = 7; i >= 0; i--, v >>= 4)
		d[i] = hex[v & 15];
	sip_out_put(o, d, sizeof(d));
}

void sip_out_ip(struct sip_out *o, const struct self_addr *ip, bool brackets)
{
	char text[INET6_ADDRSTRLEN];

	if ((ip->family != AF_INET && ip->family != AF_INET6) ||
	    !inet_ntop(ip->family, ip->addr, text, sizeof(text))) {
		o->full = true;
		return;
	}
	brackets = brackets && ip->family == AF_INET6;
	if (brackets)
		sip_out_put(o, "[", 1);
	sip_out_str(o, text);
	if (brackets)
		sip_out_put(o, "]", 1);
}

void sip_out_hostport(struct sip_out *o, const struct sip_endpoint *e)
{
	sip_out_ip(o, &e->ip, true);
	sip_out_put(o, ":", 1);
	sip_out_uint(o, e->port);
}

void sip_out_value(struct sip_out *o, const uint8_t *v, size_t n)
{
	size_t start = o->len;

	sip_out_put(o, v, n);
	if (o->full)
		return;
	for (size_t i = start; i < o->len; i++)
		if (o->buf[i] == '\r' || o->buf[i] == '\n')
			o->buf[i] = ' ';
}

int sip_out_finish(const struct sip_out *o, size_t *len)
{
	if (o->full)
		return -ENOSPC;
	if (len)
		*len = o->len;
	return 0;
}

bool sip_parse_ip(const uint8_t *s, size_t n, struct self_addr *ip)
{
	char text[INET6_ADDRSTRLEN + 2];

	if (memchr(s, '\0', n))
		return false;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		if (n == 0 || n >= sizeof(text))
			return false;
		memcpy(text, s, n);
		text[n] = '\0';
		ip->family = AF_INET6;
		return inet_pton(AF_INET6, text, ip->addr) == 1;
	}
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(ip->addr, 0, sizeof(ip->addr));
	if (inet_pton(AF_INET, text, ip->addr) == 1) {
		ip->family = AF_INET;
		return true;
	}
	ip->family = AF_INET6;
	return inet_pton(AF_INET6, text, ip->addr) == 1;
}

bool sip_eq_nocase(const uint8_t *p, size_t n, const char *lower)
{
	size_t i;

	for (i = 0; i < n && lower[i]; i++) {
		uint8_t c = p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] + 32) : p[i];
		if (c != (uint8_t)lower[i])
			return false;
	}
	return i == n && lower[i] == '\0';
}
