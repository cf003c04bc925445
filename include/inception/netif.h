/*
 * An lwIP netif on one queue of a DPDK port: the glue between a worker core's
 * lwIP instance and its RX/TX queue pair, without copying payload.
 *
 * Receive: rx_burst -> drop and count malformed frames -> checksums (the
 * PMD's verdict, or software) -> software coalescing (rte_gro) when the port
 * has no LRO -> each mbuf becomes an lwIP pbuf in place: a custom pbuf
 * (PBUF_REF) lives in the mbuf's private area and points at the mbuf's data;
 * a chained mbuf becomes a pbuf chain; pbuf_free() frees the mbuf segment.
 * The address rx_burst returned is the address the application reads.
 *
 * Transmit: lwIP's buffers are mbufs of this core's pool (the netif installs
 * itself as the thread's buffer provider, inc_lwip_bufs.h): lwIP's struct
 * pbuf sits in the mbuf's private area and ends where the mbuf's data room
 * begins, so the payload lwIP (or the application) writes is the mbuf's data.
 * A pbuf chain leaves as an mbuf chain:
 *   - the L2-L4 headers are copied into a fresh header mbuf for every
 *     transmission (at most 134 bytes), because lwIP rewrites a segment's
 *     header in place when it retransmits while the previous transmission
 *     may still be held (a NIC's TX ring, or a receiver in this process on the
 *     software wire, which gets the very mbuf);
 *   - the payload goes by reference: the mbuf itself (refcnt + 1) when no one
 *     else holds it, otherwise an indirect mbuf attached to it (refcnt + 1 of
 *     the mbuf), so a retransmission re-sends the same buffers; buffers lwIP
 *     only references (tcp_write() without TCP_WRITE_FLAG_COPY) are found in
 *     the port's pools by address and attached the same way;
 *   - only memory that is in no mbuf (e.g. a static buffer given to
 *     tcp_write() without copy) is copied, and counted.
 * Offloads follow the port's negotiation (port.h): checksums by the PMD or in
 * software, large TCP segments (upstream-patches/0005) by TSO or rte_gso.
 *
 * Thread: everything runs on the netif's owner thread, which owns the lwIP
 * instance and is the only user of its queue; other threads read nif->cnt
 * only once the owner is known to be done with it (joined, or stopped through
 * a lock).
 */
#ifndef INC_NETIF_H
#define INC_NETIF_H

#include <stdint.h>

#include "inception/drivers_opt.h"
#include "inception/drv_err.h"
#include "inception/netif_counters.h"
#include "inception/pcap.h"
#include "inception/port.h"
#include "inception/wire.h"
#include "inc_lwip_bufs.h"
#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;

/* Static IPv6 addresses of a netif (lwIP's slots 1 and 2; slot 0 is the
 * link-local one). */
#define INC_NETIF_IP6_ADDRS 2

struct inc_netif_config {
  uint16_t queue;        /* the port's queue this core owns */
  uint32_t ip4_addr;     /* network byte order; 0: no IPv4 address */
  uint32_t ip4_netmask;  /* network byte order */
  uint32_t ip4_gw;       /* network byte order; 0: none */
  int ip6_linklocal;     /* add an IPv6 link-local address made from the MAC */
  char name[2];          /* lwIP's two-letter name; 0: "dp" */
  /* Static IPv6 addresses, network byte order; all-zero entries are unused.
   * Global unicast or unique-local only (inc_netif_ip6_check()). */
  uint8_t ip6_addr[INC_NETIF_IP6_ADDRS][16];
  /* Prefix length of each: 0 or 64 (lwIP 2.1.3 treats static addresses as
   * /64 on link; other lengths are refused). */
  uint8_t ip6_prefix_len[INC_NETIF_IP6_ADDRS];
  /* IPv6 default router, network byte order; all zero: none. Link-local
   * (needs ip6_linklocal) or in the /64 of one of ip6_addr. */
  uint8_t ip6_gw[16];
};

/** A netif on one queue. The caller's memory (typically inside the worker's
 * per-core struct); cache-aligned. Fields are private except netif (lwIP's,
 * for the stack) and cnt (read-only). */
struct inc_netif {
  struct netif netif;
  struct inc_port *port;
  uint16_t queue;
  uint16_t mss4;       /* the IPv4 MSS the MTU gives */
  uint16_t seg_max;    /* largest TCP segment (payload + options) tcp_write() may build */
  uint16_t n_tx;
  uint16_t first_tx_owned, n_tx_owned; /* MEMIF wire: TX queues this core drains */
  uint32_t chksum_flags;
  int bufs_installed;  /* this netif is its thread's buffer provider */
  int has_ip6_gw;      /* ip6_gw is this netif's IPv6 default router */
  ip6_addr_t ip6_gw;   /* zoned when link-local */
  struct rte_mempool *pool, *clones, *large;
  struct inc_lwip_bufs bufs;
  struct rte_mbuf *tx[4 * INC_DRV_BURST];
  struct inc_netif_counters cnt;
  /* capture (inc_port_capture_start()) */
  uint32_t cap_gen;
  int cap_on;
  struct inc_pcap pcap;
  /* software wire end: this core's faults for its frames */
  struct inc_wire_faults faults;
  uint8_t pcap_buf[INC_DRV_PCAP_BUF];
} __attribute__((aligned(64)));

/**
 * Adds a netif for queue cfg->queue of a started or configured port to the
 * calling thread's lwIP instance, brings it up, sets lwIP's per-netif
 * checksum handling to what the port offloads, and makes this netif's pools
 * the thread's lwIP buffer provider (the first netif of a thread does).
 * IPv6 addresses (link-local and static) are made valid and preferred at
 * once, without duplicate address detection (RFC 4862 5.4 with
 * DupAddrDetectTransmits = 0), and the IPv6 router, if any, is entered in
 * lwIP's default router list with an infinite lifetime.
 * Thread: the owner of the lwIP instance (inc_lwip_instance_init() done).
 * Ownership: nif and port are the caller's; port must outlive nif.
 * RCU: none.
 * Returns: 0; -EINVAL (queue out of range, port not initialised, a bad IPv6
 *   value: see inc_netif_ip6_check()), -EBUSY (lwIP refused the netif),
 *   -ENOSPC (lwIP's neighbour cache or router list is full). err (may be
 *   NULL) says why.
 */
int inc_netif_init(struct inc_netif *nif, struct inc_port *port, const struct inc_netif_config *cfg,
                   struct inc_drv_err *err);

/**
 * Checks the IPv6 part of a netif configuration (addresses, prefix lengths,
 * router) without touching anything.
 * Thread: any. RCU: none.
 * Returns: NULL if it is usable, else a message naming the bad value and the
 *   fix (a string constant).
 */
const char *inc_netif_ip6_check(const struct inc_netif_config *cfg);

/**
 * Puts the configured IPv6 default router (cfg->ip6_gw at init) back into
 * the instance's default router list if it is missing (a Router
 * Advertisement with lifetime 0 from it removes it) and keeps its lifetime
 * infinite. Cheap; call it about once a second.
 * Thread: owner. RCU: none. Returns: 1 if it had to put it back, else 0.
 */
int inc_netif_ip6_router_keep(struct inc_netif *nif);

/**
 * Applies a pending capture switch (inc_port_capture_start/stop()), then
 * receives up to max frames from the queue, captures them if capture is on,
 * drops (and counts) malformed ones and those with wrong checksums, and
 * coalesces TCP segments in software if the port has no LRO. The mbufs are
 * the caller's: give each to inc_netif_input() (on this or, after steering,
 * on another core's netif) or free it.
 * Thread: owner. RCU: none. Returns: how many mbufs were stored in pkts (up to max).
 */
unsigned inc_netif_rx(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned max);

/**
 * Gives a received mbuf (from inc_netif_rx() of any netif of the process) to
 * this netif's lwIP instance, as a pbuf that lives in the mbuf.
 * Thread: owner. Ownership: m is consumed on success and on failure.
 * RCU: none. Returns: 0, -ENOMEM (dropped: no mbuf for a copy), -EMSGSIZE (dropped: over
 *   64 KiB), -EIO (lwIP refused it).
 */
int inc_netif_input(struct inc_netif *nif, struct rte_mbuf *m);

/**
 * Sends what lwIP queued on this netif (and, on a software wire end, frames
 * whose delay has passed). Frames the queue does not take stay queued for
 * the next flush; beyond the netif's batch they are dropped and counted.
 * Thread: owner. RCU: none. Returns: frames the queue accepted (up to the batch).
 */
unsigned inc_netif_flush(struct inc_netif *nif);

/**
 * One round of the worker loop for this netif:
 * receives a burst and gives it to lwIP, then flushes.
 * Thread: owner. RCU: none. Returns: frames received (up to INC_DRV_BURST).
 */
unsigned inc_netif_poll(struct inc_netif *nif);

/**
 * Removes the netif from lwIP, drops what is still queued or held by the
 * wire, closes a capture file, and uninstalls the buffer provider if this
 * netif was it (buffers lwIP still holds stay valid; they go back to their
 * pool when freed).
 * Thread: owner. RCU: none. Returns: 0.
 */
int inc_netif_fini(struct inc_netif *nif);

/**
 * The netif of an lwIP netif pointer, or NULL if it is not one of ours.
 * Thread: the owner of the lwIP instance. RCU: none. Returns: nif or NULL.
 */
struct inc_netif *inc_netif_of(struct netif *netif);

#ifdef __cplusplus
}
#endif

#endif /* INC_NETIF_H */
