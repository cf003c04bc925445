/*
 * The sequential API's private structures (api/conn*.c, api/sock*.c).
 *
 * struct inc_conn has three parts, by who may write them:
 *   - the owner worker's (pcb, receive queue, zero-copy FIFO, window debt):
 *     touched only on the owner core, inside calls or lwIP callbacks;
 *   - published state (ready, err, evseq): written by the owner with release
 *     stores, read by any thread with acquire loads;
 *   - the application's (options, addresses, lock for accept): written by
 *     application threads under c->app_lock, read by the owner only inside
 *     calls (the call's message is the synchronisation: the lane's enqueue
 *     is a release, the worker's dequeue an acquire).
 */
#ifndef INC_CONN_PRIV_H
#define INC_CONN_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "inception/conn.h"
#include "inception/stack.h"
#include "inception/stack_call.h"
#include "lwip/ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct udp_pcb;
struct pbuf;
struct inc_epoll;

/* A received datagram waiting in a UDP socket (from the context's pool). */
struct inc__dgram {
  struct pbuf *p;                   /* the owner worker's; freed there */
  ip_addr_t src;
  uint16_t sport;
  uint16_t worker;                  /* the worker that received it */
  uint32_t len;
  struct inc__dgram *next;          /* on the socket's stack / FIFO */
  _Atomic uint32_t free_next;       /* index + 1 on the pool's free list */
};

enum inc__conn_kind {
  INC__C_FREE = 0,
  INC__C_NEW,       /* socket()ed, maybe bound, not connected */
  INC__C_LISTEN,    /* listening on every worker */
  INC__C_STREAM,    /* connecting, connected, or gone (err set) */
  INC__C_CLOSING,   /* closed by the application; the owner frees it later */
  INC__C_DGRAM,     /* UDP: one PCB per worker once bound */
};

/* ready bits beyond INC_POLL*: state the owner publishes */
#define INC__R_CONNECTED 0x10000u
#define INC__R_CONNECTING 0x20000u
#define INC__R_DRAINED 0x40000u /* nothing unacknowledged (linger) */

struct inc__zc {
  struct pbuf *p;
  uint64_t end;                     /* stream offset (tx_queued) after its last byte */
};

#define INC__ZC_SLOTS 64

struct inc_conn {
  /* ---- identity (set at allocation) ---- */
  struct inc_api *api;
  uint32_t index;
  _Atomic uint32_t kind;            /* enum inc__conn_kind */
  uint8_t family;                   /* INC_AF_INET / INC_AF_INET6 */
  _Atomic int owner;                /* worker index; -1 until connected/accepted */
  /* ---- owner worker's ---- */
  struct tcp_pcb *pcb;
  struct pbuf *rxq, *rxq_tail;      /* received, not yet read: pbufs linked by next */
  size_t rxq_len;
  size_t wnd_debt;                  /* window withheld to honour a small SO_RCVBUF */
  int rx_fin;                       /* the peer's FIN has been queued */
  int rd_shut;                      /* shutdown(SHUT_RD): discard what arrives */
  struct inc__zc zc[INC__ZC_SLOTS]; /* zero-copy buffers queued, oldest first */
  unsigned zc_head, zc_count;
  uint64_t tx_queued, tx_acked;     /* bytes handed to tcp_write(), bytes acknowledged */
  int connected, connecting, wr_shut;
  int closing;                      /* closed by the application, zero-copy buffers
                                     * still in flight: the owner frees c when they
                                     * are acknowledged or the PCB goes */
  struct tcp_pcb *lpcb[INC_STACK_MAX_WORKERS]; /* listener: one per worker */
  struct udp_pcb *upcb[INC_STACK_MAX_WORKERS]; /* UDP: one per worker */
  /* ---- published by the owner (or, for listeners, by any worker) ---- */
  _Atomic uint32_t ready;           /* INC_POLL* | INC__R_* */
  _Atomic int err;                  /* pending error (negative errno) */
  _Atomic uint32_t evseq;           /* futex word: bumped at every readiness change */
  _Atomic uint32_t waiters;         /* threads sleeping on evseq */
  /* ---- epoll registration (app writes under the epoll's lock) ---- */
  struct inc_epoll *_Atomic ep;
  _Atomic uint32_t ep_events;       /* interest */
  uint64_t ep_data;
  _Atomic uint32_t ep_queued;       /* on the epoll's ready stack */
  struct inc_conn *ep_next;         /* link on that stack, then on the set's pending list */
  int ep_inlevel;                   /* on the set's level list (under its lock) */
  /* ---- listener's accept queue: workers push (a Treiber stack: push
   * with CAS, the application takes all with one exchange, so no ABA) ---- */
  struct inc_conn *_Atomic acc_stack;
  _Atomic int acc_len;              /* pushed and not yet taken */
  _Atomic int backlog;
  struct inc_conn *acc_fifo;        /* taken from the stack, oldest first (under app_lock) */
  struct inc_conn *acc_next;        /* link in acc_stack / acc_fifo */
  /* ---- UDP receive queue: workers push (Treiber), applications take ---- */
  struct inc__dgram *_Atomic dg_stack;
  struct inc__dgram *dg_fifo;       /* taken, oldest first (under app_lock) */
  _Atomic int dg_count;             /* pushed and not yet taken */
  _Atomic int64_t dg_bytes;         /* bytes queued (bounded by SO_RCVBUF) */
  _Atomic uint64_t dg_dropped;      /* datagrams dropped: queue full or no record */
  /* ---- the application's ---- */
  pthread_mutex_t app_lock;
  _Atomic int opt_nodelay, opt_keepalive, opt_reuseaddr, opt_linger;
  _Atomic int opt_rcvbuf, opt_sndbuf;
  _Atomic int nonblock;             /* the sockets layer's O_NONBLOCK */
  _Atomic int rcvtimeo_ms, sndtimeo_ms; /* SO_RCVTIMEO / SO_SNDTIMEO; -1: none */
  int bound;
  ip_addr_t local_ip;
  uint16_t local_port;
  ip_addr_t remote_ip;
  uint16_t remote_port;
  /* ---- free list ---- */
  _Atomic uint32_t free_next;
} __attribute__((aligned(64)));

struct inc_epoll {
  struct inc_api *api;
  uint32_t index;
  _Atomic int in_use;
  struct inc_conn *pending;         /* taken from ready_stack, not yet looked at (under lock) */
  int efd;                          /* eventfd */
  _Atomic uint32_t armed;           /* a waiter is about to sleep on efd */
  struct inc_conn *_Atomic ready_stack; /* conns with a rising edge (Treiber, take-all) */
  pthread_mutex_t lock;             /* application side: interest + level list */
  struct inc_conn **level;          /* reported last time, still ready (level-triggered) */
  unsigned n_level;
  unsigned n_interest;
} __attribute__((aligned(64)));

struct inc_api {
  struct inc_stack *stack;
  unsigned workers;
  unsigned max_conns, max_epolls;
  struct inc_conn *conns;
  struct inc_epoll *epolls;
  struct inc_conn **level_mem;      /* max_epolls * max_conns level slots */
  _Atomic uint64_t free_head;       /* (tag << 32) | (index + 1); 0: empty */
  struct inc__dgram *dgrams;        /* max_dgrams records */
  unsigned max_dgrams;
  _Atomic uint64_t dg_free_head;    /* as free_head, for dgrams */
  _Atomic unsigned in_use;
  _Atomic unsigned rr;              /* round-robin worker for active opens */
  pthread_mutex_t epoll_lock;
  pthread_key_t tls_key;            /* the thread's endpoint (detached at exit) */
};

/* conn_ctx.c: table, endpoints, waiting */
struct inc_conn *inc__conn_alloc(struct inc_api *api, int family); /* any thread */
void inc__conn_free(struct inc_conn *c);                           /* any thread */
struct inc_chan_app *inc__api_ep(struct inc_api *api);             /* the thread's endpoint, or NULL */
/* Runs fn(w, arg) on worker w and returns its result (never times out: the
 * worker's functions do not block). */
int inc__api_call(struct inc_api *api, unsigned w, inc_stack_call_fn fn, void *arg);
/* Waits until (ready & mask) != 0, the connection's err is set, or timeout.
 * Returns 0 (condition met), -EAGAIN (timeout). */
int inc__conn_wait(struct inc_conn *c, uint32_t mask, int64_t deadline_ms);
int64_t inc__deadline(int timeout_ms);
int64_t inc__now_ms(void);
/* Owner side: publishes new readiness, wakes waiters and epoll sets. */
void inc__conn_publish(struct inc_conn *c, uint32_t ready);
/* Any worker: a listener's accept queue changed. */
void inc__conn_notify(struct inc_conn *c);

/* sock_epoll.c */
/* Takes c out of its epoll set, if any, so that no worker can queue it any
 * more (a barrier call to the workers that may notify it). Thread: app. */
void inc__epoll_detach(struct inc_conn *c);
/* Queues c on e's ready stack (if not queued) and wakes e's waiter. Any thread. */
void inc__epoll_push(struct inc_epoll *e, struct inc_conn *c);
int inc__epoll_destroy(struct inc_epoll *e);

/* conn_worker.c: what runs on the owner core */
/* The lwIP address type of c's PCBs, and the address to bind them to (an
 * IPv6 socket on :: takes both families). Thread: any worker. */
u8_t inc__conn_ip_type(const struct inc_conn *c);
void inc__conn_bind_ip(const struct inc_conn *c, ip_addr_t *ip);
int inc__w_listen(struct inc_worker *w, void *arg);
int inc__w_unlisten(struct inc_worker *w, void *arg);
int inc__w_connect(struct inc_worker *w, void *arg);
int inc__w_send(struct inc_worker *w, void *arg);
int inc__w_recv(struct inc_worker *w, void *arg);
int inc__w_shutdown(struct inc_worker *w, void *arg);
int inc__w_close(struct inc_worker *w, void *arg);
int inc__w_setopt(struct inc_worker *w, void *arg);
int inc__w_zc_alloc(struct inc_worker *w, void *arg);
int inc__w_zc_send(struct inc_worker *w, void *arg);
int inc__w_zc_free(struct inc_worker *w, void *arg);
int inc__w_check_bind(struct inc_worker *w, void *arg);
int inc__w_nop(struct inc_worker *w, void *arg);
int inc__w_drained(struct inc_worker *w, void *arg);
/* conn_udp.c */
int inc__w_udp_bind(struct inc_worker *w, void *arg);
int inc__w_udp_unbind(struct inc_worker *w, void *arg);
int inc__w_udp_connect(struct inc_worker *w, void *arg);
int inc__w_udp_send(struct inc_worker *w, void *arg);
int inc__w_udp_recv(struct inc_worker *w, void *arg);
struct inc__dgram *inc__dgram_alloc(struct inc_api *api);
void inc__dgram_free(struct inc_api *api, struct inc__dgram *d);

/* The argument of the inc__w_* calls. */
struct inc__op {
  struct inc_conn *c;
  const struct iovec *iov;
  int iovcnt;
  size_t len;
  unsigned flags;
  int how;
  ip_addr_t ip;
  uint16_t port;
  void *zc_p;                       /* zero-copy pbuf */
  void *zc_data;
  size_t zc_len;
  struct inc__dgram *dg;            /* UDP receive: the datagram to copy out */
  int truncated;                    /* UDP receive: the datagram was longer */
  size_t done;                      /* result: bytes */
};

#ifdef __cplusplus
}
#endif

#endif /* INC_CONN_PRIV_H */
