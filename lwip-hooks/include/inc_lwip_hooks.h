/*
 * Inception's redirection of lwIP's hooks (LWIP_HOOK_FILENAME).
 *
 * Every hook here is an upstream lwIP hook or one added by a patch in
 * upstream-patches/ (each documented in lwIP's opt.h), pointed at Inception's
 * implementation in lwip-hooks/. lwIP includes this file from its .c files
 * only, after its own headers, so lwIP's types are known here.
 */
#ifndef INC_LWIP_HOOKS_H
#define INC_LWIP_HOOKS_H

#include "lwip/opt.h" /* lwipopts.h first, then lwIP's defaults */
#include "lwip/ip_addr.h"

struct tcp_pcb;
struct udp_pcb;
struct pbuf;
struct tcp_hdr;
struct udp_hdr;
struct netif;

#ifdef __cplusplus
extern "C" {
#endif

/* lwip-hooks/instance.c */
int inc__lwip_tcp_local_port_ok(const struct tcp_pcb *pcb, u16_t port);
int inc__lwip_udp_local_port_ok(const struct udp_pcb *pcb, u16_t port);
u32_t inc__lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                        u16_t remote_port);
int inc__lwip_tcp_no_conn(struct pbuf *p, const struct tcp_hdr *tcphdr, struct netif *inp);
int inc__lwip_udp_no_conn(struct pbuf *p, const struct udp_hdr *udphdr, struct netif *inp);
int inc__lwip_ip_input(struct pbuf *p, struct netif *inp);

/* lwip-hooks/bufs.c (the pool type is passed as int: memp_t is not known in
 * every file that includes this header) */
void *inc__lwip_memp_malloc(int type);
void inc__lwip_memp_free(int type, void *mem);
u16_t inc__lwip_tcp_seg_maxlen(const struct tcp_pcb *pcb, u16_t mss_len);

#ifdef __cplusplus
}
#endif

/* lwIP's own ISN hook: RFC 6528 initial sequence numbers (lwip-hooks/isn.c)
 * instead of lwIP's predictable default. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
  inc__lwip_tcp_isn((local_ip), (local_port), (remote_ip), (remote_port))

/* upstream-patches/0002: the ephemeral port of an active open is chosen so
 * that the reply's RSS hash lands on the opening core (stack/ installs the
 * policy; without one every free port is accepted, as in plain lwIP). */
#define LWIP_HOOK_TCP_LOCAL_PORT(pcb, port) inc__lwip_tcp_local_port_ok((pcb), (port))
#define LWIP_HOOK_UDP_LOCAL_PORT(pcb, port) inc__lwip_udp_local_port_ok((pcb), (port))

/* upstream-patches/0004: a packet that reaches an instance that does not own
 * its connection is handed to the owner (stack/ steering) before lwIP answers
 * with a RST or ICMP; without a policy lwIP answers as usual. */
#define LWIP_HOOK_TCP_INPUT_NO_CONN(p, tcphdr, inp) inc__lwip_tcp_no_conn((p), (tcphdr), (inp))
#define LWIP_HOOK_UDP_INPUT_NO_CONN(p, udphdr, inp) inc__lwip_udp_no_conn((p), (udphdr), (inp))

/* lwIP's own IP input hooks (upstream since 2.0, no patch): every received
 * IPv4/IPv6 packet is offered to the instance's IP input policy first
 * (api/filter.c's UDP packet filters); without one lwIP goes on as usual. */
#define LWIP_HOOK_IP4_INPUT(p, inp) inc__lwip_ip_input((p), (inp))
#define LWIP_HOOK_IP6_INPUT(p, inp) inc__lwip_ip_input((p), (inp))

/* upstream-patches/0003: PBUF_POOL elements come from the thread's buffer
 * provider (DPDK mbufs, drivers/), every other pool from lwIP's own per-thread
 * pools; without a provider, all from lwIP's pools (inc_lwip_bufs.h). */
#define LWIP_HOOK_MEMP_MALLOC(type) inc__lwip_memp_malloc((int)(type))
#define LWIP_HOOK_MEMP_FREE(type, mem) inc__lwip_memp_free((int)(type), (mem))

/* upstream-patches/0005: TCP segments larger than the MSS when the netif
 * segments them (TSO, or GSO in software); the provider decides, without one
 * lwIP segments at the MSS as usual. */
#define LWIP_HOOK_TCP_OUT_SEG_MAXLEN(pcb, mss_len) inc__lwip_tcp_seg_maxlen((pcb), (mss_len))

#endif /* INC_LWIP_HOOKS_H */
