/* Checksums over mbuf chains (cksum_priv.h). */
#include "cksum_priv.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

uint16_t inc__cksum_raw(const void *buf, size_t len)
{
  /* 32-bit words into a 64-bit accumulator: the carries collect in the high
   * half and are folded back at the end (RFC 1071 2(B), 2(C)); 2^32 words
   * would be needed to overflow it. Eight words per iteration, where
   * rte_raw_cksum() adds one 16-bit word. */
  const uint8_t *p = (const uint8_t *)buf;
  uint64_t acc = 0;
  while (len >= 32) {
    uint32_t w[8];
    memcpy(w, p, sizeof(w));
    acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
    p += 32;
    len -= 32;
  }
  while (len >= 4) {
    uint32_t w;
    memcpy(&w, p, sizeof(w));
    acc += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t h;
    memcpy(&h, p, sizeof(h));
    acc += h;
    p += 2;
    len -= 2;
  }
  if (len != 0) {
    uint16_t left = 0; /* the odd byte in the first byte of a word, as rte_raw_cksum() */
    memcpy(&left, p, 1);
    acc += left;
  }
  /* end-around carries: 0 only for an all-zero buffer, as rte_raw_cksum() */
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  return (uint16_t)acc;
}

int inc__cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum)
{
  uint32_t acc = 0, done = 0;
  const struct rte_mbuf *s = m;
  while (s != NULL && off >= s->data_len) {
    off -= s->data_len;
    s = s->next;
  }
  while (s != NULL && done < len) {
    uint32_t take = s->data_len - off;
    uint16_t part;
    if (take > len - done) {
      take = len - done;
    }
    part = inc__cksum_raw(rte_pktmbuf_mtod_offset(s, const void *, off), take);
    /* a piece that starts at an odd offset of the region has its bytes in
     * the other halves of the 16-bit words: its sum is byte-swapped */
    if (done & 1) {
      part = (uint16_t)((part >> 8) | (part << 8));
    }
    acc += part;
    done += take;
    off = 0;
    s = s->next;
  }
  if (done < len) {
    return -1;
  }
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  *sum = (uint16_t)acc;
  return 0;
}

uint16_t inc__l4_cksum(const struct rte_mbuf *m, const void *ip, int v4, uint32_t l4_off)
{
  uint32_t l4_len, acc;
  uint16_t data = 0;
  if (v4) {
    const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
    l4_len = (uint32_t)rte_be_to_cpu_16(h->total_length) - rte_ipv4_hdr_len(h);
    acc = rte_ipv4_phdr_cksum(h, 0);
  } else {
    const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)ip;
    l4_len = rte_be_to_cpu_16(h->payload_len);
    acc = rte_ipv6_phdr_cksum(h, 0);
  }
  inc__cksum_mbuf(m, l4_off, l4_len, &data);
  acc += data;
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)~acc;
}
