/*
 * The software RSS wire: two ports joined like a cable between two NICs, for
 * machines without a NIC (no virtual PMD computes an RSS hash).
 *
 * The sender computes, for each frame, the Toeplitz hash with the *receiver's*
 * key and redirection table (rss.h) and puts the frame on the receive queue a
 * real RSS NIC would pick. A frame is passed by reference: the receiving
 * worker gets the very mbuf (zero copy, as DMA would place it).
 *
 *   INC_WIRE_RING   both ends in this process: two net_ring ports whose rings
 *                   are crossed (end A's TX queue j is end B's RX queue j).
 *                   The rings are multi-producer (RTS sync mode, safe with
 *                   oversubscribed lcores), so any sender core can put a
 *                   frame on any queue.
 *   INC_WIRE_MEMIF  the ends in two processes: net_memif, one end per
 *                   process. memif's TX queues are single-producer, so frames
 *                   for queue j go through a local multi-producer ring that
 *                   the worker of queue j drains into memif.
 *
 * Optional fault injection per direction, seeded so that a run repeats
 * (seed 004's nettest): loss %, duplicate %, reorder window (a frame is
 * overtaken by at most window - 1 later frames), fixed delay in µs.
 *
 * Thread: create/attach/destroy on the control plane; the data path runs in
 * the workers (netif.h) of the ends.
 */
#ifndef INC_WIRE_H
#define INC_WIRE_H

#include <stdint.h>

#include "inception/drivers_opt.h"
#include "inception/drv_err.h"
#include "inception/rss.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_ring;
struct inc_port;

/** Faults of one direction. All zero: a perfect wire. */
struct inc_wire_fault {
  double loss_pct;         /* 0..100: frames lost */
  double dup_pct;          /* 0..100: frames delivered twice */
  uint32_t reorder_window; /* 0 or 1: in order; w: overtaken by at most w - 1 */
  uint32_t delay_us;       /* fixed delay, at most 10 s */
  uint64_t seed;           /* generator seed: same seed, same decisions */
};

/* The fault injector of one sender (private: drivers/fault.c). */
struct inc_wire_fault_item {
  void *pkt;
  uint64_t due_ns;
  uint64_t key;
  uint64_t seq;
};

struct inc_wire_fault_counts {
  uint64_t offered;    /* frames decided on */
  uint64_t dropped;    /* decided lost */
  uint64_t duplicated; /* decided duplicated */
  uint64_t released;   /* frames let go */
  uint64_t reordered;  /* let go after a frame offered later */
  uint64_t overflow;   /* let go early because the holding area was full */
};

struct inc_wire_faults {
  struct inc_wire_fault cfg;
  uint64_t loss_thr, dup_thr; /* probabilities scaled to 2^32 */
  uint64_t rng[2];
  uint64_t next_seq;
  uint64_t max_released_seq;
  uint64_t hold_ns;
  uint32_t n_held;
  int active; /* any fault configured; if not, frames pass straight through */
  struct inc_wire_fault_counts counts;
  struct inc_wire_fault_item held[INC_DRV_WIRE_MAX_HELD]; /* min-heap by (key, seq) */
};

enum inc_wire_kind {
  INC_WIRE_RING = 0,
  INC_WIRE_MEMIF = 1,
};

struct inc_wire_config {
  const char *name;          /* unique in the process, at most 16 characters */
  enum inc_wire_kind kind;
  uint16_t queues_a;         /* RX queues (workers) of end A */
  uint16_t queues_b;         /* RX queues of end B (RING; for MEMIF, the peer's) */
  struct inc_wire_fault fault_ab; /* A -> B (MEMIF: from this end) */
  struct inc_wire_fault fault_ba; /* B -> A (RING only) */
  /* MEMIF only */
  const char *memif_socket;  /* socket file path, same in both processes */
  int memif_server;          /* 1 in one process, 0 in the other */
  uint32_t ring_size;        /* frames per ring; 0: INC_DRV_WIRE_RING */
};

/** Faults as the wire applied them, one direction, summed over its senders. */
struct inc_wire_stats {
  uint64_t frames;     /* offered to the wire */
  uint64_t dropped;    /* lost on purpose */
  uint64_t duplicated; /* sent twice on purpose */
  uint64_t reordered;  /* delivered after a later frame */
  uint64_t full;       /* lost because the receive queue was full */
};

/** A wire. The caller's memory. */
struct inc_wire {
  enum inc_wire_kind kind;
  char name[24];
  uint16_t queues_a, queues_b;
  uint16_t port_a, port_b;    /* ethdev ports (MEMIF: port_a only) */
  struct inc_wire_fault fault[2]; /* [0] A->B, [1] B->A */
  struct inc_rss_conf peer[2];    /* [s]: RSS of the receiver of side s's frames */
  struct inc_port *end[2];
  int created;
  struct rte_ring *rings[2][INC_DRV_MAX_QUEUES]; /* RING: [0] A->B, [1] B->A; MEMIF: [0] staging */
  uint32_t ring_size;
};

/**
 * Creates the wire's rings and ethdev ports (w->port_a, w->port_b). Then
 * configure each end with inc_port_init() (cfg.devargs NULL, cfg.port_id the
 * end's port, cfg.n_queues its queues) and join them with inc_wire_attach().
 * Thread: control plane, after inc_eal_init().
 * Ownership: w is the caller's; rings and ports are freed by inc_wire_destroy().
 * RCU: none. Returns: 0; -EINVAL (bad config: no name, 0 queues, a bad fault), -EEXIST
 *   (name in use), -ENOMEM, or the negative errno of DPDK. err names the
 *   problem and the fix.
 */
int inc_wire_create(struct inc_wire *w, const struct inc_wire_config *cfg, struct inc_drv_err *err);

/**
 * Joins initialised ports to the wire's ends: from now on, frames sent on end
 * A go to the queue of end B that B's RSS configuration picks, and back.
 * For MEMIF, b is NULL and peer_rss describes the other process's end (NULL:
 * the symmetric key and the default RETA for queues_b queues).
 * Thread: control plane, before the ports' workers start.
 * RCU: none. Returns: 0, -EINVAL (ports not initialised on this wire's ports, queue
 *   counts that differ from the wire's).
 */
int inc_wire_attach(struct inc_wire *w, struct inc_port *a, struct inc_port *b,
                    const struct inc_rss_conf *peer_rss, struct inc_drv_err *err);

/**
 * Frees the frames still on the wire (sent, never received: in flight when
 * the receiving stack stopped), so that every mbuf is back in its pool
 * (inc_port_mbufs_in_use()) before the ports close. Frames a sender's fault
 * injector still holds are freed by that sender's netif (inc_netif_fini()).
 * Thread: control plane, once no worker of either end polls (the stacks of
 *   both ends stopped). RCU: none.
 * Returns: frames freed (0 for NULL).
 */
unsigned inc_wire_drain(struct inc_wire *w);

/**
 * Frees the rings of a wire whose ports were closed (inc_port_close()).
 * Thread: control plane. RCU: none. Returns: 0.
 */
int inc_wire_destroy(struct inc_wire *w);

#ifdef __cplusplus
}
#endif

#endif /* INC_WIRE_H */
