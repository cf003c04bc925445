/*
 * The counters of one netif (inception/netif.h), apart from the netif
 * itself so that an application reads them without lwIP's headers
 * (inc_worker_netif_counters(), inception/stack.h).
 *
 * Thread: written by the netif's owner thread only (plain stores): read them
 * on that thread, or once the owner is known to be done (joined).
 */
#ifndef INC_NETIF_COUNTERS_H
#define INC_NETIF_COUNTERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Counters of one netif. Written by its owner thread only. */
struct inc_netif_counters {
  /* receive */
  uint64_t rx_frames;        /* frames rx_burst returned */
  uint64_t rx_packets;       /* packets given to lwIP (a coalesced one counts once) */
  uint64_t rx_bytes;         /* bytes given to lwIP */
  uint64_t rx_runt;          /* dropped: shorter than an Ethernet header */
  uint64_t rx_bad_l3;        /* dropped: truncated or malformed IPv4/IPv6 header */
  uint64_t rx_bad_ip_cksum;  /* dropped: IPv4 header checksum wrong */
  uint64_t rx_bad_l4_cksum;  /* dropped: TCP or UDP checksum wrong */
  uint64_t rx_cksum_hw;      /* checksums the PMD verified */
  uint64_t rx_cksum_sw;      /* checksums verified in software */
  uint64_t rx_gro_merged;    /* frames coalesced into others (rte_gro) */
  uint64_t rx_copied;        /* frames copied (their mbuf had no room for a pbuf) */
  uint64_t rx_nomem;         /* dropped: no mbuf for a copy */
  uint64_t rx_too_long;      /* dropped: longer than an lwIP packet (64 KiB) */
  /* transmit */
  uint64_t tx_packets;       /* frames handed to the queue (or the wire) */
  uint64_t tx_bytes;
  uint64_t tx_dropped;       /* the queue stayed full: dropped (TCP retransmits) */
  uint64_t tx_nomem;         /* no mbuf for a header or a reference: lwIP told ERR_MEM */
  uint64_t tx_hdr_copied;    /* header bytes copied into header mbufs */
  uint64_t tx_small_copied;  /* bytes of frames short enough to copy whole */
  uint64_t tx_payload_copied;/* payload bytes copied: they were in no mbuf */
  uint64_t tx_payload_ref;   /* payload bytes sent by reference (zero copy) */
  uint64_t tx_direct_refs;   /* payload segments sent as the mbuf itself */
  uint64_t tx_clone_refs;    /* payload segments sent as an indirect mbuf */
  uint64_t tx_cksum_hw;      /* packets whose checksums the PMD computes */
  uint64_t tx_cksum_sw;      /* packets whose checksums were computed in software */
  uint64_t tx_tso;           /* large segments given to the PMD's TSO */
  uint64_t tx_gso;           /* large segments cut by rte_gso */
  uint64_t tx_gso_segs;      /* segments rte_gso made */
  uint64_t tx_linearized;    /* chains copied into one mbuf (PMD without MULTI_SEGS) */
  /* capture */
  uint64_t cap_written;      /* frames written to the capture file */
  uint64_t cap_errors;       /* capture files that failed to open or write */
};

#ifdef __cplusplus
}
#endif

#endif /* INC_NETIF_COUNTERS_H */
