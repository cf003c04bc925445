/*
 * The sockets-style API: descriptors are indices of the API context's
 * connection table (epoll descriptors follow them, sock_epoll.c); each call
 * maps to the sequential API and turns its negative errno into -1 + errno.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "sock_priv.h"

static int fail(int err)
{
  errno = err;
  return -1;
}

static int ret(int rc)
{
  return rc < 0 ? fail(-rc) : rc;
}

static ssize_t sret(ssize_t rc)
{
  if (rc < 0) {
    errno = (int)-rc;
    return -1;
  }
  return rc;
}

struct inc_conn *inc_sock_conn(struct inc_api *api, int fd)
{
  return inc__sock_conn(api, fd);
}

int inc_socket(struct inc_api *api, int domain, int type, int protocol)
{
  struct inc_conn *c;
  int rc;
  int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (api == NULL) {
    return fail(EINVAL);
  }
  if (domain != AF_INET && domain != AF_INET6) {
    return fail(EAFNOSUPPORT);
  }
  if (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) {
    rc = inc__udp_new(api, domain == AF_INET ? INC_AF_INET : INC_AF_INET6, &c);
    if (rc != 0) {
      return ret(rc);
    }
    inc__sock_set(c, INC__SOCK_NONBLOCK, (type & SOCK_NONBLOCK) != 0);
    return inc__sock_fd(c);
  }
  if (base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) {
    return fail(EPROTONOSUPPORT);
  }
  rc = inc_conn_new(api, domain == AF_INET ? INC_AF_INET : INC_AF_INET6, &c);
  if (rc != 0) {
    return ret(rc);
  }
  inc__sock_set(c, INC__SOCK_NONBLOCK, (type & SOCK_NONBLOCK) != 0);
  return inc__sock_fd(c);
}

int inc_set_nonblock(struct inc_api *api, int fd, int on)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  inc__sock_set(c, INC__SOCK_NONBLOCK, on != 0);
  return 0;
}

static int rcv_timeout(const struct inc_conn *c, int flags)
{
  if ((flags & MSG_DONTWAIT) || inc__sock_get(c, INC__SOCK_NONBLOCK)) {
    return 0;
  }
  return inc__sock_get(c, INC__SOCK_RCVTIMEO);
}

static int snd_timeout(const struct inc_conn *c, int flags)
{
  if ((flags & MSG_DONTWAIT) || inc__sock_get(c, INC__SOCK_NONBLOCK)) {
    return 0;
  }
  return inc__sock_get(c, INC__SOCK_SNDTIMEO);
}

int inc_bind(struct inc_api *api, int fd, const struct sockaddr *addr, socklen_t len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  struct inc_addr a;
  uint16_t port;
  int rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (addr == NULL) {
    return fail(EINVAL);
  }
  rc = inc_addr_from_sockaddr(&a, &port, addr, len);
  if (rc != 0) {
    return ret(rc == -EAFNOSUPPORT ? -EAFNOSUPPORT : -EINVAL);
  }
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    return ret(inc__udp_bind(c, &a, port));
  }
  return ret(inc_conn_bind(c, &a, port));
}

int inc_listen(struct inc_api *api, int fd, int backlog)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    return fail(EOPNOTSUPP);
  }
  return ret(inc_conn_listen(c, backlog <= 0 ? 128 : backlog));
}

static int fill_addr(const struct inc_addr *a, uint16_t port, struct sockaddr *addr, socklen_t *len)
{
  size_t l;
  if (addr == NULL || len == NULL) {
    return 0;
  }
  l = *len;
  if (inc_addr_to_sockaddr(a, port, addr, &l) != 0) {
    return -EINVAL;
  }
  *len = (socklen_t)l;
  return 0;
}

int inc_accept4(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
  struct inc_conn *l = inc_sock_conn(api, fd), *c;
  struct inc_addr a;
  uint16_t port;
  int rc;
  if (l == NULL) {
    return fail(EBADF);
  }
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    return fail(EINVAL);
  }
  if (addr != NULL && len == NULL) {
    return fail(EFAULT);
  }
  if (inc__sock_get(l, INC__SOCK_DGRAM)) {
    return fail(EOPNOTSUPP);
  }
  rc = inc_conn_accept(l, &c, rcv_timeout(l, 0));
  if (rc != 0) {
    return ret(rc);
  }
  inc__sock_set(c, INC__SOCK_NONBLOCK, (flags & SOCK_NONBLOCK) != 0);
  if (addr != NULL && inc_conn_peer(c, &a, &port) == 0) {
    (void)fill_addr(&a, port, addr, len);
  }
  return inc__sock_fd(c);
}

int inc_accept(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len)
{
  return inc_accept4(api, fd, addr, len, 0);
}

int inc_connect(struct inc_api *api, int fd, const struct sockaddr *addr, socklen_t len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  struct inc_addr a;
  uint16_t port;
  int rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (addr == NULL) {
    return fail(EINVAL);
  }
  rc = inc_addr_from_sockaddr(&a, &port, addr, len);
  if (rc != 0) {
    return ret(rc);
  }
  if (inc__sock_get(c, INC__SOCK_LISTENING)) {
    return fail(EINVAL);
  }
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    return ret(inc__udp_connect(c, &a, port));
  }
  /* connect(2) waits for the handshake without a time limit of its own
   * (the kernel's SYN retries bound it; lwIP's do here) */
  rc = inc_conn_connect(c, &a, port, inc__sock_get(c, INC__SOCK_NONBLOCK) ? 0 : -1);
  return ret(rc);
}

ssize_t inc_sendmsg(struct inc_api *api, int fd, const struct msghdr *msg, int flags)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL) || msg->msg_iovlen > 1024) {
    return fail(EINVAL);
  }
  if (flags & ~(MSG_DONTWAIT | MSG_MORE | MSG_NOSIGNAL)) {
    return fail(EOPNOTSUPP);
  }
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    struct inc_addr dst;
    uint16_t port = 0;
    if (msg->msg_name != NULL) {
      int rc = inc_addr_from_sockaddr(&dst, &port, (const struct sockaddr *)msg->msg_name, msg->msg_namelen);
      if (rc != 0) {
        return ret(rc);
      }
    }
    return sret(inc__udp_sendv(c, msg->msg_iov, (int)msg->msg_iovlen, msg->msg_name != NULL ? &dst : NULL, port));
  }
  return sret(inc_conn_sendv(c, msg->msg_iov, (int)msg->msg_iovlen, (flags & MSG_MORE) ? INC_CONN_MORE : 0,
                             snd_timeout(c, flags)));
}

ssize_t inc_send(struct inc_api *api, int fd, const void *buf, size_t len, int flags)
{
  struct msghdr m;
  struct iovec v;
  memset(&m, 0, sizeof(m));
  v.iov_base = (void *)(uintptr_t)buf;
  v.iov_len = len;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  if (buf == NULL && len > 0) {
    return fail(EFAULT);
  }
  return inc_sendmsg(api, fd, &m, flags);
}

ssize_t inc_recvmsg(struct inc_api *api, int fd, struct msghdr *msg, int flags)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  ssize_t got = 0, want = 0;
  size_t i;
  int tmo;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL) || msg->msg_iovlen > 1024) {
    return fail(EINVAL);
  }
  if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL)) {
    return fail(EOPNOTSUPP);
  }
  for (i = 0; i < msg->msg_iovlen; i++) {
    want += (ssize_t)msg->msg_iov[i].iov_len;
  }
  tmo = rcv_timeout(c, flags);
  msg->msg_flags = 0;
  msg->msg_controllen = 0;
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    struct inc_addr src;
    uint16_t sport = 0;
    int trunc = 0;
    ssize_t r = inc__udp_recvv(c, msg->msg_iov, (int)msg->msg_iovlen, (flags & MSG_PEEK) ? INC_CONN_PEEK : 0, tmo,
                               &src, &sport, &trunc);
    if (r < 0) {
      return sret(r);
    }
    if (trunc) {
      msg->msg_flags |= MSG_TRUNC;
    }
    if (msg->msg_name != NULL) {
      socklen_t l = msg->msg_namelen;
      msg->msg_namelen = fill_addr(&src, sport, (struct sockaddr *)msg->msg_name, &l) == 0 ? l : 0;
    }
    return r;
  }
  if (msg->msg_name != NULL) {
    struct inc_addr a;
    uint16_t port;
    socklen_t l = msg->msg_namelen;
    if (inc_conn_peer(c, &a, &port) == 0 && fill_addr(&a, port, (struct sockaddr *)msg->msg_name, &l) == 0) {
      msg->msg_namelen = l;
    } else {
      msg->msg_namelen = 0;
    }
  }
  for (;;) {
    struct iovec local[64];
    const struct iovec *iov = msg->msg_iov;
    int n = (int)msg->msg_iovlen;
    ssize_t r;
    if (got > 0) {
      /* MSG_WAITALL: continue after what arrived */
      size_t skip = (size_t)got;
      while (n > 0 && skip >= iov->iov_len) {
        skip -= iov->iov_len;
        iov++;
        n--;
      }
      if (n > 64) {
        n = 64;
      }
      memcpy(local, iov, (size_t)n * sizeof(*iov));
      local[0].iov_base = (char *)local[0].iov_base + skip;
      local[0].iov_len -= skip;
      iov = local;
    }
    r = inc_conn_recvv(c, iov, n, (flags & MSG_PEEK) ? INC_CONN_PEEK : 0, tmo);
    if (r < 0) {
      return got > 0 ? got : sret(r);
    }
    got += r;
    if (r == 0 || !(flags & MSG_WAITALL) || (flags & MSG_PEEK) || got >= want) {
      return got;
    }
  }
}

ssize_t inc_recv(struct inc_api *api, int fd, void *buf, size_t len, int flags)
{
  struct msghdr m;
  struct iovec v;
  memset(&m, 0, sizeof(m));
  v.iov_base = buf;
  v.iov_len = len;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  if (buf == NULL && len > 0) {
    return fail(EFAULT);
  }
  return inc_recvmsg(api, fd, &m, flags);
}

int inc_shutdown(struct inc_api *api, int fd, int how)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
    return fail(EINVAL);
  }
  if (inc__sock_get(c, INC__SOCK_DGRAM)) {
    return inc__sock_get(c, INC__SOCK_CONNECTED) ? 0 : fail(ENOTCONN);
  }
  return ret(inc_conn_shutdown(c, how == SHUT_RD ? 0 : how == SHUT_WR ? 1 : 2));
}

int inc_close(struct inc_api *api, int fd)
{
  struct inc_conn *c;
  if (api != NULL && fd >= inc__sock_max_conns(api)) {
    return inc__sock_epoll_close(api, fd);
  }
  c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  return ret(inc_conn_close(c));
}

int inc_getsockname(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  struct inc_addr a;
  uint16_t port;
  int rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (addr == NULL || len == NULL) {
    return fail(EFAULT);
  }
  rc = inc_conn_local(c, &a, &port);
  if (rc != 0) {
    return ret(rc);
  }
  return ret(fill_addr(&a, port, addr, len));
}

int inc_getpeername(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  struct inc_addr a;
  uint16_t port;
  int rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (addr == NULL || len == NULL) {
    return fail(EFAULT);
  }
  rc = inc_conn_peer(c, &a, &port);
  if (rc == 0 && !inc__sock_get(c, INC__SOCK_CONNECTED)) {
    rc = -ENOTCONN; /* a connect still in progress has no peer yet */
  }
  if (rc != 0) {
    return ret(rc);
  }
  return ret(fill_addr(&a, port, addr, len));
}

static int get_int(const void *val, socklen_t len, int *out)
{
  if (val == NULL || len < (socklen_t)sizeof(int)) {
    return -EINVAL;
  }
  memcpy(out, val, sizeof(int));
  return 0;
}

static int timeval_ms(const void *val, socklen_t len, int *ms)
{
  struct timeval tv;
  if (val == NULL || len < (socklen_t)sizeof(tv)) {
    return -EINVAL;
  }
  memcpy(&tv, val, sizeof(tv));
  if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
    return -EDOM;
  }
  if (tv.tv_sec == 0 && tv.tv_usec == 0) {
    *ms = -1; /* no limit, as POSIX */
  } else if (tv.tv_sec > 1000000) {
    *ms = -1;
  } else {
    *ms = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
  }
  return 0;
}

int inc_setsockopt(struct inc_api *api, int fd, int level, int name, const void *val, socklen_t len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  int v, rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (level == IPPROTO_TCP && name == TCP_NODELAY) {
    rc = get_int(val, len, &v);
    return ret(rc != 0 ? rc : inc_conn_setopt(c, INC_CONN_NODELAY, v != 0));
  }
  if (level != SOL_SOCKET) {
    return fail(ENOPROTOOPT);
  }
  switch (name) {
  case SO_REUSEADDR:
  case SO_KEEPALIVE:
  case SO_RCVBUF:
  case SO_SNDBUF:
    rc = get_int(val, len, &v);
    if (rc != 0) {
      return ret(rc);
    }
    return ret(inc_conn_setopt(c,
                               name == SO_REUSEADDR   ? INC_CONN_REUSEADDR
                               : name == SO_KEEPALIVE ? INC_CONN_KEEPALIVE
                               : name == SO_RCVBUF    ? INC_CONN_RCVBUF
                                                      : INC_CONN_SNDBUF,
                               name == SO_RCVBUF || name == SO_SNDBUF ? v : v != 0));
  case SO_LINGER: {
    struct linger lg;
    if (val == NULL || len < (socklen_t)sizeof(lg)) {
      return fail(EINVAL);
    }
    memcpy(&lg, val, sizeof(lg));
    if (lg.l_onoff && lg.l_linger < 0) {
      return fail(EINVAL);
    }
    return ret(inc_conn_setopt(c, INC_CONN_LINGER, lg.l_onoff ? lg.l_linger : -1));
  }
  case SO_RCVTIMEO:
  case SO_SNDTIMEO:
    rc = timeval_ms(val, len, &v);
    if (rc != 0) {
      return ret(rc);
    }
    inc__sock_set(c, name == SO_RCVTIMEO ? INC__SOCK_RCVTIMEO : INC__SOCK_SNDTIMEO, v);
    return 0;
  default:
    return fail(ENOPROTOOPT);
  }
}

static int put(void *val, socklen_t *len, const void *src, socklen_t n)
{
  if (val == NULL || len == NULL) {
    return -EFAULT;
  }
  if (*len < n) {
    return -EINVAL;
  }
  memcpy(val, src, n);
  *len = n;
  return 0;
}

int inc_getsockopt(struct inc_api *api, int fd, int level, int name, void *val, socklen_t *len)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  int v = 0, rc;
  if (c == NULL) {
    return fail(EBADF);
  }
  if (level == IPPROTO_TCP && name == TCP_NODELAY) {
    rc = inc_conn_getopt(c, INC_CONN_NODELAY, &v);
    return ret(rc != 0 ? rc : put(val, len, &v, sizeof(v)));
  }
  if (level != SOL_SOCKET) {
    return fail(ENOPROTOOPT);
  }
  switch (name) {
  case SO_REUSEADDR:
  case SO_KEEPALIVE:
  case SO_RCVBUF:
  case SO_SNDBUF:
    rc = inc_conn_getopt(c,
                         name == SO_REUSEADDR   ? INC_CONN_REUSEADDR
                         : name == SO_KEEPALIVE ? INC_CONN_KEEPALIVE
                         : name == SO_RCVBUF    ? INC_CONN_RCVBUF
                                                : INC_CONN_SNDBUF,
                         &v);
    return ret(rc != 0 ? rc : put(val, len, &v, sizeof(v)));
  case SO_LINGER: {
    struct linger lg;
    rc = inc_conn_getopt(c, INC_CONN_LINGER, &v);
    if (rc != 0) {
      return ret(rc);
    }
    lg.l_onoff = v >= 0;
    lg.l_linger = v >= 0 ? v : 0;
    return ret(put(val, len, &lg, sizeof(lg)));
  }
  case SO_RCVTIMEO:
  case SO_SNDTIMEO: {
    struct timeval tv;
    int ms = inc__sock_get(c, name == SO_RCVTIMEO ? INC__SOCK_RCVTIMEO : INC__SOCK_SNDTIMEO);
    tv.tv_sec = ms < 0 ? 0 : ms / 1000;
    tv.tv_usec = ms < 0 ? 0 : (ms % 1000) * 1000;
    return ret(put(val, len, &tv, sizeof(tv)));
  }
  case SO_ERROR:
    v = -inc_conn_error(c);
    return ret(put(val, len, &v, sizeof(v)));
  case SO_TYPE:
    v = inc__sock_get(c, INC__SOCK_DGRAM) ? SOCK_DGRAM : SOCK_STREAM;
    return ret(put(val, len, &v, sizeof(v)));
  case SO_ACCEPTCONN:
    v = inc__sock_get(c, INC__SOCK_LISTENING);
    return ret(put(val, len, &v, sizeof(v)));
  default:
    return fail(ENOPROTOOPT);
  }
}

int inc_alloc_send_buffer(struct inc_api *api, int fd, size_t size, int timeout_ms, struct inc_zc_buf *out)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  if (inc__sock_get(c, INC__SOCK_NONBLOCK)) {
    timeout_ms = 0;
  }
  return ret(inc_conn_zc_alloc(c, size, timeout_ms, out));
}

ssize_t inc_send_buffer(struct inc_api *api, int fd, struct inc_zc_buf *buf, size_t len, int flags)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  return sret(inc_conn_zc_send(c, buf, len, (flags & MSG_MORE) ? INC_CONN_MORE : 0));
}

int inc_free_send_buffer(struct inc_api *api, int fd, struct inc_zc_buf *buf)
{
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  return ret(inc_conn_zc_free(c, buf));
}

ssize_t inc_sendto(struct inc_api *api, int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                   socklen_t tolen)
{
  struct msghdr m;
  struct iovec v;
  struct inc_conn *c = inc_sock_conn(api, fd);
  if (c == NULL) {
    return fail(EBADF);
  }
  if (buf == NULL && len > 0) {
    return fail(EFAULT);
  }
  if (to != NULL && !inc__sock_get(c, INC__SOCK_DGRAM)) {
    /* a stream socket ignores the address if connected (as Linux) */
    to = NULL;
  }
  memset(&m, 0, sizeof(m));
  v.iov_base = (void *)(uintptr_t)buf;
  v.iov_len = len;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  m.msg_name = (void *)(uintptr_t)to;
  m.msg_namelen = to != NULL ? tolen : 0;
  return inc_sendmsg(api, fd, &m, flags);
}

ssize_t inc_recvfrom(struct inc_api *api, int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                     socklen_t *fromlen)
{
  struct msghdr m;
  struct iovec v;
  ssize_t r;
  if (buf == NULL && len > 0) {
    return fail(EFAULT);
  }
  if (from != NULL && fromlen == NULL) {
    return fail(EFAULT);
  }
  memset(&m, 0, sizeof(m));
  v.iov_base = buf;
  v.iov_len = len;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  m.msg_name = from;
  m.msg_namelen = from != NULL ? *fromlen : 0;
  r = inc_recvmsg(api, fd, &m, flags);
  if (r >= 0 && from != NULL) {
    *fromlen = m.msg_namelen;
  }
  return r;
}
