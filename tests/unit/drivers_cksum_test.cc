// Checksums over mbuf chains (drivers/cksum.c) against a plain RFC 1071
// reference, for chains with segments of every small length (odd ones
// included, where DPDK 22.11's rte_raw_cksum_mbuf() is wrong). Pure: the
// mbufs are built by hand, no EAL.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cksum_priv.h"

namespace {

uint16_t reference(const uint8_t* d, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)((d[i] << 8) | d[i + 1]);
  if (n & 1) s += (uint32_t)(d[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)s;
}

// A chain of mbufs over pieces of data (no pool: fields set by hand).
struct Chain {
  std::vector<rte_mbuf> m;
  explicit Chain(std::vector<uint8_t>& data, const std::vector<uint16_t>& cuts) : m(cuts.size() + 1) {
    size_t at = 0;
    for (size_t i = 0; i <= cuts.size(); i++) {
      size_t len = i < cuts.size() ? cuts[i] : data.size() - at;
      memset(&m[i], 0, sizeof(rte_mbuf));
      m[i].buf_addr = data.data() + at;
      m[i].data_off = 0;
      m[i].data_len = (uint16_t)len;
      m[i].next = i < cuts.size() ? &m[i + 1] : nullptr;
      at += len;
    }
    m[0].pkt_len = (uint32_t)data.size();
    m[0].nb_segs = (uint16_t)m.size();
  }
};

TEST(Cksum, ChainsWithOddSegmentsSumLikeTheFlatBuffer) {
  std::vector<uint8_t> data(3000);
  for (size_t i = 0; i < data.size(); i++) data[i] = (uint8_t)(i * 37 + 11);
  for (uint16_t a = 1; a < 40; a++) {
    for (uint16_t b = 1; b < 40; b++) {
      Chain c(data, {a, b, 7});
      for (uint32_t off : {0u, 1u, 2u, 5u}) {
        uint16_t got;
        ASSERT_EQ(inc__cksum_mbuf(&c.m[0], off, (uint32_t)data.size() - off, &got), 0);
        uint16_t want = reference(data.data() + off, data.size() - off);
        ASSERT_EQ(rte_be_to_cpu_16(got), want) << "a=" << a << " b=" << b << " off=" << off;
      }
    }
  }
  Chain c(data, {10});
  uint16_t s;
  EXPECT_EQ(inc__cksum_mbuf(&c.m[0], 0, (uint32_t)data.size() + 1, &s), -1);  // longer than the chain
}

TEST(Cksum, RawSumEqualsDpdkRawCksumForEveryLengthAndAlignment) {
  // inc__cksum_raw() replaces rte_raw_cksum() on the data path: the same
  // 16-bit value (byte order and the 0 / 0xffff choice included)
  std::vector<uint8_t> data(2100);
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = (uint8_t)(x >> 16);
  }
  for (size_t off = 0; off < 8; off++) {
    for (size_t len = 0; len <= 300; len++) {
      ASSERT_EQ(inc__cksum_raw(data.data() + off, len), rte_raw_cksum(data.data() + off, len))
          << "off=" << off << " len=" << len;
    }
    ASSERT_EQ(inc__cksum_raw(data.data() + off, 2048), rte_raw_cksum(data.data() + off, 2048));
  }
  std::vector<uint8_t> ones(1500, 0xff), zeros(64, 0);
  for (size_t len : {0u, 1u, 2u, 3u, 31u, 32u, 33u, 1500u}) {
    EXPECT_EQ(inc__cksum_raw(ones.data(), len), rte_raw_cksum(ones.data(), len)) << len;
  }
  EXPECT_EQ(inc__cksum_raw(zeros.data(), 64), 0);
}

TEST(Cksum, DpdkRawCksumMbufIsWrongOnOddSegmentsWhichIsWhyOursExists) {
  std::vector<uint8_t> data(200);
  for (size_t i = 0; i < data.size(); i++) data[i] = (uint8_t)(i * 37 + 11);
  Chain c(data, {1, 2});
  uint16_t dpdk, ours;
  ASSERT_EQ(rte_raw_cksum_mbuf(&c.m[0], 0, (uint32_t)data.size(), &dpdk), 0);
  ASSERT_EQ(inc__cksum_mbuf(&c.m[0], 0, (uint32_t)data.size(), &ours), 0);
  EXPECT_EQ(rte_be_to_cpu_16(ours), reference(data.data(), data.size()));
  EXPECT_NE(dpdk, ours);  // if DPDK is fixed, the driver could use it again
}

TEST(Cksum, TcpChecksumOfAChainVerifiesLikeAFlatPacket) {
  // IPv4 + TCP header + payload, flat and chained at odd places
  std::vector<uint8_t> pkt(20 + 20 + 1001);
  for (size_t i = 40; i < pkt.size(); i++) pkt[i] = (uint8_t)(i * 13);
  pkt[0] = 0x45;
  pkt[2] = (uint8_t)(pkt.size() >> 8);
  pkt[3] = (uint8_t)pkt.size();
  pkt[8] = 64;
  pkt[9] = 6;
  uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  memcpy(&pkt[12], src, 4);
  memcpy(&pkt[16], dst, 4);
  pkt[20 + 12] = 5 << 4;
  Chain c(pkt, {40, 333, 1});
  uint16_t ck = inc__l4_cksum(&c.m[0], pkt.data(), 1, 20);
  memcpy(&pkt[20 + 16], &ck, 2);
  // the receiver's check: pseudo-header + segment sums to all ones
  uint8_t ph[12] = {198, 18, 0, 1, 198, 18, 0, 2, 0, 6, (uint8_t)((pkt.size() - 20) >> 8), (uint8_t)(pkt.size() - 20)};
  uint32_t s = reference(ph, 12) + reference(pkt.data() + 20, pkt.size() - 20);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  EXPECT_EQ(s, 0xffffu);
}

}  // namespace
