/*
 * The benchmark's wire protocol and payload verification, shared by every
 * backend's server and by the driver's clients.
 *
 * Messages are 64 bytes:
 *   0..3   magic "INCB"
 *   4..5   type (little endian): REQ, RESP, BULK, BULK_ACK
 *   6..7   zero
 *   8..15  seq (little endian)
 *   16..23 arg (little endian)
 *   24..63 pattern bytes determined by (type, seq, arg)
 * A receiver rebuilds the message from (type, seq, arg) and compares all 64
 * bytes, so every byte is verified.
 *
 * Exchanges:
 *   REQ(seq, arg)  -> RESP(seq, arg)                 request/response
 *   BULK(0, seed), stream bytes ..., end of stream   bulk upload, then
 *                  -> BULK_ACK(bad, bytes)           bad = 0 if every byte
 *                                                    matched the pattern
 * Byte i of a bulk stream with seed s is pattern byte (s + i) mod 65536.
 *
 * Thread: every function works on caller-owned state and may be called from
 * any thread; a struct inc_bench_srv_conn is used by one thread at a time.
 */
#ifndef INC_BENCH_PROTO_H
#define INC_BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INC_BENCH_MSG_SIZE 64u
#define INC_BENCH_PATTERN_SPAN 65536u
/** Most requests a client may have in flight on one connection. */
#define INC_BENCH_MAX_DEPTH 64u

enum inc_bench_msg_type {
	INC_BENCH_MSG_REQ = 1,
	INC_BENCH_MSG_RESP = 2,
	INC_BENCH_MSG_BULK = 3,
	INC_BENCH_MSG_BULK_ACK = 4,
};

/** Pseudo-random bytes; twice the span so that any chunk of up to
 *  INC_BENCH_PATTERN_SPAN bytes starting in the first span is contiguous. */
struct inc_bench_pattern {
	uint8_t bytes[2 * INC_BENCH_PATTERN_SPAN];
};

/** Fill *p with the fixed pattern (same bytes in every process). */
void inc_bench_pattern_init(struct inc_bench_pattern *p);

/** Copy len bytes of the stream with the given seed, from offset, to dst. */
void inc_bench_pattern_fill(const struct inc_bench_pattern *p, uint64_t seed, uint64_t offset,
			    void *dst, size_t len);

/** Returns: 0 if data is the stream's bytes at offset, -EILSEQ otherwise. */
int inc_bench_pattern_check(const struct inc_bench_pattern *p, uint64_t seed, uint64_t offset,
			    const void *data, size_t len);

/** Build a message into out[INC_BENCH_MSG_SIZE]. */
void inc_bench_msg_make(const struct inc_bench_pattern *p, uint8_t *out, enum inc_bench_msg_type type,
			uint64_t seq, uint64_t arg);

/** Parse and verify a message (all 64 bytes).
 *  Returns: 0, or -EPROTO (bad magic/type) or -EILSEQ (a byte differs). */
int inc_bench_msg_parse(const struct inc_bench_pattern *p, const uint8_t *in,
			enum inc_bench_msg_type *type, uint64_t *seq, uint64_t *arg);

/** Bytes of replies a server connection may hold before they are sent. */
#define INC_BENCH_SRV_OUT_MAX ((INC_BENCH_MAX_DEPTH + 1u) * INC_BENCH_MSG_SIZE)

/** Server side of one connection: a push parser plus pending replies. */
struct inc_bench_srv_conn {
	const struct inc_bench_pattern *pattern;
	uint8_t msg[INC_BENCH_MSG_SIZE];  /* partial message */
	unsigned msg_len;
	int bulk;                         /* inside a bulk stream */
	uint64_t bulk_seed;
	uint64_t bulk_off;                /* bytes of the stream so far */
	uint64_t bulk_bad;                /* mismatching chunks */
	int done;                         /* end of stream seen */
	size_t out_off, out_len;          /* pending replies: out[out_off..out_len) */
	uint8_t out[INC_BENCH_SRV_OUT_MAX];
};

/** Start the protocol state of a new connection. */
void inc_bench_srv_conn_init(struct inc_bench_srv_conn *c, const struct inc_bench_pattern *p);

/** Consume received bytes: verify them, count them in *st, queue replies.
 *  Returns: 0, or a negative errno on a protocol or payload error (also
 *  counted in st->errors with a message in st->error); the connection should
 *  then be closed. */
int inc_bench_srv_input(struct inc_bench_srv_conn *c, const void *data, size_t len,
			struct inc_bench_server_stats *st);

/** The peer ended its stream: finish a bulk stream (queues BULK_ACK).
 *  Returns: 0, or -EPROTO if the stream ended inside a message. */
int inc_bench_srv_eof(struct inc_bench_srv_conn *c, struct inc_bench_server_stats *st);

/** Pending reply bytes: sets *data and returns their count (0 if none). */
size_t inc_bench_srv_pending(const struct inc_bench_srv_conn *c, const void **data);

/** n of the pending bytes were sent. */
void inc_bench_srv_sent(struct inc_bench_srv_conn *c, size_t n);

/** Record an error in *st: counts it; keeps the first message. */
void inc_bench_srv_error(struct inc_bench_server_stats *st, const char *what, int err);

/** Add the counts of src to dst (the first error message wins). */
void inc_bench_server_stats_add(struct inc_bench_server_stats *dst, const struct inc_bench_server_stats *src);

#ifdef __cplusplus
}
#endif

#endif
