/*
 * Benchmark protocol: pattern, 64-byte messages, server-side push parser.
 * See bench_proto.h for the format.
 */
#include "bench_proto.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PATTERN_MASK (INC_BENCH_PATTERN_SPAN - 1u)
#define MSG_FILL_OFF 24u

static const uint8_t msg_magic[4] = {'I', 'N', 'C', 'B'};

/* splitmix64 finaliser: spreads (type, seq, arg) over the pattern. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Little-endian fields with plain loads and stores: the benchmark's own
 * work per message should be small next to the stack's (it is counted in
 * the callgrind figures). */
static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof v);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof v);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return le64toh(v);
}

void inc_bench_pattern_init(struct inc_bench_pattern *p)
{
	uint64_t x = 0x496e63657074696full; /* fixed: every process makes the same bytes */

	for (size_t i = 0; i < INC_BENCH_PATTERN_SPAN; i += 8) {
		x = mix64(x + 0x9e3779b97f4a7c15ull);
		put_le64(&p->bytes[i], x);
	}
	memcpy(&p->bytes[INC_BENCH_PATTERN_SPAN], p->bytes, INC_BENCH_PATTERN_SPAN);
}

void inc_bench_pattern_fill(const struct inc_bench_pattern *p, uint64_t seed, uint64_t offset,
			    void *dst, size_t len)
{
	uint8_t *d = dst;
	size_t start = (size_t)((seed + offset) & PATTERN_MASK);

	while (len > 0) {
		size_t n = len < INC_BENCH_PATTERN_SPAN ? len : INC_BENCH_PATTERN_SPAN;

		memcpy(d, &p->bytes[start], n);
		d += n;
		len -= n;
		start = (start + n) & PATTERN_MASK;
	}
}

int inc_bench_pattern_check(const struct inc_bench_pattern *p, uint64_t seed, uint64_t offset,
			    const void *data, size_t len)
{
	const uint8_t *s = data;
	size_t start = (size_t)((seed + offset) & PATTERN_MASK);

	while (len > 0) {
		size_t n = len < INC_BENCH_PATTERN_SPAN ? len : INC_BENCH_PATTERN_SPAN;

		if (memcmp(s, &p->bytes[start], n) != 0)
			return -EILSEQ;
		s += n;
		len -= n;
		start = (start + n) & PATTERN_MASK;
	}
	return 0;
}

void inc_bench_msg_make(const struct inc_bench_pattern *p, uint8_t *out, enum inc_bench_msg_type type,
			uint64_t seq, uint64_t arg)
{
	uint64_t fill = mix64(seq * 0x9e3779b97f4a7c15ull + arg * 0xd1b54a32d192ed03ull + (uint64_t)type);

	memcpy(out, msg_magic, sizeof msg_magic);
	put_le16(out + 4, (uint16_t)type);
	put_le16(out + 6, 0);
	put_le64(out + 8, seq);
	put_le64(out + 16, arg);
	memcpy(out + MSG_FILL_OFF, &p->bytes[fill & PATTERN_MASK], INC_BENCH_MSG_SIZE - MSG_FILL_OFF);
}

int inc_bench_msg_parse(const struct inc_bench_pattern *p, const uint8_t *in,
			enum inc_bench_msg_type *type, uint64_t *seq, uint64_t *arg)
{
	uint8_t expect[INC_BENCH_MSG_SIZE];
	unsigned t = (unsigned)in[4] | (unsigned)in[5] << 8;

	if (memcmp(in, msg_magic, sizeof msg_magic) != 0 || t < INC_BENCH_MSG_REQ ||
	    t > INC_BENCH_MSG_BULK_ACK)
		return -EPROTO;
	*type = (enum inc_bench_msg_type)t;
	*seq = get_le64(in + 8);
	*arg = get_le64(in + 16);
	inc_bench_msg_make(p, expect, *type, *seq, *arg);
	return memcmp(expect, in, INC_BENCH_MSG_SIZE) == 0 ? 0 : -EILSEQ;
}

void inc_bench_srv_conn_init(struct inc_bench_srv_conn *c, const struct inc_bench_pattern *p)
{
	c->pattern = p;
	c->msg_len = 0;
	c->bulk = 0;
	c->bulk_seed = 0;
	c->bulk_off = 0;
	c->bulk_bad = 0;
	c->done = 0;
	c->out_off = 0;
	c->out_len = 0;
}

void inc_bench_srv_error(struct inc_bench_server_stats *st, const char *what, int err)
{
	st->errors++;
	if (st->error[0] == '\0')
		snprintf(st->error, sizeof st->error, "%s: %s", what, strerror(err < 0 ? -err : err));
}

static int queue_reply(struct inc_bench_srv_conn *c, enum inc_bench_msg_type type, uint64_t seq,
		       uint64_t arg)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + INC_BENCH_MSG_SIZE > sizeof c->out) {
		/* Compact: the client never has more than INC_BENCH_MAX_DEPTH
		 * requests in flight, so this only fails on a protocol error. */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + INC_BENCH_MSG_SIZE > sizeof c->out)
			return -ENOBUFS;
	}
	inc_bench_msg_make(c->pattern, c->out + c->out_len, type, seq, arg);
	c->out_len += INC_BENCH_MSG_SIZE;
	return 0;
}

static int handle_msg(struct inc_bench_srv_conn *c, struct inc_bench_server_stats *st)
{
	enum inc_bench_msg_type type;
	uint64_t seq, arg;
	int rc = inc_bench_msg_parse(c->pattern, c->msg, &type, &seq, &arg);

	c->msg_len = 0;
	if (rc < 0) {
		inc_bench_srv_error(st, "server: bad message", rc);
		return rc;
	}
	switch (type) {
	case INC_BENCH_MSG_REQ:
		rc = queue_reply(c, INC_BENCH_MSG_RESP, seq, arg);
		if (rc < 0) {
			inc_bench_srv_error(st, "server: too many requests in flight", rc);
			return rc;
		}
		st->requests++;
		return 0;
	case INC_BENCH_MSG_BULK:
		c->bulk = 1;
		c->bulk_seed = arg;
		c->bulk_off = 0;
		c->bulk_bad = 0;
		return 0;
	case INC_BENCH_MSG_RESP:
	case INC_BENCH_MSG_BULK_ACK:
		break;
	}
	inc_bench_srv_error(st, "server: unexpected message type", -EPROTO);
	return -EPROTO;
}

int inc_bench_srv_input(struct inc_bench_srv_conn *c, const void *data, size_t len,
			struct inc_bench_server_stats *st)
{
	const uint8_t *s = data;

	if (c->done && len > 0) {
		inc_bench_srv_error(st, "server: data after end of stream", -EPROTO);
		return -EPROTO;
	}
	while (len > 0) {
		if (c->bulk) {
			/* The rest of the connection is the bulk stream. */
			if (inc_bench_pattern_check(c->pattern, c->bulk_seed, c->bulk_off, s, len) < 0) {
				c->bulk_bad++;
				inc_bench_srv_error(st, "server: bulk payload differs from pattern", -EILSEQ);
			}
			c->bulk_off += len;
			st->bulk_bytes += len;
			return c->bulk_bad ? -EILSEQ : 0;
		}
		size_t n = INC_BENCH_MSG_SIZE - c->msg_len;

		if (n > len)
			n = len;
		memcpy(c->msg + c->msg_len, s, n);
		c->msg_len += (unsigned)n;
		s += n;
		len -= n;
		if (c->msg_len == INC_BENCH_MSG_SIZE) {
			int rc = handle_msg(c, st);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int inc_bench_srv_eof(struct inc_bench_srv_conn *c, struct inc_bench_server_stats *st)
{
	if (c->done)
		return 0;
	c->done = 1;
	if (c->msg_len != 0) {
		inc_bench_srv_error(st, "server: stream ended inside a message", -EPROTO);
		return -EPROTO;
	}
	if (c->bulk) {
		st->bulk_streams++;
		return queue_reply(c, INC_BENCH_MSG_BULK_ACK, c->bulk_bad ? 1 : 0, c->bulk_off);
	}
	return 0;
}

size_t inc_bench_srv_pending(const struct inc_bench_srv_conn *c, const void **data)
{
	*data = c->out + c->out_off;
	return c->out_len - c->out_off;
}

void inc_bench_srv_sent(struct inc_bench_srv_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
}

void inc_bench_server_stats_add(struct inc_bench_server_stats *dst, const struct inc_bench_server_stats *src)
{
	dst->conns_accepted += src->conns_accepted;
	dst->conns_closed += src->conns_closed;
	dst->requests += src->requests;
	dst->bulk_streams += src->bulk_streams;
	dst->bulk_bytes += src->bulk_bytes;
	dst->errors += src->errors;
	if (dst->error[0] == '\0' && src->error[0] != '\0')
		memcpy(dst->error, src->error, sizeof dst->error);
}
