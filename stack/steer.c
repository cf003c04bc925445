/*
 * Steering: every packet is processed by the core that owns its connection.
 *
 * RX (inc__steer_rx): the classifier says what a frame is. Flows go into the
 * local lwIP first: on the owner core (the common case: RSS put it there)
 * lwIP finds the pcb and nothing else happens. Only when lwIP finds no
 * connection does steering look the flow up (upstream-patches/0004, hook
 * below) and hand the packet to its owner, so a correctly hashed packet costs
 * no lookup. ICMP errors quote a flow but hash by addresses only: they are
 * looked up before lwIP. Fragments are reassembled where they land; the whole
 * packet then meets the same hook.
 * ARP replies and ND advertisements are copied to every core, so one core's
 * resolution serves all; requests for a target one core has just asked for
 * are not sent again by the others (linkoutput wrapper).
 * Active opens choose ephemeral ports whose reply hashes to the opening core
 * (upstream-patches/0002).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "inception/rss.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "stack_priv.h"

#define ETHTYPE_ARP_BE_HI 0x08
#define ARP_OP_REPLY 2
#define ND_NS 135
#define ND_NA 136
#define ND_RA 134
#define ND_REDIRECT 137

static unsigned port_index_of_netif(const struct inc_worker *w, const struct netif *netif)
{
  unsigned p;
  for (p = 0; p < w->stack->cfg.n_ports; p++) {
    if (&w->nif[p].netif == netif) {
      return p;
    }
  }
  return INC_STACK_MAX_PORTS;
}

static int port_index_of_addr(const struct inc_worker *w, const ip_addr_t *local)
{
  unsigned p;
  for (p = 0; p < w->stack->cfg.n_ports; p++) {
    struct netif *nif = (struct netif *)(uintptr_t)&w->nif[p].netif; /* lwIP takes it non-const */
    if (IP_IS_V4(local) ? ip4_addr_cmp(ip_2_ip4(local), netif_ip4_addr(nif))
                        : netif_get_ip6_addr_match(nif, ip_2_ip6(local)) >= 0) {
      return (int)p;
    }
  }
  return -1;
}

/* ---- ephemeral ports of active opens (upstream-patches/0002) ----------- */

/* Would a reply from remote:rport to local:lport reach this core? */
int inc__port_ok(struct inc_worker *w, const ip_addr_t *local, const ip_addr_t *remote, uint16_t rport,
                 uint16_t lport, uint8_t proto)
{
  int p = port_index_of_addr(w, local);
  const struct inc_port *port;
  struct inc_rss_tuple t;

  if (p < 0) {
    return 1; /* not one of our addresses: lwIP routes it elsewhere, any port */
  }
  port = w->stack->cfg.ports[p].port;
  if (!port->rss_hw && port->wire == NULL) {
    /* nobody hashes our way (e.g. the kernel's tap queue choice): steering
     * does the work; partition the ports so that cores never pick the same
     * 4-tuple at the same time */
    return lport % w->stack->cfg.workers == w->index;
  }
  memset(&t, 0, sizeof(t));
  t.l4 = 1;
  t.proto = proto;
  t.sport = rport;
  t.dport = lport;
  if (IP_IS_V4(remote)) {
    t.family = 4;
    memcpy(t.src, &ip_2_ip4(remote)->addr, 4);
    memcpy(t.dst, &ip_2_ip4(local)->addr, 4);
  } else {
    t.family = 6;
    memcpy(t.src, ip_2_ip6(remote)->addr, 16);
    memcpy(t.dst, ip_2_ip6(local)->addr, 16);
  }
  return inc_rss_queue(&port->rss, inc_rss_conf_hash(&port->rss, &t)) == w->index;
}

static int tcp_port_ok(void *ctx, const struct tcp_pcb *pcb, uint16_t port)
{
  if (pcb->remote_port == 0) {
    return 1; /* tcp_bind(): the remote end is not known yet */
  }
  return inc__port_ok((struct inc_worker *)ctx, &pcb->local_ip, &pcb->remote_ip, pcb->remote_port, port, IP_PROTO_TCP);
}

static int udp_port_ok(void *ctx, const struct udp_pcb *pcb, uint16_t port)
{
  const ip_addr_t *local = &pcb->local_ip;
  if (pcb->remote_port == 0) {
    return 1; /* udp_bind(): the remote end is not known yet */
  }
  if (ip_addr_isany(local)) {
    /* udp_connect() of an unbound pcb: the reply comes back to the address
     * udp_send() will send from (the route's, as udp_sendto() chooses it) */
    struct netif *nif = ip_route(local, &pcb->remote_ip);
    if (nif == NULL || (local = ip_netif_get_local_ip(nif, &pcb->remote_ip)) == NULL) {
      return 1; /* no route: udp_send() fails anyway */
    }
  }
  return inc__port_ok((struct inc_worker *)ctx, local, &pcb->remote_ip, pcb->remote_port, port, IP_PROTO_UDP);
}

/* ---- handing packets to their owner ------------------------------------ */

static int send_to(struct inc_worker *w, unsigned dst, void *ptr, uint32_t arg)
{
  struct inc_msg m = inc_msg_packet(ptr, arg);
  int rc = inc_chan_send(w->stack->mesh, w->index, dst, &m);
  if (rc < 0) {
    INC__CNT_ADD(w, ring_full, 1);
    INC__CNT_ADD(w, drops[INC_DROP_RING_FULL], 1);
  }
  return rc;
}

/* Moves p->payload back over the TCP and IP headers (hlen bytes) and says
 * whether p is then the whole IP packet: the headers contiguous in the first
 * buffer, right in front of the TCP header, and (IPv4) the length the IP
 * header gives.
 * IPv6 is checked by content, and its payload length set from the packet:
 * after ip6_reass() (lwIP 2.1.3) ip6_current_header() still points at the
 * last fragment's header (ip6_input() updates only its local pointer to the
 * reassembled header), and the reassembled header's payload length is 8
 * bytes short (ip6_reass() counts from the fragment header it removed
 * rather than from behind it); lwIP itself reads neither afterwards, but
 * the owner's ip6_input() would cut the packet to that length. */
static int restorable(struct pbuf *p, const struct tcp_hdr *tcphdr, uint16_t hlen)
{
  const uint8_t *ip;
  if (pbuf_add_header_force(p, hlen) != 0) {
    return 0;
  }
  ip = (const uint8_t *)p->payload;
  if (p->len < hlen || ip + ip_current_header_tot_len() != (const uint8_t *)tcphdr) {
    return 0;
  }
  if (ip_current_is_v6()) {
    struct ip6_hdr *h6 = (struct ip6_hdr *)p->payload;
    if (IP6H_V(h6) != 6 || p->tot_len < IP6_HLEN || memcmp(&h6->src, ip6_current_src_addr()->addr, 16) != 0 ||
        memcmp(&h6->dest, ip6_current_dest_addr()->addr, 16) != 0) {
      return 0;
    }
    IP6H_PLEN_SET(h6, (u16_t)(p->tot_len - IP6_HLEN)); /* not covered by the TCP checksum */
    return 1;
  }
  return p->payload == (const void *)ip4_current_header() &&
         p->tot_len == lwip_ntohs(IPH_LEN(ip4_current_header()));
}

/* A TCP segment lwIP found no connection for (upstream-patches/0004).
 * tcp_input() has turned the ports, sequence numbers and window of tcphdr to
 * host byte order in place. */
static int tcp_no_conn(void *ctx, struct pbuf *p, const struct tcp_hdr *tcphdr, struct netif *inp)
{
  struct inc_worker *w = (struct inc_worker *)ctx;
  unsigned pi = port_index_of_netif(w, inp);
  struct inc_flow_key key;
  uint16_t hlen;
  int owner;

  if (pi == INC_STACK_MAX_PORTS) {
    return 0;
  }
  if (ip_current_is_v6()) {
    inc_flow_key_v6(&key, IP_PROTO_TCP, w->stack->cfg.ports[pi].port->port_id,
                    (const uint8_t *)ip6_current_dest_addr()->addr, tcphdr->dest,
                    (const uint8_t *)ip6_current_src_addr()->addr, tcphdr->src);
  } else {
    inc_flow_key_v4(&key, IP_PROTO_TCP, w->stack->cfg.ports[pi].port->port_id,
                    ip4_addr_get_u32(ip4_current_dest_addr()), tcphdr->dest,
                    ip4_addr_get_u32(ip4_current_src_addr()), tcphdr->src);
  }
  owner = inc_flow_lookup(w->stack->flows, &key);
  if (owner < 0 || (unsigned)owner == w->index) {
    INC__CNT_ADD(w, unowned, 1);
    return 0; /* no core owns it (or this one, without a pcb): lwIP answers */
  }
  /* give the owner the whole IP packet: put the headers back in front */
  hlen = (uint16_t)(TCPH_HDRLEN_BYTES(tcphdr) + ip_current_header_tot_len());
  if (!restorable(p, tcphdr, hlen)) {
    /* lwIP had to split the TCP header across buffers: drop; the sender
     * retransmits */
    INC__CNT_ADD(w, drops[INC_DROP_UNRESTORABLE], 1);
    pbuf_free(p);
    return 1;
  }
  {
    /* the segment is ours now: give the owner's tcp_input() the header as it
     * came off the wire (the checksum covers it) */
    struct tcp_hdr *h = (struct tcp_hdr *)(uintptr_t)tcphdr;
    h->src = lwip_htons(h->src);
    h->dest = lwip_htons(h->dest);
    h->seqno = lwip_htonl(h->seqno);
    h->ackno = lwip_htonl(h->ackno);
    h->wnd = lwip_htons(h->wnd);
  }
  inc__steer_handoff_ip(w, (unsigned)owner, pi, p);
  return 1;
}

int inc__steer_handoff_ip(struct inc_worker *w, unsigned owner, unsigned pi, struct pbuf *p)
{
  if (send_to(w, owner, p, INC__PKT_IP | (pi << INC__PKT_PORT_SHIFT)) < 0) {
    pbuf_free(p);
    return -ENOBUFS;
  }
  INC__CNT_ADD(w, steered_out, 1);
  return 0;
}

/* ---- ARP/ND: one resolution for all cores, one request at a time -------- */

static uint32_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* Returns 1 if another core asked for target within INC__ARP_HOLD_MS. */
static int request_suppressed(struct inc_stack *s, uint32_t target)
{
  _Atomic uint64_t *slot = &s->arp_slots[(target * 2654435761u) >> 24 & (INC__ARP_SLOTS - 1)];
  uint32_t now = now_ms();
  /* relaxed: a hint; a lost race sends one request more, never fewer */
  uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
  if ((uint32_t)(v >> 32) == target && (uint32_t)(now - (uint32_t)v) < INC__ARP_HOLD_MS) {
    return 1;
  }
  atomic_store_explicit(slot, ((uint64_t)target << 32) | now, memory_order_relaxed);
  return 0;
}

static uint32_t fold(const uint8_t *b, unsigned n)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  unsigned i;
  for (i = 0; i < n; i++) {
    h = (h ^ b[i]) * 16777619u;
  }
  return h;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
  struct inc_lwip_instance *inst = inc_lwip_instance_self();
  struct inc_worker *w = (struct inc_worker *)inst->ctx;
  unsigned pi = port_index_of_netif(w, netif);
  const uint8_t *f = (const uint8_t *)p->payload;
  uint32_t target = 0;

  if (p->len >= 42 && f[12] == ETHTYPE_ARP_BE_HI && f[13] == 0x06 && f[21] == 1) {
    memcpy(&target, f + 38, 4); /* ARP request: the target protocol address */
  } else if (p->len >= 78 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 58 && f[54] == ND_NS) {
    target = fold(f + 62, 16) | 1u; /* neighbour solicitation: the target address */
  }
  if (target != 0 && request_suppressed(w->stack, target)) {
    INC__CNT_ADD(w, arp_suppressed, 1);
    return ERR_OK;
  }
  return w->drv_linkoutput[pi](netif, p);
}

void inc__steer_wrap_netif(struct inc_worker *w, unsigned port_idx)
{
  w->drv_linkoutput[port_idx] = w->nif[port_idx].netif.linkoutput;
  w->nif[port_idx].netif.linkoutput = linkoutput;
}

static int shares_resolution(const uint8_t *f, uint32_t cap, const struct inc_pkt_class *c)
{
  if (c->kind == INC_PKT_ARP) {
    return f[21] == ARP_OP_REPLY;
  }
  if (c->kind == INC_PKT_ND && c->l4_off < cap) {
    uint8_t type = f[c->l4_off];
    return type == ND_NA || type == ND_RA || type == ND_REDIRECT;
  }
  return 0;
}

static void share(struct inc_worker *w, unsigned pi, struct rte_mbuf *m)
{
  struct rte_mempool *mp = w->stack->cfg.ports[pi].port->q[w->index].pool;
  unsigned j;
  for (j = 0; j < w->stack->cfg.workers; j++) {
    struct rte_mbuf *c;
    if (j == w->index) {
      continue;
    }
    c = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);
    if (c == NULL) {
      INC__CNT_ADD(w, drops[INC_DROP_INPUT], 1);
      continue;
    }
    if (send_to(w, j, c, INC__PKT_FRAME | INC__PKT_SHARED | (pi << INC__PKT_PORT_SHIFT)) < 0) {
      rte_pktmbuf_free(c);
      continue;
    }
    INC__CNT_ADD(w, arp_shared_out, 1);
  }
}

static void input_local(struct inc_worker *w, unsigned pi, struct rte_mbuf *m)
{
  if (inc_netif_input(&w->nif[pi], m) != 0) {
    INC__CNT_ADD(w, drops[INC_DROP_INPUT], 1);
  }
}

void inc__steer_rx(struct inc_worker *w, unsigned pi, struct rte_mbuf *m)
{
  struct inc_pkt_class c;
  const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
  uint32_t cap = rte_pktmbuf_data_len(m); /* the first segment: where the headers are */
  int owner;

  switch (inc__classify(f, cap, rte_pktmbuf_pkt_len(m), w->stack->cfg.ports[pi].port->port_id, &c)) {
  case INC_PKT_MALFORMED:
    INC__CNT_ADD(w, drops[INC_DROP_MALFORMED], 1);
    INC__CNT_ADD(w, malformed[c.bad < 16 ? c.bad : 15], 1);
    rte_pktmbuf_free(m);
    return;
  case INC_PKT_ARP:
  case INC_PKT_ND:
    if (w->stack->cfg.workers > 1 && shares_resolution(f, cap, &c)) {
      share(w, pi, m);
    }
    break;
  case INC_PKT_ICMP_ERROR:
    owner = inc_flow_lookup(w->stack->flows, &c.key);
    if (owner >= 0 && (unsigned)owner != w->index) {
      if (send_to(w, (unsigned)owner, m, INC__PKT_FRAME | (pi << INC__PKT_PORT_SHIFT)) < 0) {
        rte_pktmbuf_free(m);
        return;
      }
      INC__CNT_ADD(w, steered_out, 1);
      INC__CNT_ADD(w, steered_icmp, 1);
      return;
    }
    break;
  default:
    break;
  }
  input_local(w, pi, m);
}

void inc__steer_msg(struct inc_worker *w, const struct inc_msg *msg)
{
  unsigned pi = (msg->arg >> INC__PKT_PORT_SHIFT) & 0xffu;
  if (msg->type != INC_MSG_PACKET || pi >= w->stack->cfg.n_ports) {
    return;
  }
  if ((msg->arg & INC__PKT_KIND_MASK) == INC__PKT_IP) {
    struct pbuf *p = (struct pbuf *)msg->ptr;
    INC__CNT_ADD(w, steered_in, 1);
    /* ip_input() consumes p whatever happens to it */
    ip_input(p, &w->nif[pi].netif);
    return;
  }
  if (msg->arg & INC__PKT_SHARED) {
    INC__CNT_ADD(w, arp_shared_in, 1);
  } else {
    INC__CNT_ADD(w, steered_in, 1);
  }
  input_local(w, pi, (struct rte_mbuf *)msg->ptr);
}

void inc__steer_msg_discard(const struct inc_msg *msg)
{
  if (msg->type != INC_MSG_PACKET) {
    return;
  }
  if ((msg->arg & INC__PKT_KIND_MASK) == INC__PKT_IP) {
    pbuf_free((struct pbuf *)msg->ptr);
  } else {
    rte_pktmbuf_free((struct rte_mbuf *)msg->ptr);
  }
}

void inc__steer_init(struct inc_worker *w)
{
  w->lwip.ctx = w;
  w->lwip.tcp_port_ok = tcp_port_ok;
  w->lwip.udp_port_ok = udp_port_ok;
  w->lwip.tcp_no_conn = tcp_no_conn;
  /* UDP: connected UDP pcbs are not tracked in the flow table yet, so an
   * unmatched datagram has no owner to find: lwIP answers as usual. */
  w->lwip.udp_no_conn = NULL;
}
