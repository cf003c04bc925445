/* stack_ops6: see stack_ops6.h. Frames follow RFC 8200 (IPv6, fragment
 * header 4.5), RFC 9293 (TCP) and RFC 4443 (ICMPv6 errors). */
#include "stack_ops6.h"

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "inception/port.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "stack_priv.h"

#define ETH_HLEN 14u
#define IP6_HLEN_ 40u
#define FRAG_HLEN 8u
#define TCP_HLEN_ 20u
#define FRAME_MAX 512u

static unsigned core_of(struct inc_worker *w)
{
  return w != NULL ? inc_worker_index(w) : ~0u;
}

static void wr16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
  wr16(p, (uint16_t)(v >> 16));
  wr16(p + 2, (uint16_t)v);
}

/* RFC 1071 sum of the IPv6 pseudo-header (RFC 8200 8.1) and the data. */
static uint16_t cksum6(const uint8_t src[16], const uint8_t dst[16], uint8_t nh, const uint8_t *data,
                       uint32_t len)
{
  uint32_t sum = 0, i;
  for (i = 0; i < 16; i += 2) {
    sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
  }
  sum += len >> 16;
  sum += len & 0xffffu;
  sum += nh;
  for (i = 0; i + 1 < len; i += 2) {
    sum += (uint32_t)(data[i] << 8 | data[i + 1]);
  }
  if (len & 1u) {
    sum += (uint32_t)data[len - 1] << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffffu) + (sum >> 16);
  }
  return (uint16_t)~sum;
}

static unsigned eth_ip6(struct inc_worker *w, uint8_t *f, const uint8_t src[16], const uint8_t dst[16],
                        uint8_t nh, uint32_t plen)
{
  static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x66, 0x01};
  memcpy(f, w->stack->cfg.ports[0].port->mac, 6);
  memcpy(f + 6, peer_mac, 6);
  wr16(f + 12, 0x86dd);
  f += ETH_HLEN;
  memset(f, 0, IP6_HLEN_);
  f[0] = 0x60;
  wr16(f + 4, (uint16_t)plen);
  f[6] = nh;
  f[7] = 64;
  memcpy(f + 8, src, 16);
  memcpy(f + 24, dst, 16);
  return ETH_HLEN + IP6_HLEN_;
}

/* Gives a frame to this worker's receive path, as its queue would. */
static int rx(struct inc_worker *w, const uint8_t *f, unsigned len)
{
  struct rte_mbuf *m = rte_pktmbuf_alloc(w->stack->cfg.ports[0].port->q[w->index].pool);
  char *d;
  if (m == NULL) {
    return -ENOMEM;
  }
  d = rte_pktmbuf_append(m, (uint16_t)len);
  if (d == NULL) {
    rte_pktmbuf_free(m);
    return -ENOSPC;
  }
  memcpy(d, f, len);
  inc__steer_rx(w, 0, m);
  return 0;
}

static void tcp_seg(uint8_t *t, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                    unsigned payload_len)
{
  unsigned i;
  memset(t, 0, TCP_HLEN_);
  wr16(t, sport);
  wr16(t + 2, dport);
  wr32(t + 4, seq);
  wr32(t + 8, ack);
  t[12] = (TCP_HLEN_ / 4) << 4;
  t[13] = flags;
  wr16(t + 14, 65535);
  for (i = 0; i < payload_len; i++) {
    t[TCP_HLEN_ + i] = (uint8_t)(0xa5 ^ i);
  }
}

int ops6_inject_tcp(struct inc_worker *w, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
                    uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, unsigned payload_len,
                    unsigned fragments)
{
  uint8_t seg[FRAME_MAX], f[FRAME_MAX];
  uint32_t tlen = TCP_HLEN_ + payload_len;
  uint16_t ck;
  unsigned h;
  if (tlen + ETH_HLEN + IP6_HLEN_ + FRAG_HLEN > FRAME_MAX || (fragments != 0 && fragments != 2) ||
      (fragments == 2 && payload_len < 5)) {
    return -EINVAL;
  }
  tcp_seg(seg, sport, dport, flags, seq, ack, payload_len);
  ck = cksum6(src, dst, IP_PROTO_TCP, seg, tlen);
  wr16(seg + 16, ck);
  if (fragments == 0) {
    h = eth_ip6(w, f, src, dst, IP_PROTO_TCP, tlen);
    memcpy(f + h, seg, tlen);
    return rx(w, f, h + tlen);
  }
  {
    /* two fragments: [0, 24) with M set, [24, tlen) at offset 3 (8-octet units) */
    const uint32_t first = 24, ident = 0x51000000u ^ seq;
    int rc;
    h = eth_ip6(w, f, src, dst, 44, FRAG_HLEN + first);
    memset(f + h, 0, FRAG_HLEN);
    f[h] = IP_PROTO_TCP;
    wr16(f + h + 2, (uint16_t)(0 << 3 | 1)); /* offset 0, M = 1 */
    wr32(f + h + 4, ident);
    memcpy(f + h + FRAG_HLEN, seg, first);
    rc = rx(w, f, h + FRAG_HLEN + first);
    if (rc != 0) {
      return rc;
    }
    h = eth_ip6(w, f, src, dst, 44, FRAG_HLEN + tlen - first);
    memset(f + h, 0, FRAG_HLEN);
    f[h] = IP_PROTO_TCP;
    wr16(f + h + 2, (uint16_t)((first / 8) << 3)); /* M = 0: the last */
    wr32(f + h + 4, ident);
    memcpy(f + h + FRAG_HLEN, seg + first, tlen - first);
    return rx(w, f, h + FRAG_HLEN + tlen - first);
  }
}

int ops6_inject_icmp_error(struct inc_worker *w, uint8_t type, uint8_t code, const uint8_t router[16],
                           const uint8_t local[16], uint16_t lport, const uint8_t remote[16], uint16_t rport)
{
  uint8_t f[FRAME_MAX];
  uint8_t *icmp, *q;
  const uint32_t qlen = IP6_HLEN_ + TCP_HLEN_, ilen = 8 + qlen;
  unsigned h = eth_ip6(w, f, router, local, 58, ilen);
  icmp = f + h;
  memset(icmp, 0, 8);
  icmp[0] = type;
  icmp[1] = code;
  if (type == 2) {
    wr32(icmp + 4, 1280); /* packet too big: the MTU (RFC 4443 3.2) */
  }
  q = icmp + 8; /* the quoted packet: one we sent */
  memset(q, 0, IP6_HLEN_);
  q[0] = 0x60;
  wr16(q + 4, TCP_HLEN_);
  q[6] = IP_PROTO_TCP;
  q[7] = 64;
  memcpy(q + 8, local, 16);
  memcpy(q + 24, remote, 16);
  tcp_seg(q + IP6_HLEN_, lport, rport, TCP_SYN, 1, 0, 0);
  wr16(icmp + 2, cksum6(router, local, 58, icmp, ilen));
  return rx(w, f, h + ilen);
}

/* ---- active opens --------------------------------------------------------- */


static void on_err(void *arg, err_t err)
{
  struct ops6_conn *c = (struct ops6_conn *)arg;
  c->pcb = NULL; /* lwIP has freed it */
  c->err = err < 0 ? err : -100;
  c->err_core = core_of(inc_worker_self());
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct ops6_conn *c = (struct ops6_conn *)arg;
  (void)pcb;
  c->err = err == ERR_OK ? 1 : err;
  c->err_core = core_of(inc_worker_self());
  return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct ops6_conn *c = (struct ops6_conn *)arg;
  (void)err;
  if (p == NULL) {
    return ERR_OK; /* the peer's FIN */
  }
  if (c->rx_len < sizeof(c->rx)) {
    u16_t room = (u16_t)(sizeof(c->rx) - c->rx_len);
    pbuf_copy_partial(p, c->rx + c->rx_len, p->tot_len < room ? p->tot_len : room, 0);
  }
  c->rx_len += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  (void)arg;
  (void)pcb;
  return err == ERR_OK ? ERR_OK : ERR_VAL; /* keep it; lwIP's tcp_recv_null takes its data */
}

int ops6_listen(struct inc_worker *w, uint16_t port)
{
  struct tcp_pcb *p = tcp_new_ip_type(IPADDR_TYPE_V6), *l;
  (void)w;
  if (p == NULL) {
    return -ENOMEM;
  }
  if (tcp_bind(p, IP6_ADDR_ANY, port) != ERR_OK) {
    tcp_close(p);
    return -EADDRINUSE;
  }
  l = tcp_listen(p);
  if (l == NULL) {
    tcp_close(p);
    return -ENOMEM;
  }
  tcp_accept(l, on_accept);
  return 0;
}

int ops6_open(struct inc_worker *w, const uint8_t remote[16], uint16_t rport, struct ops6_conn *c)
{
  ip_addr_t r;
  int rc;
  struct tcp_pcb *p = tcp_new_ip_type(IPADDR_TYPE_V6);
  if (p == NULL) {
    return -ENOMEM;
  }
  memset(c, 0, sizeof(*c));
  memset(&r, 0, sizeof(r));
  IP_SET_TYPE_VAL(r, IPADDR_TYPE_V6);
  memcpy(ip_2_ip6(&r)->addr, remote, 16);
  ip6_addr_clear_zone(ip_2_ip6(&r));
  tcp_arg(p, c);
  tcp_err(p, on_err);
  tcp_recv(p, on_recv);
  rc = inc__tcp_connect(w, p, &r, rport, on_connected);
  if (rc != 0) {
    tcp_err(p, NULL);
    tcp_abort(p);
    return rc;
  }
  c->pcb = p;
  c->lport = p->local_port;
  memcpy(c->local, ip_2_ip6(&p->local_ip)->addr, 16);
  c->snd_nxt = p->snd_nxt;
  c->state = p->state;
  return 0;
}

int ops6_poll(struct inc_worker *w, struct ops6_conn *c)
{
  (void)w;
  if (c->pcb != NULL) {
    c->state = c->pcb->state;
    c->snd_nxt = c->pcb->snd_nxt;
    c->rcv_nxt = c->pcb->rcv_nxt;
  } else {
    c->state = CLOSED;
  }
  return c->err;
}

int ops6_abort(struct inc_worker *w, struct ops6_conn *c)
{
  (void)w;
  if (c->pcb != NULL) {
    tcp_arg(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    tcp_abort(c->pcb);
    c->pcb = NULL;
  }
  return 0;
}

int ops6_owner(struct inc_worker *w, const uint8_t local[16], uint16_t lport, const uint8_t remote[16],
               uint16_t rport)
{
  struct inc_flow_key k;
  inc_flow_key_v6(&k, IP_PROTO_TCP, w->stack->cfg.ports[0].port->port_id, local, lport, remote, rport);
  return inc_flow_lookup(w->stack->flows, &k);
}

/* ---- UDP -------------------------------------------------------------------- */

static uint8_t udp_pattern(uint16_t port, unsigned i)
{
  return (uint8_t)(0x5a ^ i ^ port ^ (port >> 8));
}

static void echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct pbuf *q = pbuf_alloc(PBUF_TRANSPORT, p->tot_len, PBUF_RAM);
  (void)arg;
  if (q != NULL) {
    pbuf_copy(q, p);
    udp_sendto(pcb, q, addr, port);
    pbuf_free(q);
  }
  pbuf_free(p);
}

int ops6_udp_echo(struct inc_worker *w, uint16_t port, struct udp_pcb **out)
{
  struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V6);
  (void)w;
  if (pcb == NULL) {
    return -ENOMEM;
  }
  if (udp_bind(pcb, IP6_ADDR_ANY, port) != ERR_OK) {
    udp_remove(pcb);
    return -EADDRINUSE;
  }
  udp_recv(pcb, echo_recv, NULL);
  *out = pcb;
  return 0;
}

static void back_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct ops6_udp *u = (struct ops6_udp *)arg;
  unsigned i, ok = 1;
  (void)pcb;
  (void)addr;
  (void)port;
  if (core_of(inc_worker_self()) != u->opener) {
    u->rx_elsewhere++;
  }
  for (i = 0; i < p->tot_len && ok; i++) {
    ok = pbuf_get_at(p, (u16_t)i) == udp_pattern(u->lport, i);
  }
  if (ok) {
    u->rx_ok++;
  } else {
    u->rx_bad++;
  }
  pbuf_free(p);
}

int ops6_udp_open(struct inc_worker *w, const uint8_t remote[16], uint16_t rport, struct ops6_udp *u)
{
  ip_addr_t r;
  err_t err;
  struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V6);
  if (pcb == NULL) {
    return -ENOMEM;
  }
  memset(u, 0, sizeof(*u));
  memset(&r, 0, sizeof(r));
  IP_SET_TYPE_VAL(r, IPADDR_TYPE_V6);
  memcpy(ip_2_ip6(&r)->addr, remote, 16);
  ip6_addr_clear_zone(ip_2_ip6(&r));
  u->opener = core_of(w);
  udp_recv(pcb, back_recv, u);
  err = udp_connect(pcb, &r, rport);
  if (err != ERR_OK) {
    udp_remove(pcb);
    return inc__errno_of(err);
  }
  u->pcb = pcb;
  u->lport = pcb->local_port;
  return 0;
}

int ops6_udp_send(struct inc_worker *w, struct ops6_udp *u, unsigned len)
{
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  unsigned i;
  err_t err;
  (void)w;
  if (p == NULL) {
    return -ENOMEM;
  }
  for (i = 0; i < len; i++) {
    pbuf_put_at(p, (u16_t)i, udp_pattern(u->lport, i));
  }
  err = udp_send(u->pcb, p);
  pbuf_free(p);
  return inc__errno_of(err);
}

int ops6_udp_close(struct inc_worker *w, struct udp_pcb *pcb)
{
  (void)w;
  if (pcb != NULL) {
    udp_remove(pcb);
  }
  return 0;
}

/* ---- lwIP's view ---------------------------------------------------------- */

int ops6_frags_received(struct inc_worker *w)
{
  (void)w;
  return (int)lwip_stats.ip6_frag.recv;
}

int ops6_neighbor_state(struct inc_worker *w, const uint8_t addr[16])
{
  int i;
  (void)w;
  for (i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++) {
    if (neighbor_cache[i].state != ND6_NO_ENTRY && memcmp(neighbor_cache[i].next_hop_address.addr, addr, 16) == 0) {
      return (int)neighbor_cache[i].state;
    }
  }
  return 0;
}

int ops6_is_router(struct inc_worker *w, const uint8_t addr[16])
{
  int i;
  (void)w;
  for (i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {
    const struct nd6_neighbor_cache_entry *ne = default_router_list[i].neighbor_entry;
    if (ne != NULL && memcmp(ne->next_hop_address.addr, addr, 16) == 0) {
      return 1;
    }
  }
  return 0;
}
