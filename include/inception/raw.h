/*
 * The per-core raw API: lwIP's raw level, one instance per worker core.
 *
 * Applications run callbacks on the stack's worker cores (inception/stack.h:
 * worker_start, worker_poll, worker_stop, or any callback below). A TCP
 * connection or a UDP socket lives on the worker that created or accepted it,
 * and every function on it must be called on that worker's thread: there are
 * no locks anywhere on this level. (Application threads that are not workers
 * reach a worker with inc_stack_call_run(), inception/stack_call.h.)
 *
 * TCP
 *   - Listening is replicated: a listener is per worker, and the application
 *     listens on the same port on every worker (in worker_start, or from any
 *     thread with inc_raw_tcp_listen_all()); the worker that receives a SYN
 *     owns the connection (RSS spreads connections over the cores).
 *   - Active opens pick an ephemeral port whose replies hash to the opening
 *     worker, and record the flow so that segments that land elsewhere are
 *     steered to it.
 *   - Accepted connections pass the installed TCP-accept packet filters
 *     (inception/filter.h) first; a consumer filter may take them.
 *   - Receive is zero-copy: the recv callback gets the received buffers
 *     themselves (struct inc_buf: the packet memory the NIC wrote) and owns
 *     them; the application frees them when it is done and reports the bytes
 *     it consumed with inc_raw_tcp_recved(), which opens the window again.
 *   - Send copies (inc_raw_tcp_write()) or references the application's
 *     memory (INC_RAW_WRITE_NOCOPY: the memory must stay unchanged until the
 *     bytes are acknowledged: sent callbacks, or the release callback).
 *
 * A connection handle (struct inc_raw_conn *) is valid from the moment it is
 * returned (connect) or passed to the accept callback, until the first of:
 * inc_raw_tcp_close() or inc_raw_tcp_abort() returns; the error callback
 * returns; both directions are finished (the application shut down its
 * sending side and the peer's end of stream was delivered, or both
 * directions were shut down): the handle is then released as by
 * inc_raw_tcp_close(). After that the stack never calls the connection's
 * callbacks again, except release.
 *
 * Errors: functions return 0 (or a count) or a negative errno. The error
 * callback's code: -ECONNREFUSED (a RST answered the SYN), -ECONNRESET (the
 * peer reset an established connection), -ETIMEDOUT (retransmissions or
 * keep-alive probes went unanswered), -ECONNABORTED (the stack aborted it:
 * stopping, out of memory, or data arrived after a receive shutdown).
 *
 * Addresses are struct inc_addr (inception/addr.h), IPv4 or IPv6; ports are
 * in host byte order.
 *
 * Thread: every function that takes a worker or a handle runs on that
 *   worker's thread (inc_raw_tcp_listen_all()/inc_raw_tcp_close_all() are the
 *   exceptions); called on another thread it returns -EPERM. The per-core
 *   state (a pool of connection states, created on the worker's first call or
 *   by inc_raw_worker_init()) is released by inc_raw_worker_fini(), which
 *   worker_stop must call when the worker used this API.
 * RCU: no function here needs an RCU read-side section (workers are always
 *   online readers).
 */
#ifndef INC_RAW_H
#define INC_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "inception/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct inc_worker;
struct inc_stack;
struct inc_chan_app;

/** A TCP connection or listener of one worker (lwIP's pcb; opaque). */
struct inc_raw_conn;
/** A UDP socket of one worker (opaque). */
struct inc_raw_udp;
/** A received buffer (one piece of a chain; opaque: lwIP's pbuf). */
struct inc_buf;

/* ---- per-core state --------------------------------------------------- */

/** Sizes of a worker's raw API state. 0: the default. */
struct inc_raw_config {
  unsigned tcp_conns; /**< TCP connections and listeners at once; 0: lwIP's pcbs of a worker (1056) */
  unsigned udp_socks; /**< UDP sockets at once; 0: lwIP's UDP pcbs of a worker (32) */
};

/**
 * Creates worker w's raw API state with these sizes (optional: the first
 * call of this API on a worker creates it with the defaults).
 * Thread: worker w (e.g. in worker_start).
 * Ownership: the state is the stack's until inc_raw_worker_fini().
 * RCU: none.
 * Returns: 0; -EPERM (not on worker w's thread); -EEXIST (already created);
 *   -EINVAL (a size above 65536); -ENOMEM.
 */
int inc_raw_worker_init(struct inc_worker *w, const struct inc_raw_config *cfg);

/**
 * Ends every raw API object of worker w: each connection the application
 * still holds gets its error callback (-ECONNABORTED) and is aborted
 * (RST), listeners and UDP sockets are closed, connections closed earlier
 * that still wait for no-copy data to be acknowledged are aborted (their
 * release callbacks run); then the state is freed.
 * Thread: worker w; call it in worker_stop if the worker used this API (the
 *   stack aborts TCP connections after worker_stop, but UDP sockets and this
 *   API's memory are released only here).
 * Ownership: every handle of the worker is invalid afterwards.
 * RCU: none.
 * Returns: 0; -EPERM (not on worker w's thread); -ENOENT (no state).
 */
int inc_raw_worker_fini(struct inc_worker *w);

/* ---- TCP ---------------------------------------------------------------- */

/** Callbacks of a listener and of the connections it accepts, or of an
 * active open. Every one is optional (NULL) and runs on the connection's
 * worker with arg as set by inc_raw_tcp_set() (accepted connections start
 * with their listener's ops and arg). A callback may call any function of
 * this API on any handle of its worker, including close or abort of its own
 * connection. */
struct inc_raw_tcp_ops {
  /** A listener accepted c (the handshake is complete). Return 0 to keep it
   * (possibly after inc_raw_tcp_set()), or a negative errno to refuse it:
   * the stack then aborts it (RST) and runs none of its callbacks, release
   * included. NULL: every connection is kept. */
  int (*accept)(void *arg, struct inc_raw_conn *listener, struct inc_raw_conn *c);
  /** An active open is established. */
  void (*connected)(void *arg, struct inc_raw_conn *c);
  /** Data arrived: b is the head of a chain of buffers (zero-copy), now the
   * application's: it must inc_buf_free() it (now or later, on this worker)
   * and report consumed bytes with inc_raw_tcp_recved(). b NULL: the peer
   * ended its stream (FIN). NULL callback: data is consumed and dropped. */
  void (*recv)(void *arg, struct inc_raw_conn *c, struct inc_buf *b);
  /** The peer acknowledged len more bytes (send space is free again). */
  void (*sent)(void *arg, struct inc_raw_conn *c, uint32_t len);
  /** The connection is gone (reset, refused, timed out, aborted by the
   * stack): err is a negative errno (see the top of this file; 0: it ended
   * in order). c identifies it but must not be passed to any function: the
   * handle is released when the callback returns. */
  void (*error)(void *arg, struct inc_raw_conn *c, int err);
  /** About every 500 ms while the connection is open (to retry a write that
   * found no memory). */
  void (*poll)(void *arg, struct inc_raw_conn *c);
  /** The last callback of a connection, once: the stack holds nothing of
   * the application's any more (no unacknowledged no-copy byte, no more
   * callbacks): after the error callback, or after close/abort (inside the
   * call, or later when no-copy bytes were still unacknowledged). Free the
   * per-connection state and no-copy buffers here. Not for listeners. */
  void (*release)(void *arg);
};

/**
 * Listens on local:port on worker w. Connections that this worker receives
 * are accepted with ops and arg. Listen on every worker (the same port) to
 * serve every connection RSS brings.
 * local: NULL or INC_AF_NONE: every address, IPv4 and IPv6; an IPv4 or IPv6
 *   address (0.0.0.0 or :: for every address of that family).
 * backlog: connections in the handshake or not yet accepted; 0: 255; larger
 *   values are capped at 255.
 * Thread: worker w. Ownership: ops must outlive the listener and every
 *   connection it accepts (typically static const); *out is the
 *   application's until inc_raw_tcp_close().
 * RCU: none.
 * Returns: 0 and *out; -EINVAL (port 0, backlog < 0, NULL ops or out);
 *   -EAFNOSUPPORT; -EADDRINUSE (already listening there on this worker);
 *   -EADDRNOTAVAIL; -ENOMEM (no pcb or state left); -EPERM.
 */
int inc_raw_tcp_listen(struct inc_worker *w, const struct inc_addr *local, uint16_t port, int backlog,
                       const struct inc_raw_tcp_ops *ops, void *arg, struct inc_raw_conn **out);

/**
 * inc_raw_tcp_listen() on every worker of stack s, from an application
 * thread (through inc_stack_call_run() on endpoint ep; waits for each).
 * out[i] (inc_stack_workers(s) entries) receives worker i's listener.
 * Thread: the thread of ep (attached to s), not a worker.
 * Ownership: as inc_raw_tcp_listen(); close them with inc_raw_tcp_close_all().
 * RCU: none.
 * Returns: 0; the first error (the listeners already opened are closed and
 *   out is all NULL); -EINVAL (NULL s, ep or out).
 */
int inc_raw_tcp_listen_all(struct inc_stack *s, struct inc_chan_app *ep, const struct inc_addr *local,
                           uint16_t port, int backlog, const struct inc_raw_tcp_ops *ops, void *arg,
                           struct inc_raw_conn **out);

/**
 * Closes the listeners of inc_raw_tcp_listen_all() (NULL entries are
 * skipped and every entry is set to NULL).
 * Thread: the thread of ep. Ownership: the listener handles are invalid
 *   afterwards. RCU: none.
 * Returns: 0, or the first error (-EINVAL for NULL arguments).
 */
int inc_raw_tcp_close_all(struct inc_stack *s, struct inc_chan_app *ep, struct inc_raw_conn **listeners);

/**
 * Opens a connection from worker w to remote:rport. The SYN leaves on this
 * worker's next transmit; the connected or error callback follows.
 * local: NULL (or INC_AF_NONE): the address of the route's interface; else
 *   the local address (its family must be remote's). lport: 0: an ephemeral
 *   port whose replies hash to this worker; else that port (the flow table
 *   then steers replies that land on another worker).
 * Thread: worker w. Ownership: ops must outlive the connection; *out is the
 *   application's (see the handle's lifetime above).
 * RCU: none.
 * Returns: 0 and *out; -EINVAL (remote NULL, unspecified or not IPv4/IPv6,
 *   rport 0, NULL ops or out, family mismatch); -EHOSTUNREACH (no route);
 *   -EADDRINUSE; -EADDRNOTAVAIL (no ephemeral port left); -ENOMEM; -EPERM.
 */
int inc_raw_tcp_connect(struct inc_worker *w, const struct inc_addr *local, uint16_t lport,
                        const struct inc_addr *remote, uint16_t rport, const struct inc_raw_tcp_ops *ops, void *arg,
                        struct inc_raw_conn **out);

/**
 * Sets the callbacks and argument of c (e.g. in the accept callback; a
 * listener's apply to the connections it accepts from now on). A consumer
 * filter's connection (inception/filter.h) becomes a raw API connection
 * with this call, which its filter callback must make before returning
 * (close and abort work on it without).
 * Thread: c's worker. Ownership: ops must outlive the connection.
 * RCU: none.
 * Returns: 0; -EINVAL (NULL c or ops); -ENOTCONN (gone, or a pcb that is
 *   neither this API's nor a filter's in its callback); -ENOMEM (no state
 *   left); -EPERM.
 */
int inc_raw_tcp_set(struct inc_raw_conn *c, const struct inc_raw_tcp_ops *ops, void *arg);

/** inc_raw_tcp_write() flags */
#define INC_RAW_WRITE_NOCOPY 0x1u /**< reference data, do not copy it */
#define INC_RAW_WRITE_MORE 0x2u   /**< more data follows at once (no PSH) */

/**
 * Queues up to len bytes of data for sending (as many as the send buffer and
 * queue take now) and sends what the windows allow: at once, or, inside a
 * callback of c that lwIP's input runs (recv, sent, connected, accept), when
 * that callback returns. With INC_RAW_WRITE_MORE the data waits for the next
 * write without it, inc_raw_tcp_output(), or the stack's timers.
 * Thread: c's worker.
 * Ownership: copied unless INC_RAW_WRITE_NOCOPY; with it, the bytes queued
 *   are referenced and must stay unchanged until they are acknowledged
 *   (sent callbacks count them, in order) or the connection is released
 *   (the release callback).
 * RCU: none.
 * Returns: bytes queued (1..len; 0 if len is 0); -EAGAIN (no send space or
 *   memory now: wait for a sent or poll callback); -EINVAL (NULL c, or NULL
 *   data with len > 0, unknown flags); -ENOTCONN (a listener, closing, or
 *   gone; a connection being opened queues); -EPIPE (the sending side was
 *   shut down); -EPERM.
 */
long inc_raw_tcp_write(struct inc_raw_conn *c, const void *data, size_t len, unsigned flags);

/**
 * Sends what is queued now (after writes with INC_RAW_WRITE_MORE).
 * Thread: c's worker. Ownership: none. RCU: none.
 * Returns: 0; -ENOTCONN; -ENOMEM (retried later by the stack); -EPERM.
 */
int inc_raw_tcp_output(struct inc_raw_conn *c);

/**
 * Bytes the send buffer takes now (what inc_raw_tcp_write() would queue at
 * most). Thread: c's worker. Ownership: none. RCU: none.
 * Returns: the count; -ENOTCONN; -EPERM.
 */
long inc_raw_tcp_sndbuf(const struct inc_raw_conn *c);

/**
 * The application consumed len bytes of received data: the receive window
 * opens by len. Every received byte must be reported once, in any number
 * of calls.
 * Thread: c's worker. Ownership: none (the buffers are freed apart, with
 *   inc_buf_free()). RCU: none.
 * Returns: 0; -EINVAL (len is more than was received and not yet reported);
 *   -ENOTCONN; -EPERM.
 */
int inc_raw_tcp_recved(struct inc_raw_conn *c, size_t len);

/**
 * Closes c (both directions) and releases the handle: a FIN is sent after
 * the queued data; a listener stops listening. If received data was not
 * reported consumed (inc_raw_tcp_recved()), the peer is reset instead (RST,
 * as POSIX close(2) with unread data). No callback of c runs afterwards,
 * except release (inside this call, or once no-copy data is acknowledged).
 * Thread: c's worker. Ownership: the handle is invalid on return.
 * RCU: none.
 * Returns: 0; -EINVAL (NULL c); -EPERM; -ENOTCONN (called from c's own error
 *   callback: nothing to do).
 */
int inc_raw_tcp_close(struct inc_raw_conn *c);

/** inc_raw_tcp_shutdown() directions (the values of POSIX SHUT_*). */
#define INC_RAW_SHUT_RD 0
#define INC_RAW_SHUT_WR 1
#define INC_RAW_SHUT_RDWR 2

/**
 * Shuts down one direction: RD: no more data is delivered (data that still
 * arrives resets the connection, RFC 9293 3.10.7.4 leaves it to the stack);
 * WR: a FIN follows the queued data. Once both directions are finished (RDWR,
 * RD then WR, or WR and the peer's end of stream delivered) the handle is
 * released as by inc_raw_tcp_close() (on return, or after the end-of-stream
 * callback returns).
 * Thread: c's worker. Ownership: the handle is invalid on return when both
 *   directions are finished. RCU: none.
 * Returns: 0; -EINVAL (bad how, NULL c); -ENOTCONN (not connected, a
 *   listener, or gone); -EPERM.
 */
int inc_raw_tcp_shutdown(struct inc_raw_conn *c, int how);

/**
 * Resets c (RST) and releases the handle; no callback runs except release
 * (inside this call). A listener is closed.
 * Thread: c's worker. Ownership: the handle is invalid on return.
 * RCU: none. Returns: 0; -EINVAL; -EPERM; -ENOTCONN (from c's error callback).
 */
int inc_raw_tcp_abort(struct inc_raw_conn *c);

/**
 * TCP_NODELAY: on: segments leave at once (Nagle's algorithm off, RFC 9293
 * 3.7.4); off: small segments wait for outstanding data to be acknowledged.
 * Thread: c's worker. Ownership: none. RCU: none. Returns: 0; -ENOTCONN; -EINVAL; -EPERM.
 */
int inc_raw_tcp_nodelay(struct inc_raw_conn *c, int on);

/**
 * SO_KEEPALIVE with its timers (RFC 9293 3.8.4): after idle_ms without data,
 * a probe every intvl_ms; after cnt unanswered probes the connection ends
 * with -ETIMEDOUT. 0 in a field: lwIP's default (2 h, 75 s, 9). On a
 * listener: inherited by the connections it accepts.
 * Thread: c's worker. Ownership: none. RCU: none. Returns: 0; -ENOTCONN; -EINVAL; -EPERM.
 */
int inc_raw_tcp_keepalive(struct inc_raw_conn *c, int on, uint32_t idle_ms, uint32_t intvl_ms, uint32_t cnt);

/**
 * The local address and port of c (getsockname(2)); either pointer may be
 * NULL. Thread: c's worker. Ownership: addr and port are the caller's.
 * RCU: none. Returns: 0; -EINVAL (NULL c); -ENOTCONN (gone); -EPERM.
 */
int inc_raw_tcp_local(const struct inc_raw_conn *c, struct inc_addr *addr, uint16_t *port);

/**
 * The peer's address and port (getpeername(2)).
 * Thread: c's worker. Ownership: addr and port are the caller's. RCU: none.
 * Returns: 0; -EINVAL; -ENOTCONN (a listener, or gone); -EPERM.
 */
int inc_raw_tcp_peer(const struct inc_raw_conn *c, struct inc_addr *addr, uint16_t *port);

/** The worker c lives on. Thread: c's worker. Ownership: none. RCU: none.
 * Returns: the worker, or NULL (NULL c, another worker's, or gone). */
struct inc_worker *inc_raw_tcp_worker(const struct inc_raw_conn *c);

/* ---- UDP ---------------------------------------------------------------- */

/**
 * A datagram arrived: b is its payload (zero-copy, a chain), now the
 * application's to inc_buf_free(); src/sport its sender. Runs on the
 * socket's worker.
 */
typedef void (*inc_raw_udp_recv_fn)(void *arg, struct inc_raw_udp *u, struct inc_buf *b, const struct inc_addr *src,
                                    uint16_t sport);

/**
 * Opens a UDP socket on worker w bound to local:port (port 0: an ephemeral
 * port, chosen by the first inc_raw_udp_connect(), one whose replies hash to
 * this worker, or by the first send). A datagram reaches the socket only on
 * the worker RSS gives it (datagrams are not steered between workers, and
 * IP fragments hash by address only): open the same port on every worker to
 * receive them all.
 * local: NULL or INC_AF_NONE: every address, IPv4 and IPv6; else that
 *   address (0.0.0.0 / :: for every address of the family).
 * recv: NULL drops datagrams.
 * Thread: worker w. Ownership: *out is the application's until
 *   inc_raw_udp_close(). RCU: none.
 * Returns: 0 and *out; -EINVAL (NULL out); -EAFNOSUPPORT; -EADDRINUSE;
 *   -ENOMEM; -EPERM.
 */
int inc_raw_udp_open(struct inc_worker *w, const struct inc_addr *local, uint16_t port, inc_raw_udp_recv_fn recv,
                     void *arg, struct inc_raw_udp **out);

/**
 * Sets the default destination (and receives only from it); NULL remote:
 * back to unconnected. An unbound socket gets an ephemeral port whose
 * replies hash to this worker.
 * Thread: u's worker. Ownership: none. RCU: none.
 * Returns: 0; -EINVAL (rport 0, unspecified remote, family mismatch);
 *   -EHOSTUNREACH; -EADDRINUSE; -EPERM.
 */
int inc_raw_udp_connect(struct inc_raw_udp *u, const struct inc_addr *remote, uint16_t rport);

/**
 * Sends one datagram of len bytes (copied) to dst:dport, or to the connected
 * destination when dst is NULL.
 * Thread: u's worker. Ownership: data stays the caller's. RCU: none.
 * Returns: 0; -EINVAL (NULL data with len > 0, dport 0, family mismatch);
 *   -EMSGSIZE (len > 65507); -EDESTADDRREQ (dst NULL, not connected);
 *   -EHOSTUNREACH; -ENOMEM; -EPERM.
 */
int inc_raw_udp_sendto(struct inc_raw_udp *u, const void *data, size_t len, const struct inc_addr *dst,
                       uint16_t dport);

/**
 * Sends the bytes of buffer chain b (e.g. a received one) as one datagram
 * without copying them (the headers go in front of them, by reference).
 * Thread: u's worker. Ownership: b stays the caller's (free it afterwards).
 * RCU: none. Returns: as inc_raw_udp_sendto().
 */
int inc_raw_udp_sendto_buf(struct inc_raw_udp *u, struct inc_buf *b, const struct inc_addr *dst, uint16_t dport);

/**
 * The local address and port of u (port 0 while unbound).
 * Thread: u's worker. Ownership: addr and port are the caller's. RCU: none.
 * Returns: 0; -EINVAL; -EPERM.
 */
int inc_raw_udp_local(const struct inc_raw_udp *u, struct inc_addr *addr, uint16_t *port);

/**
 * Closes u; no callback runs afterwards.
 * Thread: u's worker. Ownership: the handle is invalid on return.
 * RCU: none. Returns: 0; -EINVAL; -EPERM.
 */
int inc_raw_udp_close(struct inc_raw_udp *u);

/* ---- received buffers ----------------------------------------------------- */

/* A chain: inc_buf_next() walks its pieces; each piece's bytes are
 * contiguous (in the mbuf the NIC wrote). */

/** The piece's bytes. Thread: the worker that delivered the chain.
 * Ownership: writable, the chain is the application's until inc_buf_free().
 * RCU: none. Returns: the address (NULL for NULL b). */
void *inc_buf_data(const struct inc_buf *b);

/** Thread: the worker that delivered the chain. Ownership: none. RCU: none.
 * Returns: the bytes in this piece (0 for NULL). */
size_t inc_buf_len(const struct inc_buf *b);

/** Thread: the worker that delivered the chain. Ownership: none. RCU: none.
 * Returns: the bytes in this piece and every piece after it (the whole
 * chain from b; 0 for NULL). */
size_t inc_buf_total(const struct inc_buf *b);

/** Thread: the worker that delivered the chain. Ownership: none (the piece
 * belongs to the chain). RCU: none. Returns: the next piece, or NULL. */
struct inc_buf *inc_buf_next(const struct inc_buf *b);

/**
 * Copies up to len bytes from offset off of the chain starting at b into
 * dst. Thread: the worker that delivered the chain. Ownership: dst is the
 * caller's. RCU: none. Returns: bytes copied (0 when off is past the end,
 * or b or dst is NULL).
 */
size_t inc_buf_copy(const struct inc_buf *b, size_t off, void *dst, size_t len);

/**
 * Frees a chain (b must be the head the callback received; NULL is
 * ignored). Thread: the worker that delivered the chain. Ownership: every
 * piece goes back to its pool (the mbufs to their mempool). RCU: none.
 * Returns: nothing.
 */
void inc_buf_free(struct inc_buf *b);

#ifdef __cplusplus
}
#endif

#endif /* INC_RAW_H */
