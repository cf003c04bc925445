/*
 * Transmit side of a netif (netif.h): an lwIP pbuf chain becomes an mbuf
 * chain whose payload is lwIP's (or the application's) own memory, then
 * checksums, TSO or software segmentation, and the TX batch.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "cksum_priv.h"
#include "drivers_priv.h"

#define TX_CAP (sizeof(((struct inc_netif *)0)->tx) / sizeof(struct rte_mbuf *))
#define HDR_MAX 192u   /* bytes looked at for headers (Ethernet + IP + TCP options fit) */
#define COPYBREAK 128u /* frames with at most this much payload are copied whole */
#define MAX_SEGS 64u   /* mbufs per frame; beyond, the rest is copied (a 64 KiB segment of 1400-byte buffers needs 48) */
#define GSO_MAX_OUT 64u

struct hdr {
  uint16_t l2, l3, l4, hlen;
  uint8_t v4, v6, proto, frag;
};

static uint16_t rd16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

/* Header lengths of a frame lwIP built (avail bytes of it at f). */
static void parse(const uint8_t *f, uint32_t avail, uint32_t tot, struct hdr *h)
{
  uint16_t type;
  memset(h, 0, sizeof(*h));
  h->l2 = 14;
  h->hlen = (uint16_t)(tot < 14 ? tot : 14);
  if (avail < 14) {
    return;
  }
  type = rd16(f + 12);
  if (type == 0x8100 && avail >= 18) {
    type = rd16(f + 16);
    h->l2 = 18;
  }
  if (type == 0x0800 && avail >= h->l2 + 20u) {
    const uint8_t *ip = f + h->l2;
    h->v4 = 1;
    h->l3 = (uint16_t)((ip[0] & 0x0f) * 4);
    h->proto = ip[9];
    h->frag = (rd16(ip + 6) & 0x3fffu) != 0;
  } else if (type == 0x86dd && avail >= h->l2 + 40u) {
    h->v6 = 1;
    h->l3 = 40;
    h->proto = f[h->l2 + 6];
  } else {
    h->hlen = h->l2;
    return;
  }
  if (!h->frag && h->proto == 6 && avail >= (uint32_t)h->l2 + h->l3 + 20u) {
    h->l4 = (uint16_t)((f[h->l2 + h->l3 + 12] >> 4) * 4);
  } else if (!h->frag && h->proto == 17) {
    h->l4 = 8;
  }
  h->hlen = (uint16_t)(h->l2 + h->l3 + h->l4);
  /* Fragments: the buffer chain a receiver in this process gets is the one
   * built here (the software wire hands over the very mbufs), and lwIP reads
   * headers from the first pbuf only. So the first fragment of a datagram
   * copies its UDP/TCP header with the rest (udp_input() and tcp_input()
   * need it in the first pbuf after reassembly), and every IPv6 fragment its
   * fragment header. */
  if (h->v4 && h->frag && (rd16(f + h->l2 + 6) & 0x1fffu) == 0) {
    if (h->proto == 17) {
      h->hlen = (uint16_t)(h->hlen + 8u);
    } else if (h->proto == 6 && avail >= (uint32_t)h->l2 + h->l3 + 20u) {
      h->hlen = (uint16_t)(h->hlen + ((f[h->l2 + h->l3 + 12] >> 4) * 4));
    }
  } else if (h->v6 && h->proto == 44 && avail >= (uint32_t)h->l2 + 48u) {
    /* every IPv6 fragment: its fragment header too (lwIP's ip6_input()
     * reads extension headers from the first pbuf) */
    uint8_t nh = f[h->l2 + 40];
    h->hlen = (uint16_t)(h->hlen + 8u);
    if ((rd16(f + h->l2 + 40 + 2) & 0xfff8u) != 0) {
      /* not the first fragment: no transport header */
    } else if (nh == 17) {
      h->hlen = (uint16_t)(h->hlen + 8u);
    } else if (nh == 6 && avail >= (uint32_t)h->l2 + 48u + 20u) {
      h->hlen = (uint16_t)(h->hlen + ((f[h->l2 + 48 + 12] >> 4) * 4));
    }
  }
  if (h->hlen > avail || h->hlen > tot) {
    /* headers longer than what is there: treat the frame as opaque */
    h->v4 = h->v6 = 0;
    h->hlen = (uint16_t)(tot < HDR_MAX ? tot : (avail < HDR_MAX ? avail : HDR_MAX));
  }
}

/* The mbuf that holds [data, data + len) of pbuf q, or NULL if it is in no
 * mbuf. *owned: q is lwIP's block of that mbuf (lwIP's TX buffer), so the
 * mbuf itself may be sent when no one else holds it. */
static struct rte_mbuf *source_mbuf(struct inc_netif *nif, struct pbuf *q, const uint8_t *data,
                                    uint32_t len, int *owned)
{
  struct rte_mbuf *m = NULL;
  const uint8_t *b;
  *owned = 0;
  if (q->flags & PBUF_FLAG_IS_CUSTOM) {
    if (((struct pbuf_custom *)q)->custom_free_function == inc__netif_rx_pbuf_free) {
      m = (struct rte_mbuf *)(void *)q - 1; /* a received pbuf: priv->rx is q */
    }
  } else {
    const struct inc_lwip_bufs *owner = inc_lwip_bufs_owner(q);
    if (owner != NULL && owner->alloc == inc__bufs_alloc) {
      m = inc__mbuf_of_block(q);
      *owned = 1;
    }
  }
  if (m == NULL) {
    /* PBUF_ROM/REF (tcp_write() without copy, IP fragments): by address */
    m = inc__port_mbuf_of_addr(nif->port, data);
  }
  if (m == NULL) {
    return NULL;
  }
  b = (const uint8_t *)m->buf_addr;
  if (data < b || data + len > b + m->buf_len) {
    *owned = 0;
    return NULL;
  }
  return m;
}

/* A segment for [data, data + len) of src: src itself if it is lwIP's block
 * and no one else holds it, else an indirect mbuf attached to it. Either way
 * src's refcnt goes up by one and comes down when the segment is freed. */
static struct rte_mbuf *ref_segment(struct inc_netif *nif, struct rte_mbuf *src, int owned,
                                    const uint8_t *data, uint32_t len)
{
  struct rte_mbuf *c;
  /* acquire pairs with the release in the atomic refcnt decrement of
   * rte_pktmbuf_free_seg() by the last other holder: its accesses to the
   * mbuf happen before we reuse the mbuf's fields */
  if (owned && __atomic_load_n(&src->refcnt, __ATOMIC_ACQUIRE) == 1) {
    rte_mbuf_refcnt_update(src, 1);
    src->data_off = (uint16_t)(data - (const uint8_t *)src->buf_addr);
    src->data_len = (uint16_t)len;
    src->pkt_len = len;
    src->nb_segs = 1;
    src->next = NULL;
    src->ol_flags &= RTE_MBUF_F_EXTERNAL;
    nif->cnt.tx_direct_refs++;
    return src;
  }
  c = rte_pktmbuf_alloc(nif->clones);
  if (c == NULL) {
    return NULL;
  }
  rte_pktmbuf_attach(c, src);
  c->data_off = (uint16_t)(data - (const uint8_t *)c->buf_addr);
  c->data_len = (uint16_t)len;
  c->pkt_len = len;
  nif->cnt.tx_clone_refs++;
  return c;
}

/* Appends the bytes of p from offset off to chain h: by reference where they
 * are in an mbuf, copied otherwise. */
static int attach_payload(struct inc_netif *nif, struct rte_mbuf *h, struct pbuf *p, uint32_t off)
{
  struct rte_mbuf *tail = h, *copy = NULL;
  struct pbuf *q;
  uint16_t nseg = 1;
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *data;
    uint32_t len;
    struct rte_mbuf *src;
    int owned;
    if (off >= q->len) {
      off -= q->len;
      continue;
    }
    data = (const uint8_t *)q->payload + off;
    len = q->len - off;
    off = 0;
    src = nseg < MAX_SEGS ? source_mbuf(nif, q, data, len, &owned) : NULL;
    if (src != NULL) {
      struct rte_mbuf *seg = ref_segment(nif, src, owned, data, len);
      if (seg == NULL) {
        return -ENOMEM;
      }
      tail->next = seg;
      tail = seg;
      nseg++;
      copy = NULL;
      nif->cnt.tx_payload_ref += len;
      continue;
    }
    while (len > 0) {
      uint32_t take;
      if (copy == NULL || rte_pktmbuf_tailroom(copy) == 0) {
        copy = rte_pktmbuf_alloc(nif->pool);
        if (copy == NULL) {
          return -ENOMEM;
        }
        tail->next = copy;
        tail = copy;
        nseg++;
      }
      take = rte_pktmbuf_tailroom(copy);
      if (take > len) {
        take = len;
      }
      memcpy(rte_pktmbuf_mtod_offset(copy, uint8_t *, copy->data_len), data, take);
      copy->data_len = (uint16_t)(copy->data_len + take);
      copy->pkt_len = copy->data_len;
      data += take;
      len -= take;
      nif->cnt.tx_payload_copied += take;
    }
  }
  h->nb_segs = nseg;
  h->pkt_len = p->tot_len;
  return 0;
}

/* IPv4 header and TCP checksums of a final frame: by the PMD or here. */
static void fix_cksums(struct inc_netif *nif, struct rte_mbuf *m, const struct hdr *h)
{
  uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
  uint32_t hw = nif->port->offloads.hw;
  int sw = 0, hwc = 0;
  m->l2_len = h->l2;
  m->l3_len = h->l3;
  m->l4_len = h->l4;
  if (h->v4) {
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(void *)(f + h->l2);
    m->ol_flags |= RTE_MBUF_F_TX_IPV4;
    ip->hdr_checksum = 0;
    if (hw & INC_OFFLOAD_TX_IPV4_CKSUM) {
      m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
      hwc = 1;
    } else {
      ip->hdr_checksum = (uint16_t)~inc__cksum_raw(ip, rte_ipv4_hdr_len(ip)); /* rte_ipv4_cksum() */
      sw = 1;
    }
  } else if (h->v6) {
    m->ol_flags |= RTE_MBUF_F_TX_IPV6;
  }
  if ((h->v4 || h->v6) && h->proto == 6 && !h->frag && h->l4 >= 20) {
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(void *)(f + h->l2 + h->l3);
    const void *ip = f + h->l2;
    if (hw & INC_OFFLOAD_TX_TCP_CKSUM) {
      m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
      th->cksum = h->v4 ? rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)ip, m->ol_flags)
                        : rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)ip, m->ol_flags);
      hwc = 1;
    } else {
      th->cksum = 0;
      th->cksum = inc__l4_cksum(m, ip, h->v4, (uint32_t)(h->l2 + h->l3));
      sw = 1;
    }
  }
  if (sw) {
    nif->cnt.tx_cksum_sw++;
  } else if (hwc) {
    nif->cnt.tx_cksum_hw++;
  }
}

/* One mbuf for a chain, for PMDs that cannot send chains. */
static struct rte_mbuf *linearize(struct inc_netif *nif, struct rte_mbuf *m)
{
  struct rte_mbuf *c;
  void *dst;
  const void *src;
  if (m->nb_segs == 1) {
    return m;
  }
  c = rte_pktmbuf_alloc(nif->pool);
  if (c == NULL || m->pkt_len > rte_pktmbuf_tailroom(c)) {
    rte_pktmbuf_free(c);
    return m; /* cannot: the PMD gets the chain */
  }
  dst = rte_pktmbuf_mtod(c, void *);
  src = rte_pktmbuf_read(m, 0, m->pkt_len, dst);
  if (src != dst) {
    memcpy(dst, src, m->pkt_len);
  }
  c->data_len = (uint16_t)m->pkt_len;
  c->pkt_len = m->pkt_len;
  c->ol_flags = m->ol_flags;
  c->l2_len = m->l2_len;
  c->l3_len = m->l3_len;
  c->l4_len = m->l4_len;
  c->tso_segsz = m->tso_segsz;
  rte_pktmbuf_free(m);
  nif->cnt.tx_linearized++;
  return c;
}

static void queue_frame(struct inc_netif *nif, struct rte_mbuf *m)
{
  if (!(nif->port->offloads.hw & INC_OFFLOAD_MULTI_SEGS)) {
    m = linearize(nif, m);
  }
  if (nif->n_tx == TX_CAP) {
    inc_netif_flush(nif);
    if (nif->n_tx == TX_CAP) {
      rte_pktmbuf_free(m);
      nif->cnt.tx_dropped++;
      return;
    }
  }
  if (nif->cap_on) {
    inc__capture_frames(nif, &m, 1, INC_PCAP_DIR_OUT);
  }
  nif->tx[nif->n_tx++] = m;
}

/* A TCP/IPv4 segment longer than the MTU (upstream-patches/0005): the PMD's
 * TSO, or rte_gso here (headers copied per segment, payload referenced). */
static err_t send_large(struct inc_netif *nif, struct rte_mbuf *m, const struct hdr *h)
{
  struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, h->l2);
  struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, h->l2 + h->l3);
  uint16_t segsz = (uint16_t)(nif->port->mtu - h->l3 - h->l4);
  m->l2_len = h->l2;
  m->l3_len = h->l3;
  m->l4_len = h->l4;
  if (nif->port->offloads.hw & INC_OFFLOAD_TSO) {
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
    m->tso_segsz = (uint16_t)(segsz - (nif->port->tso_counts_l2 ? h->l2 : 0));
    ip->hdr_checksum = 0;
    th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    nif->cnt.tx_tso++;
    queue_frame(nif, m);
    return ERR_OK;
  }
  {
    struct rte_gso_ctx ctx;
    struct rte_mbuf *out[GSO_MAX_OUT];
    int n, i;
    memset(&ctx, 0, sizeof(ctx));
    ctx.direct_pool = nif->pool;
    ctx.indirect_pool = nif->clones;
    ctx.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
    ctx.gso_size = (uint16_t)(h->l2 + nif->port->mtu);
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG;
    m->tso_segsz = segsz;
    n = rte_gso_segment(m, &ctx, out, GSO_MAX_OUT);
    if (n < 0) {
      rte_pktmbuf_free(m);
      nif->cnt.tx_nomem++;
      return ERR_MEM;
    }
    if (n == 0) {
      out[0] = m;
      n = 1;
    } else {
      rte_pktmbuf_free(m); /* the segments hold references to its payload */
    }
    nif->cnt.tx_gso++;
    nif->cnt.tx_gso_segs += (uint64_t)n;
    nif->cnt.tx_hdr_copied += (uint64_t)n * h->hlen;
    for (i = 0; i < n; i++) {
      out[i]->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
      fix_cksums(nif, out[i], h);
      queue_frame(nif, out[i]);
    }
  }
  return ERR_OK;
}

err_t inc__netif_linkoutput(struct netif *netif, struct pbuf *p)
{
  struct inc_netif *nif = (struct inc_netif *)netif->state;
  struct rte_mbuf *m;
  struct hdr h;
  uint32_t look;
  if (p->tot_len < 14) {
    return ERR_ARG;
  }
  if ((unsigned)nif->n_tx + GSO_MAX_OUT > TX_CAP) {
    inc_netif_flush(nif);
  }
  m = rte_pktmbuf_alloc(nif->pool);
  if (m == NULL) {
    nif->cnt.tx_nomem++;
    return ERR_MEM;
  }
  look = p->tot_len < HDR_MAX ? p->tot_len : HDR_MAX;
  pbuf_copy_partial(p, rte_pktmbuf_mtod(m, void *), (u16_t)look, 0);
  parse(rte_pktmbuf_mtod(m, const uint8_t *), look, p->tot_len, &h);
  if ((uint32_t)(p->tot_len - h.hlen) <= COPYBREAK) {
    /* small frame (ACK, ARP, ...): one copy is cheaper than references */
    if (p->tot_len > look) {
      pbuf_copy_partial(p, rte_pktmbuf_mtod_offset(m, void *, look), (u16_t)(p->tot_len - look),
                        (u16_t)look);
    }
    m->data_len = p->tot_len;
    m->pkt_len = p->tot_len;
    nif->cnt.tx_small_copied += p->tot_len - h.hlen;
  } else {
    m->data_len = h.hlen;
    m->pkt_len = h.hlen;
    if (attach_payload(nif, m, p, h.hlen) != 0) {
      rte_pktmbuf_free(m);
      nif->cnt.tx_nomem++;
      return ERR_MEM;
    }
  }
  nif->cnt.tx_hdr_copied += h.hlen;
  if (h.v4 && h.proto == 6 && !h.frag && h.l4 >= 20 && p->tot_len > h.l2 + nif->port->mtu) {
    return send_large(nif, m, &h);
  }
  fix_cksums(nif, m, &h);
  queue_frame(nif, m);
  return ERR_OK;
}

unsigned inc_netif_flush(struct inc_netif *nif)
{
  unsigned sent, i;
  if (nif->port->wire != NULL) {
    sent = inc__wire_tx(nif, nif->tx, nif->n_tx);
    nif->n_tx = 0;
    return sent;
  }
  if (nif->n_tx == 0) {
    return 0;
  }
  {
    uint32_t lens[TX_CAP];
    /* lengths first: once sent, a frame is the PMD's (or the receiver's) */
    for (i = 0; i < nif->n_tx; i++) {
      lens[i] = nif->tx[i]->pkt_len;
    }
    /* the PMD's own checks and fix-ups of offload metadata; a frame it finds
     * malformed is dropped, the rest goes on */
    uint16_t ok = rte_eth_tx_prepare(nif->port->port_id, nif->queue, nif->tx, nif->n_tx);
    if (ok < nif->n_tx) {
      rte_pktmbuf_free(nif->tx[ok]);
      nif->cnt.tx_dropped++;
      memmove(nif->tx + ok, nif->tx + ok + 1, (nif->n_tx - ok - 1) * sizeof(nif->tx[0]));
      memmove(lens + ok, lens + ok + 1, (nif->n_tx - ok - 1) * sizeof(lens[0]));
      nif->n_tx--;
    }
    sent = rte_eth_tx_burst(nif->port->port_id, nif->queue, nif->tx, nif->n_tx);
    for (i = 0; i < sent; i++) {
      nif->cnt.tx_bytes += lens[i];
    }
    nif->cnt.tx_packets += sent;
  }
  if (sent < nif->n_tx) {
    memmove(nif->tx, nif->tx + sent, (nif->n_tx - sent) * sizeof(nif->tx[0]));
  }
  nif->n_tx = (uint16_t)(nif->n_tx - sent);
  return sent;
}
