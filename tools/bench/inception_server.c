/* Backend "inception", server side: a listener on every server worker, the
 * benchmark protocol (bench_proto.h) on each connection (see
 * backend_inception.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "inception_priv.h"
#include "stack_priv.h" /* inc__flow_track_listener, inc__errno_of */

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
	ib_relaxed_add(&c->sw->closed, 1);
	sconn_free(c);
}

static void sconn_abort(struct ib_sconn *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_abort(c->pcb);
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
	ib_relaxed_add(&c->sw->closed, 1);
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
	ib_relaxed_add(&sw->accepted, 1);
	return ERR_OK;
}


void ib_server_listen(struct ib_sw *sw, struct inc_worker *w)
{
	struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);

	if (l != NULL && tcp_bind(l, IP4_ADDR_ANY, sw->st->port) == ERR_OK) {
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

void ib_server_abort(struct ib_sw *sw)
{
	for (unsigned i = 0; i < IB_SRV_CONNS; i++) {
		if (sw->conns[i].pcb != NULL) {
			inc_bench_srv_error(&sw->stats, "connection open at stop", -EBUSY);
			sconn_abort(&sw->conns[i]);
		}
	}
}
