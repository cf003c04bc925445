// Software LRO in inc_netif_rx() (drivers/netif_rx.c) on a port without
// hardware LRO: segments it merges and segments it leaves alone reach lwIP in
// the order they arrived, per flow. Single worker, lock-step: every sanitizer.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drv_env.h"
#include "frames.h"
#include "inception/netif.h"
#include "inception/port.h"
#include "wire_pair.h"

namespace {

class Eal : public ::testing::Environment {
  void SetUp() override { drvtest::eal_init_once(); }
};
::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

std::string uniq(const std::string& s) {
  static int n;
  return s + std::to_string(getpid() % 100000) + "x" + std::to_string(n++);
}

const uint32_t kA = 0xc6120301, kB = 0xc6120302;
const uint8_t kAck = 0x10, kPsh = 0x08;

void put16(uint8_t* p, uint32_t x) {
  p[0] = (uint8_t)(x >> 8);
  p[1] = (uint8_t)x;
}
void put32(uint8_t* p, uint32_t x) {
  put16(p, x >> 16);
  put16(p + 2, x & 0xffff);
}
uint32_t get32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

// The payload byte at sequence number s.
uint8_t byte_at(uint32_t s) { return (uint8_t)(s * 7 + 3); }

// An IPv4 TCP segment (DF set, so rte_gro ignores the IP ID) from A to B,
// checksums right.
std::vector<uint8_t> segment(const drvtest::Mac& dst, const drvtest::Mac& src, uint16_t sport, uint32_t seq,
                             uint8_t flags, size_t len, uint16_t ip_id) {
  std::vector<uint8_t> f(54 + len, 0);
  memcpy(&f[0], dst.b, 6);
  memcpy(&f[6], src.b, 6);
  put16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  put16(ip + 2, (uint32_t)(40 + len));
  put16(ip + 4, ip_id);
  put16(ip + 6, 0x4000);
  ip[8] = 64;
  ip[9] = 6;
  put32(ip + 12, kA);
  put32(ip + 16, kB);
  put16(ip + 10, drvtest::inet_cksum(ip, 20));
  uint8_t* t = ip + 20;
  put16(t, sport);
  put16(t + 2, 7000);
  put32(t + 4, seq);
  put32(t + 8, 1);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t + 14, 65535);
  for (size_t i = 0; i < len; i++) t[20 + i] = byte_at(seq + (uint32_t)i);
  uint32_t ph = (kA >> 16) + (kA & 0xffff) + (kB >> 16) + (kB & 0xffff) + 6 + (uint32_t)(20 + len);
  put16(t + 16, drvtest::inet_cksum(t, 20 + len, ph));
  return f;
}

struct Seg {
  uint16_t sport;
  uint32_t seq;
  uint8_t flags;
  size_t len;
};

struct Got {
  uint16_t sport;
  uint32_t seq, len;
  bool payload_ok;
};

class SoftwareLro : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(wp.create(uniq("gro"), drvtest::WireOpts{}), "");
    ASSERT_TRUE(wp.b.offloads.sw & INC_OFFLOAD_LRO) << "the ring PMD has no LRO: software LRO expected";
    wb.call([&] { nb = drvtest::make_netif(&wp.b, 0, kB); });
    ASSERT_NE(nb, nullptr);
    memcpy(ma.b, wp.a.mac, 6);
    memcpy(mb.b, wp.b.mac, 6);
  }
  void TearDown() override {
    wb.call([&] {
      if (nb) inc_netif_fini(nb.get());
    });
    EXPECT_EQ(wp.destroy(), 0);
  }

  // Puts the segments on B's queue 0, then takes one receive burst of the
  // netif: what it would give lwIP, in that order.
  std::vector<Got> burst(const std::vector<Seg>& segs) {
    uint16_t id = 1;
    for (const Seg& s : segs) {
      auto f = segment(mb, ma, s.sport, s.seq, s.flags, s.len, id++);
      rte_mbuf* m = rte_pktmbuf_alloc(wp.a.q[0].pool);
      EXPECT_NE(m, nullptr);
      if (m == nullptr) return {};
      memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
      EXPECT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
    }
    std::vector<Got> got;
    wb.call([&] {
      rte_mbuf* pkts[64];
      unsigned n = inc_netif_rx(nb.get(), pkts, 64);
      for (unsigned i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        uint8_t hdr[54];
        const uint8_t* h = (const uint8_t*)rte_pktmbuf_read(m, 0, sizeof(hdr), hdr);
        Got g{};
        g.sport = (uint16_t)((h[34] << 8) | h[35]);
        g.seq = get32(h + 38);
        g.len = m->pkt_len - 54;
        g.payload_ok = ((h[16] << 8) | h[17]) == (int)(m->pkt_len - 14);  // merged: IP length updated
        for (uint32_t k = 0; k < g.len && g.payload_ok; k++) {
          uint8_t b;
          const uint8_t* p = (const uint8_t*)rte_pktmbuf_read(m, 54 + k, 1, &b);
          g.payload_ok = *p == byte_at(g.seq + k);
        }
        got.push_back(g);
        rte_pktmbuf_free(m);
      }
    });
    return got;
  }

  drvtest::Worker wb;
  drvtest::WirePair wp;
  std::unique_ptr<inc_netif> nb;
  drvtest::Mac ma, mb;
};

// The start of a bulk stream: a small PSH segment (an application header),
// then full segments. rte_gro merges the full ones and leaves the PSH one
// alone; it must still come first, or lwIP sees a gap.
TEST_F(SoftwareLro, SmallPshSegmentBeforeFullSegmentsIsDeliveredFirst) {
  const size_t kMss = 1448;
  std::vector<Seg> segs{{5000, 1, kAck | kPsh, 64}};
  for (uint32_t i = 0; i < 4; i++) segs.push_back({5000, 65 + i * (uint32_t)kMss, kAck, kMss});
  auto got = burst(segs);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 1u);
  EXPECT_EQ(got[0].len, 64u);
  EXPECT_EQ(got[1].seq, 65u);
  EXPECT_EQ(got[1].len, 4 * kMss);  // still coalesced
  EXPECT_TRUE(got[0].payload_ok && got[1].payload_ok);
  EXPECT_EQ(nb->cnt.rx_gro_merged, 3u);
  EXPECT_EQ(nb->cnt.rx_frames, 5u);
}

// Segments of one flow that are not merged (PSH, a pure ACK) between runs of
// mergeable ones, and another flow interleaved: per flow, sequence order.
TEST_F(SoftwareLro, UnmergedSegmentsKeepTheirPlaceAmongMergedOnes) {
  const uint32_t m = 1000;
  std::vector<Seg> segs{
      {5000, 1, kAck, m},              // A: 1..1001 \ merged
      {5000, 1 + m, kAck, m},          // A           /
      {5000, 1 + 2 * m, kAck | kPsh, 100},  // A: PSH, alone
      {5000, 101 + 2 * m, kAck, m},    // A \ merged
      {5000, 101 + 3 * m, kAck, m},    // A /
      {5000, 101 + 4 * m, kAck, 0},    // A: pure ACK
      {6000, 1, kAck, m},              // B
      {5000, 101 + 4 * m, kAck, m},    // A: after the ACK
      {6000, 1 + m, kAck, m},          // B: not next to B's first: alone
  };
  auto got = burst(segs);
  // A: 1..2001 merged, the PSH segment, 2101..4101 merged, the ACK, then
  // 4101..5101, in that order whatever else is merged; B: 1..2001 in order
  std::vector<Got> a, b;
  for (const Got& g : got) {
    EXPECT_TRUE(g.payload_ok);
    (g.sport == 5000 ? a : b).push_back(g);
  }
  ASSERT_EQ(a.size(), 5u);
  const uint32_t want_seq[] = {1, 1 + 2 * m, 101 + 2 * m, 101 + 4 * m, 101 + 4 * m};
  const uint32_t want_len[] = {2 * m, 100, 2 * m, 0, m};
  for (size_t i = 0; i < a.size(); i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].seq, want_seq[i]);
    EXPECT_EQ(a[i].len, want_len[i]);
  }
  ASSERT_FALSE(b.empty());
  uint32_t next = 1;
  for (const Got& g : b) {
    EXPECT_EQ(g.seq, next);
    next = g.seq + g.len;
  }
  EXPECT_EQ(next, 1 + 2 * m);
  EXPECT_GE(nb->cnt.rx_gro_merged, 2u);
  EXPECT_EQ(nb->cnt.rx_gro_merged + got.size(), segs.size());
}

// A long run of one flow is still coalesced into one packet per 64 KiB.
TEST_F(SoftwareLro, ConsecutiveFullSegmentsAreCoalesced) {
  std::vector<Seg> segs;
  for (uint32_t i = 0; i < 32; i++) segs.push_back({5000, 1 + i * 1448u, kAck, 1448});
  auto got = burst(segs);
  ASSERT_FALSE(got.empty());
  uint32_t next = 1;
  for (const Got& g : got) {
    EXPECT_EQ(g.seq, next);
    EXPECT_LE(g.len + 40, 65535u);
    EXPECT_TRUE(g.payload_ok);
    next = g.seq + g.len;
  }
  EXPECT_EQ(next, 1 + 32 * 1448u);
  EXPECT_EQ(got.size(), 1u);  // 32 x 1448 bytes fit in one 64 KiB packet
  EXPECT_EQ(nb->cnt.rx_gro_merged, 31u);
}

}  // namespace
