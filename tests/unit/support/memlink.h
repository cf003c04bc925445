/*
 * memlink: an in-memory Ethernet cable between two lwIP instances that run on
 * different threads (test support).
 *
 * Each direction is a single-producer/single-consumer ring of fixed frame
 * slots: the sending instance's linkoutput copies the frame into a slot, the
 * receiving thread's memlink_poll() hands it to its netif. A full ring drops
 * the frame and counts it (TCP recovers). Frames are also counted by
 * ethertype so that a test can check them against each instance's lwIP stats.
 */
#ifndef INC_TEST_MEMLINK_H
#define INC_TEST_MEMLINK_H

#include <stdatomic.h>
#include <stdint.h>

#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MEMLINK_SLOT_BYTES 1536u

struct memlink_ring {
  _Alignas(64) _Atomic uint32_t head; /* written by the consumer */
  _Alignas(64) _Atomic uint32_t tail; /* written by the producer */
  _Alignas(64) uint32_t size;         /* slots, a power of two */
  uint8_t *slots;                     /* size * (2 + MEMLINK_SLOT_BYTES) */
};

/* What one side of a link sent and received, by ethertype. Owned by the
 * side's thread; read by others only after that thread has been joined. */
struct memlink_counts {
  uint64_t tx_ipv4, tx_arp, tx_other, tx_dropped_full;
  uint64_t rx_ipv4, rx_arp, rx_other, rx_dropped_nomem;
};

struct memlink_end {
  struct netif netif;
  struct memlink_ring *tx; /* frames to the peer */
  struct memlink_ring *rx; /* frames from the peer */
  struct memlink_counts counts;
  uint8_t id;
};

/* Rings are caller-owned; slots must hold size * (2 + MEMLINK_SLOT_BYTES). */
int memlink_ring_init(struct memlink_ring *r, uint8_t *slots, uint32_t size);

/* On the owner thread of the instance: add the end's netif (IPv4 addr/24,
 * MAC 02:00:00:00:00:<id>) and bring it up. Returns 0 or -1. */
int memlink_end_add(struct memlink_end *end, uint8_t id, const ip4_addr_t *addr,
                    struct memlink_ring *tx, struct memlink_ring *rx);

/* On the owner thread: feed up to max received frames to lwIP. Returns how many. */
unsigned memlink_poll(struct memlink_end *end, unsigned max);

#ifdef __cplusplus
}
#endif

#endif
