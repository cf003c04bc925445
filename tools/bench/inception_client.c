/* Backend "inception", client side: the driver's test loops as per-core raw
 * API callbacks (inception/raw.h) on the client stack's workers (see
 * backend_inception.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_driver.h"
#include "bench_hist.h"
#include "bench_sys.h"
#include "inception_priv.h"

static int job_should_stop(const struct ib_cw *cw)
{
	if (cw->job->fixed_requests != 0)
		return cw->job->requests >= cw->job->fixed_requests;
	return inc_bench_now_ns() >= cw->job->deadline_ns;
}

/* Close (FIN) a client connection; no callback of it runs afterwards. (Every
 * received byte was reported consumed, so it is a FIN, not a RST; should the
 * stack have to reset it for want of memory, the server reports the reset.) */
static void cconn_close(struct ib_cconn *c)
{
	if (c->conn == NULL)
		return;
	inc_raw_tcp_close(c->conn);
	c->conn = NULL;
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

		if (c->conn == NULL)
			continue;
		if (rc < 0) {
			inc_raw_tcp_abort(c->conn);
			c->conn = NULL;
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

/* Queues a whole message (or a round of them) and sends it now. */
static int cconn_write(struct ib_cconn *c, const void *data, size_t len)
{
	long n = inc_raw_tcp_write(c->conn, data, len, 0);

	if (n < 0)
		return (int)n;
	if ((size_t)n < len)
		return -ENOBUFS; /* the send buffer always holds a round */
	inc_raw_tcp_output(c->conn);
	return 0;
}

static const struct inc_raw_tcp_ops cli_ops;

static int cconn_open(struct ib_cw *cw, struct ib_cconn *c)
{
	int rc;

	memset(c, 0, sizeof *c);
	c->cw = cw;
	c->idx = (unsigned)(c - cw->c);
	/* an ephemeral port whose replies hash to this worker */
	rc = inc_raw_tcp_connect(cw->w, NULL, 0, &cw->st->server, cw->st->port, &cli_ops, c, &c->conn);
	if (rc != 0) {
		c->conn = NULL;
		return rc;
	}
	inc_raw_tcp_nodelay(c->conn, 1);
	return 0;
}

static void c_err(void *arg, struct inc_raw_conn *conn, int err)
{
	struct ib_cconn *c = arg;

	(void)conn;
	c->conn = NULL; /* the stack released it */
	job_end(c->cw, err < 0 ? err : -ECONNRESET, "connection");
}

static void c_connected(void *arg, struct inc_raw_conn *conn)
{
	struct ib_cconn *c = arg;
	struct ib_cw *cw = c->cw;
	struct inc_bench_client_job *job = cw->job;
	int rc = 0;

	(void)conn;
	if (job == NULL)
		return;
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
	if (rc < 0)
		job_end(cw, rc, "send");
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
		cconn_close(c);
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
		cconn_close(c);
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

static void c_recv(void *arg, struct inc_raw_conn *conn, struct inc_buf *b)
{
	struct ib_cconn *c = arg;
	int rc = 0;

	if (c->cw->job == NULL) { /* cannot happen: job_end closes every connection */
		if (b != NULL) {
			inc_raw_tcp_recved(conn, inc_buf_total(b));
			inc_buf_free(b);
		}
		return;
	}
	if (b == NULL) {
		job_end(c->cw, -ECONNRESET, "receive"); /* aborts conn too */
		return;
	}
	/* consumed now (the bytes are parsed from b below): a close after the
	 * last reply then sends a FIN, not a RST */
	inc_raw_tcp_recved(conn, inc_buf_total(b));
	for (const struct inc_buf *q = b; q != NULL && rc == 0; q = inc_buf_next(q)) {
		const uint8_t *d = inc_buf_data(q);
		size_t len = inc_buf_len(q);

		while (len > 0) {
			size_t n = INC_BENCH_MSG_SIZE - c->rx_len;

			if (n > len)
				n = len;
			memcpy(c->rx + c->rx_len, d, n);
			c->rx_len += (unsigned)n;
			d += n;
			len -= n;
			if (c->rx_len < INC_BENCH_MSG_SIZE)
				continue;
			c->rx_len = 0;
			rc = c_message(c);
			if (rc != 0)
				break;
		}
		if (rc == 1 && (len > 0 || inc_buf_next(q) != NULL)) {
			struct inc_bench_client_job *job = c->cw->job;

			if (job != NULL)
				snprintf(job->error, sizeof job->error, "bytes after the last reply");
			rc = -EPROTO;
		}
	}
	inc_buf_free(b);
	/* a close or abort of conn inside (c_message, job_end) is the raw API's
	 * to report to lwIP */
	if (rc < 0)
		job_end(c->cw, rc, "receive");
}

static const struct inc_raw_tcp_ops cli_ops = {
	.connected = c_connected,
	.recv = c_recv,
	.error = c_err,
};

/* Bulk: write as much of the stream as lwIP takes, or end it at the deadline. */
static int bulk_push(struct ib_cw *cw)
{
	struct inc_bench_client_job *job = cw->job;
	struct ib_cconn *c = &cw->c[0];
	size_t chunk = job->bulk_chunk;
	int wrote = 0;

	if (chunk > 0xffffu)
		chunk = 0xffffu; /* one lwIP tcp_write() per chunk (16-bit lengths) */
	for (;;) {
		if (job_should_stop(cw)) {
			if (inc_raw_tcp_shutdown(c->conn, INC_RAW_SHUT_WR) != 0) {
				job_end(cw, -EIO, "shutdown");
				return 1;
			}
			cw->phase = PH_BULK_ACK;
			break;
		}
		long room = inc_raw_tcp_sndbuf(c->conn);
		size_t n = room > 0 ? (size_t)room : 0;
		const uint8_t *data;
		long put;

		if (n > chunk)
			n = chunk;
		if (n < IB_BULK_MIN_WRITE && n < chunk)
			break; /* wait for a useful amount of window */
		data = &job->pattern->bytes[(cw->bulk_seed + cw->bulk_off) & (INC_BENCH_PATTERN_SPAN - 1u)];
		if (job->corrupt && job->index == 0 && cw->bulk_off == 0) {
			if (n > sizeof cw->msg)
				n = sizeof cw->msg;
			memcpy(cw->msg, data, n);
			cw->msg[n / 2] ^= 1;
			data = cw->msg;
		}
		put = inc_raw_tcp_write(c->conn, data, n, INC_RAW_WRITE_MORE);
		if (put == -EAGAIN)
			break; /* the segment queue is full: the next poll retries */
		if (put < 0) {
			job_end(cw, (int)put, "send bulk data");
			return 1;
		}
		cw->bulk_off += (uint64_t)put;
		wrote = 1;
		if ((size_t)put < n)
			break;
	}
	inc_raw_tcp_output(c->conn);
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

int ib_client_poll(struct ib_cw *cw)
{
	if (cw->job == NULL) {
		/* relaxed first: the common case is no job */
		if (atomic_load_explicit(&cw->post, memory_order_relaxed) == NULL)
			return 0;
		/* pairs with the release store in ib_client_run (backend_inception.c) */
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


void ib_client_abort(struct ib_cw *cw)
{
	job_end(cw, -ESHUTDOWN, "stack stopped");
}
