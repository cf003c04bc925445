/*
 * zc_peer: small lwIP raw-API endpoints for the zero-copy tests, in C so
 * that the tests' C++ files need no lwIP protocol headers next to DPDK's
 * (both define IP_DF, struct ip6_hdr, ...). Owner thread only.
 */
#ifndef INC_TEST_ZC_PEER_H
#define INC_TEST_ZC_PEER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct udp_pcb;
struct tcp_pcb;
struct pbuf;

/* A UDP receiver: checks each datagram against pattern(seed) and records
 * where the application read the first byte of the last one. */
struct zc_udp {
  struct udp_pcb *pcb;
  uint32_t seed;
  unsigned datagrams, corrupt;
  const void *read_at;
  uint16_t len;
};
int zc_udp_listen(struct zc_udp *u, uint16_t port, uint32_t seed);
/* Sends len bytes of pattern(seed) from a buffer the application takes from
 * the stack (pbuf_alloc(PBUF_TRANSPORT, PBUF_RAM)); *wrote_at: where it wrote. */
int zc_udp_send(uint32_t dst_ip_host, uint16_t port, uint16_t len, uint32_t seed, const void **wrote_at);
void zc_udp_close(struct zc_udp *u);
/* UDP datagrams this instance dropped for a wrong checksum (lwip_stats). */
uint64_t zc_udp_chkerr(void);

/* The MAC lwIP's ARP table of the calling thread's instance has for ip
 * (host order). Returns 0 or -1. */
int zc_arp_lookup(uint32_t ip_host, uint8_t mac[6]);

/* Some of lwIP's counters of the calling thread's instance. */
struct zc_lwip_stats {
  uint64_t etharp_recv, etharp_xmit, icmp_recv, icmp_xmit, tcp_recv, tcp_xmit, tcp_chkerr, udp_chkerr;
};
void zc_lwip_stats_get(struct zc_lwip_stats *out);

/* A TCP connection (either end) for exactly controlled writes. */
struct zc_tcp {
  struct tcp_pcb *listener, *pcb;
  int established;
  uint32_t seed;
  uint64_t received, sent;
  unsigned corrupt;
  const void *first_read_at;
  struct pbuf *held[16]; /* buffers written by reference, kept until acked */
  unsigned n_held;
  uint64_t acked;
};
int zc_tcp_listen(struct zc_tcp *t, uint16_t port, uint32_t seed);
int zc_tcp_connect(struct zc_tcp *t, uint32_t dst_ip_host, uint16_t port, uint32_t seed);
/* Writes len bytes of the stream by reference from a buffer taken from the
 * stack; *wrote_at: where the application wrote them. */
int zc_tcp_write_ref(struct zc_tcp *t, uint16_t len, const void **wrote_at);
/* Writes len bytes of the stream with TCP_WRITE_FLAG_COPY. */
int zc_tcp_write_copy(struct zc_tcp *t, uint16_t len);
/* Sends what is queued now. */
void zc_tcp_output(struct zc_tcp *t);
/* Retransmits everything unacknowledged now (lwIP's RTO path). */
void zc_tcp_rexmit(struct zc_tcp *t);
/* Buffers still held (not yet acknowledged). */
unsigned zc_tcp_held(const struct zc_tcp *t);
void zc_tcp_close(struct zc_tcp *t);
/* Aborts every TCP connection of the calling thread's instance (and drops
 * TIME-WAIT ones), so that lwIP holds no buffer any more. */
void zc_tcp_abort_all(void);

#ifdef __cplusplus
}
#endif

#endif
