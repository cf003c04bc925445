/*
 * DPDK ports for Inception: one RX/TX queue pair per worker core, RSS over
 * those queues with a symmetric Toeplitz key and the redirection table set,
 * offloads negotiated from what the PMD offers, per-queue mbuf pools, and
 * pcap capture per port or per queue, switchable at run time.
 *
 * Offloads. Each capability is either done by the PMD ("hw"), done by
 * Inception in software ("sw"), or off (not wanted):
 *   RX IPv4/TCP checksum      hw: the PMD's verdict in the mbuf; sw: verified
 *                             in the driver (lwIP's own checks are off: after
 *                             coalescing, a TCP checksum no longer matches)
 *   RX UDP checksum           hw: frames the PMD found bad are dropped early;
 *                             lwIP verifies UDP itself either way (a datagram
 *                             reassembled from IP fragments has no PMD verdict)
 *   TX IPv4/TCP checksum      hw: mbuf flags and pseudo-header; sw: computed
 *                             in the driver
 *   TX UDP checksum           always sw, by lwIP: lwIP fragments large
 *                             datagrams before the netif sees them, and a
 *                             fragment cannot carry a checksum the NIC would
 *                             compute over the whole datagram
 *   TSO                       hw: the PMD segments TCP/IPv4; sw: rte_gso
 *   LRO                       hw: the PMD coalesces; sw: rte_gro (TCP/IPv4)
 *   MULTI_SEGS                hw: chained mbufs go out as they are; sw: a
 *                             chain is copied into one mbuf first
 *   RSS                       hw: the PMD spreads flows over the queues;
 *                             otherwise the PMD (or the software wire, wire.h,
 *                             or the kernel behind a tap) decides, and
 *                             steering copes
 * inc_port_init() logs what it negotiated (RTE_LOG INFO, type USER1).
 *
 * Thread: everything here is control plane (one thread at a time per port),
 * except the queue's pools and capture slot, which the queue's worker uses.
 */
#ifndef INC_PORT_H
#define INC_PORT_H

#include <stdint.h>

#include "inception/drivers_opt.h"
#include "inception/drv_err.h"
#include "inception/rss.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;
struct inc_wire;

/* Capabilities (inc_port_config.offload_want/deny, struct inc_offloads). */
#define INC_OFFLOAD_RX_IPV4_CKSUM (1u << 0)
#define INC_OFFLOAD_RX_TCP_CKSUM (1u << 1)
#define INC_OFFLOAD_RX_UDP_CKSUM (1u << 2)
#define INC_OFFLOAD_TX_IPV4_CKSUM (1u << 3)
#define INC_OFFLOAD_TX_TCP_CKSUM (1u << 4)
#define INC_OFFLOAD_TX_UDP_CKSUM (1u << 5)
#define INC_OFFLOAD_TSO (1u << 6)
#define INC_OFFLOAD_LRO (1u << 7)
#define INC_OFFLOAD_MULTI_SEGS (1u << 8)
#define INC_OFFLOAD_RSS (1u << 9)
#define INC_OFFLOAD_ALL ((1u << 10) - 1)

/** The outcome of negotiation: a capability is in hw, in sw, or in neither. */
struct inc_offloads {
  uint32_t hw; /* the PMD does it */
  uint32_t sw; /* Inception does it in software */
};

/**
 * Negotiates offloads from a PMD's capabilities (DPDK's RTE_ETH_RX_OFFLOAD_*
 * and RTE_ETH_TX_OFFLOAD_* bits, and whether it can spread flows by RSS).
 * A wanted capability the PMD lacks, or that deny refuses, falls back to
 * software where Inception has a fallback (all but RSS).
 * Thread: any (pure). RCU: none. Returns: 0, or -EINVAL if out is NULL.
 */
int inc_offload_negotiate(uint64_t rx_capa, uint64_t tx_capa, int rss_capa, uint32_t want,
                          uint32_t deny, struct inc_offloads *out);

/**
 * Writes "name=hw|sw|off ..." for every capability into buf (for logs).
 * Thread: any. RCU: none. Returns: buf.
 */
const char *inc_offload_describe(const struct inc_offloads *o, char *buf, unsigned len);

struct inc_port_config {
  /** A virtual device to create, e.g. "net_tap0,iface=tap0" (name, comma,
   * the PMD's arguments). NULL: use the existing port port_id. */
  const char *devargs;
  uint16_t port_id;
  /** RX/TX queue pairs: one per worker core (1 .. INC_DRV_MAX_QUEUES). */
  uint16_t n_queues;
  /** TX queues if not n_queues: a software wire end has one per receive
   * queue of its peer (wire.h); 0: n_queues. */
  uint16_t n_tx_queues;
  uint16_t rx_desc, tx_desc; /* 0: INC_DRV_RX_DESC / INC_DRV_TX_DESC */
  uint16_t mtu;              /* 0: INC_DRV_MTU */
  uint32_t offload_want;     /* 0: INC_OFFLOAD_ALL */
  uint32_t offload_deny;     /* PMD offloads refused: forces the software fallback */
  const uint8_t *rss_key;    /* NULL: inc_rss_symmetric_key */
  uint8_t rss_key_len;       /* 40 or 52; 0: what the PMD takes (40 if it does not say) */
  uint32_t mbufs;            /* per queue; 0: INC_DRV_MBUFS */
  uint32_t clones;           /* per queue; 0: INC_DRV_CLONES */
  int32_t large_mbufs;       /* per queue; 0: INC_DRV_LARGE_MBUFS, -1: none */
  int socket_id;             /* NUMA socket of pools; -1 (or 0 when unknown): the port's */
};

/* Where a pool's objects lie, to find the mbuf that holds an address
 * (zero-copy transmission of buffers lwIP only references). */
struct inc_port_pool_map {
  const struct rte_mempool *mp;
  uintptr_t first, end; /* object headers at first + k * stride, k < n */
  uint32_t stride;
  uint32_t hdr;         /* object header size: the mbuf starts hdr bytes into an object slot */
};

/* The capture switch of one queue: the control thread asks, the queue's
 * worker applies at its next poll (it owns the file). The two generations
 * are accessed with atomic builtins only (capture.c names the pairs); they
 * are plain integers here so that the header is C and C++ alike. */
struct inc_port_capture {
  uint32_t requested; /* generation asked; stored with release by the control thread */
  uint32_t applied;   /* generation applied; stored with release by the worker */
  uint8_t on;                 /* written before requested (see above) */
  char path[256];
};

struct inc_port_queue {
  struct rte_mempool *pool;   /* RX buffers and lwIP's buffers of this queue's core */
  struct rte_mempool *clones; /* indirect mbufs */
  struct rte_mempool *large;  /* large TCP segments, or NULL */
  struct inc_port_pool_map map[3];
  struct inc_port_capture capture;
} __attribute__((aligned(64)));

/** A port. The caller's memory (STYLE 7); filled by inc_port_init(). */
struct inc_port {
  uint16_t port_id;
  uint16_t n_queues;    /* RX queues, one per worker */
  uint16_t n_tx_queues; /* n_queues, or the peer's RX queues on a wire end */
  uint16_t mtu;
  uint8_t mac[6];
  char name[64];   /* the device name, e.g. "net_tap0" */
  char driver[32]; /* the PMD, e.g. "net_tap" */
  struct inc_offloads offloads;
  uint64_t rx_offloads, tx_offloads; /* DPDK bits configured on the device */
  /** How the receive queue of a flow is chosen: by the PMD (rss_hw) or, for
   * a software wire end, by the sender with this configuration. */
  struct inc_rss_conf rss;
  int rss_hw;
  /** The PMD counts the Ethernet header into the TSO segment size it checks
   * against the MTU (DPDK 22.11 net_tap): segments carry that much less. */
  uint8_t tso_counts_l2;
  int started;
  int vdev;               /* created by inc_port_init (removed by inc_port_close) */
  struct inc_wire *wire;  /* set by inc_wire_attach(): TX goes through the wire */
  uint8_t wire_side;
  struct inc_port_queue q[INC_DRV_MAX_QUEUES];
};

/**
 * Creates (devargs) or takes (port_id) a port, configures n_queues RX/TX
 * queue pairs, each with its own mbuf pools, RSS with the symmetric key and
 * its redirection table when the PMD can spread flows, the negotiated
 * offloads and the MTU. Logs the negotiation.
 * Thread: control plane, after inc_eal_init().
 * Ownership: port is the caller's; the pools are DPDK memory, freed by
 *   inc_port_close().
 * RCU: none.
 * Returns: 0; -ENODEV (no such PMD or port), -EINVAL (a bad value in cfg, or
 *   the PMD refused its arguments), -ERANGE (more queues than the PMD offers),
 *   -ENOMEM (no memory for pools), or the negative errno of a DPDK call. err
 *   (may be NULL) names the problem and the fix.
 */
int inc_port_init(struct inc_port *port, const struct inc_port_config *cfg,
                  struct inc_drv_err *err);

/**
 * Starts the port (and sets the RETA, which some PMDs only accept once
 * started). Thread: control plane. RCU: none. Returns: 0 or a negative errno (err).
 */
int inc_port_start(struct inc_port *port, struct inc_drv_err *err);

/**
 * Stops and closes the port, removes the vdev it created and frees its
 * pools. Every worker must have stopped using it, and every mbuf of its pools
 * must be back (lwIP's pbufs freed). Thread: control plane. RCU: none. Returns: 0 or a
 * negative errno.
 */
int inc_port_close(struct inc_port *port);

/**
 * mbufs of the port's pools (every queue's buffers, indirect mbufs and large
 * segments) that are not back in their pool: held by lwIP, an application,
 * a queue or a wire. With the port's stacks stopped and its software wire
 * drained (inc_wire_drain()), anything above the count before the stacks
 * started is a leak.
 * Thread: any (a snapshot: DPDK's counts of the pools and their per-lcore
 *   caches, exact once the workers have stopped). RCU: none.
 * Returns: the count (0 for NULL or a port without pools).
 */
unsigned inc_port_mbufs_in_use(const struct inc_port *port);

/** Applies to every queue of a port. */
#define INC_PORT_ALL_QUEUES 0xffffu

/**
 * Starts capturing a queue (or every queue) of a running port: the queue's
 * worker opens "<prefix>-p<port_id>-q<queue>.pcapng" at its next poll and
 * writes each frame it receives and sends, with its direction.
 * Thread: control plane; the workers apply it (inc_netif_poll()).
 * RCU: none. Returns: 0; -EINVAL (queue out of range, prefix too long), -EBUSY (the
 *   previous switch of that queue is not applied yet).
 */
int inc_port_capture_start(struct inc_port *port, uint16_t queue, const char *prefix,
                           struct inc_drv_err *err);

/**
 * Stops capturing a queue (or every queue): its worker closes the file at
 * its next poll. Thread: control plane. RCU: none. Returns: 0, -EINVAL, -EBUSY.
 */
int inc_port_capture_stop(struct inc_port *port, uint16_t queue);

/**
 * Waits until the workers applied the last switch of a queue (or of every
 * queue), polling every 100 µs for at most timeout_ms.
 * Thread: control plane. RCU: none. Returns: 0 or -ETIMEDOUT.
 */
int inc_port_capture_wait(struct inc_port *port, uint16_t queue, unsigned timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* INC_PORT_H */
