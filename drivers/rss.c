/* Toeplitz hash and redirection table (rss.h). */
#include "inception/rss.h"

#include <errno.h>
#include <string.h>

#define ETH_HLEN 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

const uint8_t inc_rss_symmetric_key[INC_RSS_KEY_MAX] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

const uint8_t inc_rss_ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

uint32_t inc_rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *input, size_t len)
{
  /* The 32-bit window of the key that lines up with the current input bit
   * slides left one bit per input bit (Microsoft RSS specification). */
  uint32_t hash = 0;
  uint32_t window;
  size_t i;
  if (key_len < len + 4) {
    return 0;
  }
  window = ((uint32_t)key[0] << 24) | ((uint32_t)key[1] << 16) | ((uint32_t)key[2] << 8) | key[3];
  for (i = 0; i < len; i++) {
    uint8_t next = key[i + 4];
    int b;
    for (b = 7; b >= 0; b--) {
      if (input[i] & (1u << b)) {
        hash ^= window;
      }
      window = (window << 1) | ((next >> b) & 1u);
    }
  }
  return hash;
}

/* Bytes of one address of t's family (0: not IPv4 or IPv6). */
static size_t tuple_addr_len(const struct inc_rss_tuple *t)
{
  return t->family == 4 ? 4 : t->family == 6 ? 16 : 0;
}

uint32_t inc_rss_hash(const uint8_t *key, size_t key_len, const struct inc_rss_tuple *t)
{
  uint8_t in[36];
  size_t alen, n;
  alen = tuple_addr_len(t);
  if (alen == 0) {
    return 0;
  }
  memcpy(in, t->src, alen);
  memcpy(in + alen, t->dst, alen);
  n = 2 * alen;
  if (t->l4) {
    in[n++] = (uint8_t)(t->sport >> 8);
    in[n++] = (uint8_t)t->sport;
    in[n++] = (uint8_t)(t->dport >> 8);
    in[n++] = (uint8_t)t->dport;
  }
  return inc_rss_toeplitz(key, key_len, in, n);
}

uint32_t inc_rss_conf_hash(const struct inc_rss_conf *conf, const struct inc_rss_tuple *t)
{
  const uint32_t(*lut)[256] = conf->lut;
  uint32_t hash = 0;
  size_t alen, i;
  alen = tuple_addr_len(t);
  if (alen == 0) {
    return 0;
  }
  if (memcmp(conf->key, conf->lut_key, conf->key_len) != 0) {
    return inc_rss_hash(conf->key, conf->key_len, t); /* key changed in place: no tables for it */
  }
  for (i = 0; i < alen; i++) {
    hash ^= lut[i][t->src[i]] ^ lut[alen + i][t->dst[i]];
  }
  if (t->l4) {
    lut += 2 * alen;
    hash ^= lut[0][t->sport >> 8] ^ lut[1][t->sport & 0xffu] ^ lut[2][t->dport >> 8] ^
            lut[3][t->dport & 0xffu];
  }
  return hash;
}

/* lut[i][v] = XOR of the key windows of v's set bits at input byte i (the
 * window of input bit p is key bits p..p+31, as in inc_rss_toeplitz()). */
static void lut_init(struct inc_rss_conf *conf)
{
  size_t i;
  for (i = 0; i < INC_RSS_INPUT_MAX; i++) {
    const uint8_t *k = conf->key + i; /* i + 4 < 40 <= key_len */
    uint64_t k40 = ((uint64_t)k[0] << 32) | ((uint64_t)k[1] << 24) | ((uint64_t)k[2] << 16) |
                   ((uint64_t)k[3] << 8) | k[4];
    uint32_t win[8]; /* win[b]: window of bit b of the byte (b = 7 is its first bit) */
    unsigned b, v;
    for (b = 0; b < 8; b++) {
      win[b] = (uint32_t)(k40 >> (b + 1));
    }
    conf->lut[i][0] = 0;
    for (v = 1; v < 256; v++) {
      b = (unsigned)__builtin_ctz(v); /* lowest set bit: the rest is a smaller v */
      conf->lut[i][v] = conf->lut[i][v & (v - 1)] ^ win[b];
    }
  }
  memcpy(conf->lut_key, conf->key, sizeof(conf->lut_key));
}

static uint16_t rd16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

static int ports_of(const uint8_t *l4, size_t avail, struct inc_rss_tuple *t)
{
  if (t->proto != IPPROTO_TCP_ && t->proto != IPPROTO_UDP_) {
    return 0; /* addresses only */
  }
  if (avail < 4) {
    return -EBADMSG;
  }
  t->sport = rd16(l4);
  t->dport = rd16(l4 + 2);
  t->l4 = 1;
  return 0;
}

int inc_rss_tuple_from_frame(const uint8_t *frame, size_t len, struct inc_rss_tuple *t)
{
  size_t off = ETH_HLEN;
  uint16_t type;
  memset(t, 0, sizeof(*t));
  if (len < ETH_HLEN) {
    return -EBADMSG;
  }
  type = rd16(frame + 12);
  if (type == ETHERTYPE_VLAN) {
    if (len < ETH_HLEN + 4) {
      return -EBADMSG;
    }
    type = rd16(frame + 16);
    off += 4;
  }
  if (type == ETHERTYPE_IPV4) {
    const uint8_t *ip = frame + off;
    size_t ihl;
    uint16_t frag;
    if (len < off + 20 || (ip[0] >> 4) != 4) {
      return -EBADMSG;
    }
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || len < off + ihl) {
      return -EBADMSG;
    }
    t->family = 4;
    t->proto = ip[9];
    memcpy(t->src, ip + 12, 4);
    memcpy(t->dst, ip + 16, 4);
    frag = rd16(ip + 6);
    if ((frag & 0x3fffu) != 0) {
      return 0; /* MF set or offset != 0: a fragment hashes its addresses only */
    }
    return ports_of(ip + ihl, len - off - ihl, t);
  }
  if (type == ETHERTYPE_IPV6) {
    const uint8_t *ip = frame + off;
    if (len < off + 40 || (ip[0] >> 4) != 6) {
      return -EBADMSG;
    }
    t->family = 6;
    t->proto = ip[6];
    memcpy(t->src, ip + 8, 16);
    memcpy(t->dst, ip + 24, 16);
    /* extension headers: like NICs without IPv6-EX hashing, addresses only */
    return ports_of(ip + 40, len - off - 40, t);
  }
  return -EPROTONOSUPPORT;
}

int inc_rss_conf_init(struct inc_rss_conf *conf, const uint8_t *key, size_t key_len,
                      uint16_t n_queues, uint16_t reta_size)
{
  uint16_t i;
  if (conf == NULL || (key_len != 40 && key_len != 52) || n_queues == 0 || reta_size == 0 ||
      reta_size > INC_RSS_RETA_MAX) {
    return -EINVAL;
  }
  memset(conf, 0, sizeof(*conf));
  memcpy(conf->key, key != NULL ? key : inc_rss_symmetric_key, key_len);
  conf->key_len = (uint8_t)key_len;
  conf->n_queues = n_queues;
  conf->reta_size = reta_size;
  lut_init(conf);
  for (i = 0; i < reta_size; i++) {
    conf->reta[i] = (uint16_t)(i % n_queues);
  }
  return 0;
}

uint16_t inc_rss_queue_of_frame(const struct inc_rss_conf *conf, const uint8_t *frame, size_t len)
{
  struct inc_rss_tuple t;
  uint32_t hash = 0;
  if (inc_rss_tuple_from_frame(frame, len, &t) == 0) {
    hash = inc_rss_conf_hash(conf, &t);
  }
  return inc_rss_queue(conf, hash);
}
