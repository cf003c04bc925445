/*
 * The sockets-style API: POSIX-shaped calls over the sequential API
 * (inception/conn.h), with an epoll-like readiness API.
 *
 * Names are prefixed (inc_socket, inc_send, inc_epoll_wait...): this is not a
 * libc replacement, and a program may use the kernel's sockets and
 * Inception's side by side. Descriptors are small integers of the API
 * context (struct inc_api from conn.h), not kernel file descriptors: pass
 * them only to these functions.
 *
 * Conventions (as POSIX): a call returns -1 and sets errno on failure
 * (EBADF, EINVAL, EAGAIN/EWOULDBLOCK, EINPROGRESS, EADDRINUSE,
 * EADDRNOTAVAIL, ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ENOTCONN,
 * EISCONN, EALREADY, EMFILE, ENOBUFS, ENOPROTOOPT, EAFNOSUPPORT,
 * EOPNOTSUPP). No signal is ever raised (EPIPE comes without SIGPIPE).
 * Blocking calls wait for the descriptor's SO_RCVTIMEO / SO_SNDTIMEO (no
 * limit by default); a descriptor made non-blocking (SOCK_NONBLOCK,
 * inc_set_nonblock()) or a call with MSG_DONTWAIT never waits.
 *
 * Thread: every function may be called from any application thread that is
 * not a worker (the thread attaches to the stack at its first call, see
 * conn.h). RCU: none needed by the caller.
 *
 * Supported: AF_INET and AF_INET6 (an AF_INET6 socket bound to :: also
 * accepts IPv4), SOCK_STREAM (TCP) and SOCK_DGRAM (UDP: a bound UDP socket
 * receives on every worker core; a datagram that finds its socket's
 * SO_RCVBUF full is dropped and counted, as in a kernel). Options: SOL_SOCKET SO_REUSEADDR,
 * SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO,
 * SO_ERROR (get), SO_TYPE (get), SO_ACCEPTCONN (get); IPPROTO_TCP
 * TCP_NODELAY. Send flags: MSG_DONTWAIT, MSG_MORE, MSG_NOSIGNAL. Receive
 * flags: MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL.
 */
#ifndef INC_SOCKET_H
#define INC_SOCKET_H

#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "inception/conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** As socket(2): domain AF_INET or AF_INET6; type SOCK_STREAM or
 * SOCK_DGRAM, optionally | SOCK_NONBLOCK (SOCK_CLOEXEC is accepted and
 * ignored); protocol 0, IPPROTO_TCP or IPPROTO_UDP. Returns: a descriptor, or -1 (EAFNOSUPPORT,
 * EPROTONOSUPPORT, EMFILE). Ownership: the caller's until inc_close(). */
int inc_socket(struct inc_api *api, int domain, int type, int protocol);

/** As bind(2). */
int inc_bind(struct inc_api *api, int fd, const struct sockaddr *addr, socklen_t len);
/** As listen(2): listens on every worker core. */
int inc_listen(struct inc_api *api, int fd, int backlog);
/** As accept(2) / accept4(2) (flags: SOCK_NONBLOCK; SOCK_CLOEXEC ignored). */
int inc_accept(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len);
int inc_accept4(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len, int flags);
/** As connect(2); a non-blocking socket gets EINPROGRESS, then becomes
 * writable (EPOLLOUT) when connected, or reports the error in SO_ERROR. */
int inc_connect(struct inc_api *api, int fd, const struct sockaddr *addr, socklen_t len);

/** As send(2), recv(2), sendto(2), recvfrom(2), sendmsg(2), recvmsg(2)
 * (iovec scatter/gather; on a stream socket msg_name is ignored on send and
 * filled with the peer on receive; on a UDP socket it is the destination /
 * the source, a datagram is sent whole or not at all (EMSGSIZE beyond 65507
 * bytes, EDESTADDRREQ without a destination on an unconnected socket), and
 * a datagram longer than the buffer is cut, with MSG_TRUNC in msg_flags;
 * no control messages). */
ssize_t inc_send(struct inc_api *api, int fd, const void *buf, size_t len, int flags);
ssize_t inc_recv(struct inc_api *api, int fd, void *buf, size_t len, int flags);
ssize_t inc_sendto(struct inc_api *api, int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                   socklen_t tolen);
ssize_t inc_recvfrom(struct inc_api *api, int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                     socklen_t *fromlen);
ssize_t inc_sendmsg(struct inc_api *api, int fd, const struct msghdr *msg, int flags);
ssize_t inc_recvmsg(struct inc_api *api, int fd, struct msghdr *msg, int flags);

/** As shutdown(2) (SHUT_RD, SHUT_WR, SHUT_RDWR). */
int inc_shutdown(struct inc_api *api, int fd, int how);
/** As close(2), for sockets and epoll descriptors. */
int inc_close(struct inc_api *api, int fd);
/** As getsockname(2) / getpeername(2). */
int inc_getsockname(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len);
int inc_getpeername(struct inc_api *api, int fd, struct sockaddr *addr, socklen_t *len);
/** As setsockopt(2) / getsockopt(2), for the options listed above. */
int inc_setsockopt(struct inc_api *api, int fd, int level, int name, const void *val, socklen_t len);
int inc_getsockopt(struct inc_api *api, int fd, int level, int name, void *val, socklen_t *len);
/** O_NONBLOCK on (1) or off (0), as fcntl(F_SETFL). Returns: 0 or -1. */
int inc_set_nonblock(struct inc_api *api, int fd, int on);

/** The connection behind a descriptor (to mix with conn.h), or NULL. */
struct inc_conn *inc_sock_conn(struct inc_api *api, int fd);

/* ---- zero-copy send ---------------------------------------------------- */

/**
 * alloc_send_buffer (seed 001): a stack-owned buffer of at most size bytes,
 * waiting up to timeout_ms (< 0: no limit) until the send window and memory
 * allow. Write in place, then inc_send_buffer(). See inc_conn_zc_alloc().
 * Returns: 0, or -1 (EAGAIN, ENOBUFS, EPIPE, ENOTCONN, EBADF).
 */
int inc_alloc_send_buffer(struct inc_api *api, int fd, size_t size, int timeout_ms, struct inc_zc_buf *out);
/** Sends the first len bytes of buf without copying; buf is the stack's again.
 * flags: MSG_MORE. Returns: len, or -1. */
ssize_t inc_send_buffer(struct inc_api *api, int fd, struct inc_zc_buf *buf, size_t len, int flags);
/** Returns an unsent buffer. Returns: 0, or -1. */
int inc_free_send_buffer(struct inc_api *api, int fd, struct inc_zc_buf *buf);

/* ---- epoll-like readiness ---------------------------------------------- */

/**
 * As epoll_create1(2) (flags: 0 or EPOLL_CLOEXEC, ignored). Events are
 * Linux's EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP (the last two
 * always reported), with EPOLLET and EPOLLONESHOT; level-triggered by
 * default. A socket can be in one epoll set at a time (EEXIST for the same
 * set, EBUSY for another).
 * Returns: an epoll descriptor, or -1 (EMFILE, ENFILE when no eventfd).
 */
int inc_epoll_create(struct inc_api *api, int flags);
/** As epoll_ctl(2): EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL. */
int inc_epoll_ctl(struct inc_api *api, int epfd, int op, int fd, struct epoll_event *ev);
/** As epoll_wait(2): up to max events, waiting up to timeout_ms (< 0: no
 * limit, 0: never waits). Returns: the number of events, or -1. */
int inc_epoll_wait(struct inc_api *api, int epfd, struct epoll_event *events, int max, int timeout_ms);
/**
 * The kernel eventfd behind an epoll descriptor, to put in the
 * application's own epoll, poll or libevent loop: after each
 * inc_epoll_wait() it becomes readable when a socket of the set has a new
 * event (then call inc_epoll_wait() with timeout 0; it drains the eventfd).
 * Do not read or close it. Returns: the fd, or -1 (EBADF).
 */
int inc_epoll_fd(struct inc_api *api, int epfd);

#ifdef __cplusplus
}
#endif

#endif /* INC_SOCKET_H */
