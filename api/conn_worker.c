/*
 * The sequential API on the owner core: lwIP callbacks of the connections
 * and listeners it created, and the inc__w_* calls application threads send
 * over their lanes. Everything here runs on one worker with its lwIP
 * instance; nothing blocks.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "api_priv.h"
#include "conn_priv.h"
#include "filter_priv.h"
#include "inc_lwip_bufs.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "stack_priv.h"

static uint32_t space_of(const struct inc_conn *c)
{
  uint32_t room, unacked, lim;
  if (c->pcb == NULL || c->wr_shut || !c->connected) {
    return 0;
  }
  if (tcp_sndqueuelen(c->pcb) + 4 >= TCP_SND_QUEUELEN) {
    return 0;
  }
  room = tcp_sndbuf(c->pcb);
  unacked = (uint32_t)TCP_SND_BUF - room;
  lim = (uint32_t)atomic_load_explicit(&c->opt_sndbuf, memory_order_relaxed);
  if (lim < (uint32_t)TCP_SND_BUF) {
    room = unacked >= lim ? 0 : (lim - unacked < room ? lim - unacked : room);
  }
  return room;
}

/* The owner's view of the connection, as INC_POLL* | INC__R_* bits. */
static void publish(struct inc_conn *c)
{
  uint32_t r = 0;
  int err = atomic_load_explicit(&c->err, memory_order_relaxed);
  if (c->rxq_len > 0 || c->rx_fin || err != 0) {
    r |= INC_POLLIN;
  }
  if (c->rx_fin) {
    r |= INC_POLLRDHUP;
  }
  if (space_of(c) > 0 || err != 0) {
    r |= INC_POLLOUT;
  }
  if (err != 0) {
    r |= INC_POLLERR;
  }
  if ((c->pcb == NULL && (c->connected || err != 0)) || (c->rx_fin && c->wr_shut)) {
    r |= INC_POLLHUP;
  }
  if (c->connected) {
    r |= INC__R_CONNECTED;
  }
  if (c->connecting) {
    r |= INC__R_CONNECTING;
  }
  if (c->pcb == NULL || (c->pcb->unacked == NULL && c->pcb->unsent == NULL)) {
    r |= INC__R_DRAINED;
  }
  inc__conn_publish(c, r);
}

static void zc_release(struct inc_conn *c, int all)
{
  while (c->zc_count > 0 && (all || c->zc[c->zc_head].end <= c->tx_acked)) {
    pbuf_free(c->zc[c->zc_head].p);
    c->zc[c->zc_head].p = NULL;
    c->zc_head = (c->zc_head + 1) % INC__ZC_SLOTS;
    c->zc_count--;
  }
}

/* The application closed c while zero-copy buffers were in flight: once they
 * are all released, c goes back to the table. */
static void maybe_finish_closing(struct inc_conn *c)
{
  if (c->closing && (c->zc_count == 0 || c->pcb == NULL)) {
    zc_release(c, 1);
    if (c->pcb != NULL) {
      tcp_arg(c->pcb, NULL);
      tcp_sent(c->pcb, NULL);
      tcp_err(c->pcb, NULL);
      c->pcb = NULL;
    }
    inc__conn_free(c);
  }
}

/* ---- the receive queue: single pbufs linked by next ---- */

static void rxq_append(struct inc_conn *c, struct pbuf *p)
{
  struct pbuf *t = p;
  while (t->next != NULL) {
    t = t->next;
  }
  if (c->rxq == NULL) {
    c->rxq = p;
  } else {
    c->rxq_tail->next = p;
  }
  c->rxq_tail = t;
}

static void rxq_consume(struct inc_conn *c, size_t n)
{
  while (c->rxq != NULL && (n > 0 || c->rxq->len == 0)) {
    struct pbuf *q = c->rxq;
    if (n >= q->len) {
      n -= q->len;
      c->rxq = q->next;
      q->next = NULL;
      pbuf_free(q);
    } else {
      pbuf_remove_header(q, n);
      n = 0;
    }
  }
  if (c->rxq == NULL) {
    c->rxq_tail = NULL;
  }
}

static void rxq_free(struct inc_conn *c)
{
  rxq_consume(c, c->rxq_len);
  c->rxq_len = 0;
}

/* ---- lwIP callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct inc_conn *c = (struct inc_conn *)arg;
  (void)err;
  if (c == NULL || c->closing) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == NULL) {
    c->rx_fin = 1;
  } else if (c->rd_shut) {
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
  } else {
    c->rxq_len += p->tot_len;
    rxq_append(c, p);
  }
  publish(c);
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct inc_conn *c = (struct inc_conn *)arg;
  (void)pcb;
  if (c == NULL) {
    return ERR_OK;
  }
  c->tx_acked += len;
  zc_release(c, 0);
  if (c->closing) {
    maybe_finish_closing(c);
    return ERR_OK;
  }
  publish(c);
  return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
  struct inc_conn *c = (struct inc_conn *)arg;
  int e;
  if (c == NULL) {
    return;
  }
  c->pcb = NULL; /* lwIP has freed it */
  if (c->closing) {
    maybe_finish_closing(c);
    return;
  }
  if (err == ERR_RST) {
    e = c->connecting ? -ECONNREFUSED : -ECONNRESET;
  } else if (err == ERR_ABRT) {
    e = -ETIMEDOUT; /* lwIP gave up: retransmissions or keepalives unanswered */
  } else if (err == ERR_CLSD) {
    e = -ENOTCONN;
  } else {
    e = inc__errno_of(err);
  }
  zc_release(c, 1);
  c->connecting = 0;
  atomic_store_explicit(&c->err, e, memory_order_relaxed);
  publish(c);
}

static void setup_pcb(struct inc_conn *c, struct tcp_pcb *pcb)
{
  int rcvbuf = atomic_load_explicit(&c->opt_rcvbuf, memory_order_relaxed);
  c->pcb = pcb;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  if (atomic_load_explicit(&c->opt_nodelay, memory_order_relaxed)) {
    tcp_nagle_disable(pcb);
  }
  if (atomic_load_explicit(&c->opt_keepalive, memory_order_relaxed)) {
    ip_set_option(pcb, SOF_KEEPALIVE);
  }
  /* A receive buffer smaller than lwIP's window: withhold window updates
   * until the window has shrunk to it by itself (the right edge never moves
   * left, RFC 9293 3.8.6.2.2). */
  c->wnd_debt = rcvbuf > 0 && rcvbuf < TCP_WND ? (size_t)(TCP_WND - rcvbuf) : 0;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct inc_conn *c = (struct inc_conn *)arg;
  (void)err;
  if (c == NULL) {
    return ERR_OK;
  }
  c->connecting = 0;
  c->connected = 1;
  c->local_port = pcb->local_port;
  ip_addr_copy(c->local_ip, pcb->local_ip);
  publish(c);
  return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  struct inc_conn *l = (struct inc_conn *)arg;
  struct inc_worker *w = inc_worker_self();
  struct inc_conn *c, *head;
  if (err != ERR_OK || newpcb == NULL || l == NULL) {
    return ERR_VAL;
  }
  if (inc__filter_tcp_accept(w, newpcb)) {
    return ERR_OK; /* a filter's consumer took it */
  }
  if (atomic_load_explicit(&l->acc_len, memory_order_relaxed) >=
      atomic_load_explicit(&l->backlog, memory_order_relaxed)) {
    tcp_abort(newpcb); /* backlog full: the peer gets a RST */
    return ERR_ABRT;
  }
  c = inc__conn_alloc(l->api, l->family);
  if (c == NULL) {
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  atomic_store_explicit(&c->kind, INC__C_STREAM, memory_order_relaxed);
  atomic_store_explicit(&c->owner, (int)inc_worker_index(w), memory_order_relaxed);
  atomic_store_explicit(&c->opt_nodelay, atomic_load_explicit(&l->opt_nodelay, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&c->opt_keepalive, atomic_load_explicit(&l->opt_keepalive, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&c->opt_linger, atomic_load_explicit(&l->opt_linger, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&c->opt_rcvbuf, atomic_load_explicit(&l->opt_rcvbuf, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&c->opt_sndbuf, atomic_load_explicit(&l->opt_sndbuf, memory_order_relaxed),
                        memory_order_relaxed);
  c->connected = 1;
  c->bound = 1;
  ip_addr_copy(c->local_ip, newpcb->local_ip);
  c->local_port = newpcb->local_port;
  ip_addr_copy(c->remote_ip, newpcb->remote_ip);
  c->remote_port = newpcb->remote_port;
  setup_pcb(c, newpcb);
  publish(c);
  head = atomic_load_explicit(&l->acc_stack, memory_order_relaxed);
  do {
    c->acc_next = head;
    /* release pairs with the acquire exchange in inc_conn_accept() */
  } while (!atomic_compare_exchange_weak_explicit(&l->acc_stack, &head, c, memory_order_release,
                                                  memory_order_relaxed));
  atomic_fetch_add_explicit(&l->acc_len, 1, memory_order_release);
  inc__conn_notify(l);
  return ERR_OK;
}

/* ---- calls ---- */

u8_t inc__conn_ip_type(const struct inc_conn *c)
{
  if (c->family == INC_AF_INET6) {
    /* a v6 socket on :: also takes IPv4 (as Linux's default) */
    return ip_addr_isany(&c->local_ip) ? IPADDR_TYPE_ANY : IPADDR_TYPE_V6;
  }
  return IPADDR_TYPE_V4;
}

void inc__conn_bind_ip(const struct inc_conn *c, ip_addr_t *ip)
{
  if (c->family == INC_AF_INET6 && ip_addr_isany(&c->local_ip)) {
    ip_addr_copy(*ip, *IP_ANY_TYPE);
  } else {
    ip_addr_copy(*ip, c->local_ip);
  }
}

/* Binds a throw-away PCB to check that the port is free on this worker. */
int inc__w_check_bind(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct tcp_pcb *pcb = tcp_new_ip_type(inc__conn_ip_type(c));
  ip_addr_t ip;
  err_t e;
  (void)w;
  if (pcb == NULL) {
    return -ENOBUFS;
  }
  if (atomic_load_explicit(&c->opt_reuseaddr, memory_order_relaxed)) {
    ip_set_option(pcb, SOF_REUSEADDR);
  }
  inc__conn_bind_ip(c, &ip);
  e = tcp_bind(pcb, &ip, op->port);
  tcp_abort(pcb);
  return e == ERR_USE ? -EADDRINUSE : inc__errno_of(e);
}

int inc__w_listen(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct tcp_pcb *pcb = tcp_new_ip_type(inc__conn_ip_type(c)), *lpcb;
  ip_addr_t ip;
  err_t e;
  if (pcb == NULL) {
    return -ENOBUFS;
  }
  if (atomic_load_explicit(&c->opt_reuseaddr, memory_order_relaxed)) {
    ip_set_option(pcb, SOF_REUSEADDR);
  }
  inc__conn_bind_ip(c, &ip);
  e = tcp_bind(pcb, &ip, op->port);
  if (e != ERR_OK) {
    tcp_abort(pcb);
    return e == ERR_USE ? -EADDRINUSE : inc__errno_of(e);
  }
  inc__flow_track_listener(w, pcb);
  lpcb = tcp_listen_with_backlog_and_err(pcb, TCP_DEFAULT_LISTEN_BACKLOG, &e);
  if (lpcb == NULL) {
    tcp_abort(pcb);
    return e == ERR_USE ? -EADDRINUSE : -ENOBUFS;
  }
  tcp_arg(lpcb, c);
  tcp_accept(lpcb, on_accept);
  c->lpcb[inc_worker_index(w)] = lpcb;
  op->port = lpcb->local_port;
  return 0;
}

int inc__w_unlisten(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  unsigned i = inc_worker_index(w);
  if (c->lpcb[i] != NULL) {
    tcp_arg(c->lpcb[i], NULL);
    tcp_accept(c->lpcb[i], NULL);
    if (tcp_close(c->lpcb[i]) != ERR_OK) {
      tcp_abort(c->lpcb[i]);
    }
    c->lpcb[i] = NULL;
  }
  return 0;
}

int inc__w_connect(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct tcp_pcb *pcb = tcp_new_ip_type(IP_IS_V6(&op->ip) ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
  int rc;
  if (pcb == NULL) {
    return -ENOBUFS;
  }
  if (atomic_load_explicit(&c->opt_reuseaddr, memory_order_relaxed)) {
    ip_set_option(pcb, SOF_REUSEADDR);
  }
  if (c->bound) {
    err_t e = tcp_bind(pcb, &c->local_ip, c->local_port);
    if (e != ERR_OK) {
      tcp_abort(pcb);
      return e == ERR_USE ? -EADDRINUSE : inc__errno_of(e);
    }
  }
  setup_pcb(c, pcb);
  c->connecting = 1;
  rc = inc__tcp_connect(w, pcb, &op->ip, op->port, on_connected);
  if (rc != 0) {
    tcp_arg(pcb, NULL);
    tcp_abort(pcb);
    c->pcb = NULL;
    c->connecting = 0;
    return rc;
  }
  c->local_port = pcb->local_port;
  ip_addr_copy(c->local_ip, pcb->local_ip);
  publish(c);
  return 0;
}

int inc__w_send(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  uint32_t room = space_of(c);
  size_t total = 0;
  int i;
  int err = atomic_load_explicit(&c->err, memory_order_relaxed);
  (void)w;
  if (c->wr_shut) {
    return -EPIPE;
  }
  if (c->pcb == NULL) {
    return err == -ECONNRESET || err == 0 ? -EPIPE : err;
  }
  if (!c->connected) {
    return -ENOTCONN;
  }
  for (i = 0; i < op->iovcnt && room > 0; i++) {
    const char *base = (const char *)op->iov[i].iov_base;
    size_t left = op->iov[i].iov_len;
    while (left > 0 && room > 0) {
      size_t n = left < room ? left : room;
      u8_t fl = TCP_WRITE_FLAG_COPY;
      if (n > 0xFFFFu) {
        n = 0xFFFFu;
      }
      if (n < left || i + 1 < op->iovcnt || (op->flags & INC_CONN_MORE)) {
        fl |= TCP_WRITE_FLAG_MORE;
      }
      if (tcp_write(c->pcb, base, (u16_t)n, fl) != ERR_OK) {
        room = 0; /* queue full: what was queued stands */
        break;
      }
      base += n;
      left -= n;
      total += n;
      c->tx_queued += n;
      room = space_of(c);
    }
  }
  if (total > 0 && !(op->flags & INC_CONN_MORE)) {
    tcp_output(c->pcb);
  }
  op->done = total;
  publish(c);
  return 0;
}

int inc__w_recv(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  size_t want = 0, n, off = 0;
  int i;
  (void)w;
  for (i = 0; i < op->iovcnt; i++) {
    want += op->iov[i].iov_len;
  }
  op->done = 0;
  if (c->rxq_len == 0) {
    int err = atomic_load_explicit(&c->err, memory_order_relaxed);
    if (err != 0 && err != -ENOTCONN) {
      return err;
    }
    if (c->rx_fin || c->rd_shut || err != 0 || (c->pcb == NULL && c->connected)) {
      return 0; /* end of stream (also once a reset has been reported) */
    }
    return c->connected || c->connecting ? -EAGAIN : -ENOTCONN;
  }
  n = want < c->rxq_len ? want : c->rxq_len;
  {
    /* the queue is a list of pbufs linked by next (tot_len is not used: it
     * would overflow u16 beyond 64 KiB) */
    struct pbuf *q = c->rxq;
    size_t qoff = 0;
    for (i = 0; i < op->iovcnt && off < n; i++) {
      char *dst = (char *)op->iov[i].iov_base;
      size_t k = op->iov[i].iov_len < n - off ? op->iov[i].iov_len : n - off;
      while (k > 0 && q != NULL) {
        size_t piece = q->len - qoff < k ? q->len - qoff : k;
        memcpy(dst, (const char *)q->payload + qoff, piece);
        dst += piece;
        k -= piece;
        off += piece;
        qoff += piece;
        if (qoff == q->len) {
          q = q->next;
          qoff = 0;
        }
      }
    }
  }
  op->done = n;
  if (!(op->flags & INC_CONN_PEEK)) {
    size_t credit = n;
    rxq_consume(c, n);
    c->rxq_len -= n;
    if (c->wnd_debt > 0) {
      size_t d = credit < c->wnd_debt ? credit : c->wnd_debt;
      c->wnd_debt -= d;
      credit -= d;
    }
    while (credit > 0 && c->pcb != NULL) {
      size_t piece = credit > 0xFFFFu ? 0xFFFFu : credit;
      tcp_recved(c->pcb, (u16_t)piece);
      credit -= piece;
    }
  }
  publish(c);
  return 0;
}

int inc__w_shutdown(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  int rd = op->how == 0 || op->how == 2, wr = op->how == 1 || op->how == 2;
  (void)w;
  if (c->pcb == NULL) {
    return c->connected ? 0 : -ENOTCONN;
  }
  if (rd && !c->rd_shut) {
    c->rd_shut = 1;
    if (c->rxq != NULL) {
      size_t len = c->rxq_len;
      rxq_free(c);
      while (len > 0) {
        size_t piece = len > 0xFFFFu ? 0xFFFFu : len;
        tcp_recved(c->pcb, (u16_t)piece);
        len -= piece;
      }
    }
  }
  if (wr && !c->wr_shut) {
    c->wr_shut = 1;
    /* lwIP's shutdown(RD) would RST on later data: we discard it ourselves */
    if (tcp_shutdown(c->pcb, 0, 1) != ERR_OK) {
      c->wr_shut = 0;
      publish(c);
      return -ENOBUFS;
    }
  }
  publish(c);
  return 0;
}

int inc__w_close(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  int linger = atomic_load_explicit(&c->opt_linger, memory_order_relaxed);
  (void)w;
  rxq_free(c);
  if (c->pcb != NULL) {
    struct tcp_pcb *pcb = c->pcb;
    tcp_recv(pcb, NULL);
    tcp_arg(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    if (op->how == 1 || linger == 0 || (!c->connected && !c->connecting)) {
      tcp_abort(pcb); /* SO_LINGER 0, a lingering close that ran out of time */
      c->pcb = NULL;
    } else if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      c->pcb = NULL;
    } else if (c->zc_count > 0) {
      /* lwIP's segments still point into our zero-copy buffers: keep them
       * (and c) until they are acknowledged or the PCB dies */
      tcp_arg(pcb, c);
      tcp_sent(pcb, on_sent);
      tcp_err(pcb, on_err);
      c->closing = 1;
      atomic_store_explicit(&c->kind, INC__C_CLOSING, memory_order_relaxed);
      op->done = 1; /* kept: maybe_finish_closing() frees it */
      return 0;
    } else {
      c->pcb = NULL;
    }
  }
  zc_release(c, 1);
  op->done = 0; /* the caller frees c */
  return 0;
}

int inc__w_setopt(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  (void)w;
  if (c->pcb == NULL) {
    return 0;
  }
  if (atomic_load_explicit(&c->opt_nodelay, memory_order_relaxed)) {
    tcp_nagle_disable(c->pcb);
  } else {
    tcp_nagle_enable(c->pcb);
  }
  if (atomic_load_explicit(&c->opt_keepalive, memory_order_relaxed)) {
    ip_set_option(c->pcb, SOF_KEEPALIVE);
  } else {
    ip_reset_option(c->pcb, SOF_KEEPALIVE);
  }
  publish(c);
  return 0;
}

/* ---- zero-copy send ---- */

static size_t zc_max(void)
{
  const struct inc_lwip_bufs *b = inc_lwip_bufs_get();
  size_t hdr = LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) + 64u;
  if (b == NULL || b->max_size <= hdr + TCP_MSS) {
    return TCP_MSS;
  }
  return b->max_size - hdr;
}

int inc__w_zc_alloc(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  uint32_t room = space_of(c);
  size_t n = op->len;
  struct pbuf *p;
  int err = atomic_load_explicit(&c->err, memory_order_relaxed);
  (void)w;
  if (c->wr_shut || (c->pcb == NULL && c->connected)) {
    return -EPIPE;
  }
  if (err != 0) {
    return err;
  }
  if (c->pcb == NULL || !c->connected) {
    return -ENOTCONN;
  }
  if (room == 0 || c->zc_count >= INC__ZC_SLOTS) {
    return -EAGAIN;
  }
  if (n > room) {
    n = room;
  }
  if (n > zc_max()) {
    n = zc_max();
  }
  if (n > 0xFFFFu) {
    n = 0xFFFFu;
  }
  p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
  if (p == NULL) {
    return -ENOBUFS;
  }
  op->zc_p = p;
  op->zc_data = p->payload;
  op->zc_len = n;
  return 0;
}

int inc__w_zc_send(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct pbuf *p = (struct pbuf *)op->zc_p;
  int err = atomic_load_explicit(&c->err, memory_order_relaxed);
  unsigned slot;
  (void)w;
  if (c->wr_shut || c->pcb == NULL || !c->connected || err != 0 || c->zc_count >= INC__ZC_SLOTS) {
    pbuf_free(p);
    if (c->wr_shut || (c->pcb == NULL && err == 0)) {
      return -EPIPE;
    }
    return err != 0 ? err : c->zc_count >= INC__ZC_SLOTS ? -ENOBUFS : -ENOTCONN;
  }
  if (op->len == 0) {
    pbuf_free(p);
    return 0;
  }
  /* the send window may have shrunk since the allocation (another sender):
   * lwIP refuses what does not fit, and the application retries */
  if (tcp_write(c->pcb, p->payload, (u16_t)op->len, (op->flags & INC_CONN_MORE) ? TCP_WRITE_FLAG_MORE : 0) !=
      ERR_OK) {
    pbuf_free(p);
    return -ENOBUFS;
  }
  c->tx_queued += op->len;
  slot = (c->zc_head + c->zc_count) % INC__ZC_SLOTS;
  c->zc[slot].p = p;
  c->zc[slot].end = c->tx_queued;
  c->zc_count++;
  if (!(op->flags & INC_CONN_MORE)) {
    tcp_output(c->pcb);
  }
  op->done = op->len;
  publish(c);
  return 0;
}

int inc__w_zc_free(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  (void)w;
  pbuf_free((struct pbuf *)op->zc_p);
  return 0;
}

int inc__w_nop(struct inc_worker *w, void *arg)
{
  (void)w;
  (void)arg;
  return 0;
}

/* 1 when everything queued (our FIN included) is acknowledged or the
 * connection is gone, else 0. */
int inc__w_drained(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  (void)w;
  return c->pcb == NULL || (c->pcb->unacked == NULL && c->pcb->unsent == NULL &&
                            c->pcb->state != FIN_WAIT_1 && c->pcb->state != CLOSING &&
                            c->pcb->state != LAST_ACK);
}
