/*
 * Channels between cores: ConcurrencyKit rings carrying typed messages.
 *
 * A channel mesh connects W worker cores and up to A application endpoints
 * (threads that are not workers):
 *
 *   - worker i -> worker j (i != j): one SPSC ck_ring per ordered pair, so
 *     W * (W - 1) rings. Used to hand a packet to the core that owns its flow.
 *   - application endpoint e -> worker w: one SPSC ck_ring per (e, w) "lane".
 *     Together the lanes of worker w are its MPSC inbound channel for
 *     application threads: each producer owns its lane, so a producer never
 *     waits for, or contends with, another producer (see docs/lockfree.md for
 *     why ck_ring's own MP enqueue was not used: it spins until the preceding
 *     producer publishes, which stalls when that producer is preempted).
 *   - worker w -> application endpoint e: one SPSC ck_ring per (w, e) for
 *     completions, with an eventfd that wakes the endpoint when it sleeps.
 *
 * Messages are 16 bytes, copied into the ring slot; what they point to is
 * never copied (a packet handoff moves an mbuf pointer: zero-copy). A full ring
 * is reported to the sender (a short count or -ENOBUFS) and counted in the
 * link's statistics; the channel never drops a message. Messages that were not
 * sent stay the sender's.
 *
 * Memory: the caller provides it (inc_chan_mesh_footprint() bytes, 64-byte
 * aligned) and frees it after the last user is gone; nothing here allocates.
 * The only system calls are eventfd creation/close at attach/detach, and an
 * eventfd write when a worker completes a command for an endpoint that is
 * sleeping in inc_chan_app_wait() or epoll.
 *
 * RCU: no function here needs an RCU read-side section or a registered
 * thread. Thread rules are per function: each ring has exactly one producer
 * and one consumer thread, which the function names say (worker `self`, the
 * endpoint's thread); checked builds assert them after *_bind()/attach.
 */
#ifndef INC_CHAN_H
#define INC_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "inception/lockfree_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Message types. */
enum inc_msg_type {
  INC_MSG_NONE = 0,
  INC_MSG_PACKET = 1,     /**< ptr: a packet (struct rte_mbuf *); arg: its RSS hash */
  INC_MSG_COMMAND = 2,    /**< ptr: the sender's command body; arg: opcode */
  INC_MSG_COMPLETION = 3, /**< ptr: the command body it completes; arg: status (0 or -errno) */
};

/** Sources in inc_msg.src: a worker index, or this flag | endpoint index. */
#define INC_CHAN_SRC_APP 0x8000u

/**
 * One message (16 bytes on LP64). The channel copies the message and fills
 * in src; it never dereferences ptr.
 */
struct inc_msg {
  uint16_t type; /**< enum inc_msg_type */
  uint16_t src;  /**< set by the channel: sender worker, or INC_CHAN_SRC_APP | endpoint */
  uint32_t arg;  /**< type-specific, see enum inc_msg_type */
  void *ptr;     /**< type-specific, see enum inc_msg_type */
};

/** A packet handoff: mbuf moves to the receiver (zero-copy). */
static inline struct inc_msg inc_msg_packet(void *mbuf, uint32_t rss_hash) {
  struct inc_msg m;
  m.type = INC_MSG_PACKET;
  m.src = 0;
  m.arg = rss_hash;
  m.ptr = mbuf;
  return m;
}

/** A connection command; body stays the sender's until its completion returns. */
static inline struct inc_msg inc_msg_command(uint32_t opcode, void *body) {
  struct inc_msg m;
  m.type = INC_MSG_COMMAND;
  m.src = 0;
  m.arg = opcode;
  m.ptr = body;
  return m;
}

/** The completion of a command: body is the command's, status 0 or -errno. */
static inline struct inc_msg inc_msg_completion(void *body, int32_t status) {
  struct inc_msg m;
  m.type = INC_MSG_COMPLETION;
  m.src = 0;
  m.arg = (uint32_t)status;
  m.ptr = body;
  return m;
}

/** Mesh configuration (see lockfree_opts.h for the defaults of 0 fields). */
struct inc_chan_config {
  unsigned workers;       /**< worker cores, 1..INC_LF_MAX_WORKERS */
  unsigned ring_size;     /**< worker->worker ring slots: power of two, 2..INC_CHAN_RING_SIZE_MAX; 0: default */
  unsigned app_endpoints; /**< application endpoints, 0..INC_CHAN_MAX_APPS */
  unsigned app_ring_size; /**< slots of each lane ring (both directions): as ring_size; 0: default */
};

/** Per-link counters. A link is one ring: one sender, one receiver. */
struct inc_chan_stats {
  uint64_t sent;        /**< messages the sender enqueued */
  uint64_t received;    /**< messages the receiver dequeued */
  uint64_t full_events; /**< send calls that found the ring full (short count or -ENOBUFS) */
  uint64_t refused;     /**< messages those calls could not enqueue (stayed the sender's) */
  unsigned queued;      /**< messages in the ring now (a snapshot) */
  unsigned capacity;    /**< messages the ring can hold */
};

struct inc_chan_mesh;
struct inc_chan_app;

/**
 * Bytes of caller memory a mesh with this configuration needs.
 * Thread: any. RCU: none.
 * Returns: the size, or 0 if cfg is invalid.
 */
size_t inc_chan_mesh_footprint(const struct inc_chan_config *cfg);

/**
 * Builds a mesh in caller memory: all rings empty, all endpoints free.
 *
 * Thread: control plane, before any worker or application uses the mesh
 *   (publish *out to them with a release, e.g. pthread_create).
 * Ownership: mem stays the caller's; it must outlive every use of the mesh.
 *   Nothing is allocated, so there is no destroy: detach the endpoints, stop
 *   the workers, free mem.
 * RCU: none.
 * Returns: 0; -EINVAL (cfg, out or mem NULL, or a field out of range; mem not
 *   64-byte aligned); -ENOSPC (len < inc_chan_mesh_footprint(cfg)).
 */
int inc_chan_mesh_init(struct inc_chan_mesh **out, void *mem, size_t len,
                       const struct inc_chan_config *cfg);

/** Workers and endpoints of a mesh. Thread: any. */
unsigned inc_chan_workers(const struct inc_chan_mesh *m);
unsigned inc_chan_app_endpoints(const struct inc_chan_mesh *m);

/**
 * Binds worker `self` to the calling thread. In checked builds (Debug and the
 * sanitizer builds) every worker-side call then aborts if made by another
 * thread; in other builds it only records the thread.
 * Thread: the worker's thread, once, before its first send or poll.
 * Returns: 0, or -EINVAL (self out of range).
 */
int inc_chan_worker_bind(struct inc_chan_mesh *m, unsigned self);

/**
 * Sends up to n messages from worker self to worker dst, in order.
 *
 * Thread: worker self only (it is the ring's single producer).
 * Ownership: the first r messages (their ptr targets) pass to dst; the rest
 *   stay the caller's. msgs itself is only read.
 * RCU: none. Never blocks, never spins.
 * Returns: r in 0..n ("up to n"; r < n means the ring was full, counted in
 *   full_events/refused); -EINVAL (self or dst out of range, or equal).
 */
int inc_chan_send_burst(struct inc_chan_mesh *m, unsigned self, unsigned dst,
                        const struct inc_msg *msgs, unsigned n);

/**
 * Sends one message from worker self to worker dst (ck_ring's own SPSC
 * enqueue).
 * Thread: worker self only. Ownership: as inc_chan_send_burst. RCU: none.
 * Returns: 0; -ENOBUFS (ring full, counted; msg stays the caller's); -EINVAL.
 */
int inc_chan_send(struct inc_chan_mesh *m, unsigned self, unsigned dst,
                  const struct inc_msg *msg);

/**
 * Receives up to n messages sent by worker src to worker self, in the order
 * src sent them.
 * Thread: worker self only (the ring's single consumer).
 * Ownership: the received messages' ptr targets become the caller's.
 * RCU: none.
 * Returns: 0..n ("up to n"); -EINVAL (self or src out of range, or equal).
 */
int inc_chan_recv_burst(struct inc_chan_mesh *m, unsigned self, unsigned src,
                        struct inc_msg *out, unsigned n);

/**
 * Receives one message sent by worker src to worker self (ck_ring's own SPSC
 * dequeue).
 * Thread: worker self only. Ownership: as inc_chan_recv_burst. RCU: none.
 * Returns: 1 (a message is in *out), 0 (the ring is empty), -EINVAL.
 */
int inc_chan_recv(struct inc_chan_mesh *m, unsigned self, unsigned src, struct inc_msg *out);

/**
 * Receives up to n messages from all of worker self's inbound rings: the
 * other workers' and the application lanes'. Each call starts with the next
 * source after the previous call's first (round robin), so no source starves
 * another; messages of one source keep their order. out[i].src says who sent.
 * Thread: worker self only. Ownership: as inc_chan_recv_burst. RCU: none.
 * Returns: 0..n; -EINVAL (self out of range).
 */
int inc_chan_poll(struct inc_chan_mesh *m, unsigned self, struct inc_msg *out, unsigned n);

/**
 * Sends up to n completions from worker self to application endpoint e, and
 * wakes e if it sleeps (eventfd). msgs should be INC_MSG_COMPLETION: only
 * those count against e's commands in flight.
 * Thread: worker self only (single producer of the (self, e) completion ring).
 * Ownership: as inc_chan_send_burst.
 * RCU: none. Makes one write(2) when e is armed, none otherwise.
 * Returns: 0..n ("up to n", a short count is counted as for send_burst);
 *   -EINVAL (self or e out of range); -ENOTCONN (e is not attached).
 */
int inc_chan_complete_burst(struct inc_chan_mesh *m, unsigned self, unsigned e,
                            const struct inc_msg *msgs, unsigned n);

/**
 * Counters of the link from worker src to worker dst.
 * Thread: any (a relaxed snapshot: exact once both sides are quiet).
 * Returns: 0, or -EINVAL.
 */
int inc_chan_link_stats(const struct inc_chan_mesh *m, unsigned src, unsigned dst,
                        struct inc_chan_stats *out);

/**
 * Counters of endpoint e's lane to worker w (commands) and back (completions);
 * either output may be NULL.
 * Thread: any (relaxed snapshot). Returns: 0, or -EINVAL.
 */
int inc_chan_lane_stats(const struct inc_chan_mesh *m, unsigned e, unsigned w,
                        struct inc_chan_stats *to_worker, struct inc_chan_stats *to_app);

/* ---- application side ---------------------------------------------------- */

/**
 * Claims a free application endpoint (a lane to every worker and back) and
 * creates its eventfd.
 * Thread: any non-worker thread; the endpoint then belongs to that thread
 *   (single producer of its lanes, single consumer of its completions).
 * Ownership: *out points into the mesh memory; give it back with
 *   inc_chan_app_detach().
 * RCU: none. Lock-free claim (compare-and-swap on the endpoint's state).
 * Returns: 0; -EINVAL; -EBUSY (every endpoint is attached); -errno of eventfd().
 */
int inc_chan_app_attach(struct inc_chan_mesh *m, struct inc_chan_app **out);

/**
 * Gives the endpoint back and closes its eventfd. Every command sent must
 * have been completed and received, the workers must have taken every message
 * the endpoint sent, and the endpoint must have received every message sent
 * to it. Workers must not complete to an endpoint once its commands are done
 * (the next owner of the endpoint would receive it).
 * Thread: the endpoint's thread.
 * Returns: 0; -EBUSY (commands or messages still in flight; nothing changed).
 */
int inc_chan_app_detach(struct inc_chan_app *a);

/** The endpoint's index (inc_msg.src is INC_CHAN_SRC_APP | index). Thread: any. */
unsigned inc_chan_app_index(const struct inc_chan_app *a);

/**
 * Sends up to n messages from the endpoint to worker w over its own lane.
 * Thread: the endpoint's thread. Never waits for another producer.
 * Ownership: as inc_chan_send_burst. RCU: none.
 * Returns: 0..n ("up to n", a short count means the lane is full, counted);
 *   -EINVAL (w out of range).
 */
int inc_chan_app_send_burst(struct inc_chan_app *a, unsigned w, const struct inc_msg *msgs,
                            unsigned n);

/** One message: 0, -ENOBUFS (lane full, counted), -EINVAL. As above otherwise. */
int inc_chan_app_send(struct inc_chan_app *a, unsigned w, const struct inc_msg *msg);

/**
 * Receives up to n completions (or other messages) the workers sent to this
 * endpoint, round robin over the workers.
 * Thread: the endpoint's thread. Ownership: ptr targets become the caller's.
 * Returns: 0..n.
 */
int inc_chan_app_recv_burst(struct inc_chan_app *a, struct inc_msg *out, unsigned n);

/**
 * The endpoint's eventfd (non-blocking), readable after a worker completed
 * something while the endpoint was armed: put it in epoll/libevent and call
 * inc_chan_app_arm() before each sleep; after a wake-up, receive, then arm
 * again (arming drains the fd). Do not read or close the fd yourself.
 * Thread: any. Returns: the fd.
 */
int inc_chan_app_fd(const struct inc_chan_app *a);

/**
 * Prepares to sleep: asks the workers to signal the eventfd on their next
 * completion, then checks that nothing arrived meanwhile.
 * Thread: the endpoint's thread.
 * Returns: 0 (armed: sleep on the fd; the next completion wakes it);
 *   -EAGAIN (messages are waiting: receive them instead of sleeping).
 */
int inc_chan_app_arm(struct inc_chan_app *a);

/**
 * Sleeps until a message is waiting or timeout_ms passes (-1: no limit):
 * inc_chan_app_arm(), poll(2) on the fd, then drains the eventfd. It may
 * return 0 with nothing waiting (a wake-up that raced with a receive).
 * Thread: the endpoint's thread (never a worker).
 * Returns: 0 (something may be waiting: call inc_chan_app_recv_burst);
 *   -ETIMEDOUT; -errno of poll(2).
 */
int inc_chan_app_wait(struct inc_chan_app *a, int timeout_ms);

/** Commands this endpoint sent whose completion it has not received yet. Thread: the endpoint's. */
uint64_t inc_chan_app_in_flight(const struct inc_chan_app *a);

#ifdef __cplusplus
}
#endif

#endif /* INC_CHAN_H */
