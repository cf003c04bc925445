/*
 * The filters' packet path on the workers: UDP datagrams at lwIP's IP input
 * hook, TCP connections in the listeners' accept path (filter_priv.h).
 *
 * Both read the table the control plane published in the worker's lwIP
 * instance (ip_input_ctx, filter.c) with an acquire load; the worker is an
 * online QSBR reader, so the table and its filters stay alive until the
 * worker's next quiescent state (end of its loop iteration).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "api_priv.h"
#include "filter_priv.h"
#include "filter_table.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "stack_priv.h"

#define UDP_HLEN_ 8u
#define IP4_HLEN_MIN 20u
#define IP6_HLEN_ 40u
#define PROTO_UDP 17u

/* what inc_filter_pkt.priv points to for a datagram */
struct chain {
  struct pbuf *p;   /* the packet, p->payload at the IP header */
  uint32_t off;     /* offset of the UDP payload in the packet */
  uint32_t len;     /* UDP payload length */
  int taken;        /* the consumer took p (inc_filter_pkt_take) */
};

static const struct inc__ftab *table_of(const struct inc_lwip_instance *inst)
{
  /* pairs with the release store of publish() in filter.c */
  return (const struct inc__ftab *)__atomic_load_n(&inst->ip_input_ctx, __ATOMIC_ACQUIRE);
}

static uint16_t rd16(const uint8_t *b)
{
  return (uint16_t)((b[0] << 8) | b[1]);
}

static void set_addr(struct inc_addr *a, uint8_t family, const uint8_t *bytes)
{
  memset(a, 0, sizeof(*a));
  a->family = family;
  if (family == INC_AF_INET) {
    memcpy(&a->u.v4, bytes, 4);
  } else {
    memcpy(a->u.v6, bytes, 16);
  }
}

/* Checks the UDP checksum as lwIP's udp_input() would (RFC 768; RFC 8200
 * 8.1: zero is invalid over IPv6). Returns 1 if the datagram may be used. */
static int udp_sum_ok(struct pbuf *p, struct netif *inp, unsigned ipoff, uint16_t ulen, int v6, const uint8_t *h)
{
  u16_t sum = 0;
  uint16_t field = rd16((const uint8_t *)p->payload + ipoff + 6);

  if (v6 && field == 0) {
    return 0;
  }
  IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_UDP) {
    if (field == 0) {
      return 1; /* IPv4: no checksum */
    }
    if (pbuf_remove_header(p, ipoff) != 0) {
      return 0;
    }
    if (v6) {
#if LWIP_IPV6
      ip6_addr_t s6, d6;
      memset(&s6, 0, sizeof(s6));
      memset(&d6, 0, sizeof(d6));
      memcpy(s6.addr, h + 8, 16);
      memcpy(d6.addr, h + 24, 16);
      sum = ip6_chksum_pseudo_partial(p, PROTO_UDP, ulen, ulen, &s6, &d6);
#endif
    } else {
      ip4_addr_t s4, d4;
      memcpy(&s4.addr, h + 12, 4);
      memcpy(&d4.addr, h + 16, 4);
      sum = inet_chksum_pseudo_partial(p, PROTO_UDP, ulen, ulen, &s4, &d4);
    }
    pbuf_add_header_force(p, ipoff); /* cannot fail: the header was there (force: the
                                     * driver's buffers are not PBUF_RAM) */
    return sum == 0;
  }
  return 1;
}

/* LWIP_HOOK_IP4_INPUT / LWIP_HOOK_IP6_INPUT, via the instance's ip_input
 * policy: nothing of the packet is checked yet. */
int inc__filter_ip_input(void *ctx, struct pbuf *p, struct netif *inp)
{
  const struct inc__ftab *t = (const struct inc__ftab *)ctx;
  const uint8_t *h = (const uint8_t *)p->payload;
  struct inc_worker *w;
  struct inc_filter_pkt pkt;
  struct inc__fkey k;
  struct chain c;
  unsigned ipoff;
  uint16_t ulen, iplen;
  int v6;

  if (!inc__ftab_has(t, INC_FILTER_UDP) || p->len < IP4_HLEN_MIN) {
    return 0;
  }
  v6 = (h[0] >> 4) == 6;
  if (v6) {
    /* only a UDP header right after the fixed header (no extension headers,
     * so no fragments either) */
    if (h[6] != PROTO_UDP || p->len < IP6_HLEN_ + UDP_HLEN_) {
      return 0;
    }
    ipoff = IP6_HLEN_;
    iplen = (uint16_t)(rd16(h + 4)); /* payload length */
    if ((uint32_t)IP6_HLEN_ + iplen > p->tot_len) {
      return 0;
    }
  } else {
    ipoff = (h[0] & 0x0fu) * 4u;
    /* not UDP, options cut, fragments (MF or an offset: RFC 791) */
    if (h[9] != PROTO_UDP || ipoff < IP4_HLEN_MIN || p->len < ipoff + UDP_HLEN_ || (rd16(h + 6) & 0x3fffu) != 0) {
      return 0;
    }
    iplen = rd16(h + 2);
    if (iplen < ipoff || iplen > p->tot_len) {
      return 0;
    }
    iplen = (uint16_t)(iplen - ipoff); /* the UDP datagram's room */
    IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_IP) {
      if (inet_chksum(p->payload, (u16_t)ipoff) != 0) {
        return 0;
      }
    }
  }
  ulen = rd16(h + ipoff + 4);
  if (ulen < UDP_HLEN_ || ulen > iplen) {
    return 0; /* lwIP drops it and counts */
  }

  memset(&k, 0, sizeof(k));
  k.family = v6 ? INC_AF_INET6 : INC_AF_INET;
  k.sport = rd16(h + ipoff);
  k.dport = rd16(h + ipoff + 2);
  set_addr(&pkt.src, k.family, v6 ? h + 8 : h + 12);
  set_addr(&pkt.dst, k.family, v6 ? h + 24 : h + 16);
  inc__fkey_addr(&pkt.src, k.src);
  inc__fkey_addr(&pkt.dst, k.dst);
  /* the checksum (a pass over the payload) only for datagrams a filter
   * wants: the others go on to lwIP, which checks it itself */
  if (!inc__ftab_any(t, INC_FILTER_UDP, &k) || !udp_sum_ok(p, inp, ipoff, ulen, v6, h)) {
    return 0;
  }

  w = (struct inc_worker *)((char *)inc_lwip_instance_self() - offsetof(struct inc_worker, lwip));
  c.p = p;
  c.off = ipoff + UDP_HLEN_;
  c.len = (uint32_t)ulen - UDP_HLEN_;
  c.taken = 0;
  pkt.worker = w->index;
  pkt.sport = k.sport;
  pkt.dport = k.dport;
  pkt.data = h + c.off;
  pkt.len = (uint32_t)p->len - c.off < c.len ? (uint32_t)p->len - c.off : c.len;
  pkt.tot_len = c.len;
  pkt.priv = &c;
  if (inc__ftab_dispatch(t, INC_FILTER_UDP, w->index, &k, &pkt, NULL) || c.taken) {
    if (!c.taken) {
      pbuf_free(p); /* consumed: the callback copied what it needed */
    }
    return 1;
  }
  return 0;
}

long inc_filter_pkt_copy(const struct inc_filter_pkt *pkt, uint32_t off, void *dst, uint32_t len)
{
  const struct chain *c;
  uint32_t n;

  if (pkt == NULL || dst == NULL || pkt->priv == NULL) {
    return -EINVAL;
  }
  c = (const struct chain *)pkt->priv;
  if (off >= c->len) {
    return 0;
  }
  n = c->len - off < len ? c->len - off : len;
  if (c->taken) {
    /* the consumer's chain now starts at the payload */
    return (long)pbuf_copy_partial(c->p, dst, (u16_t)n, (u16_t)off);
  }
  return (long)pbuf_copy_partial(c->p, dst, (u16_t)n, (u16_t)(c->off + off));
}

struct inc_buf *inc_filter_pkt_take(const struct inc_filter_pkt *pkt)
{
  struct chain *c;

  if (pkt == NULL || pkt->priv == NULL || !inc__filter_is_consumer_pkt(pkt)) {
    return NULL;
  }
  c = (struct chain *)(uintptr_t)pkt->priv; /* ours: the stack frame of inc__filter_ip_input */
  if (c->taken) {
    return NULL;
  }
  /* the headers are in the first piece (checked before dispatch) */
  if (pbuf_remove_header(c->p, c->off) != 0) {
    return NULL;
  }
  if (c->p->tot_len > c->len) {
    pbuf_realloc(c->p, (u16_t)c->len); /* link-layer padding off the end */
  }
  c->taken = 1;
  return (struct inc_buf *)c->p; /* raw.h: an inc_buf is lwIP's pbuf */
}

int inc__filter_tcp_accept(struct inc_worker *w, struct tcp_pcb *newpcb)
{
  const struct inc__ftab *t;
  struct inc_filter_pkt pkt;
  struct inc__fkey k;

  if (w == NULL || newpcb == NULL) {
    return 0;
  }
  t = table_of(&w->lwip);
  if (!inc__ftab_has(t, INC_FILTER_TCP_ACCEPT)) {
    return 0;
  }
  memset(&pkt, 0, sizeof(pkt));
  memset(&k, 0, sizeof(k));
  inc__addr_from_lwip(&newpcb->remote_ip, &pkt.src);
  inc__addr_from_lwip(&newpcb->local_ip, &pkt.dst);
  pkt.worker = w->index;
  pkt.sport = newpcb->remote_port;
  pkt.dport = newpcb->local_port;
  k.family = pkt.src.family;
  k.sport = pkt.sport;
  k.dport = pkt.dport;
  inc__fkey_addr(&pkt.src, k.src);
  inc__fkey_addr(&pkt.dst, k.dst);
  return inc__ftab_dispatch(t, INC_FILTER_TCP_ACCEPT, w->index, &k, &pkt, (struct inc_raw_conn *)newpcb);
}
