// Free-running workers on both ends of the software RSS wire, with loss,
// duplicates, reordering and delay in both directions: many TCP streams,
// every byte verified. Each connection's replies must reach the core that
// opened it (the symmetric key makes both directions hash alike, and the
// opener picks its local port so), or that core's lwIP never sees them and
// the stream fails. Not under TSan (mbufs cross threads through DPDK's
// uninstrumented rings; see tests/unit/drivers.cmake).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>

#include "drv_env.h"
#include "inception/rss.h"
#include "tcpio.h"
#include "wire_pair.h"
#include "zc_peer.h"

namespace {

class Eal : public ::testing::Environment {
  void SetUp() override { drvtest::eal_init_once(); }
};
::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

struct Params {
  unsigned streams_per_core;
  uint64_t bytes;
  inc_wire_fault fault;
};

class Transfer : public ::testing::TestWithParam<Params> {};

uint16_t queue_of(const inc_rss_conf& rss, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  inc_rss_tuple t{};
  t.family = 4;
  t.l4 = 1;
  t.proto = 6;
  uint32_t s = htonl(src), d = htonl(dst);
  memcpy(t.src, &s, 4);
  memcpy(t.dst, &d, 4);
  t.sport = sport;
  t.dport = dport;
  return inc_rss_queue(&rss, inc_rss_hash(rss.key, rss.key_len, &t));
}

TEST_P(Transfer, StreamsBetweenTwoCoresEachWayArriveVerifiedOnTheirCores) {
  const Params prm = GetParam();
  constexpr int kQ = 2;
  const uint32_t a_ip = 0xc6120501, b_ip = 0xc6120502, seed = 77;
  static int n;
  drvtest::WirePair wp;
  drvtest::WireOpts o;
  o.qa = kQ;
  o.qb = kQ;
  o.ab = prm.fault;
  o.ba = prm.fault;
  o.ba.seed ^= 0x5555;
  o.mbufs = 8191;
  o.clones = 8191;
  ASSERT_EQ(wp.create("tr" + std::to_string(getpid() % 100000) + "_" + std::to_string(n++), o), "");

  drvtest::Worker wa[kQ], wb[kQ];
  std::unique_ptr<inc_netif> na[kQ], nb[kQ];
  tio src[kQ], sink[kQ];
  std::atomic<unsigned> sources_done[kQ]{}, sinks_done[kQ]{};
  std::map<int, unsigned> want_b;  // streams each B core should accept
  for (int q = 0; q < kQ; q++) {
    wb[q].call([&, q] {
      nb[q] = drvtest::make_netif(&wp.b, (uint16_t)q, b_ip);
      drvtest::static_arp(a_ip, wp.a.mac);  // ARP sharing between cores is steering's (issue 5)
      tio_init(&sink[q], 0);
      ASSERT_EQ(tio_listen(&sink[q], 7000, seed, prm.bytes), 0);
    });
    wa[q].call([&, q] {
      na[q] = drvtest::make_netif(&wp.a, (uint16_t)q, a_ip);
      drvtest::static_arp(b_ip, wp.b.mac);
      tio_init(&src[q], q);  // core 0 copies, core 1 sends the application's buffers
    });
  }
  // Each A core opens its streams from local ports whose replies (B -> A)
  // land on its own queue: with the symmetric key, the same hash.
  unsigned opened[kQ] = {0, 0};
  for (uint16_t p = 42000; opened[0] + opened[1] < kQ * prm.streams_per_core; p++) {
    int q = queue_of(wp.a.rss, b_ip, a_ip, 7000, p);
    if (opened[q] == prm.streams_per_core) continue;
    opened[q]++;
    want_b[queue_of(wp.b.rss, a_ip, b_ip, p, 7000)]++;
    wa[q].call([&, q, p] {
      ip_addr_t dst;
      IP_ADDR4(&dst, 198, 18, 5, 2);
      ASSERT_EQ(tio_connect(&src[q], &dst, 7000, p, seed, prm.bytes), 0);
    });
  }
  for (int q = 0; q < kQ; q++) {
    wa[q].loop([&, q] {
      unsigned k = drvtest::poll_once(na[q].get());
      tio_poll(&src[q]);
      sources_done[q].store(src[q].sources_complete + 1000 * src[q].failures, std::memory_order_release);
      if (k == 0) usleep(20);
    });
    wb[q].loop([&, q] {
      unsigned k = drvtest::poll_once(nb[q].get());
      sinks_done[q].store(sink[q].sinks_complete + 1000 * (sink[q].failures + sink[q].corrupt),
                          std::memory_order_release);
      if (k == 0) usleep(20);
    });
  }
  const unsigned total = kQ * prm.streams_per_core;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (std::chrono::steady_clock::now() < deadline) {
    unsigned s = sources_done[0].load(std::memory_order_acquire) + sources_done[1].load(std::memory_order_acquire);
    unsigned k = sinks_done[0].load(std::memory_order_acquire) + sinks_done[1].load(std::memory_order_acquire);
    if ((s >= total && k >= total) || s >= 1000 || k >= 1000) break;
    usleep(20000);
  }
  for (int q = 0; q < kQ; q++) {
    wa[q].stop_loop();
    wb[q].stop_loop();
  }
  if (src[0].sources_complete + src[1].sources_complete < total) {
    for (int q = 0; q < kQ; q++) {
      wa[q].call([&, q] { tio_dump(&src[q], q ? "A1" : "A0"); });
      wb[q].call([&, q] { tio_dump(&sink[q], q ? "B1" : "B0"); });
      fprintf(stderr, "A%d tx dropped %lu nomem %lu; B%d rx nomem %lu tx dropped %lu\n", q,
              (unsigned long)na[q]->cnt.tx_dropped, (unsigned long)na[q]->cnt.tx_nomem, q,
              (unsigned long)nb[q]->cnt.rx_nomem, (unsigned long)nb[q]->cnt.tx_dropped);
    }
  }
  for (int q = 0; q < kQ; q++) {
    SCOPED_TRACE(q);
    EXPECT_EQ(src[q].sources_complete, prm.streams_per_core);
    EXPECT_EQ(src[q].failures, 0u) << "a stream failed: a reply reached a core that did not open it?";
    EXPECT_EQ(sink[q].accepted, want_b[q]) << "a stream was not on the queue RSS picks";
    EXPECT_EQ(sink[q].sinks_complete, want_b[q]);
    EXPECT_EQ(sink[q].verified, want_b[q] * prm.bytes);
    EXPECT_EQ(sink[q].corrupt + sink[q].failures, 0u);
    EXPECT_EQ(na[q]->cnt.tx_payload_copied, 0u);
    EXPECT_EQ(nb[q]->cnt.rx_bad_l4_cksum + nb[q]->cnt.rx_bad_ip_cksum + nb[q]->cnt.rx_bad_l3, 0u);
  }
  EXPECT_GT(na[0]->cnt.tx_gso + na[1]->cnt.tx_gso, 0u);  // large segments, cut in software
  for (int q = 0; q < kQ; q++) {
    wa[q].call([&, q] {
      tio_stop(&src[q]);
      zc_tcp_abort_all();
      inc_netif_fini(na[q].get());
    });
    wb[q].call([&, q] {
      tio_stop(&sink[q]);
      zc_tcp_abort_all();
      inc_netif_fini(nb[q].get());
    });
  }
  EXPECT_EQ(wp.destroy(), 0);  // every mbuf back: nothing leaked under load
}

INSTANTIATE_TEST_SUITE_P(
    Wire, Transfer,
    ::testing::Values(Params{4, 1u << 20, {0, 0, 0, 0, 1}},            // a perfect wire
                      Params{4, 512u << 10, {0.3, 0.3, 8, 100, 2}}),  // loss, dups, reorder, delay
    [](const ::testing::TestParamInfo<Params>& i) {
      return i.param.fault.loss_pct > 0 ? std::string("faulty_8x512KiB") : std::string("perfect_8x1MiB");
    });

}  // namespace
