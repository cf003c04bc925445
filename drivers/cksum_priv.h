/*
 * Internet checksums over mbuf chains (RFC 1071), correct for segments of
 * any length. DPDK 22.11's rte_raw_cksum_mbuf() (and so
 * rte_ipv4_udptcp_cksum_mbuf()) sums a segment that starts at an odd offset
 * of the region without swapping it: a chain with an odd-length segment gets
 * a wrong checksum (tests/unit/drivers_cksum_test.cc shows it). Zero-copy
 * chains have such segments all the time (a TCP segment made of the tails of
 * application buffers), so the driver uses these instead.
 * Pure: reads mbuf fields and data, no EAL needed.
 */
#ifndef INC_DRIVERS_CKSUM_PRIV_H
#define INC_DRIVERS_CKSUM_PRIV_H

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;

#ifdef __cplusplus
extern "C" {
#endif

/* The one's-complement sum of len bytes at buf, folded to 16 bits, not
 * complemented: the same value as DPDK's rte_raw_cksum() (in its byte order,
 * 0 only for all-zero data), several times faster on more than a few words. */
uint16_t inc__cksum_raw(const void *buf, size_t len);

/* The one's-complement sum (folded to 16 bits, not complemented, in the
 * byte order of rte_raw_cksum()) of len bytes of chain m from offset off.
 * Returns 0 and the sum in *sum, or -1 if the chain is shorter. */
int inc__cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum);

/* The TCP/UDP checksum to put in the header of the IPv4 (v4 = 1) or IPv6
 * packet whose IP header is ip and whose transport header starts at l4_off
 * of chain m (its checksum field must be 0). */
uint16_t inc__l4_cksum(const struct rte_mbuf *m, const void *ip, int v4, uint32_t l4_off);

#ifdef __cplusplus
}
#endif

#endif
