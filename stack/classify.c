/*
 * Packet classification for steering: see classify_priv.h.
 * Header layouts: Ethernet (IEEE 802.3), ARP (RFC 826), IPv4 (RFC 791),
 * IPv6 (RFC 8200), TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), ICMPv6
 * (RFC 4443), Neighbor Discovery (RFC 4861).
 */
#include "classify_priv.h"

#include <string.h>

#define ETH_HLEN 14u
#define ETHTYPE_IPV4 0x0800u
#define ETHTYPE_ARP 0x0806u
#define ETHTYPE_IPV6 0x86ddu
#define ARP_IPV4_LEN 28u
#define IPV4_HLEN_MIN 20u
#define IPV6_HLEN 40u
#define TCP_HLEN_MIN 20u
#define UDP_HLEN 8u
#define ICMP_HLEN 8u
#define PROTO_ICMP 1u
#define PROTO_TCP 6u
#define PROTO_UDP 17u
#define PROTO_ICMPV6 58u
#define IPV6_MAX_EXT 8u /* extension headers we walk before giving up */

static uint16_t rd16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

static int set_bad(struct inc_pkt_class *c, enum inc_pkt_bad why)
{
  c->kind = INC_PKT_MALFORMED;
  c->bad = (uint8_t)why;
  return INC_PKT_MALFORMED;
}

/* Ports of a TCP or UDP header at l4 (len bytes available), or -1. */
static int l4_ports(const uint8_t *l4, uint32_t len, uint8_t proto, uint16_t *sport, uint16_t *dport)
{
  if ((proto != PROTO_TCP && proto != PROTO_UDP) || len < 4) {
    return -1;
  }
  *sport = rd16(l4);
  *dport = rd16(l4 + 2);
  return 0;
}

/*
 * Walks an IPv6 extension header chain starting after the fixed header at
 * ip6 (len bytes of IPv6 packet). On success stores the upper-layer protocol
 * and its offset from ip6, and whether a fragment header was seen.
 * Returns 0, or -1 if the chain runs past len.
 */
static int ip6_walk(const uint8_t *ip6, uint32_t len, uint8_t *proto, uint32_t *off, int *fragment)
{
  uint8_t nh = ip6[6];
  uint32_t o = IPV6_HLEN;
  unsigned i;
  *fragment = 0;
  for (i = 0; i < IPV6_MAX_EXT; i++) {
    uint32_t elen;
    switch (nh) {
    case 0:  /* hop-by-hop options */
    case 43: /* routing */
    case 60: /* destination options */
      if (o + 2 > len) {
        return -1;
      }
      elen = ((uint32_t)ip6[o + 1] + 1u) * 8u;
      break;
    case 44: /* fragment (RFC 8200 4.5) */
      elen = 8;
      *fragment = 1;
      break;
    case 51: /* authentication header (RFC 4302): length in 4-octet units minus 2 */
      if (o + 2 > len) {
        return -1;
      }
      elen = ((uint32_t)ip6[o + 1] + 2u) * 4u;
      break;
    default:
      *proto = nh;
      *off = o;
      return o <= len ? 0 : -1;
    }
    if (o + elen > len) {
      return -1;
    }
    nh = ip6[o];
    o += elen;
  }
  *proto = nh; /* too many extension headers: leave the rest to lwIP */
  *off = o;
  return 0;
}

/* ICMP(v6) error: the flow of the quoted packet, which we sent (local = its source). */
static int quoted_flow_v4(const uint8_t *q, uint32_t qlen, uint16_t port_id, struct inc_flow_key *key)
{
  uint32_t hl;
  uint16_t sport, dport;
  uint32_t src, dst;
  if (qlen < IPV4_HLEN_MIN || (q[0] >> 4) != 4) {
    return -1;
  }
  hl = (uint32_t)(q[0] & 0x0fu) * 4u;
  if (hl < IPV4_HLEN_MIN || hl > qlen || (rd16(q + 6) & 0x1fffu) != 0) {
    return -1; /* bad, or a non-first fragment: no ports quoted */
  }
  if (l4_ports(q + hl, qlen - hl, q[9], &sport, &dport) != 0) {
    return -1;
  }
  memcpy(&src, q + 12, 4);
  memcpy(&dst, q + 16, 4);
  inc_flow_key_v4(key, q[9], port_id, src, sport, dst, dport);
  return 0;
}

static int quoted_flow_v6(const uint8_t *q, uint32_t qlen, uint16_t port_id, struct inc_flow_key *key)
{
  uint8_t proto;
  uint32_t off;
  int frag;
  uint16_t sport, dport;
  if (qlen < IPV6_HLEN || (q[0] >> 4) != 6 || ip6_walk(q, qlen, &proto, &off, &frag) != 0 || frag) {
    return -1;
  }
  if (l4_ports(q + off, qlen - off, proto, &sport, &dport) != 0) {
    return -1;
  }
  inc_flow_key_v6(key, proto, port_id, q + 8, sport, q + 24, dport);
  return 0;
}

/* TCP/UDP flow of a received packet: local = destination. */
static int transport(struct inc_pkt_class *c, const uint8_t *l4, uint32_t l4len, uint8_t proto)
{
  if (proto == PROTO_TCP) {
    uint32_t doff;
    if (l4len < TCP_HLEN_MIN) {
      return set_bad(c, INC_BAD_L4_SHORT);
    }
    doff = (uint32_t)(l4[12] >> 4) * 4u;
    if (doff < TCP_HLEN_MIN || doff > l4len) {
      return set_bad(c, INC_BAD_TCP_HLEN);
    }
    c->tcp_flags = l4[13];
  } else if (l4len < UDP_HLEN) {
    return set_bad(c, INC_BAD_L4_SHORT);
  }
  c->kind = INC_PKT_FLOW;
  return INC_PKT_FLOW;
}

/* The bytes from ip on that are in memory (cap) may be fewer than the
 * packet's (avail, which the length fields are checked against): a header
 * that is not in the first buffer of a chain is left to lwIP (LOCAL). */
static int beyond(struct inc_pkt_class *c, uint32_t need, uint32_t cap)
{
  if (need <= cap) {
    return 0;
  }
  memset(&c->key, 0, sizeof(c->key));
  c->kind = INC_PKT_LOCAL;
  return 1;
}

static int classify_v4(const uint8_t *ip, uint32_t cap, uint32_t avail, uint16_t port_id, struct inc_pkt_class *c)
{
  uint32_t hl, tot, src, dst, l4cap;
  uint8_t proto;
  const uint8_t *l4;
  uint32_t l4len;

  if (avail < IPV4_HLEN_MIN) {
    return set_bad(c, INC_BAD_IP_SHORT);
  }
  if (beyond(c, IPV4_HLEN_MIN, cap)) {
    return c->kind;
  }
  if ((ip[0] >> 4) != 4) {
    return set_bad(c, INC_BAD_IP_VERSION);
  }
  hl = (uint32_t)(ip[0] & 0x0fu) * 4u;
  if (hl < IPV4_HLEN_MIN || hl > avail) {
    return set_bad(c, INC_BAD_IP_HLEN);
  }
  tot = rd16(ip + 2);
  if (tot < hl || tot > avail) { /* avail may exceed tot: Ethernet padding */
    return set_bad(c, INC_BAD_IP_LEN);
  }
  c->ip_version = 4;
  c->l4_off = (uint16_t)(c->l3_off + hl);
  if ((rd16(ip + 6) & 0x3fffu) != 0) { /* MF set or offset != 0 (RFC 791) */
    c->kind = INC_PKT_FRAGMENT;
    return INC_PKT_FRAGMENT;
  }
  proto = ip[9];
  l4 = ip + hl;
  l4len = tot - hl;
  if (beyond(c, hl + (l4len < TCP_HLEN_MIN ? l4len : TCP_HLEN_MIN), cap)) {
    return c->kind;
  }
  l4cap = cap - hl < l4len ? cap - hl : l4len; /* l4 bytes in memory */
  memcpy(&src, ip + 12, 4);
  memcpy(&dst, ip + 16, 4);
  if (proto == PROTO_TCP || proto == PROTO_UDP) {
    if (transport(c, l4, l4len, proto) == INC_PKT_FLOW) {
      inc_flow_key_v4(&c->key, proto, port_id, dst, rd16(l4 + 2), src, rd16(l4));
    }
    return c->kind;
  }
  if (proto == PROTO_ICMP) {
    uint8_t type;
    if (l4len < ICMP_HLEN) {
      return set_bad(c, INC_BAD_L4_SHORT);
    }
    if (l4cap < ICMP_HLEN) {
      c->kind = INC_PKT_LOCAL;
      return INC_PKT_LOCAL;
    }
    type = l4[0];
    /* errors that quote the offending datagram (RFC 792; RFC 1812 4.3.2.3) */
    if ((type == 3 || type == 4 || type == 5 || type == 11 || type == 12) &&
        quoted_flow_v4(l4 + ICMP_HLEN, l4cap - ICMP_HLEN, port_id, &c->key) == 0) {
      c->kind = INC_PKT_ICMP_ERROR;
      return INC_PKT_ICMP_ERROR;
    }
  }
  c->kind = INC_PKT_LOCAL;
  return INC_PKT_LOCAL;
}

static int classify_v6(const uint8_t *ip, uint32_t cap, uint32_t avail, uint16_t port_id, struct inc_pkt_class *c)
{
  uint32_t plen, len, off, l4cap;
  uint8_t proto;
  int frag;
  const uint8_t *l4;
  uint32_t l4len;

  if (avail < IPV6_HLEN) {
    return set_bad(c, INC_BAD_IP_SHORT);
  }
  if (beyond(c, IPV6_HLEN, cap)) {
    return c->kind;
  }
  if ((ip[0] >> 4) != 6) {
    return set_bad(c, INC_BAD_IP_VERSION);
  }
  plen = rd16(ip + 4);
  len = IPV6_HLEN + plen;
  if (len > avail) {
    return set_bad(c, INC_BAD_IP_LEN);
  }
  c->ip_version = 6;
  if (cap < len) {
    /* walk what is in memory; a chain that leaves it goes to lwIP */
    if (ip6_walk(ip, cap, &proto, &off, &frag) != 0) {
      c->kind = INC_PKT_LOCAL;
      return INC_PKT_LOCAL;
    }
  } else if (ip6_walk(ip, len, &proto, &off, &frag) != 0) {
    return set_bad(c, INC_BAD_IP6_EXT);
  }
  c->l4_off = (uint16_t)(c->l3_off + off);
  if (frag) {
    c->kind = INC_PKT_FRAGMENT;
    return INC_PKT_FRAGMENT;
  }
  l4 = ip + off;
  l4len = len - off;
  if (beyond(c, off + (l4len < TCP_HLEN_MIN ? l4len : TCP_HLEN_MIN), cap)) {
    return c->kind;
  }
  l4cap = cap - off < l4len ? cap - off : l4len; /* l4 bytes in memory */
  if (proto == PROTO_TCP || proto == PROTO_UDP) {
    if (transport(c, l4, l4len, proto) == INC_PKT_FLOW) {
      inc_flow_key_v6(&c->key, proto, port_id, ip + 24, rd16(l4 + 2), ip + 8, rd16(l4));
    }
    return c->kind;
  }
  if (proto == PROTO_ICMPV6) {
    uint8_t type;
    if (l4len < 4) {
      return set_bad(c, INC_BAD_L4_SHORT);
    }
    type = l4[0];
    if (type >= 133 && type <= 137) { /* RS, RA, NS, NA, redirect (RFC 4861) */
      c->kind = INC_PKT_ND;
      return INC_PKT_ND;
    }
    /* error messages are types 0..127 (RFC 4443 2.1); they quote the packet */
    if (type < 128 && l4cap >= ICMP_HLEN &&
        quoted_flow_v6(l4 + ICMP_HLEN, l4cap - ICMP_HLEN, port_id, &c->key) == 0) {
      c->kind = INC_PKT_ICMP_ERROR;
      return INC_PKT_ICMP_ERROR;
    }
  }
  c->kind = INC_PKT_LOCAL;
  return INC_PKT_LOCAL;
}

int inc__classify(const uint8_t *frame, uint32_t cap, uint32_t len, uint16_t port_id, struct inc_pkt_class *out)
{
  uint16_t type;
  memset(out, 0, sizeof(*out));
  if (cap > len) {
    cap = len;
  }
  if (frame == NULL || len < ETH_HLEN) {
    return set_bad(out, INC_BAD_RUNT);
  }
  if (cap < ETH_HLEN) {
    out->kind = INC_PKT_LOCAL;
    return INC_PKT_LOCAL;
  }
  type = rd16(frame + 12);
  out->l3_off = ETH_HLEN;
  switch (type) {
  case ETHTYPE_ARP:
    if (len - ETH_HLEN < ARP_IPV4_LEN) {
      return set_bad(out, INC_BAD_ARP);
    }
    if (cap - ETH_HLEN < ARP_IPV4_LEN) {
      out->kind = INC_PKT_LOCAL;
      return INC_PKT_LOCAL;
    }
    out->kind = INC_PKT_ARP;
    return INC_PKT_ARP;
  case ETHTYPE_IPV4:
    return classify_v4(frame + ETH_HLEN, cap - ETH_HLEN, len - ETH_HLEN, port_id, out);
  case ETHTYPE_IPV6:
    return classify_v6(frame + ETH_HLEN, cap - ETH_HLEN, len - ETH_HLEN, port_id, out);
  default:
    out->kind = INC_PKT_NOT_IP;
    return INC_PKT_NOT_IP;
  }
}

const char *inc__pkt_bad_name(unsigned bad)
{
  static const char *const names[INC_BAD_COUNT] = {
    "none", "runt", "arp_short", "ip_short", "ip_version", "ip_hlen",
    "ip_len", "ip6_ext", "l4_short", "tcp_hlen",
  };
  return bad < INC_BAD_COUNT ? names[bad] : "unknown";
}
