/*
 * Private to the "inception" backend (backend_inception.c, the client side
 * inception_client.c and the server side inception_server.c): the state of
 * a run and of each worker. See backend_inception.c.
 */
#ifndef INC_BENCH_INCEPTION_PRIV_H
#define INC_BENCH_INCEPTION_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "bench.h"
#include "bench_proto.h"
#include "inception/addr.h"
#include "inception/port.h"
#include "inception/raw.h"
#include "inception/stack.h"
#include "inception/wire.h"

#define IB_MAX_WORKERS 8u
#define IB_MAX_CONNS 64u      /* rps connections per client worker */
#define IB_SRV_CONNS 1024u    /* per server worker: lwIP's INC_LWIP_MAX_TCP pcbs */
#define IB_CLIENT_IP 0xc6120201u /* 198.18.2.1 */
#define IB_SERVER_IP 0xc6120202u /* 198.18.2.2 */
/* bulk: a write waits for at least this much send space (one full-sized
 * segment: lwipopts.h's TCP_MSS), unless the chunk is smaller */
#define IB_BULK_MIN_WRITE 1460u

enum cphase {
	PH_NONE,
	PH_CPS_NEXT,   /* open the next connection */
	PH_CPS_WAIT,   /* connecting, request out, waiting for the response */
	PH_RR_CONNECT, /* opening every connection */
	PH_RR_ROUND,   /* send the next round */
	PH_RR_WAIT,    /* waiting for the round's responses */
	PH_BULK_CONNECT,
	PH_BULK_STREAM,
	PH_BULK_ACK,   /* half-closed, waiting for BULK_ACK */
};

struct ib_cw;

/* A client connection (client worker's). */
struct ib_cconn {
	struct inc_raw_conn *conn; /* NULL when closed or released */
	struct ib_cw *cw;
	unsigned idx;
	uint8_t rx[INC_BENCH_MSG_SIZE];
	unsigned rx_len;
	uint64_t first_seq; /* rr: seq of the round's first request */
	unsigned got;       /* rr: responses of this round */
	uint64_t sent_at;
};

/* A client worker. Written by its worker only, except `post` (the client
 * thread) and the job's results (read by the client thread after the
 * eventfd says the job is done). */
struct ib_cw {
	struct ib_state *st;
	struct inc_worker *w; /* the client worker (set by its poll) */
	unsigned index;
	_Atomic(struct inc_bench_client_job *) post;
	int efd;
	struct inc_bench_client_job *job;
	enum cphase phase;
	int rc;
	uint64_t seq, t0;
	unsigned nconn, connected, outstanding;
	uint64_t bulk_seed, bulk_off;
	struct ib_cconn c[IB_MAX_CONNS];
	uint8_t msg[INC_BENCH_MSG_SIZE * INC_BENCH_MAX_DEPTH];
} __attribute__((aligned(64)));

/* A server connection. */
struct ib_sconn {
	struct inc_raw_conn *conn; /* NULL while free */
	struct ib_sw *sw;
	struct ib_sconn *next_free;
	int eof;
	struct inc_bench_srv_conn p;
};

/* A server worker: written by its worker; accepted/closed are read live by
 * the main thread (relaxed: a progress check), stats after the stop. */
struct ib_sw {
	struct ib_state *st;
	struct inc_raw_conn *listener;
	struct ib_sconn *conns, *free_conns;
	_Atomic uint64_t accepted, closed;
	struct inc_bench_server_stats stats;
} __attribute__((aligned(64)));

struct ib_state {
	const struct inc_bench_env *env;
	char prefix[48];
	unsigned runs;
	/* one server run */
	unsigned k;
	uint16_t port;
	struct inc_addr server; /* IB_SERVER_IP */
	const struct inc_bench_pattern *pattern;
	struct inc_wire wire;
	struct inc_port pa, pb; /* a: client end, b: server end */
	int wire_up, pa_up, pb_up;
	struct inc_stack *cs, *ss;
	void *cmem, *smem;
	struct ib_cw *cw;
	struct ib_sw *sw;
	atomic_int stopping;
	/* totals over the runs (counters) */
	uint64_t packets, steered, ring_full, drops, leaked, loops;
	_Atomic uint64_t link_drops, tx_nomem; /* added by each worker as it stops */
};

/* Single writer (the worker), read live by the main thread. */
static inline void ib_relaxed_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* inception_client.c, on client worker cw: run or start its job (worker_poll;
 * returns non-zero if it did work), end it at the stack's stop (then the
 * caller ends the worker's raw API state, inc_raw_worker_fini()). */
int ib_client_poll(struct ib_cw *cw);
void ib_client_abort(struct ib_cw *cw);

/* inception_server.c, on server worker sw: listen on st->port (worker_start),
 * abort what is left open (worker_stop; then the caller ends the worker's
 * raw API state, listener included, with inc_raw_worker_fini()). */
void ib_server_listen(struct ib_sw *sw, struct inc_worker *w);
void ib_server_abort(struct ib_sw *sw);

#endif
