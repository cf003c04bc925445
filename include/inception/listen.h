/*
 * Listener registry: which local ports are listened on, per protocol.
 *
 * Passive opens are replicated on every core (each core's lwIP instance has
 * its own listening pcb), and the core that receives a SYN owns the new
 * connection. Steering asks "is anyone listening on this port?" for every
 * SYN or datagram that matches no flow, on the core that received it; so the
 * answer is replicated: each core reads its own copy (a bitmap of 65536 bits
 * per protocol), wait-free, with no lock and no RCU section. Changes (listen,
 * close) are rare and come from the control plane: they are serialised by a
 * mutex, reference-counted (several listeners may share a port, e.g. on
 * different addresses), and written to every replica before they return.
 */
#ifndef INC_LISTEN_H
#define INC_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "inception/lockfree_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocols the registry tracks: TCP (6) and UDP (17). */
#define INC_LISTEN_TCP 6
#define INC_LISTEN_UDP 17

struct inc_listen_config {
  unsigned cores; /**< replicas, one per worker core, 1..INC_LF_MAX_WORKERS */
};

struct inc_listen_registry;

/**
 * Bytes of caller memory a registry needs.
 * Thread: any. Returns: the size, or 0 if cfg is invalid.
 */
size_t inc_listen_footprint(const struct inc_listen_config *cfg);

/**
 * Builds an empty registry in caller memory (64-byte aligned).
 * Thread: control plane. Ownership: mem stays the caller's; call
 * inc_listen_destroy() before releasing it. RCU: none.
 * Returns: 0; -EINVAL; -ENOSPC (len too small); -errno of pthread_mutex_init.
 */
int inc_listen_init(struct inc_listen_registry **out, void *mem, size_t len,
                    const struct inc_listen_config *cfg);

/** Releases the registry's mutex. Thread: control plane, no concurrent user. */
void inc_listen_destroy(struct inc_listen_registry *r);

/**
 * Adds a listener on (proto, port); the port is visible on every core when
 * this returns.
 * Thread: any non-worker thread (control plane: takes a mutex).
 * Returns: 0; -EINVAL (proto not TCP/UDP); -EOVERFLOW (65535 listeners
 *   already share the port).
 */
int inc_listen_add(struct inc_listen_registry *r, uint8_t proto, uint16_t port);

/**
 * Removes one listener on (proto, port); the port stays listened while other
 * listeners share it.
 * Thread: as inc_listen_add.
 * Returns: 0; -EINVAL (proto); -ENOENT (no listener on that port).
 */
int inc_listen_remove(struct inc_listen_registry *r, uint8_t proto, uint16_t port);

/**
 * Whether (proto, port) is listened on, from core's replica.
 * Thread: worker `core` (any thread may read any replica). Wait-free.
 * RCU: none.
 * Returns: 1 (listened), 0 (not, or proto not tracked), -EINVAL (core out of range).
 */
int inc_listen_lookup(const struct inc_listen_registry *r, unsigned core, uint8_t proto,
                      uint16_t port);

/** Listeners sharing (proto, port) (0 when none or proto untracked). Thread: any. */
unsigned inc_listen_count(const struct inc_listen_registry *r, uint8_t proto, uint16_t port);

#ifdef __cplusplus
}
#endif

#endif /* INC_LISTEN_H */
