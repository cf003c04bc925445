/*
 * The software wire's fault injector (seed 004's "nettest"): loss, duplicates,
 * reordering within a window, and a fixed delay, all from a seeded generator
 * so that a run can be repeated. Pure C, no DPDK: packets are opaque
 * pointers; the wire (wire.c) frees the dropped ones and clones duplicates.
 *
 * Order of release: each packet gets a sequence number s and a key
 * s + U[0, window); packets leave in key order (on equal keys the later one
 * first), so a packet is overtaken by at most window - 1 later ones. A packet leaves when its
 * delay has passed and no packet still to come could have a smaller key
 * (key < next sequence number), or, when no such packet comes, after
 * INC_DRV_WIRE_REORDER_HOLD_US more.
 *
 * Thread: one sender (the owner of the direction's TX side); not shared.
 */
#ifndef INC_DRIVERS_FAULT_PRIV_H
#define INC_DRIVERS_FAULT_PRIV_H

#include <stdint.h>

#include "inception/drivers_opt.h"
#include "inception/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INC__FAULT_DROP 1u /* decide(): drop this packet */
#define INC__FAULT_DUP 2u  /* decide(): also hold a duplicate of it */

/* 0 if cfg (NULL: no faults) is usable, else -EINVAL. */
int inc__fault_check(const struct inc_wire_fault *cfg);

/* Validates cfg (NULL: no faults) and starts the generator from cfg->seed.
 * Returns 0 or -EINVAL (a percentage outside 0..100, a window above
 * INC_DRV_WIRE_MAX_HELD / 2, a delay above 10 s). */
int inc__fault_init(struct inc_wire_faults *f, const struct inc_wire_fault *cfg);

/* The fate of the next packet: 0, INC__FAULT_DROP, or INC__FAULT_DUP. */
unsigned inc__fault_decide(struct inc_wire_faults *f);

/* Holds pkt, offered at now_ns. Returns 0, or -ENOSPC when the holding area
 * is full (release or drain first). */
int inc__fault_hold(struct inc_wire_faults *f, void *pkt, uint64_t now_ns);

/* Up to max packets whose time has come, in release order. Returns how many
 * (up to max). With force, the earliest-keyed packet goes even if its time has
 * not come (used when the holding area is full). */
unsigned inc__fault_release(struct inc_wire_faults *f, uint64_t now_ns, void **out, unsigned max, int force);

/* Everything held, in release order, regardless of time. Up to max. */
unsigned inc__fault_drain(struct inc_wire_faults *f, void **out, unsigned max);

#ifdef __cplusplus
}
#endif

#endif /* INC_DRIVERS_FAULT_PRIV_H */
