/* Backend "inception", client side: the driver's test loops as lwIP raw-API
 * callbacks on the client stack's workers (see backend_inception.c). */
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
#include "stack_priv.h" /* inc__tcp_connect: the per-core raw level */

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
	int closed = 0; /* c_message closed the pcb (FIN): it is no longer ours to abort */

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
		closed |= rc == 1;
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
		return closed ? ERR_OK : ERR_ABRT; /* ERR_ABRT only for a pcb we aborted */
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
