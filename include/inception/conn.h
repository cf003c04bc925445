/*
 * The cross-thread sequential API (lwIP's netconn level): TCP connections
 * used from any application thread, blocking or not, with timeouts.
 *
 * A connection lives on its owner worker core (the one whose lwIP instance
 * has its PCB) and only that core touches the PCB. An application thread's
 * operation travels as a call over the thread's MPSC lane to the owner
 * (inc_stack_call_run()), runs there and returns; nothing an application
 * thread calls ever blocks a worker. Readiness (data to read, room to write,
 * a connection to accept, an error) is published by the owner in the
 * connection and wakes blocked callers (futex) and epoll sets
 * (inception/socket.h: inc_epoll_*), whose eventfd can sit in the
 * application's own epoll, poll or libevent loop.
 *
 * Listening replicates: inc_conn_listen() opens the port on every worker
 * (the worker whose queue receives a SYN owns that connection, see stack.h);
 * accepted connections from all workers meet in the listener's accept queue.
 * An active open picks a worker round-robin; the stack chooses an ephemeral
 * port whose replies hash to it.
 *
 * Memory: the caller provides the API context's memory (inc_api_footprint()):
 * a table of max_conns connections, so opening or accepting never allocates.
 *
 * Threads: every inc_conn_* function may be called from any application
 * thread that is not a worker; the first call of a thread attaches it to the
 * stack (one of inc_stack_config.app_endpoints; -ENOSPC when all are taken),
 * and it stays attached until inc_api_thread_detach() or the thread exits.
 * A connection may be used by several threads at once (each call is whole on
 * the owner core, so two senders' data do not interleave within one call).
 *
 * Timeouts: timeout_ms < 0 waits without limit, 0 never waits (EAGAIN where
 * POSIX says so), > 0 waits up to that many milliseconds (-ETIMEDOUT, or
 * -EAGAIN for recv/send as SO_RCVTIMEO does).
 *
 * Errors are negative errno values (POSIX meanings): -EADDRINUSE,
 * -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EPIPE, -ENOTCONN, -EINVAL,
 * -EMFILE (the connection table is full), -ENOBUFS, -ESHUTDOWN (the stack is
 * stopping).
 */
#ifndef INC_CONN_H
#define INC_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "inception/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_stack;
struct inc_api;
struct inc_conn;

struct inc_api_config {
  unsigned max_conns;   /**< connections and listeners at once; 0: 1024 */
  unsigned max_epolls;  /**< epoll sets at once; 0: 64 */
  unsigned max_dgrams;  /**< received UDP datagrams queued in all sockets at once; 0: 4096 */
};

/** Readiness bits (the values of Linux's EPOLLIN etc., so they mix). */
#define INC_POLLIN 0x001u
#define INC_POLLOUT 0x004u
#define INC_POLLERR 0x008u
#define INC_POLLHUP 0x010u
#define INC_POLLRDHUP 0x2000u

/**
 * Bytes of caller memory an API context with this configuration needs
 * (NULL: the defaults). Thread: any. Returns: the size, 0 if cfg is invalid.
 */
size_t inc_api_footprint(const struct inc_api_config *cfg);

/**
 * Builds the API context of a running stack in mem (64-byte aligned).
 * Thread: control plane, after inc_stack_start(). Ownership: mem stays the
 *   caller's until inc_stack_stop() has returned (a connection closed while
 *   its zero-copy buffers were in flight is finished by its owner core, which
 *   writes to the table until the buffers are acknowledged or the stack
 *   stops).
 * Returns: 0; -EINVAL (a bad value: the message on stderr names it),
 *   -ENOSPC (len too small).
 */
int inc_api_init(struct inc_api **out, struct inc_stack *s, const struct inc_api_config *cfg, void *mem,
                 size_t len);

/**
 * Aborts every connection still open (RST) and closes every listener and
 * epoll set. No other thread may be using the API. Call it before
 * inc_stack_stop(). Thread: control plane (attaches itself if needed and
 * detaches again). Returns: 0.
 */
int inc_api_fini(struct inc_api *api);

/**
 * Detaches the calling thread from the stack's lanes (done automatically at
 * thread exit). Thread: the caller. Returns: 0.
 */
int inc_api_thread_detach(struct inc_api *api);

/** Connections in use (open, listening, or accepted and not yet taken). */
unsigned inc_api_conns_in_use(const struct inc_api *api);

/* ---- connections ------------------------------------------------------- */

/** Per-connection options (set before connect/listen, or at any time). */
enum inc_conn_opt {
  INC_CONN_NODELAY = 1,   /**< int: 1 disables Nagle (TCP_NODELAY) */
  INC_CONN_KEEPALIVE,     /**< int: 1 sends keepalives (SO_KEEPALIVE) */
  INC_CONN_REUSEADDR,     /**< int: 1 allows binding a port in TIME-WAIT (SO_REUSEADDR) */
  INC_CONN_RCVBUF,        /**< int: bytes the stack buffers for reading (SO_RCVBUF) */
  INC_CONN_SNDBUF,        /**< int: bytes of unacknowledged data queued (SO_SNDBUF) */
  INC_CONN_LINGER,        /**< int: < 0 off; 0 close resets; > 0 close waits that many s (SO_LINGER) */
};

/**
 * A new, unconnected TCP connection (as socket(2)); family is INC_AF_INET or
 * INC_AF_INET6. Thread: any application thread. Ownership: the caller's
 * until inc_conn_close(). Returns: 0, -EMFILE, -EAFNOSUPPORT.
 */
int inc_conn_new(struct inc_api *api, int family, struct inc_conn **out);

/** Sets / reads an option. Returns: 0, -EINVAL, -ENOPROTOOPT, -EBADF. */
int inc_conn_setopt(struct inc_conn *c, enum inc_conn_opt opt, int value);
int inc_conn_getopt(struct inc_conn *c, enum inc_conn_opt opt, int *value);

/**
 * Binds the local address and port (port 0: an ephemeral one at connect).
 * Returns: 0, -EADDRINUSE, -EINVAL (already bound or connected),
 *   -EADDRNOTAVAIL (not an address of the stack).
 */
int inc_conn_bind(struct inc_conn *c, const struct inc_addr *local, uint16_t port);

/**
 * Listens on every worker. backlog: connections accepted by the stack and
 * not yet taken by inc_conn_accept() (1..65535; beyond it new ones are
 * refused with a RST). Returns: 0, -EADDRINUSE, -EINVAL, -ENOBUFS.
 */
int inc_conn_listen(struct inc_conn *c, int backlog);

/**
 * Takes an accepted connection. Blocks up to timeout_ms.
 * Ownership: *out is the caller's until inc_conn_close().
 * Returns: 0, -EAGAIN (none within the timeout), -EINVAL (not listening).
 */
int inc_conn_accept(struct inc_conn *listener, struct inc_conn **out, int timeout_ms);

/**
 * Connects to remote:port. Blocks up to timeout_ms for the handshake;
 * timeout 0 returns -EINPROGRESS at once (the connection becomes writable,
 * INC_POLLOUT, when established, or gets INC_POLLERR: inc_conn_error()).
 * Returns: 0, -EINPROGRESS, -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH,
 *   -EISCONN, -EALREADY, -EADDRINUSE, -EINVAL.
 */
int inc_conn_connect(struct inc_conn *c, const struct inc_addr *remote, uint16_t port, int timeout_ms);

/**
 * Sends up to len bytes (copied into the stack's buffers: the caller's
 * buffer is free on return). Blocks up to timeout_ms while the send buffer
 * is full. flags: INC_CONN_MORE (more data follows: do not push yet).
 * Returns: bytes queued (> 0; fewer than len only when the timeout expired
 *   after some were queued), -EAGAIN (none queued), -EPIPE (shut down for
 *   writing or closed by the peer with a reset), -ECONNRESET, -ENOTCONN.
 */
ssize_t inc_conn_send(struct inc_conn *c, const void *buf, size_t len, unsigned flags, int timeout_ms);
#define INC_CONN_MORE 0x1u

/** As inc_conn_send() with a gather list. */
struct iovec;
ssize_t inc_conn_sendv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms);

/**
 * Receives up to len bytes. Blocks up to timeout_ms until at least one byte,
 * the end of the stream or an error. flags: INC_CONN_PEEK (leave the data).
 * Returns: bytes (> 0), 0 (the peer closed: end of stream), -EAGAIN,
 *   -ECONNRESET, -ETIMEDOUT (the connection timed out), -ENOTCONN.
 */
ssize_t inc_conn_recv(struct inc_conn *c, void *buf, size_t len, unsigned flags, int timeout_ms);
#define INC_CONN_PEEK 0x2u

/** As inc_conn_recv() with a scatter list. */
ssize_t inc_conn_recvv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms);

/**
 * Shuts down reading (how 0: data arriving later is discarded), writing
 * (how 1: a FIN follows the queued data) or both (2).
 * Returns: 0, -ENOTCONN, -EINVAL.
 */
int inc_conn_shutdown(struct inc_conn *c, int how);

/**
 * Closes the connection and frees it: a FIN after the queued data (or a RST
 * with linger 0; with linger > 0 it first waits that long for the data to be
 * acknowledged, then resets). A listener stops listening on every worker and
 * resets the connections it accepted that nobody took.
 * Ownership: c is invalid after the call. Returns: 0.
 */
int inc_conn_close(struct inc_conn *c);

/** Current readiness (INC_POLL* bits). Thread: any. RCU: none. */
unsigned inc_conn_poll(const struct inc_conn *c);

/** The pending error (as SO_ERROR: negative errno, or 0), cleared. */
int inc_conn_error(struct inc_conn *c);

/** Local / peer address and port. Returns: 0, -ENOTCONN (no peer), -EINVAL. */
int inc_conn_local(const struct inc_conn *c, struct inc_addr *addr, uint16_t *port);
int inc_conn_peer(const struct inc_conn *c, struct inc_addr *addr, uint16_t *port);

/** The worker that owns the connection (listeners: -1). */
int inc_conn_owner(const struct inc_conn *c);

/* ---- zero-copy send (stack-owned buffers) ------------------------------ */

/** A stack-owned send buffer: write up to len bytes at data, then submit. */
struct inc_zc_buf {
  void *data;
  size_t len;
  void *priv_;   /**< the stack's; do not touch */
};

/**
 * Hands out a buffer of at most size bytes (at least 1; the largest one
 * buffer holds is the size of one mbuf data area, about 2 KiB, or more with
 * TSO) from the owner core's packet memory, blocking up to timeout_ms until
 * the send window and memory allow. The application writes in place;
 * inc_conn_zc_send() queues it without copying: the bytes written are the
 * bytes the NIC sends (a frame with at most 128 payload bytes is copied
 * whole by the driver, as every frame that short is).
 * Ownership: the buffer is the caller's until inc_conn_zc_send() or
 *   inc_conn_zc_free(). Returns: 0, -EAGAIN, -ENOBUFS, -EPIPE, -ENOTCONN.
 */
int inc_conn_zc_alloc(struct inc_conn *c, size_t size, int timeout_ms, struct inc_zc_buf *out);

/**
 * Queues the first len bytes of b (len <= b->len) for sending. The buffer is
 * the stack's again in every case (it is freed once acknowledged, or at once
 * on error). Returns: len, -EPIPE, -ECONNRESET, -EINVAL.
 */
ssize_t inc_conn_zc_send(struct inc_conn *c, struct inc_zc_buf *b, size_t len, unsigned flags);

/** Gives an unsent buffer back. Returns: 0. */
int inc_conn_zc_free(struct inc_conn *c, struct inc_zc_buf *b);

#ifdef __cplusplus
}
#endif

#endif /* INC_CONN_H */
