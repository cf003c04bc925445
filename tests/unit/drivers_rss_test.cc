// Toeplitz hash and queue choice (include/inception/rss.h) against the
// Microsoft RSS verification suite and DPDK's rte_softrss. Pure: no EAL.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <random>

#include <rte_thash.h>

#include "frames.h"
#include "inception/rss.h"

namespace {

// "Verifying the RSS Hash Calculation" (Microsoft), also the 82599 datasheet
// 7.1.2.8.3: destination, source, and the hashes of the addresses alone and
// with the TCP ports. The hash input is source first.
struct V4 {
  const char *dst, *src;
  uint16_t dport, sport;
  uint32_t h_l3, h_l3l4;
};
const V4 kV4[] = {
    {"161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178},
    {"65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea},
    {"12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
    {"209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f},
    {"202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2},
};
struct V6 {
  const char *dst, *src;
  uint16_t dport, sport;
  uint32_t h_l3, h_l3l4;
};
const V6 kV6[] = {
    {"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d},
    {"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf},
    {"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985,
     0x02d1feef},
};

inc_rss_tuple tuple4(const V4& v, bool l4) {
  inc_rss_tuple t{};
  t.family = 4;
  t.l4 = l4;
  t.proto = 6;
  inet_pton(AF_INET, v.src, t.src);
  inet_pton(AF_INET, v.dst, t.dst);
  t.sport = v.sport;
  t.dport = v.dport;
  return t;
}

inc_rss_tuple tuple6(const V6& v, bool l4) {
  inc_rss_tuple t{};
  t.family = 6;
  t.l4 = l4;
  t.proto = 6;
  inet_pton(AF_INET6, v.src, t.src);
  inet_pton(AF_INET6, v.dst, t.dst);
  t.sport = v.sport;
  t.dport = v.dport;
  return t;
}

// rte_softrss takes the tuple as host-order 32-bit words.
uint32_t softrss4(const inc_rss_tuple& t, bool l4, const uint8_t* key) {
  rte_ipv4_tuple tu{};
  uint32_t s, d;
  memcpy(&s, t.src, 4);
  memcpy(&d, t.dst, 4);
  tu.src_addr = ntohl(s);
  tu.dst_addr = ntohl(d);
  tu.sport = t.sport;
  tu.dport = t.dport;
  return rte_softrss((uint32_t*)&tu, l4 ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN, key);
}

uint32_t softrss6(const inc_rss_tuple& t, bool l4, const uint8_t* key) {
  union {
    rte_ipv6_tuple tu;
    uint32_t w[RTE_THASH_V6_L4_LEN];
  } u{};
  uint32_t in[RTE_THASH_V6_L4_LEN];
  memcpy(in, t.src, 16);
  memcpy(in + 4, t.dst, 16);
  for (int i = 0; i < 8; i++) {
    u.w[i] = ntohl(in[i]);
  }
  u.tu.sport = t.sport;
  u.tu.dport = t.dport;
  return rte_softrss(u.w, l4 ? RTE_THASH_V6_L4_LEN : RTE_THASH_V6_L3_LEN, key);
}

TEST(RssHash, MicrosoftVectorsIpv4MatchPublishedValuesAndSoftrss) {
  for (const V4& v : kV4) {
    SCOPED_TRACE(v.dst);
    inc_rss_tuple l3 = tuple4(v, false), l4 = tuple4(v, true);
    EXPECT_EQ(inc_rss_hash(inc_rss_ms_key, 40, &l3), v.h_l3);
    EXPECT_EQ(inc_rss_hash(inc_rss_ms_key, 40, &l4), v.h_l3l4);
    EXPECT_EQ(softrss4(l3, false, inc_rss_ms_key), v.h_l3);
    EXPECT_EQ(softrss4(l4, true, inc_rss_ms_key), v.h_l3l4);
  }
}

TEST(RssHash, MicrosoftVectorsIpv6MatchPublishedValuesAndSoftrss) {
  for (const V6& v : kV6) {
    SCOPED_TRACE(v.dst);
    inc_rss_tuple l3 = tuple6(v, false), l4 = tuple6(v, true);
    EXPECT_EQ(inc_rss_hash(inc_rss_ms_key, 40, &l3), v.h_l3);
    EXPECT_EQ(inc_rss_hash(inc_rss_ms_key, 40, &l4), v.h_l3l4);
    EXPECT_EQ(softrss6(l3, false, inc_rss_ms_key), v.h_l3);
    EXPECT_EQ(softrss6(l4, true, inc_rss_ms_key), v.h_l3l4);
  }
}

TEST(RssHash, RandomTuplesAgreeWithSoftrssUnderBothKeys) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; i++) {
    inc_rss_tuple t{};
    t.family = (i & 1) ? 6 : 4;
    t.l4 = (i & 2) != 0;
    for (auto& b : t.src) b = (uint8_t)rng();
    for (auto& b : t.dst) b = (uint8_t)rng();
    t.sport = (uint16_t)rng();
    t.dport = (uint16_t)rng();
    for (const uint8_t* key : {inc_rss_ms_key, inc_rss_symmetric_key}) {
      uint32_t want = t.family == 4 ? softrss4(t, t.l4, key) : softrss6(t, t.l4, key);
      ASSERT_EQ(inc_rss_hash(key, 40, &t), want) << "tuple " << i;
    }
  }
}

// The table-driven hash of a conf (one lookup per input byte) is the
// bit-by-bit reference, for IPv4 and IPv6, with and without ports, under the
// Microsoft key, the symmetric key (40 and 52 bytes) and random keys.
TEST(RssHash, TableHashOfConfEqualsBitByBitReferenceOnRandomTuples) {
  std::mt19937_64 rng(2026);
  uint8_t rnd40[40], rnd52[52];
  for (auto& b : rnd40) b = (uint8_t)rng();
  for (auto& b : rnd52) b = (uint8_t)rng();
  struct K {
    const uint8_t* key;
    size_t len;
  } keys[] = {{inc_rss_ms_key, 40}, {inc_rss_symmetric_key, 40}, {inc_rss_symmetric_key, 52},
              {rnd40, 40}, {rnd52, 52}};
  auto conf = std::make_unique<inc_rss_conf>();
  for (const K& k : keys) {
    ASSERT_EQ(inc_rss_conf_init(conf.get(), k.key, k.len, 4, 128), 0);
    for (int i = 0; i < 4000; i++) {
      inc_rss_tuple t{};
      t.family = (i & 1) ? 6 : 4;
      t.l4 = (i & 2) != 0;
      t.proto = t.l4 ? 6 : 47;
      for (auto& b : t.src) b = (uint8_t)rng();
      for (auto& b : t.dst) b = (uint8_t)rng();
      t.sport = (uint16_t)rng();
      t.dport = (uint16_t)rng();
      if (i % 16 == 0) {  // extremes: all zero, all ones
        memset(t.src, i % 32 ? 0xff : 0, 16);
        memset(t.dst, i % 32 ? 0xff : 0, 16);
        t.sport = t.dport = i % 32 ? 0xffff : 0;
      }
      uint32_t want = inc_rss_hash(k.key, k.len, &t);
      ASSERT_EQ(inc_rss_conf_hash(conf.get(), &t), want) << "key " << k.len << " tuple " << i;
    }
    inc_rss_tuple none{};
    EXPECT_EQ(inc_rss_conf_hash(conf.get(), &none), 0u);
  }
  // the Microsoft vectors through the tables
  ASSERT_EQ(inc_rss_conf_init(conf.get(), inc_rss_ms_key, 40, 4, 128), 0);
  for (const V4& v : kV4) {
    inc_rss_tuple l3 = tuple4(v, false), l4 = tuple4(v, true);
    EXPECT_EQ(inc_rss_conf_hash(conf.get(), &l3), v.h_l3);
    EXPECT_EQ(inc_rss_conf_hash(conf.get(), &l4), v.h_l3l4);
  }
  for (const V6& v : kV6) {
    inc_rss_tuple l3 = tuple6(v, false), l4 = tuple6(v, true);
    EXPECT_EQ(inc_rss_conf_hash(conf.get(), &l3), v.h_l3);
    EXPECT_EQ(inc_rss_conf_hash(conf.get(), &l4), v.h_l3l4);
  }
  // a key changed in place is the key hashed (tests mis-hash a wire so)
  inc_rss_tuple t4 = tuple4(kV4[2], true);
  for (unsigned i = 0; i < 40; i++) conf->key[i] = (uint8_t)(conf->key[i] * 7 + 1);
  EXPECT_EQ(inc_rss_conf_hash(conf.get(), &t4), inc_rss_hash(conf->key, 40, &t4));
  EXPECT_NE(inc_rss_conf_hash(conf.get(), &t4), kV4[2].h_l3l4);
  ASSERT_EQ(inc_rss_conf_init(conf.get(), inc_rss_ms_key, 40, 4, 128), 0);
  // a copy by value hashes alike (the wire copies the ports' confs)
  inc_rss_conf* copy = new inc_rss_conf(*conf);
  inc_rss_tuple t = tuple6(kV6[1], true);
  EXPECT_EQ(inc_rss_conf_hash(copy, &t), kV6[1].h_l3l4);
  delete copy;
}

TEST(RssHash, SymmetricKeyHashesBothDirectionsAlike) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; i++) {
    inc_rss_tuple a{};
    a.family = (i & 1) ? 6 : 4;
    a.l4 = 1;
    for (auto& b : a.src) b = (uint8_t)rng();
    for (auto& b : a.dst) b = (uint8_t)rng();
    a.sport = (uint16_t)rng();
    a.dport = (uint16_t)rng();
    inc_rss_tuple b = a;
    memcpy(b.src, a.dst, 16);
    memcpy(b.dst, a.src, 16);
    b.sport = a.dport;
    b.dport = a.sport;
    ASSERT_EQ(inc_rss_hash(inc_rss_symmetric_key, 40, &a), inc_rss_hash(inc_rss_symmetric_key, 40, &b));
  }
  // the Microsoft key is not symmetric: it is a real test of the above
  inc_rss_tuple a = tuple4(kV4[0], true), b = a;
  memcpy(b.src, a.dst, 4);
  memcpy(b.dst, a.src, 4);
  std::swap(b.sport, b.dport);
  EXPECT_NE(inc_rss_hash(inc_rss_ms_key, 40, &a), inc_rss_hash(inc_rss_ms_key, 40, &b));
}

TEST(RssQueue, FramesGoToRetaEntryOfSoftrssHash) {
  inc_rss_conf conf;
  ASSERT_EQ(inc_rss_conf_init(&conf, inc_rss_ms_key, 40, 4, 128), 0);
  drvtest::Mac m1{{2, 0, 0, 0, 0, 1}}, m2{{2, 0, 0, 0, 0, 2}};
  for (const V4& v : kV4) {
    for (uint8_t proto : {6, 17}) {
      uint32_t s, d;
      inet_pton(AF_INET, v.src, &s);
      inet_pton(AF_INET, v.dst, &d);
      auto f = drvtest::ipv4_frame(m1, m2, ntohl(s), ntohl(d), proto, v.sport, v.dport, {1, 2, 3});
      inc_rss_tuple t = tuple4(v, true);
      uint16_t q = inc_rss_queue_of_frame(&conf, f.data(), f.size());
      EXPECT_EQ(q, conf.reta[softrss4(t, true, inc_rss_ms_key) % 128]);
      EXPECT_EQ(q, (v.h_l3l4 % 128) % 4);
      // a fragment hashes its addresses only
      auto frag = drvtest::ipv4_frame(m1, m2, ntohl(s), ntohl(d), proto, v.sport, v.dport, {1, 2, 3},
                                      true, true, 0x2000 /* MF */);
      EXPECT_EQ(inc_rss_queue_of_frame(&conf, frag.data(), frag.size()), (v.h_l3 % 128) % 4);
    }
  }
  for (const V6& v : kV6) {
    uint8_t s[16], d[16];
    inet_pton(AF_INET6, v.src, s);
    inet_pton(AF_INET6, v.dst, d);
    auto f = drvtest::ipv6_frame(m1, m2, s, d, 6, v.sport, v.dport, {9});
    EXPECT_EQ(inc_rss_queue_of_frame(&conf, f.data(), f.size()), (v.h_l3l4 % 128) % 4);
  }
}

TEST(RssTuple, MalformedAndForeignFramesAreRecognised) {
  inc_rss_tuple t;
  uint8_t arp[42] = {0};
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(inc_rss_tuple_from_frame(arp, sizeof(arp), &t), -EPROTONOSUPPORT);
  EXPECT_EQ(t.family, 0);
  EXPECT_EQ(inc_rss_tuple_from_frame(arp, 10, &t), -EBADMSG);
  drvtest::Mac m{{2, 0, 0, 0, 0, 1}};
  auto f = drvtest::ipv4_frame(m, m, 0x0a000001, 0x0a000002, 6, 1, 2, {});
  EXPECT_EQ(inc_rss_tuple_from_frame(f.data(), 14 + 19, &t), -EBADMSG);  // IP header cut
  EXPECT_EQ(inc_rss_tuple_from_frame(f.data(), 14 + 22, &t), -EBADMSG);  // ports cut
  f[14] = 0x43;                                                          // IHL 3
  EXPECT_EQ(inc_rss_tuple_from_frame(f.data(), f.size(), &t), -EBADMSG);
  inc_rss_conf conf;
  EXPECT_EQ(inc_rss_conf_init(&conf, nullptr, 39, 4, 128), -EINVAL);
  EXPECT_EQ(inc_rss_conf_init(&conf, nullptr, 40, 0, 128), -EINVAL);
  EXPECT_EQ(inc_rss_conf_init(&conf, nullptr, 40, 4, INC_RSS_RETA_MAX + 1), -EINVAL);
  ASSERT_EQ(inc_rss_conf_init(&conf, nullptr, 52, 3, 8), 0);
  for (int i = 0; i < 8; i++) {
    EXPECT_EQ(conf.reta[i], i % 3);
  }
  EXPECT_EQ(inc_rss_queue_of_frame(&conf, arp, sizeof(arp)), conf.reta[0]);
}

}  // namespace
