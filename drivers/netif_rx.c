/*
 * Receive side of a netif (netif.h): validation, checksums, software
 * coalescing, and mbuf -> pbuf in place.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "cksum_priv.h"
#include "drivers_priv.h"

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define PROTO_TCP 6u
#define PROTO_UDP 17u

static uint16_t rd16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

/* The one's-complement sum of the pseudo-header and l4_len bytes at l4_off is
 * all ones when the checksum is right (RFC 1071; RFC 793 3.1; RFC 8200 8.1). */
static int l4_cksum_ok(const struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst,
                       unsigned alen, uint8_t proto, uint32_t l4_off, uint32_t l4_len)
{
  uint8_t ph[40];
  uint16_t data;
  uint32_t sum;
  memset(ph, 0, sizeof(ph));
  memcpy(ph, src, alen);
  memcpy(ph + alen, dst, alen);
  if (alen == 4) {
    ph[9] = proto;
    ph[10] = (uint8_t)(l4_len >> 8);
    ph[11] = (uint8_t)l4_len;
  } else {
    ph[34] = (uint8_t)(l4_len >> 8);
    ph[35] = (uint8_t)l4_len;
    ph[39] = proto;
  }
  if (inc__cksum_mbuf(m, l4_off, l4_len, &data) != 0) {
    return 0;
  }
  sum = (uint32_t)inc__cksum_raw(ph, alen == 4 ? 12 : 40) + data;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

enum verdict { OK = 0, RUNT, BAD_L3, BAD_IP_CKSUM, BAD_L4_CKSUM };

/* The PMD's verdict on the IPv4 header checksum if it gives one; else
 * software. */
static enum verdict ip_cksum(struct inc_netif *nif, const struct rte_mbuf *m, const uint8_t *ip,
                             unsigned ihl)
{
  uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if ((nif->port->offloads.hw & INC_OFFLOAD_RX_IPV4_CKSUM) &&
      (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_BAD)) {
    nif->cnt.rx_cksum_hw++;
    return f == RTE_MBUF_F_RX_IP_CKSUM_GOOD ? OK : BAD_IP_CKSUM;
  }
  nif->cnt.rx_cksum_sw++;
  return inc__cksum_raw(ip, ihl) == 0xffff ? OK : BAD_IP_CKSUM;
}

/* TCP: the PMD's verdict or software (lwIP does not check TCP on this netif).
 * UDP: only a bad verdict of the PMD drops here; lwIP checks UDP itself. */
static enum verdict l4_cksum(struct inc_netif *nif, const struct rte_mbuf *m, const uint8_t *src,
                             const uint8_t *dst, unsigned alen, uint8_t proto, uint32_t l4_off,
                             uint32_t l4_len)
{
  uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  uint32_t hw = nif->port->offloads.hw;
  if (proto == PROTO_UDP) {
    if ((hw & INC_OFFLOAD_RX_UDP_CKSUM) && f == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
      nif->cnt.rx_cksum_hw++;
      return BAD_L4_CKSUM;
    }
    return OK;
  }
  if ((hw & INC_OFFLOAD_RX_TCP_CKSUM) &&
      (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
    nif->cnt.rx_cksum_hw++;
    return f == RTE_MBUF_F_RX_L4_CKSUM_GOOD ? OK : BAD_L4_CKSUM;
  }
  nif->cnt.rx_cksum_sw++;
  return l4_cksum_ok(m, src, dst, alen, proto, l4_off, l4_len) ? OK : BAD_L4_CKSUM;
}

/* TCP or UDP header lengths within the first segment; sets l4_len and the
 * packet type. */
static enum verdict l4_header(struct rte_mbuf *m, const uint8_t *l4, uint32_t avail_first,
                              uint32_t l4_total, uint8_t proto)
{
  if (proto == PROTO_TCP) {
    unsigned doff;
    if (avail_first < 20 || l4_total < 20) {
      return BAD_L3;
    }
    doff = (unsigned)(l4[12] >> 4) * 4;
    if (doff < 20 || doff > l4_total || doff > avail_first) {
      return BAD_L3;
    }
    m->l4_len = doff;
    m->packet_type |= RTE_PTYPE_L4_TCP;
  } else if (proto == PROTO_UDP) {
    if (avail_first < 8 || l4_total < 8 || rd16(l4 + 4) > l4_total || rd16(l4 + 4) < 8) {
      return BAD_L3;
    }
    m->l4_len = 8;
    m->packet_type |= RTE_PTYPE_L4_UDP;
  }
  return OK;
}

/* Ethernet padding beyond the IP packet is cut off (RFC 894 minimum frame). */
static void trim_to(struct rte_mbuf *m, uint32_t len)
{
  if (m->pkt_len > len) {
    rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len)); /* fails (keeps it) if not in the last segment */
  }
}

static enum verdict validate_ipv4(struct inc_netif *nif, struct rte_mbuf *m, const uint8_t *ip,
                                  uint32_t first)
{
  unsigned ihl;
  uint16_t tot, frag;
  uint8_t proto;
  enum verdict v;
  if (first < 20 || (ip[0] >> 4) != 4) {
    return BAD_L3;
  }
  ihl = (unsigned)(ip[0] & 0x0f) * 4;
  tot = rd16(ip + 2);
  if (ihl < 20 || ihl > first || tot < ihl || tot > m->pkt_len - m->l2_len) {
    return BAD_L3;
  }
  v = ip_cksum(nif, m, ip, ihl);
  if (v != OK) {
    return v;
  }
  trim_to(m, m->l2_len + tot);
  m->l3_len = ihl;
  m->packet_type |= ihl == 20 ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV4_EXT;
  frag = rd16(ip + 6);
  proto = ip[9];
  if ((frag & 0x3fffu) != 0) {
    /* a fragment: lwIP reassembles it; its L4 checksum covers the whole
     * datagram (UDP: lwIP checks it; TCP over fragments is not checked) */
    m->packet_type |= RTE_PTYPE_L4_FRAG;
    return OK;
  }
  v = l4_header(m, ip + ihl, first - ihl, tot - ihl, proto);
  if (v != OK || (proto != PROTO_TCP && proto != PROTO_UDP)) {
    return v;
  }
  return l4_cksum(nif, m, ip + 12, ip + 16, 4, proto, m->l2_len + ihl, tot - ihl);
}

static enum verdict validate_ipv6(struct inc_netif *nif, struct rte_mbuf *m, const uint8_t *ip,
                                  uint32_t first)
{
  uint32_t plen, off = 40;
  uint8_t nh;
  enum verdict v;
  if (first < 40 || (ip[0] >> 4) != 6) {
    return BAD_L3;
  }
  plen = rd16(ip + 4);
  if (40 + plen > m->pkt_len - m->l2_len) {
    return BAD_L3;
  }
  trim_to(m, m->l2_len + 40 + plen);
  nh = ip[6];
  /* hop-by-hop, routing and destination options precede the transport */
  while (nh == 0 || nh == 43 || nh == 60) {
    uint32_t len;
    if (off + 8 > first || off + 8 > 40 + plen) {
      return BAD_L3;
    }
    len = ((uint32_t)ip[off + 1] + 1) * 8;
    nh = ip[off];
    off += len;
    if (off > 40 + plen) {
      return BAD_L3;
    }
  }
  m->l3_len = (uint16_t)off;
  m->packet_type |= off == 40 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV6_EXT;
  if (nh == 44) {
    m->packet_type |= RTE_PTYPE_L4_FRAG;
    return OK;
  }
  if (off > first) {
    return BAD_L3;
  }
  v = l4_header(m, ip + off, first - off, 40 + plen - off, nh);
  if (v != OK || (nh != PROTO_TCP && nh != PROTO_UDP)) {
    return v;
  }
  return l4_cksum(nif, m, ip + 8, ip + 24, 16, nh, m->l2_len + off, 40 + plen - off);
}

static enum verdict validate(struct inc_netif *nif, struct rte_mbuf *m)
{
  const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
  uint32_t first = m->data_len;
  uint16_t type;
  if (m->pkt_len < 14 || first < 14) {
    return m->pkt_len < 14 ? RUNT : BAD_L3;
  }
  type = rd16(f + 12);
  m->l2_len = 14;
  if (type == ETHERTYPE_VLAN) {
    if (first < 18) {
      return RUNT;
    }
    type = rd16(f + 16);
    m->l2_len = 18;
  }
  m->packet_type = RTE_PTYPE_L2_ETHER;
  m->l3_len = 0;
  m->l4_len = 0;
  if (type == ETHERTYPE_IPV4) {
    return validate_ipv4(nif, m, f + m->l2_len, first - m->l2_len);
  }
  if (type == ETHERTYPE_IPV6) {
    return validate_ipv6(nif, m, f + m->l2_len, first - m->l2_len);
  }
  return OK; /* ARP and the rest: lwIP's to judge */
}

/* ---- software LRO -------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Is m a segment rte_gro (DPDK 22.11 gro_tcp4_reassemble) would take: a
 * validated IPv4 TCP segment, not a fragment, with ACK as its only flag and a
 * payload? If so, *seq and *len are its sequence number and payload length. */
static int gro_candidate(const struct rte_mbuf *m, uint32_t *seq, uint32_t *len)
{
  uint32_t l3 = m->packet_type & RTE_PTYPE_L3_MASK;
  uint32_t hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
  const uint8_t *tcp;
  if ((l3 != RTE_PTYPE_L3_IPV4 && l3 != RTE_PTYPE_L3_IPV4_EXT) ||
      (m->packet_type & RTE_PTYPE_L4_MASK) != RTE_PTYPE_L4_TCP || m->pkt_len <= hdr) {
    return 0;
  }
  /* validate() saw the TCP header in the first segment */
  tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len + m->l3_len);
  if (tcp[13] != RTE_TCP_ACK_FLAG) {
    return 0;
  }
  *seq = rd32(tcp + 4);
  *len = m->pkt_len - hdr;
  return 1;
}

/* Same rte_gro flow (gro_tcp4's key): MAC addresses, IPv4 addresses, ports
 * and acknowledgement number. Both are gro_candidate()s. */
static int same_gro_flow(const struct rte_mbuf *a, const struct rte_mbuf *b)
{
  const uint8_t *fa = rte_pktmbuf_mtod(a, const uint8_t *);
  const uint8_t *fb = rte_pktmbuf_mtod(b, const uint8_t *);
  const uint8_t *ia = fa + a->l2_len, *ib = fb + b->l2_len;
  const uint8_t *ta = ia + a->l3_len, *tb = ib + b->l3_len;
  return memcmp(fa, fb, 12) == 0 && memcmp(ia + 12, ib + 12, 8) == 0 &&
         memcmp(ta, tb, 4) == 0 && memcmp(ta + 8, tb + 8, 4) == 0;
}

/*
 * Software LRO over the validated burst pkts[0..k). Only runs of consecutive
 * segments of one flow, each starting where the previous one ends, go to
 * rte_gro; everything else stays where it is. So the packets of a flow reach
 * lwIP in arrival order: rte_gro_reassemble_burst() on a whole burst returns
 * the segments it merged first and those it left alone (a small PSH segment,
 * a pure ACK) after them, so a PSH segment that came first reached lwIP after
 * the data behind it (a gap; lwIP then delayed the ACK of the gap fill by up
 * to 250 ms). It also keeps rte_gro, which clears its on-stack tables on
 * every call (~5,400 instructions), off bursts that have nothing to merge.
 * Segments of two flows interleaved in a burst are not merged.
 * Returns: the number of packets left in pkts (up to k), in order.
 */
static unsigned coalesce(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned k)
{
  unsigned i = 0, out = 0;
  while (i < k) {
    uint32_t seq, len, nseq, nlen;
    unsigned j = i + 1;
    if (gro_candidate(pkts[i], &seq, &len)) {
      while (j < k && j - i < RTE_GRO_MAX_BURST_ITEM_NUM && gro_candidate(pkts[j], &nseq, &nlen) &&
             nseq == seq + len && same_gro_flow(pkts[i], pkts[j])) {
        seq = nseq;
        len = nlen;
        j++;
      }
    }
    if (j - i > 1) {
      /* one flow, contiguous: rte_gro processes every segment and returns
       * its items (merged, or apart when it will not merge them: IP ID,
       * options, 64 KiB) in sequence order */
      struct rte_gro_param gp;
      uint16_t merged;
      memset(&gp, 0, sizeof(gp));
      gp.gro_types = RTE_GRO_TCP_IPV4;
      gp.max_flow_num = INC_DRV_GRO_FLOWS;
      gp.max_item_per_flow = INC_DRV_GRO_ITEMS;
      merged = rte_gro_reassemble_burst(pkts + i, (uint16_t)(j - i), &gp);
      nif->cnt.rx_gro_merged += (j - i) - merged;
      memmove(pkts + out, pkts + i, merged * sizeof(*pkts));
      out += merged;
    } else {
      pkts[out++] = pkts[i];
    }
    i = j;
  }
  return out;
}

unsigned inc_netif_rx(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned max)
{
  unsigned n, i, k = 0;
  if (max > UINT16_MAX) {
    max = UINT16_MAX;
  }
  inc__capture_apply(nif); /* a capture switch takes effect at the next burst */
  n = rte_eth_rx_burst(nif->port->port_id, nif->queue, pkts, (uint16_t)max);
  if (n == 0) {
    return 0;
  }
  nif->cnt.rx_frames += n;
  if (nif->cap_on) {
    inc__capture_frames(nif, pkts, n, INC_PCAP_DIR_IN);
  }
  for (i = 0; i < n; i++) {
    struct rte_mbuf *m = pkts[i];
    switch (validate(nif, m)) {
    case OK:
      pkts[k++] = m;
      continue;
    case RUNT:
      nif->cnt.rx_runt++;
      break;
    case BAD_L3:
      nif->cnt.rx_bad_l3++;
      break;
    case BAD_IP_CKSUM:
      nif->cnt.rx_bad_ip_cksum++;
      break;
    case BAD_L4_CKSUM:
      nif->cnt.rx_bad_l4_cksum++;
      break;
    }
    rte_pktmbuf_free(m);
  }
  if ((nif->port->offloads.sw & INC_OFFLOAD_LRO) && k > 1) {
    k = coalesce(nif, pkts, k);
  }
  return k;
}

/* ---- mbuf -> pbuf -------------------------------------------------------- */

void inc__netif_rx_pbuf_free(struct pbuf *p)
{
  struct inc__mbuf_priv *priv = (struct inc__mbuf_priv *)(void *)p; /* rx is the first member */
  rte_pktmbuf_free_seg((struct rte_mbuf *)(void *)priv - 1);
}

/* A copy of m in this core's pool (m's mbufs have no room for a pbuf). */
static struct rte_mbuf *copy_in(struct inc_netif *nif, struct rte_mbuf *m)
{
  struct rte_mbuf *head = NULL, *tail = NULL;
  uint32_t off = 0;
  while (off < m->pkt_len) {
    struct rte_mbuf *c = rte_pktmbuf_alloc(nif->pool);
    uint32_t take;
    if (c == NULL) {
      rte_pktmbuf_free(head);
      return NULL;
    }
    take = m->pkt_len - off;
    if (take > rte_pktmbuf_tailroom(c)) {
      take = rte_pktmbuf_tailroom(c);
    }
    {
      void *dst = rte_pktmbuf_mtod(c, void *);
      const void *src = rte_pktmbuf_read(m, off, take, dst); /* copies only across segments */
      if (src != dst) {
        memcpy(dst, src, take);
      }
    }
    c->data_len = (uint16_t)take;
    if (head == NULL) {
      head = c;
    } else {
      tail->next = c;
      head->nb_segs++;
    }
    head->pkt_len += take;
    tail = c;
    off += take;
  }
  return head;
}

int inc_netif_input(struct inc_netif *nif, struct rte_mbuf *m)
{
  struct pbuf *head = NULL, *tail = NULL, *p;
  struct rte_mbuf *seg, *next;
  uint32_t total = 0;
  if (m->pkt_len > UINT16_MAX) {
    /* an lwIP packet is at most 64 KiB (coalescing may reach 14 bytes more) */
    nif->cnt.rx_too_long++;
    rte_pktmbuf_free(m);
    return -EMSGSIZE;
  }
  for (seg = m; seg != NULL; seg = seg->next) {
    if (!inc__has_priv(seg)) {
      struct rte_mbuf *c = copy_in(nif, m);
      rte_pktmbuf_free(m);
      if (c == NULL) {
        nif->cnt.rx_nomem++;
        return -ENOMEM;
      }
      nif->cnt.rx_copied++;
      m = c;
      break;
    }
  }
  /* each segment becomes a custom pbuf in its own private area; from here
   * on the segments are freed one by one (pbuf_free of each) */
  for (seg = m; seg != NULL; seg = next) {
    struct pbuf_custom *pc;
    next = seg->next;
    seg->next = NULL;
    if (seg->data_len == 0) {
      rte_pktmbuf_free_seg(seg);
      continue;
    }
    pc = &inc__priv(seg)->rx;
    pc->custom_free_function = inc__netif_rx_pbuf_free;
    p = pbuf_alloced_custom(PBUF_RAW, seg->data_len, PBUF_REF, pc, rte_pktmbuf_mtod(seg, void *),
                            seg->data_len);
    if (head == NULL) {
      head = p;
    } else {
      tail->next = p;
    }
    tail = p;
    total += seg->data_len;
  }
  if (head == NULL) {
    return 0;
  }
  for (p = head; p != NULL; p = p->next) {
    p->tot_len = (u16_t)total;
    total -= p->len;
  }
  head->if_idx = netif_get_index(&nif->netif);
  nif->cnt.rx_packets++;
  nif->cnt.rx_bytes += head->tot_len;
  if (nif->netif.input(head, &nif->netif) != ERR_OK) {
    pbuf_free(head);
    return -EIO;
  }
  return 0;
}
