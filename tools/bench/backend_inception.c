/*
 * Backend "inception": Inception's per-core stacks, as an application uses
 * them at the per-core raw level (tools/stress/mix.c is the model).
 *
 * Two stacks in this process, a server and a client, with K workers each,
 * joined by the software RSS wire (drivers/wire.h: two net_ring ports whose
 * sender puts each frame on the queue a symmetric-Toeplitz RSS NIC would
 * choose). Server workers listen on every core (listener replicated, flows
 * tracked) and answer through bench_proto.h's server parser, like the other
 * backends' servers. The clients are not the driver's blocking threads but
 * lwIP raw-API callbacks on the client stack's workers, as Inception's own
 * applications run: driver client thread i hands its share of a test
 * (struct inc_bench_client_job) to client worker i and sleeps until it is
 * done; the worker runs the driver's loop message for message (bench.h).
 * So each side has K threads doing TCP, as with the kernel (K client threads
 * whose system calls run the client's TCP, K server threads).
 *
 * Workers idle with sched_yield() (INC_STACK_IDLE_YIELD): 2K workers share
 * the machine's CPUs, and at K = 1 a worker must not starve the other side.
 * EAL lcores 0..2*INC_BENCH_IB_MAX_WORKERS all float over the CPUs this
 * process may use (the same CPUs as every other backend). Client workers are
 * lcores 1..K, server workers K+1..2K.
 *
 * The stack's libraries carry a patched lwIP whose symbols collide with the
 * plain lwIP of backend "lwip": this file and Inception's static libraries
 * are linked into one relocatable object whose only global definition is
 * inc_bench_backend_inception (tools/bench/CMakeLists.txt).
 *
 * Counters: "packets" (frames both stacks sent), "steered" (packets handed
 * to another core: 0 when every packet lands on its owner), "ring_full",
 * "drops", "leaked_mbufs" (mbufs not back in their pools after a run).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bench.h"
#include "bench_driver.h"
#include "bench_hist.h"
#include "bench_proto.h"
#include "bench_sys.h"
#include "inception/eal.h"
#include "inception/port.h"
#include "inception/stack.h"
#include "inception/wire.h"
#include "lwip/tcp.h"
#include "stack_priv.h" /* inc__tcp_connect, inc__flow_track_listener: the per-core raw level */

#define IB_MAX_WORKERS 8u
#define IB_MAX_CONNS 64u      /* rps connections per client worker */
#define IB_SRV_CONNS 1024u    /* per server worker: lwIP's INC_LWIP_MAX_TCP pcbs */
#define IB_CLIENT_IP 0xc6120201u /* 198.18.2.1 */
#define IB_SERVER_IP 0xc6120202u /* 198.18.2.2 */

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
	struct tcp_pcb *pcb;
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
	struct tcp_pcb *pcb;
	struct ib_sw *sw;
	struct ib_sconn *next_free;
	int eof;
	struct inc_bench_srv_conn p;
};

/* A server worker: written by its worker; accepted/closed are read live by
 * the main thread (relaxed: a progress check), stats after the stop. */
struct ib_sw {
	struct ib_state *st;
	struct tcp_pcb *listener;
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
	uint64_t packets, steered, ring_full, drops, leaked;
};

/* ---- helpers ---------------------------------------------------------------- */

static void relaxed_add(_Atomic uint64_t *c, uint64_t n)
{
	/* single writer (the worker); the main thread reads it live */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static unsigned pool_in_use(const struct inc_port *p)
{
	unsigned n = 0;

	for (unsigned q = 0; q < p->n_queues; q++) {
		n += rte_mempool_in_use_count(p->q[q].pool) + rte_mempool_in_use_count(p->q[q].clones);
		if (p->q[q].large != NULL)
			n += rte_mempool_in_use_count(p->q[q].large);
	}
	return n;
}

static void drain_wire(struct inc_wire *w)
{
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned q = 0; q < INC_DRV_MAX_QUEUES; q++) {
			void *m = NULL;

			while (w->rings[d][q] != NULL && rte_ring_dequeue(w->rings[d][q], &m) == 0)
				rte_pktmbuf_free((struct rte_mbuf *)m);
		}
	}
}

/* ---- client (on the client stack's workers) ----------------------------------- */

static int job_should_stop(const struct ib_cw *cw)
{
	if (cw->job->fixed_requests != 0)
		return cw->job->requests >= cw->job->fixed_requests;
	return inc_bench_now_ns() >= cw->job->deadline_ns;
}

static void cconn_detach(struct ib_cconn *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
}

/* Close (FIN) a client connection. Returns 1 if it had to be aborted. */
static int cconn_close(struct ib_cconn *c)
{
	int aborted = 0;

	if (c->pcb == NULL)
		return 0;
	cconn_detach(c);
	if (tcp_close(c->pcb) != ERR_OK) {
		tcp_abort(c->pcb);
		aborted = 1;
	}
	c->pcb = NULL;
	return aborted;
}

/* The job is over: results are in *job; wake its client thread. */
static void job_end(struct ib_cw *cw, int rc, const char *what)
{
	struct inc_bench_client_job *job = cw->job;
	uint64_t one = 1;

	if (job == NULL)
		return;
	if (rc < 0 && job->error[0] == '\0')
		snprintf(job->error, sizeof job->error, "%s: %s", what,
			 rc == -ECONNRESET ? "connection reset or closed early" : strerror(-rc));
	for (unsigned i = 0; i < IB_MAX_CONNS; i++) {
		struct ib_cconn *c = &cw->c[i];

		if (c->pcb == NULL)
			continue;
		if (rc < 0) {
			cconn_detach(c);
			tcp_abort(c->pcb);
			c->pcb = NULL;
		} else {
			cconn_close(c);
		}
	}
	cw->rc = rc;
	cw->job = NULL;
	cw->phase = PH_NONE;
	/* The eventfd's write/read pair orders the results above before the
	 * client thread's reads (kernel lock); pairs with the read in ib_client_run. */
	if (write(cw->efd, &one, sizeof one) != (ssize_t)sizeof one)
		abort(); /* an eventfd write of 1 cannot fail short of a bug */
}

static int cconn_write(struct ib_cconn *c, const void *data, size_t len)
{
	err_t err = tcp_write(c->pcb, data, (u16_t)len, TCP_WRITE_FLAG_COPY);

	if (err != ERR_OK)
		return inc__errno_of(err);
	tcp_output(c->pcb);
	return 0;
}

static err_t c_connected(void *arg, struct tcp_pcb *pcb, err_t err);
static err_t c_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static void c_err(void *arg, err_t err);

static int cconn_open(struct ib_cw *cw, struct ib_cconn *c)
{
	ip_addr_t server;
	int rc;

	memset(c, 0, sizeof *c);
	c->cw = cw;
	c->idx = (unsigned)(c - cw->c);
	c->pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (c->pcb == NULL)
		return -ENOMEM;
	tcp_arg(c->pcb, c);
	tcp_recv(c->pcb, c_recv);
	tcp_err(c->pcb, c_err);
	tcp_nagle_disable(c->pcb);
	ip_addr_set_ip4_u32_val(server, htonl(IB_SERVER_IP));
	rc = inc__tcp_connect(inc_worker_self(), c->pcb, &server, cw->st->port, c_connected);
	if (rc != 0) {
		cconn_detach(c);
		tcp_abort(c->pcb);
		c->pcb = NULL;
	}
	return rc;
}

static void c_err(void *arg, err_t err)
{
	struct ib_cconn *c = arg;

	(void)err;
	if (c == NULL)
		return;
	c->pcb = NULL; /* lwIP freed it */
	job_end(c->cw, -ECONNRESET, "connection");
}

static err_t c_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ib_cconn *c = arg;
	struct ib_cw *cw;
	struct inc_bench_client_job *job;
	int rc = 0;

	(void)pcb;
	if (c == NULL)
		return ERR_OK;
	cw = c->cw;
	job = cw->job;
	if (err != ERR_OK) {
		job_end(cw, inc__errno_of(err), "connect");
		return ERR_ABRT;
	}
	job->conns_opened++;
	switch (cw->phase) {
	case PH_CPS_WAIT:
		cw->seq++;
		inc_bench_msg_make(job->pattern, cw->msg, INC_BENCH_MSG_REQ, cw->seq, job->index);
		if (job->corrupt && job->index == 0 && job->conns_opened == 1)
			cw->msg[40] ^= 1;
		rc = cconn_write(c, cw->msg, INC_BENCH_MSG_SIZE);
		break;
	case PH_RR_CONNECT:
		if (++cw->connected == cw->nconn)
			cw->phase = PH_RR_ROUND;
		break;
	case PH_BULK_CONNECT:
		inc_bench_msg_make(job->pattern, cw->msg, INC_BENCH_MSG_BULK, 0, cw->bulk_seed);
		rc = cconn_write(c, cw->msg, INC_BENCH_MSG_SIZE);
		cw->phase = PH_BULK_STREAM;
		break;
	default:
		rc = -EPROTO;
		break;
	}
	if (rc < 0) {
		job_end(cw, rc, "send");
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* A whole 64-byte message arrived on c. Returns 0, 1 if c was closed (the
 * job goes on), or a negative errno (the caller ends the job). */
static int c_message(struct ib_cconn *c)
{
	struct ib_cw *cw = c->cw;
	struct inc_bench_client_job *job = cw->job;
	enum inc_bench_msg_type type;
	uint64_t seq, arg;
	int rc = inc_bench_msg_parse(job->pattern, c->rx, &type, &seq, &arg);

	if (rc < 0) {
		snprintf(job->error, sizeof job->error, "reply does not verify: %s", strerror(-rc));
		return rc;
	}
	switch (cw->phase) {
	case PH_CPS_WAIT:
		if (type != INC_BENCH_MSG_RESP || seq != cw->seq || arg != job->index)
			break;
		if (cconn_close(c))
			return -ECONNABORTED;
		job->requests++;
		job->ops++;
		inc_bench_hist_add(job->hist, inc_bench_now_ns() - cw->t0);
		cw->phase = PH_CPS_NEXT;
		return 1;
	case PH_RR_WAIT:
		if (type != INC_BENCH_MSG_RESP || c->got >= job->depth || seq != c->first_seq + c->got ||
		    arg != c->idx)
			break;
		c->got++;
		inc_bench_hist_add(job->hist, inc_bench_now_ns() - c->sent_at);
		job->requests++;
		job->ops++;
		if (--cw->outstanding == 0)
			cw->phase = PH_RR_ROUND;
		return 0;
	case PH_BULK_ACK:
		if (type != INC_BENCH_MSG_BULK_ACK || seq != 0 || arg != cw->bulk_off)
			break;
		if (cconn_close(c))
			return -ECONNABORTED;
		job->bytes = cw->bulk_off;
		job->streams = 1;
		job->ops = 1;
		job_end(cw, 0, "");
		return 1;
	default:
		break;
	}
	snprintf(job->error, sizeof job->error, "reply does not match its request");
	return -EPROTO;
}

static err_t c_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct ib_cconn *c = arg;
	int rc = 0;

	(void)err;
	if (c == NULL) {
		if (p != NULL) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL) {
		job_end(c->cw, -ECONNRESET, "receive");
		return ERR_ABRT;
	}
	tcp_recved(pcb, p->tot_len);
	for (const struct pbuf *q = p; q != NULL && rc == 0; q = q->next) {
		const uint8_t *b = q->payload;
		unsigned len = q->len;

		while (len > 0) {
			unsigned n = INC_BENCH_MSG_SIZE - c->rx_len;

			if (n > len)
				n = len;
			memcpy(c->rx + c->rx_len, b, n);
			c->rx_len += n;
			b += n;
			len -= n;
			if (c->rx_len < INC_BENCH_MSG_SIZE)
				continue;
			c->rx_len = 0;
			rc = c_message(c);
			if (rc != 0)
				break;
		}
		if (rc == 1 && (len > 0 || q->next != NULL)) {
			struct inc_bench_client_job *job = c->cw->job;

			if (job != NULL)
				snprintf(job->error, sizeof job->error, "bytes after the last reply");
			rc = -EPROTO;
		}
	}
	pbuf_free(p);
	if (rc < 0) {
		job_end(c->cw, rc, "receive");
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* Bulk: write as much of the stream as lwIP takes, or end it at the deadline. */
static int bulk_push(struct ib_cw *cw)
{
	struct inc_bench_client_job *job = cw->job;
	struct ib_cconn *c = &cw->c[0];
	size_t chunk = job->bulk_chunk;
	int wrote = 0;

	if (chunk > 0xffffu)
		chunk = 0xffffu; /* tcp_write's length is 16 bits */
	for (;;) {
		if (job_should_stop(cw)) {
			if (tcp_shutdown(c->pcb, 0, 1) != ERR_OK) {
				job_end(cw, -EIO, "shutdown");
				return 1;
			}
			cw->phase = PH_BULK_ACK;
			break;
		}
		size_t n = tcp_sndbuf(c->pcb);
		const uint8_t *data;
		err_t err;

		if (n > chunk)
			n = chunk;
		if (n < TCP_MSS && n < chunk)
			break; /* wait for a useful amount of window */
		if (tcp_sndqueuelen(c->pcb) + 4 >= TCP_SND_QUEUELEN)
			break;
		data = &job->pattern->bytes[(cw->bulk_seed + cw->bulk_off) & (INC_BENCH_PATTERN_SPAN - 1u)];
		if (job->corrupt && job->index == 0 && cw->bulk_off == 0) {
			if (n > sizeof cw->msg)
				n = sizeof cw->msg;
			memcpy(cw->msg, data, n);
			cw->msg[n / 2] ^= 1;
			data = cw->msg;
		}
		err = tcp_write(c->pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE);
		if (err == ERR_MEM)
			break;
		if (err != ERR_OK) {
			job_end(cw, inc__errno_of(err), "send bulk data");
			return 1;
		}
		cw->bulk_off += n;
		wrote = 1;
	}
	tcp_output(c->pcb);
	return wrote;
}

static int rr_round(struct ib_cw *cw)
{
	struct inc_bench_client_job *job = cw->job;
	size_t len = (size_t)job->depth * INC_BENCH_MSG_SIZE;
	uint64_t now;

	if (job_should_stop(cw)) {
		job_end(cw, 0, "");
		return 1;
	}
	now = inc_bench_now_ns();
	cw->outstanding = cw->nconn * job->depth;
	cw->phase = PH_RR_WAIT;
	for (unsigned i = 0; i < cw->nconn; i++) {
		struct ib_cconn *c = &cw->c[i];
		int rc;

		c->first_seq = cw->seq + 1;
		c->got = 0;
		for (unsigned k = 0; k < job->depth; k++)
			inc_bench_msg_make(job->pattern, cw->msg + (size_t)k * INC_BENCH_MSG_SIZE, INC_BENCH_MSG_REQ,
					   ++cw->seq, i);
		if (job->corrupt && job->index == 0 && i == 0 && c->first_seq == ((uint64_t)job->index << 40) + 1)
			cw->msg[40] ^= 1;
		c->sent_at = now;
		rc = cconn_write(c, cw->msg, len);
		if (rc < 0) {
			job_end(cw, rc, "send request");
			return 1;
		}
	}
	return 1;
}

static void job_start(struct ib_cw *cw, struct inc_bench_client_job *job)
{
	int rc = 0;

	cw->job = job;
	cw->rc = 0;
	cw->seq = (uint64_t)job->index << 40;
	cw->connected = 0;
	cw->outstanding = 0;
	switch (job->test) {
	case INC_BENCH_T_CPS:
		cw->phase = PH_CPS_NEXT;
		break;
	case INC_BENCH_T_RPS:
	case INC_BENCH_T_LAT:
		if (job->conns == 0 || job->conns > IB_MAX_CONNS || job->depth == 0 ||
		    job->depth > INC_BENCH_MAX_DEPTH) {
			job_end(cw, -EINVAL, "connections or depth out of range");
			return;
		}
		cw->nconn = job->conns;
		cw->phase = PH_RR_CONNECT;
		for (unsigned i = 0; i < cw->nconn && rc == 0; i++)
			rc = cconn_open(cw, &cw->c[i]);
		break;
	case INC_BENCH_T_BULK1:
	case INC_BENCH_T_BULKK:
		cw->bulk_seed = 0x5eed0000ull + job->index * 7919ull;
		cw->bulk_off = 0;
		cw->phase = PH_BULK_CONNECT;
		rc = cconn_open(cw, &cw->c[0]);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc < 0)
		job_end(cw, rc, "connect");
}

static int client_poll(struct ib_cw *cw)
{
	if (cw->job == NULL) {
		/* relaxed first: the common case is no job */
		if (atomic_load_explicit(&cw->post, memory_order_relaxed) == NULL)
			return 0;
		/* pairs with the release store in ib_client_run */
		struct inc_bench_client_job *job = atomic_exchange_explicit(&cw->post, NULL, memory_order_acquire);

		job_start(cw, job);
		return 1;
	}
	switch (cw->phase) {
	case PH_CPS_NEXT: {
		int rc;

		if (job_should_stop(cw)) {
			job_end(cw, 0, "");
			return 1;
		}
		cw->t0 = inc_bench_now_ns();
		cw->phase = PH_CPS_WAIT;
		rc = cconn_open(cw, &cw->c[0]);
		if (rc < 0)
			job_end(cw, rc, "connect");
		return 1;
	}
	case PH_RR_ROUND:
		return rr_round(cw);
	case PH_BULK_STREAM:
		return bulk_push(cw);
	default:
		return 0;
	}
}

/* ---- server (on the server stack's workers) ----------------------------------- */

static void sconn_free(struct ib_sconn *c)
{
	struct ib_sw *sw = c->sw;

	c->pcb = NULL;
	c->next_free = sw->free_conns;
	sw->free_conns = c;
}

static void sconn_close(struct ib_sconn *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
	if (tcp_close(c->pcb) != ERR_OK)
		tcp_abort(c->pcb);
	relaxed_add(&c->sw->closed, 1);
	sconn_free(c);
}

static void sconn_abort(struct ib_sconn *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_abort(c->pcb);
	relaxed_add(&c->sw->closed, 1);
	sconn_free(c);
}

/* Send what the protocol has pending; close after the end of stream once
 * everything is queued. Returns 1 if c was closed. */
static int sconn_flush(struct ib_sconn *c)
{
	const void *data;
	size_t n;

	while ((n = inc_bench_srv_pending(&c->p, &data)) > 0) {
		size_t room = tcp_sndbuf(c->pcb);

		if (n > room)
			n = room;
		if (n == 0 || tcp_write(c->pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break; /* the sent callback retries */
		inc_bench_srv_sent(&c->p, n);
	}
	if (c->eof && inc_bench_srv_pending(&c->p, &data) == 0) {
		sconn_close(c); /* the FIN follows the queued replies */
		return 1;
	}
	tcp_output(c->pcb);
	return 0;
}

static err_t s_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	if (arg != NULL)
		sconn_flush(arg);
	return ERR_OK;
}

static void s_err(void *arg, err_t err)
{
	struct ib_sconn *c = arg;

	if (c == NULL)
		return;
	if (!atomic_load_explicit(&c->sw->st->stopping, memory_order_relaxed))
		inc_bench_srv_error(&c->sw->stats, "connection reset", inc__errno_of(err));
	relaxed_add(&c->sw->closed, 1);
	sconn_free(c); /* lwIP freed the pcb */
}

static err_t s_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct ib_sconn *c = arg;

	(void)err;
	if (c == NULL) {
		if (p != NULL) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL) {
		if (inc_bench_srv_eof(&c->p, &c->sw->stats) < 0) {
			sconn_abort(c);
			return ERR_ABRT;
		}
		c->eof = 1;
		sconn_flush(c);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	for (const struct pbuf *q = p; q != NULL; q = q->next) {
		if (inc_bench_srv_input(&c->p, q->payload, q->len, &c->sw->stats) < 0) {
			pbuf_free(p);
			sconn_abort(c);
			return ERR_ABRT;
		}
	}
	pbuf_free(p);
	sconn_flush(c);
	return ERR_OK;
}

static err_t s_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ib_sw *sw = arg;
	struct ib_sconn *c = sw->free_conns;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	if (c == NULL) {
		inc_bench_srv_error(&sw->stats, "accept", -EMFILE);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	sw->free_conns = c->next_free;
	c->pcb = pcb;
	c->eof = 0;
	inc_bench_srv_conn_init(&c->p, sw->st->pattern);
	tcp_arg(pcb, c);
	tcp_recv(pcb, s_recv);
	tcp_sent(pcb, s_sent);
	tcp_err(pcb, s_err);
	tcp_nagle_disable(pcb);
	relaxed_add(&sw->accepted, 1);
	return ERR_OK;
}

/* ---- worker callbacks ----------------------------------------------------------- */

static void srv_start(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;
	struct ib_sw *sw = &st->sw[inc_worker_index(w)];
	struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);

	if (l != NULL && tcp_bind(l, IP4_ADDR_ANY, st->port) == ERR_OK) {
		inc__flow_track_listener(w, l);
		sw->listener = tcp_listen_with_backlog(l, 255);
	}
	if (sw->listener == NULL) {
		inc_bench_srv_error(&sw->stats, "listen", -EADDRINUSE);
		return;
	}
	tcp_arg(sw->listener, sw);
	tcp_accept(sw->listener, s_accept);
}

static void srv_stop(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;
	struct ib_sw *sw = &st->sw[inc_worker_index(w)];

	for (unsigned i = 0; i < IB_SRV_CONNS; i++) {
		if (sw->conns[i].pcb != NULL) {
			inc_bench_srv_error(&sw->stats, "connection open at stop", -EBUSY);
			sconn_abort(&sw->conns[i]);
		}
	}
}

static int cli_poll(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;

	return client_poll(&st->cw[inc_worker_index(w)]);
}

static void cli_stop(struct inc_worker *w, void *arg)
{
	struct ib_state *st = arg;

	job_end(&st->cw[inc_worker_index(w)], -ESHUTDOWN, "stack stopped");
}

/* ---- backend operations (main and client threads) -------------------------------- */

static int ib_setup(const struct inc_bench_env *env, void **state)
{
	struct ib_state *st = calloc(1, sizeof *st);
	struct inc_eal_config ec;
	struct inc_drv_err err;
	cpu_set_t set;
	char lcores[256], cpus[200], prefix[64];
	size_t len = 0;
	const char *args[8];

	if (st == NULL)
		return -ENOMEM;
	st->env = env;
	if (sched_getaffinity(0, sizeof set, &set) != 0) {
		free(st);
		return -errno;
	}
	cpus[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && len + 8 < sizeof cpus; c++) {
		if (CPU_ISSET(c, &set))
			len += (size_t)snprintf(cpus + len, sizeof cpus - len, "%s%d", len ? "," : "", c);
	}
	snprintf(lcores, sizeof lcores, "(0-%u)@(%s)", 2 * IB_MAX_WORKERS, cpus);
	snprintf(st->prefix, sizeof st->prefix, "incbench%d", (int)env->pid);
	snprintf(prefix, sizeof prefix, "--file-prefix=%s", st->prefix);
	args[0] = "--no-huge";
	args[1] = "-m";
	args[2] = "1024";
	args[3] = "--no-pci";
	args[4] = "--no-shconf";
	args[5] = "--no-telemetry";
	args[6] = prefix;
	args[7] = env->verbose ? "--log-level=user1,info" : "--log-level=*:warning";
	memset(&ec, 0, sizeof ec);
	ec.args = args;
	ec.n_args = 8;
	ec.lcores = lcores;
	ec.prog_name = "inc_bench";
	if (inc_eal_init(&ec, &err) != 0) {
		fprintf(stderr, "inc_bench: inception: %s\n", err.msg);
		free(st);
		return -EIO;
	}
	*state = st;
	return 0;
}

static void ib_teardown(void *state)
{
	struct ib_state *st = state;
	char dir[128];

	inc_eal_cleanup();
	snprintf(dir, sizeof dir, "/var/run/dpdk/%s", st->prefix);
	const char *rm[] = {"rm", "-rf", dir, NULL};

	inc_bench_run_cmd(rm, 1);
	free(st);
}

static int start_stack(struct inc_stack **s, void **mem, struct inc_port *port, unsigned k, const unsigned *lcores,
		       uint32_t ip, const struct inc_stack_callbacks *cb)
{
	struct inc_stack_config cfg;
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.workers = k;
	cfg.lcores = lcores;
	cfg.n_ports = 1;
	cfg.ports[0].port = port;
	cfg.ports[0].ip4_addr = htonl(ip);
	cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
	cfg.idle = INC_STACK_IDLE_YIELD;
	cfg.flows_per_core = 8192;
	cfg.cb = *cb;
	len = inc_stack_footprint(&cfg);
	if (len == 0 || posix_memalign(mem, 64, len) != 0)
		return -ENOMEM;
	return inc_stack_start(s, *mem, len, &cfg);
}

static void run_free(struct ib_state *st)
{
	if (st->pa_up)
		inc_port_close(&st->pa);
	if (st->pb_up)
		inc_port_close(&st->pb);
	if (st->wire_up)
		inc_wire_destroy(&st->wire);
	st->pa_up = st->pb_up = st->wire_up = 0;
	if (st->cw != NULL) {
		for (unsigned i = 0; i < st->k; i++) {
			if (st->cw[i].efd >= 0)
				close(st->cw[i].efd);
		}
	}
	if (st->sw != NULL) {
		for (unsigned i = 0; i < st->k; i++)
			free(st->sw[i].conns);
	}
	free(st->cw);
	free(st->sw);
	free(st->cmem);
	free(st->smem);
	st->cw = NULL;
	st->sw = NULL;
	st->cmem = st->smem = NULL;
	st->cs = st->ss = NULL;
}

static int ib_server_start(void *state, const struct inc_bench_server_cfg *cfg)
{
	struct ib_state *st = state;
	struct inc_wire_config wc;
	struct inc_port_config pc;
	struct inc_drv_err err;
	struct inc_stack_callbacks scb = {.worker_start = srv_start, .worker_stop = srv_stop, .arg = st};
	struct inc_stack_callbacks ccb = {.worker_poll = cli_poll, .worker_stop = cli_stop, .arg = st};
	unsigned lc[2 * IB_MAX_WORKERS];
	char name[16];
	unsigned k = cfg->workers;
	int rc;

	if (k < 1 || k > IB_MAX_WORKERS) {
		fprintf(stderr, "inc_bench: inception: 1 to %u workers\n", IB_MAX_WORKERS);
		return -EINVAL;
	}
	st->k = k;
	st->port = cfg->port;
	st->pattern = cfg->pattern;
	atomic_store(&st->stopping, 0);
	if (posix_memalign((void **)&st->cw, 64, k * sizeof *st->cw) != 0 ||
	    posix_memalign((void **)&st->sw, 64, k * sizeof *st->sw) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(st->cw, 0, k * sizeof *st->cw);
	memset(st->sw, 0, k * sizeof *st->sw);
	for (unsigned i = 0; i < k; i++) {
		struct ib_cw *cw = &st->cw[i];
		struct ib_sw *sw = &st->sw[i];

		cw->st = st;
		cw->index = i;
		atomic_init(&cw->post, NULL);
		cw->efd = eventfd(0, EFD_CLOEXEC);
		sw->st = st;
		atomic_init(&sw->accepted, 0);
		atomic_init(&sw->closed, 0);
		sw->conns = calloc(IB_SRV_CONNS, sizeof *sw->conns);
		if (cw->efd < 0 || sw->conns == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		for (unsigned j = IB_SRV_CONNS; j-- > 0;) {
			sw->conns[j].sw = sw;
			sw->conns[j].next_free = sw->free_conns;
			sw->free_conns = &sw->conns[j];
		}
	}

	snprintf(name, sizeof name, "ib%u", st->runs++);
	memset(&wc, 0, sizeof wc);
	wc.name = name;
	wc.kind = INC_WIRE_RING;
	wc.queues_a = wc.queues_b = (uint16_t)k;
	memset(&st->wire, 0, sizeof st->wire);
	memset(&st->pa, 0, sizeof st->pa);
	memset(&st->pb, 0, sizeof st->pb);
	memset(&pc, 0, sizeof pc);
	pc.n_queues = pc.n_tx_queues = (uint16_t)k;
	pc.socket_id = -1;
	if (inc_wire_create(&st->wire, &wc, &err) != 0)
		goto drv_fail;
	st->wire_up = 1;
	pc.port_id = st->wire.port_a;
	if (inc_port_init(&st->pa, &pc, &err) != 0)
		goto drv_fail;
	st->pa_up = 1;
	pc.port_id = st->wire.port_b;
	if (inc_port_init(&st->pb, &pc, &err) != 0)
		goto drv_fail;
	st->pb_up = 1;
	if (inc_wire_attach(&st->wire, &st->pa, &st->pb, NULL, &err) != 0 || inc_port_start(&st->pa, &err) != 0 ||
	    inc_port_start(&st->pb, &err) != 0)
		goto drv_fail;

	for (unsigned i = 0; i < 2 * k; i++)
		lc[i] = i + 1;
	rc = start_stack(&st->ss, &st->smem, &st->pb, k, lc + k, IB_SERVER_IP, &scb);
	if (rc != 0)
		goto fail;
	for (unsigned i = 0; i < k; i++) {
		if (st->sw[i].listener == NULL) {
			rc = -EADDRINUSE;
			goto fail;
		}
	}
	rc = start_stack(&st->cs, &st->cmem, &st->pa, k, lc, IB_CLIENT_IP, &ccb);
	if (rc != 0)
		goto fail;
	return 0;

drv_fail:
	fprintf(stderr, "inc_bench: inception: %s\n", err.msg);
	rc = -EIO;
fail:
	if (st->cs != NULL)
		inc_stack_stop(st->cs);
	if (st->ss != NULL)
		inc_stack_stop(st->ss);
	if (st->wire_up)
		drain_wire(&st->wire);
	run_free(st);
	return rc < 0 ? rc : -EIO;
}

static int ib_server_stop(void *state, struct inc_bench_server_stats *stats)
{
	struct ib_state *st = state;
	uint64_t deadline = inc_bench_now_ns() + 10ull * 1000000000ull;
	uint64_t acc = 0, clo = 0;
	struct inc_stack_counters c1, c2;
	unsigned leaked;

	memset(stats, 0, sizeof *stats);
	/* every connection a client closed must be seen closed by the server */
	for (;;) {
		acc = clo = 0;
		for (unsigned i = 0; i < st->k; i++) {
			acc += atomic_load_explicit(&st->sw[i].accepted, memory_order_relaxed);
			clo += atomic_load_explicit(&st->sw[i].closed, memory_order_relaxed);
		}
		if (acc == clo || inc_bench_now_ns() > deadline)
			break;
		usleep(1000);
	}
	atomic_store(&st->stopping, 1);
	inc_stack_counters_total(st->cs, &c1);
	inc_stack_counters_total(st->ss, &c2);
	inc_stack_stop(st->cs);
	inc_stack_stop(st->ss);
	/* the workers are joined: their writes are visible */
	for (unsigned i = 0; i < st->k; i++) {
		struct ib_sw *sw = &st->sw[i];

		sw->stats.conns_accepted = atomic_load(&sw->accepted);
		sw->stats.conns_closed = atomic_load(&sw->closed);
		inc_bench_server_stats_add(stats, &sw->stats);
	}
	st->packets += c1.pkts_out + c2.pkts_out;
	st->steered += c1.steered_out + c2.steered_out;
	st->ring_full += c1.ring_full + c2.ring_full;
	for (unsigned d = 0; d < INC_DROP_COUNT; d++)
		st->drops += c1.drops[d] + c2.drops[d];
	drain_wire(&st->wire);
	leaked = pool_in_use(&st->pa) + pool_in_use(&st->pb);
	st->leaked += leaked;
	if (leaked != 0) {
		stats->errors++;
		if (stats->error[0] == '\0')
			snprintf(stats->error, sizeof stats->error, "%u mbufs not back in their pools", leaked);
	}
	run_free(st);
	return 0;
}

static int ib_client_run(void *state, void *tctx, struct inc_bench_client_job *job)
{
	struct ib_state *st = state;
	struct ib_cw *cw;
	uint64_t v;

	(void)tctx;
	if (job->index >= st->k) {
		snprintf(job->error, sizeof job->error, "client %u without a worker", job->index);
		return -EINVAL;
	}
	cw = &st->cw[job->index];
	/* pairs with the acquire exchange in client_poll */
	atomic_store_explicit(&cw->post, job, memory_order_release);
	while (read(cw->efd, &v, sizeof v) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return cw->rc;
}

static void ib_counters(void *state, struct inc_bench_counters *out)
{
	struct ib_state *st = state;

	inc_bench_counters_add(out, "packets", st->packets);
	inc_bench_counters_add(out, "steered", st->steered);
	inc_bench_counters_add(out, "ring_full", st->ring_full);
	inc_bench_counters_add(out, "drops", st->drops);
	inc_bench_counters_add(out, "leaked_mbufs", st->leaked);
}

const struct inc_bench_backend inc_bench_backend_inception = {
	.name = "inception",
	.summary = "Inception: K per-core lwIP workers per side over the software RSS wire, raw-API clients on the client stack's workers",
	.setup = ib_setup,
	.teardown = ib_teardown,
	.server_start = ib_server_start,
	.server_stop = ib_server_stop,
	.client_run = ib_client_run,
	.counters = ib_counters,
};
