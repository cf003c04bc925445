/*
 * UDP sockets of the sockets-style API.
 *
 * A bound UDP socket has one lwIP PCB on every worker (as a listener does):
 * whichever worker RSS hands a datagram to delivers it. Workers push received
 * datagrams (a record from the context's pool: the pbuf, its source) on the
 * socket's Treiber stack; an application thread takes them oldest first and
 * copies one out through a call to the worker that received it, which frees
 * its buffer there. Sends go to the workers round-robin; each sends from its
 * own PCB (same port everywhere).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "api_priv.h"
#include "conn_priv.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "sock_priv.h"
#include "stack_priv.h"

/* ---- on the workers ---- */

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct inc_conn *c = (struct inc_conn *)arg;
  struct inc__dgram *d, *head;
  int rcvbuf;
  (void)pcb;
  if (c == NULL) {
    pbuf_free(p);
    return;
  }
  rcvbuf = atomic_load_explicit(&c->opt_rcvbuf, memory_order_relaxed);
  if (atomic_load_explicit(&c->dg_bytes, memory_order_relaxed) + p->tot_len > rcvbuf ||
      (d = inc__dgram_alloc(c->api)) == NULL) {
    /* the socket's buffer is full (or the pool is empty): dropped and
     * counted, as a kernel does (UDP has no flow control) */
    atomic_fetch_add_explicit(&c->dg_dropped, 1, memory_order_relaxed);
    pbuf_free(p);
    return;
  }
  d->p = p;
  ip_addr_copy(d->src, *addr);
  d->sport = port;
  d->worker = (uint16_t)inc_worker_index(inc_worker_self());
  d->len = p->tot_len;
  atomic_fetch_add_explicit(&c->dg_bytes, p->tot_len, memory_order_relaxed);
  head = atomic_load_explicit(&c->dg_stack, memory_order_relaxed);
  do {
    d->next = head;
    /* release pairs with the acquire exchange in take_dgram() */
  } while (!atomic_compare_exchange_weak_explicit(&c->dg_stack, &head, d, memory_order_release,
                                                  memory_order_relaxed));
  atomic_fetch_add_explicit(&c->dg_count, 1, memory_order_release);
  inc__conn_notify(c);
}

int inc__w_udp_bind(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  unsigned i = inc_worker_index(w);
  struct udp_pcb *pcb = udp_new_ip_type(inc__conn_ip_type(c));
  ip_addr_t ip;
  err_t e;
  if (pcb == NULL) {
    return -ENOBUFS;
  }
  if (atomic_load_explicit(&c->opt_reuseaddr, memory_order_relaxed)) {
    ip_set_option(pcb, SOF_REUSEADDR);
  }
  inc__conn_bind_ip(c, &ip);
  e = udp_bind(pcb, &ip, op->port);
  if (e != ERR_OK) {
    udp_remove(pcb);
    return e == ERR_USE ? -EADDRINUSE : inc__errno_of(e);
  }
  udp_recv(pcb, on_udp_recv, c);
  c->upcb[i] = pcb;
  op->port = pcb->local_port;
  return 0;
}

int inc__w_udp_unbind(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  unsigned i = inc_worker_index(w);
  if (c->upcb[i] != NULL) {
    udp_recv(c->upcb[i], NULL, NULL);
    udp_remove(c->upcb[i]);
    c->upcb[i] = NULL;
  }
  return 0;
}

int inc__w_udp_connect(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct udp_pcb *pcb = c->upcb[inc_worker_index(w)];
  if (pcb == NULL) {
    return -EINVAL;
  }
  return inc__errno_of(udp_connect(pcb, &op->ip, op->port));
}

int inc__w_udp_send(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc_conn *c = op->c;
  struct udp_pcb *pcb = c->upcb[inc_worker_index(w)];
  struct pbuf *p;
  size_t off = 0;
  int i;
  err_t e;
  if (pcb == NULL) {
    return -EINVAL;
  }
  p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)op->len, PBUF_RAM);
  if (p == NULL) {
    return -ENOBUFS;
  }
  for (i = 0; i < op->iovcnt; i++) {
    if (op->iov[i].iov_len > 0) {
      pbuf_take_at(p, op->iov[i].iov_base, (u16_t)op->iov[i].iov_len, (u16_t)off);
      off += op->iov[i].iov_len;
    }
  }
  e = op->port != 0 ? udp_sendto(pcb, p, &op->ip, op->port) : udp_send(pcb, p);
  pbuf_free(p);
  if (e == ERR_RTE) {
    return -ENETUNREACH;
  }
  if (e == ERR_MEM || e == ERR_BUF) {
    return -ENOBUFS;
  }
  if (e != ERR_OK) {
    return inc__errno_of(e);
  }
  op->done = op->len;
  return 0;
}

/* Copies op->dg out (iov NULL: discards it) and frees its buffer here. */
int inc__w_udp_recv(struct inc_worker *w, void *arg)
{
  struct inc__op *op = (struct inc__op *)arg;
  struct inc__dgram *d = op->dg;
  struct pbuf *q = d->p;
  size_t off = 0, qoff = 0, total = 0;
  int i;
  (void)w;
  for (i = 0; op->iov != NULL && i < op->iovcnt && q != NULL; i++) {
    char *dst = (char *)op->iov[i].iov_base;
    size_t k = op->iov[i].iov_len;
    while (k > 0 && q != NULL) {
      size_t piece = q->len - qoff < k ? q->len - qoff : k;
      memcpy(dst, (const char *)q->payload + qoff, piece);
      dst += piece;
      k -= piece;
      total += piece;
      qoff += piece;
      if (qoff == q->len) {
        q = q->next;
        qoff = 0;
      }
    }
    off += op->iov[i].iov_len;
  }
  (void)off;
  op->done = total;
  op->truncated = total < d->len;
  if (!(op->flags & INC_CONN_PEEK)) {
    pbuf_free(d->p);
    d->p = NULL;
  }
  return 0;
}

/* ---- on application threads ---- */

static int kind_of(const struct inc_conn *c)
{
  return (int)atomic_load_explicit(&((struct inc_conn *)c)->kind, memory_order_acquire);
}

int inc__udp_new(struct inc_api *api, int family, struct inc_conn **out)
{
  int rc = inc_conn_new(api, family, out);
  if (rc == 0) {
    atomic_store_explicit(&(*out)->kind, INC__C_DGRAM, memory_order_release);
  }
  return rc;
}

static void unbind_all(struct inc_conn *c)
{
  struct inc__op op;
  unsigned w;
  memset(&op, 0, sizeof(op));
  op.c = c;
  for (w = 0; w < c->api->workers; w++) {
    (void)inc__api_call(c->api, w, inc__w_udp_unbind, &op);
  }
}

static int bind_all(struct inc_conn *c, uint16_t port)
{
  struct inc__op op;
  unsigned w, attempt;
  int rc = 0;
  /* port 0: worker 0 picks one, the others take the same; if one of them
   * has it in use, try another */
  for (attempt = 0; attempt < 8; attempt++) {
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.port = port;
    for (w = 0; w < c->api->workers; w++) {
      rc = inc__api_call(c->api, w, inc__w_udp_bind, &op);
      if (rc != 0) {
        break;
      }
    }
    if (rc == 0) {
      c->local_port = op.port;
      c->bound = 1;
      return 0;
    }
    unbind_all(c);
    if (rc != -EADDRINUSE || port != 0) {
      return rc;
    }
  }
  return rc;
}

int inc__udp_bind(struct inc_conn *c, const struct inc_addr *local, uint16_t port)
{
  ip_addr_t ip;
  int rc;
  if (kind_of(c) != INC__C_DGRAM) {
    return -EINVAL;
  }
  if (c->bound) {
    return -EINVAL;
  }
  if (local != NULL && local->family != INC_AF_NONE &&
      (local->family == INC_AF_INET6) != (c->family == INC_AF_INET6)) {
    return -EAFNOSUPPORT;
  }
  if (local == NULL || local->family == INC_AF_NONE) {
    if (c->family == INC_AF_INET6) {
      ip_addr_copy(ip, *IP6_ADDR_ANY);
    } else {
      ip_addr_copy(ip, *IP4_ADDR_ANY);
    }
  } else {
    rc = inc__addr_to_lwip(local, &ip);
    if (rc != 0) {
      return rc;
    }
  }
  ip_addr_copy(c->local_ip, ip);
  rc = bind_all(c, port);
  return rc == -EINVAL ? -EADDRNOTAVAIL : rc;
}

static int ensure_bound(struct inc_conn *c)
{
  return c->bound ? 0 : inc__udp_bind(c, NULL, 0);
}

int inc__udp_connect(struct inc_conn *c, const struct inc_addr *remote, uint16_t port)
{
  struct inc__op op;
  unsigned w;
  int rc;
  if (remote == NULL || port == 0 || remote->family == INC_AF_NONE) {
    return -EINVAL;
  }
  if ((remote->family == INC_AF_INET6) != (c->family == INC_AF_INET6)) {
    return -EAFNOSUPPORT;
  }
  pthread_mutex_lock(&c->app_lock);
  rc = ensure_bound(c);
  if (rc == 0) {
    memset(&op, 0, sizeof(op));
    op.c = c;
    rc = inc__addr_to_lwip(remote, &op.ip);
    op.port = port;
    for (w = 0; rc == 0 && w < c->api->workers; w++) {
      rc = inc__api_call(c->api, w, inc__w_udp_connect, &op);
    }
    if (rc == 0) {
      ip_addr_copy(c->remote_ip, op.ip);
      c->remote_port = port;
      c->connected = 1;
    }
  }
  pthread_mutex_unlock(&c->app_lock);
  return rc;
}

ssize_t inc__udp_sendv(struct inc_conn *c, const struct iovec *iov, int iovcnt, const struct inc_addr *dst,
                       uint16_t port)
{
  struct inc__op op;
  size_t len = 0;
  unsigned w;
  int i, rc;
  for (i = 0; i < iovcnt; i++) {
    len += iov[i].iov_len;
  }
  if (len > 65507) {
    return -EMSGSIZE;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.iov = iov;
  op.iovcnt = iovcnt;
  op.len = len;
  if (dst != NULL) {
    if ((dst->family == INC_AF_INET6) != (c->family == INC_AF_INET6) || port == 0) {
      return dst->family != INC_AF_INET && dst->family != INC_AF_INET6 ? -EINVAL : -EAFNOSUPPORT;
    }
    rc = inc__addr_to_lwip(dst, &op.ip);
    if (rc != 0) {
      return rc;
    }
    op.port = port;
  } else if (!c->connected) {
    return -EDESTADDRREQ;
  }
  pthread_mutex_lock(&c->app_lock);
  rc = ensure_bound(c);
  pthread_mutex_unlock(&c->app_lock);
  if (rc != 0) {
    return rc;
  }
  w = atomic_fetch_add_explicit(&c->api->rr, 1, memory_order_relaxed) % c->api->workers;
  rc = inc__api_call(c->api, w, inc__w_udp_send, &op);
  return rc != 0 ? rc : (ssize_t)op.done;
}

/* The oldest datagram, taken off the queue (under c->app_lock). */
static struct inc__dgram *take_dgram(struct inc_conn *c)
{
  struct inc__dgram *d;
  if (c->dg_fifo == NULL) {
    /* acquire pairs with the release CAS in on_udp_recv() */
    struct inc__dgram *s = atomic_exchange_explicit(&c->dg_stack, NULL, memory_order_acquire);
    while (s != NULL) {
      struct inc__dgram *n = s->next;
      s->next = c->dg_fifo;
      c->dg_fifo = s;
      s = n;
    }
  }
  d = c->dg_fifo;
  if (d != NULL) {
    c->dg_fifo = d->next;
    d->next = NULL;
  }
  return d;
}

ssize_t inc__udp_recvv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms,
                       struct inc_addr *src, uint16_t *sport, int *truncated)
{
  int64_t deadline = inc__deadline(timeout_ms);
  for (;;) {
    struct inc__dgram *d;
    struct inc__op op;
    int rc;
    pthread_mutex_lock(&c->app_lock);
    d = take_dgram(c);
    if (d == NULL) {
      pthread_mutex_unlock(&c->app_lock);
      if (inc__conn_wait(c, INC_POLLIN, deadline) != 0) {
        return -EAGAIN;
      }
      continue;
    }
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.iov = iov;
    op.iovcnt = iovcnt;
    op.flags = flags;
    op.dg = d;
    rc = inc__api_call(c->api, d->worker, inc__w_udp_recv, &op);
    if (rc != 0) {
      /* the worker is gone (stopping): the datagram is lost with it */
      op.flags = 0;
    }
    if (src != NULL) {
      inc__addr_from_lwip(&d->src, src);
    }
    if (sport != NULL) {
      *sport = d->sport;
    }
    if (truncated != NULL) {
      *truncated = op.truncated;
    }
    if (flags & INC_CONN_PEEK) {
      d->next = c->dg_fifo; /* stays first */
      c->dg_fifo = d;
    } else {
      atomic_fetch_sub_explicit(&c->dg_bytes, d->len, memory_order_relaxed);
      atomic_fetch_sub_explicit(&c->dg_count, 1, memory_order_relaxed);
      inc__dgram_free(c->api, d);
    }
    pthread_mutex_unlock(&c->app_lock);
    return rc != 0 ? rc : (ssize_t)op.done;
  }
}

void inc__udp_close(struct inc_conn *c)
{
  struct inc__dgram *d;
  unbind_all(c);
  /* no worker pushes any more: free what nobody read, each on its worker */
  pthread_mutex_lock(&c->app_lock);
  while ((d = take_dgram(c)) != NULL) {
    struct inc__op op;
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.dg = d;
    (void)inc__api_call(c->api, d->worker, inc__w_udp_recv, &op);
    inc__dgram_free(c->api, d);
  }
  pthread_mutex_unlock(&c->app_lock);
  inc__conn_free(c);
}

uint64_t inc__udp_dropped(const struct inc_conn *c)
{
  return atomic_load_explicit(&((struct inc_conn *)c)->dg_dropped, memory_order_relaxed);
}
