/*
 * The sequential API on application threads: each operation checks the
 * published readiness, waits for it if it may block, and runs the work on
 * the owner core (conn_worker.c) through the thread's lane.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "api_priv.h"
#include "conn_priv.h"
#include "sock_priv.h"
#include "lwip/tcp.h"

static int kind_of(const struct inc_conn *c)
{
  /* acquire pairs with the release in inc__conn_alloc() */
  return (int)atomic_load_explicit(&((struct inc_conn *)c)->kind, memory_order_acquire);
}

static int owner_of(const struct inc_conn *c)
{
  return atomic_load_explicit(&((struct inc_conn *)c)->owner, memory_order_acquire);
}

unsigned inc_conn_poll(const struct inc_conn *c)
{
  struct inc_conn *m = (struct inc_conn *)c;
  int k = kind_of(c);
  if (k == INC__C_LISTEN) {
    return atomic_load_explicit(&m->acc_len, memory_order_acquire) > 0 ? INC_POLLIN : 0;
  }
  if (k == INC__C_STREAM) {
    return atomic_load_explicit(&m->ready, memory_order_acquire) &
           (INC_POLLIN | INC_POLLOUT | INC_POLLERR | INC_POLLHUP | INC_POLLRDHUP);
  }
  if (k == INC__C_DGRAM) {
    return (atomic_load_explicit(&m->dg_count, memory_order_acquire) > 0 ? INC_POLLIN : 0) | INC_POLLOUT;
  }
  return k == INC__C_NEW ? INC_POLLOUT | INC_POLLHUP : 0; /* as Linux for an unconnected socket */
}

int inc_conn_error(struct inc_conn *c)
{
  return atomic_exchange_explicit(&c->err, 0, memory_order_acq_rel);
}

int inc_conn_owner(const struct inc_conn *c)
{
  return kind_of(c) == INC__C_STREAM ? owner_of(c) : -1;
}

int inc_conn_new(struct inc_api *api, int family, struct inc_conn **out)
{
  struct inc_conn *c;
  if (api == NULL || out == NULL) {
    return -EINVAL;
  }
  if (family != INC_AF_INET && family != INC_AF_INET6) {
    return -EAFNOSUPPORT;
  }
  c = inc__conn_alloc(api, family);
  if (c == NULL) {
    return -EMFILE;
  }
  if (family == INC_AF_INET6) {
    ip_addr_copy(c->local_ip, *IP6_ADDR_ANY);
  }
  *out = c;
  return 0;
}

static int call_owner(struct inc_conn *c, inc_stack_call_fn fn, struct inc__op *op)
{
  int w = owner_of(c);
  if (w < 0) {
    return -ENOTCONN;
  }
  return inc__api_call(c->api, (unsigned)w, fn, op);
}

int inc_conn_setopt(struct inc_conn *c, enum inc_conn_opt opt, int value)
{
  struct inc__op op;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  switch (opt) {
  case INC_CONN_NODELAY:
    atomic_store_explicit(&c->opt_nodelay, value != 0, memory_order_relaxed);
    break;
  case INC_CONN_KEEPALIVE:
    atomic_store_explicit(&c->opt_keepalive, value != 0, memory_order_relaxed);
    break;
  case INC_CONN_REUSEADDR:
    atomic_store_explicit(&c->opt_reuseaddr, value != 0, memory_order_relaxed);
    return 0;
  case INC_CONN_RCVBUF:
    if (value <= 0) {
      return -EINVAL;
    }
    /* lwIP's window is at most TCP_WND; at least two segments */
    value = value > TCP_WND ? TCP_WND : value < 2 * TCP_MSS ? 2 * TCP_MSS : value;
    atomic_store_explicit(&c->opt_rcvbuf, value, memory_order_relaxed);
    return 0; /* takes effect at connect/accept */
  case INC_CONN_SNDBUF:
    if (value <= 0) {
      return -EINVAL;
    }
    value = value > TCP_SND_BUF ? TCP_SND_BUF : value < 2 * TCP_MSS ? 2 * TCP_MSS : value;
    atomic_store_explicit(&c->opt_sndbuf, value, memory_order_relaxed);
    break;
  case INC_CONN_LINGER:
    atomic_store_explicit(&c->opt_linger, value < 0 ? -1 : value, memory_order_relaxed);
    return 0;
  default:
    return -ENOPROTOOPT;
  }
  if (kind_of(c) != INC__C_STREAM) {
    return 0;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  return call_owner(c, inc__w_setopt, &op);
}

int inc_conn_getopt(struct inc_conn *c, enum inc_conn_opt opt, int *value)
{
  if (c == NULL || value == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  switch (opt) {
  case INC_CONN_NODELAY:
    *value = atomic_load_explicit(&c->opt_nodelay, memory_order_relaxed);
    return 0;
  case INC_CONN_KEEPALIVE:
    *value = atomic_load_explicit(&c->opt_keepalive, memory_order_relaxed);
    return 0;
  case INC_CONN_REUSEADDR:
    *value = atomic_load_explicit(&c->opt_reuseaddr, memory_order_relaxed);
    return 0;
  case INC_CONN_RCVBUF:
    *value = atomic_load_explicit(&c->opt_rcvbuf, memory_order_relaxed);
    return 0;
  case INC_CONN_SNDBUF:
    *value = atomic_load_explicit(&c->opt_sndbuf, memory_order_relaxed);
    return 0;
  case INC_CONN_LINGER:
    *value = atomic_load_explicit(&c->opt_linger, memory_order_relaxed);
    return 0;
  default:
    return -ENOPROTOOPT;
  }
}

int inc_conn_bind(struct inc_conn *c, const struct inc_addr *local, uint16_t port)
{
  struct inc__op op;
  ip_addr_t ip;
  unsigned w;
  int rc;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (kind_of(c) != INC__C_NEW || c->bound) {
    return -EINVAL;
  }
  if (local != NULL && local->family != INC_AF_NONE &&
      (local->family == INC_AF_INET6) != (c->family == INC_AF_INET6)) {
    return -EAFNOSUPPORT;
  }
  rc = inc__addr_to_lwip(local, &ip);
  if (rc != 0) {
    return rc;
  }
  if ((local == NULL || local->family == INC_AF_NONE) && c->family == INC_AF_INET6) {
    ip_addr_copy(ip, *IP6_ADDR_ANY);
  } else if (local == NULL || local->family == INC_AF_NONE) {
    ip_addr_copy(ip, *IP4_ADDR_ANY);
  }
  ip_addr_copy(c->local_ip, ip);
  /* the port must be free on every worker (a listener will need it on all) */
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.port = port;
  for (w = 0; port != 0 && w < c->api->workers; w++) {
    rc = inc__api_call(c->api, w, inc__w_check_bind, &op);
    if (rc != 0) {
      return rc == -EADDRINUSE ? rc : rc == -EINVAL ? -EADDRNOTAVAIL : rc;
    }
  }
  c->local_port = port;
  c->bound = 1;
  return 0;
}

int inc_conn_listen(struct inc_conn *c, int backlog)
{
  struct inc__op op;
  unsigned w;
  int rc = 0;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (kind_of(c) == INC__C_LISTEN) {
    atomic_store_explicit(&c->backlog, backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog,
                          memory_order_relaxed);
    return 0;
  }
  if (kind_of(c) != INC__C_NEW) {
    return -EINVAL;
  }
  atomic_store_explicit(&c->backlog, backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog, memory_order_relaxed);
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.port = c->local_port;
  /* worker 0 first: with port 0 it picks the port the others then take */
  for (w = 0; w < c->api->workers; w++) {
    rc = inc__api_call(c->api, w, inc__w_listen, &op);
    if (rc != 0) {
      break;
    }
  }
  if (rc != 0) {
    while (w-- > 0) {
      (void)inc__api_call(c->api, w, inc__w_unlisten, &op);
    }
    return rc;
  }
  c->local_port = op.port;
  c->bound = 1;
  /* release pairs with the acquire in kind_of(): lpcb[] and the port are set */
  atomic_store_explicit(&c->kind, INC__C_LISTEN, memory_order_release);
  return 0;
}

static struct inc_conn *take_accepted(struct inc_conn *l)
{
  struct inc_conn *c;
  pthread_mutex_lock(&l->app_lock);
  if (l->acc_fifo == NULL) {
    /* acquire pairs with the release CAS in on_accept() */
    struct inc_conn *s = atomic_exchange_explicit(&l->acc_stack, NULL, memory_order_acquire);
    while (s != NULL) { /* the stack is newest first: reverse it */
      struct inc_conn *n = s->acc_next;
      s->acc_next = l->acc_fifo;
      l->acc_fifo = s;
      s = n;
    }
  }
  c = l->acc_fifo;
  if (c != NULL) {
    l->acc_fifo = c->acc_next;
    c->acc_next = NULL;
    atomic_fetch_sub_explicit(&l->acc_len, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&l->app_lock);
  return c;
}

int inc_conn_accept(struct inc_conn *listener, struct inc_conn **out, int timeout_ms)
{
  int64_t deadline = inc__deadline(timeout_ms);
  if (listener == NULL || out == NULL || kind_of(listener) == INC__C_FREE) {
    return -EBADF;
  }
  if (kind_of(listener) != INC__C_LISTEN) {
    return -EINVAL;
  }
  for (;;) {
    struct inc_conn *c = take_accepted(listener);
    if (c != NULL) {
      *out = c;
      return 0;
    }
    if (inc__conn_wait(listener, INC_POLLIN, deadline) != 0) {
      return -EAGAIN;
    }
  }
}

int inc_conn_connect(struct inc_conn *c, const struct inc_addr *remote, uint16_t port, int timeout_ms)
{
  struct inc__op op;
  unsigned w;
  int rc;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (remote == NULL || port == 0 || remote->family == INC_AF_NONE || inc_addr_is_any(remote)) {
    return -EINVAL;
  }
  if ((remote->family == INC_AF_INET6) != (c->family == INC_AF_INET6)) {
    return -EAFNOSUPPORT;
  }
  if (kind_of(c) == INC__C_STREAM) {
    uint32_t r = atomic_load_explicit(&c->ready, memory_order_acquire);
    return (r & INC__R_CONNECTED) ? -EISCONN : (r & INC__R_CONNECTING) ? -EALREADY : -EISCONN;
  }
  if (kind_of(c) != INC__C_NEW) {
    return -EINVAL;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  rc = inc__addr_to_lwip(remote, &op.ip);
  if (rc != 0) {
    return rc;
  }
  op.port = port;
  ip_addr_copy(c->remote_ip, op.ip);
  c->remote_port = port;
  w = atomic_fetch_add_explicit(&c->api->rr, 1, memory_order_relaxed) % c->api->workers;
  atomic_store_explicit(&c->owner, (int)w, memory_order_release);
  rc = inc__api_call(c->api, w, inc__w_connect, &op);
  if (rc != 0) {
    atomic_store_explicit(&c->owner, -1, memory_order_release);
    return rc;
  }
  atomic_store_explicit(&c->kind, INC__C_STREAM, memory_order_release);
  if (timeout_ms == 0) {
    return -EINPROGRESS;
  }
  rc = inc__conn_wait(c, INC__R_CONNECTED, inc__deadline(timeout_ms));
  if (rc != 0) {
    return -ETIMEDOUT; /* the handshake goes on; the connection stays usable */
  }
  if (!(atomic_load_explicit(&c->ready, memory_order_acquire) & INC__R_CONNECTED)) {
    int e = inc_conn_error(c);
    return e != 0 ? e : -ECONNREFUSED;
  }
  return 0;
}

static size_t iov_total(const struct iovec *iov, int n)
{
  size_t t = 0;
  int i;
  for (i = 0; i < n; i++) {
    t += iov[i].iov_len;
  }
  return t;
}

ssize_t inc_conn_sendv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms)
{
  int64_t deadline = inc__deadline(timeout_ms);
  struct iovec local[16];
  const struct iovec *cur = iov;
  size_t total = 0, want;
  int n = iovcnt;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (iovcnt < 0 || (iovcnt > 0 && iov == NULL)) {
    return -EINVAL;
  }
  if (kind_of(c) != INC__C_STREAM) {
    return kind_of(c) == INC__C_LISTEN ? -ENOTCONN : -ENOTCONN;
  }
  want = iov_total(iov, iovcnt);
  if (want == 0) {
    return 0;
  }
  for (;;) {
    struct inc__op op;
    int rc;
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.iov = cur;
    op.iovcnt = n;
    op.flags = flags;
    rc = call_owner(c, inc__w_send, &op);
    if (rc != 0) {
      return total > 0 ? (ssize_t)total : rc;
    }
    total += op.done;
    if (total == want) {
      return (ssize_t)total;
    }
    /* advance the gather list past what was queued */
    {
      size_t skip = op.done;
      while (n > 0 && skip >= cur->iov_len) {
        skip -= cur->iov_len;
        cur++;
        n--;
      }
      if (skip > 0) {
        int k = n < 16 ? n : 16;
        memcpy(local, cur, (size_t)k * sizeof(*cur));
        local[0].iov_base = (char *)local[0].iov_base + skip;
        local[0].iov_len -= skip;
        cur = local;
        n = k;
      }
    }
    if (inc__conn_wait(c, INC_POLLOUT, deadline) != 0) {
      return total > 0 ? (ssize_t)total : -EAGAIN;
    }
  }
}

ssize_t inc_conn_send(struct inc_conn *c, const void *buf, size_t len, unsigned flags, int timeout_ms)
{
  struct iovec v;
  v.iov_base = (void *)(uintptr_t)buf;
  v.iov_len = len;
  return inc_conn_sendv(c, &v, 1, flags, timeout_ms);
}

ssize_t inc_conn_recvv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms)
{
  int64_t deadline = inc__deadline(timeout_ms);
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (iovcnt < 0 || (iovcnt > 0 && iov == NULL)) {
    return -EINVAL;
  }
  if (kind_of(c) != INC__C_STREAM) {
    return -ENOTCONN;
  }
  if (iov_total(iov, iovcnt) == 0) {
    return 0;
  }
  for (;;) {
    struct inc__op op;
    int rc;
    if (inc__conn_wait(c, INC_POLLIN, deadline) != 0) {
      return -EAGAIN;
    }
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.iov = iov;
    op.iovcnt = iovcnt;
    op.flags = flags;
    rc = call_owner(c, inc__w_recv, &op);
    if (rc == -EAGAIN) {
      continue; /* another thread took the data first */
    }
    if (rc < 0) {
      if (rc == atomic_load_explicit(&c->err, memory_order_relaxed)) {
        (void)inc_conn_error(c); /* reported once, as SO_ERROR */
      }
      return rc;
    }
    return (ssize_t)op.done;
  }
}

ssize_t inc_conn_recv(struct inc_conn *c, void *buf, size_t len, unsigned flags, int timeout_ms)
{
  struct iovec v;
  v.iov_base = buf;
  v.iov_len = len;
  return inc_conn_recvv(c, &v, 1, flags, timeout_ms);
}

int inc_conn_shutdown(struct inc_conn *c, int how)
{
  struct inc__op op;
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (how < 0 || how > 2) {
    return -EINVAL;
  }
  if (kind_of(c) != INC__C_STREAM) {
    return -ENOTCONN;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.how = how;
  return call_owner(c, inc__w_shutdown, &op);
}

static void close_listener(struct inc_conn *l)
{
  struct inc__op op;
  struct inc_conn *c;
  unsigned w;
  memset(&op, 0, sizeof(op));
  op.c = l;
  for (w = 0; w < l->api->workers; w++) {
    (void)inc__api_call(l->api, w, inc__w_unlisten, &op);
  }
  /* no worker pushes any more: reset what nobody took */
  while ((c = take_accepted(l)) != NULL) {
    struct inc__op cop;
    memset(&cop, 0, sizeof(cop));
    cop.c = c;
    cop.how = 1;
    (void)call_owner(c, inc__w_close, &cop);
    inc__conn_free(c);
  }
  inc__conn_free(l);
}

int inc_conn_close(struct inc_conn *c)
{
  struct inc__op op;
  int k, linger;
  if (c == NULL || (k = kind_of(c)) == INC__C_FREE) {
    return -EBADF;
  }
  inc__epoll_detach(c);
  if (k == INC__C_DGRAM) {
    inc__udp_close(c);
    return 0;
  }
  if (k == INC__C_LISTEN) {
    close_listener(c);
    return 0;
  }
  if (k == INC__C_NEW) {
    inc__conn_free(c);
    return 0;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  linger = atomic_load_explicit(&c->opt_linger, memory_order_relaxed);
  if (linger > 0) {
    /* SO_LINGER: wait for the queued data to be acknowledged, then close;
     * if the time runs out, reset */
    int64_t deadline = inc__deadline(linger * 1000);
    op.how = 2;
    (void)call_owner(c, inc__w_shutdown, &op);
    /* lwIP reports no event when only our FIN is acknowledged: look */
    for (;;) {
      struct timespec ts = {0, 1000000};
      if (call_owner(c, inc__w_drained, &op) != 0) {
        op.how = 0;
        break;
      }
      if (inc__now_ms() >= deadline) {
        op.how = 1; /* out of time: reset */
        break;
      }
      nanosleep(&ts, NULL);
    }
  }
  (void)call_owner(c, inc__w_close, &op);
  if (op.done == 0) {
    inc__conn_free(c); /* else the owner frees it once its zero-copy buffers are acknowledged */
  }
  return 0;
}

int inc_conn_local(const struct inc_conn *c, struct inc_addr *addr, uint16_t *port)
{
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (addr != NULL) {
    inc__addr_from_lwip(&c->local_ip, addr);
    if (addr->family == INC_AF_NONE) {
      addr->family = c->family;
    }
  }
  if (port != NULL) {
    *port = c->local_port;
  }
  return 0;
}

int inc_conn_peer(const struct inc_conn *c, struct inc_addr *addr, uint16_t *port)
{
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (kind_of(c) != INC__C_STREAM && !(kind_of(c) == INC__C_DGRAM && c->connected)) {
    return -ENOTCONN;
  }
  if (addr != NULL) {
    inc__addr_from_lwip(&c->remote_ip, addr);
  }
  if (port != NULL) {
    *port = c->remote_port;
  }
  return 0;
}

/* ---- zero-copy send ---- */

int inc_conn_zc_alloc(struct inc_conn *c, size_t size, int timeout_ms, struct inc_zc_buf *out)
{
  int64_t deadline = inc__deadline(timeout_ms);
  if (c == NULL || kind_of(c) == INC__C_FREE) {
    return -EBADF;
  }
  if (out == NULL || size == 0) {
    return -EINVAL;
  }
  if (kind_of(c) != INC__C_STREAM) {
    return -ENOTCONN;
  }
  for (;;) {
    struct inc__op op;
    int rc;
    memset(&op, 0, sizeof(op));
    op.c = c;
    op.len = size;
    rc = call_owner(c, inc__w_zc_alloc, &op);
    if (rc == 0) {
      out->data = op.zc_data;
      out->len = op.zc_len;
      out->priv_ = op.zc_p;
      return 0;
    }
    if (rc != -EAGAIN) {
      return rc;
    }
    if (inc__conn_wait(c, INC_POLLOUT, deadline) != 0) {
      return -EAGAIN;
    }
  }
}

ssize_t inc_conn_zc_send(struct inc_conn *c, struct inc_zc_buf *b, size_t len, unsigned flags)
{
  struct inc__op op;
  int rc;
  if (c == NULL || b == NULL || b->priv_ == NULL || kind_of(c) != INC__C_STREAM) {
    return -EINVAL;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.zc_p = b->priv_;
  op.len = len <= b->len ? len : b->len;
  op.flags = flags;
  b->priv_ = NULL;
  rc = call_owner(c, inc__w_zc_send, &op);
  return rc != 0 ? rc : (ssize_t)op.done;
}

int inc_conn_zc_free(struct inc_conn *c, struct inc_zc_buf *b)
{
  struct inc__op op;
  if (c == NULL || b == NULL || b->priv_ == NULL || kind_of(c) != INC__C_STREAM) {
    return -EINVAL;
  }
  memset(&op, 0, sizeof(op));
  op.c = c;
  op.zc_p = b->priv_;
  b->priv_ = NULL;
  return call_owner(c, inc__w_zc_free, &op);
}

/* ---- the context's end ---- */

int inc_api_fini(struct inc_api *api)
{
  unsigned i;
  if (api == NULL) {
    return 0;
  }
  for (i = 0; i < api->max_epolls; i++) {
    if (api->epolls[i].in_use) {
      (void)inc__epoll_destroy(&api->epolls[i]);
    }
  }
  for (i = 0; i < api->max_conns; i++) {
    struct inc_conn *c = &api->conns[i];
    if (kind_of(c) == INC__C_LISTEN) {
      close_listener(c);
    }
  }
  for (i = 0; i < api->max_conns; i++) {
    struct inc_conn *c = &api->conns[i];
    if (kind_of(c) == INC__C_NEW || kind_of(c) == INC__C_STREAM || kind_of(c) == INC__C_DGRAM) {
      (void)inc_conn_setopt(c, INC_CONN_LINGER, 0);
      (void)inc_conn_close(c);
    }
  }
  inc_api_thread_detach(api);
  pthread_key_delete(api->tls_key);
  return 0;
}

/* ---- for the sockets layer (sock_priv.h) ---- */

struct inc_conn *inc__sock_conn(struct inc_api *api, int fd)
{
  struct inc_conn *c;
  int k;
  if (api == NULL || fd < 0 || fd >= (int)api->max_conns) {
    return NULL;
  }
  c = &api->conns[fd];
  k = kind_of(c);
  return k == INC__C_FREE || k == INC__C_CLOSING ? NULL : c;
}

int inc__sock_fd(const struct inc_conn *c)
{
  return (int)c->index;
}

int inc__sock_max_conns(const struct inc_api *api)
{
  return (int)api->max_conns;
}

int inc__sock_get(const struct inc_conn *c, enum inc__sock_attr a)
{
  struct inc_conn *m = (struct inc_conn *)c;
  switch (a) {
  case INC__SOCK_NONBLOCK:
    return atomic_load_explicit(&m->nonblock, memory_order_relaxed);
  case INC__SOCK_RCVTIMEO:
    return atomic_load_explicit(&m->rcvtimeo_ms, memory_order_relaxed);
  case INC__SOCK_SNDTIMEO:
    return atomic_load_explicit(&m->sndtimeo_ms, memory_order_relaxed);
  case INC__SOCK_LISTENING:
    return kind_of(c) == INC__C_LISTEN;
  case INC__SOCK_CONNECTED:
    if (kind_of(c) == INC__C_DGRAM) {
      return c->connected;
    }
    return kind_of(c) == INC__C_STREAM &&
           (atomic_load_explicit(&m->ready, memory_order_acquire) & INC__R_CONNECTED) != 0;
  case INC__SOCK_DGRAM:
    return kind_of(c) == INC__C_DGRAM;
  }
  return 0;
}

void inc__sock_set(struct inc_conn *c, enum inc__sock_attr a, int v)
{
  switch (a) {
  case INC__SOCK_NONBLOCK:
    atomic_store_explicit(&c->nonblock, v, memory_order_relaxed);
    break;
  case INC__SOCK_RCVTIMEO:
    atomic_store_explicit(&c->rcvtimeo_ms, v, memory_order_relaxed);
    break;
  case INC__SOCK_SNDTIMEO:
    atomic_store_explicit(&c->sndtimeo_ms, v, memory_order_relaxed);
    break;
  default:
    break;
  }
}
