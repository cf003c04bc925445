/* Backend "inception", server side: a listener on every server worker, the
 * benchmark protocol (bench_proto.h) on each connection, with the per-core
 * raw API (inception/raw.h; see backend_inception.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "inception_priv.h"

static void sconn_free(struct ib_sconn *c)
{
	struct ib_sw *sw = c->sw;

	c->conn = NULL;
	c->next_free = sw->free_conns;
	sw->free_conns = c;
}

static void sconn_close(struct ib_sconn *c)
{
	inc_raw_tcp_close(c->conn); /* FIN after the queued replies */
	ib_relaxed_add(&c->sw->closed, 1);
	sconn_free(c);
}

static void sconn_abort(struct ib_sconn *c)
{
	inc_raw_tcp_abort(c->conn);
	ib_relaxed_add(&c->sw->closed, 1);
	sconn_free(c);
}

/* Send what the protocol has pending; close after the end of stream once
 * everything is queued. Returns 1 if c was closed. */
static int sconn_flush(struct ib_sconn *c)
{
	const void *data;
	size_t n;

	while ((n = inc_bench_srv_pending(&c->p, &data)) > 0) {
		/* as much as the send buffer takes now */
		long put = inc_raw_tcp_write(c->conn, data, n, 0);

		if (put <= 0)
			break; /* -EAGAIN: the sent callback retries */
		inc_bench_srv_sent(&c->p, (size_t)put);
		if ((size_t)put < n)
			break;
	}
	if (c->eof && inc_bench_srv_pending(&c->p, &data) == 0) {
		sconn_close(c); /* the FIN follows the queued replies */
		return 1;
	}
	inc_raw_tcp_output(c->conn);
	return 0;
}

static void s_sent(void *arg, struct inc_raw_conn *conn, uint32_t len)
{
	(void)conn;
	(void)len;
	sconn_flush(arg);
}

static void s_err(void *arg, struct inc_raw_conn *conn, int err)
{
	struct ib_sconn *c = arg;

	(void)conn;
	if (!atomic_load_explicit(&c->sw->st->stopping, memory_order_relaxed))
		inc_bench_srv_error(&c->sw->stats, "connection reset", err < 0 ? err : -ENOTCONN);
	ib_relaxed_add(&c->sw->closed, 1);
	sconn_free(c); /* the stack released it */
}

static void s_recv(void *arg, struct inc_raw_conn *conn, struct inc_buf *b)
{
	struct ib_sconn *c = arg;

	if (b == NULL) {
		if (inc_bench_srv_eof(&c->p, &c->sw->stats) < 0) {
			sconn_abort(c);
			return;
		}
		c->eof = 1;
		sconn_flush(c);
		return;
	}
	inc_raw_tcp_recved(conn, inc_buf_total(b));
	for (const struct inc_buf *q = b; q != NULL; q = inc_buf_next(q)) {
		if (inc_bench_srv_input(&c->p, inc_buf_data(q), inc_buf_len(q), &c->sw->stats) < 0) {
			inc_buf_free(b);
			sconn_abort(c);
			return;
		}
	}
	inc_buf_free(b);
	sconn_flush(c);
}

static const struct inc_raw_tcp_ops srv_ops;

static int s_accept(void *arg, struct inc_raw_conn *listener, struct inc_raw_conn *conn)
{
	struct ib_sw *sw = arg;
	struct ib_sconn *c = sw->free_conns;

	(void)listener;
	if (c == NULL) {
		inc_bench_srv_error(&sw->stats, "accept", -EMFILE);
		return -EMFILE; /* the stack resets it */
	}
	sw->free_conns = c->next_free;
	c->conn = conn;
	c->eof = 0;
	inc_bench_srv_conn_init(&c->p, sw->st->pattern);
	inc_raw_tcp_set(conn, &srv_ops, c);
	inc_raw_tcp_nodelay(conn, 1);
	ib_relaxed_add(&sw->accepted, 1);
	return 0;
}

static const struct inc_raw_tcp_ops srv_ops = {
	.accept = s_accept,
	.recv = s_recv,
	.sent = s_sent,
	.error = s_err,
};

void ib_server_listen(struct ib_sw *sw, struct inc_worker *w)
{
	/* every worker listens: the one that receives a SYN owns the connection */
	struct inc_addr any4 = inc_addr_ip4(0, 0, 0, 0);
	int rc = inc_raw_tcp_listen(w, &any4, sw->st->port, 255, &srv_ops, sw, &sw->listener);

	if (rc != 0) {
		sw->listener = NULL;
		inc_bench_srv_error(&sw->stats, "listen", rc);
	}
}

void ib_server_abort(struct ib_sw *sw)
{
	for (unsigned i = 0; i < IB_SRV_CONNS; i++) {
		if (sw->conns[i].conn != NULL) {
			inc_bench_srv_error(&sw->stats, "connection open at stop", -EBUSY);
			sconn_abort(&sw->conns[i]);
		}
	}
}
