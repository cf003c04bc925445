// One lwIP instance per thread: instances run side by side and never see
// each other's state (issue: foundation, item 7).
//
// 4 threads (more than the 2 cores of the CI machine), each with its own
// lwIP instance; threads 0-1 and 2-3 are joined by in-memory Ethernet links.
// Every thread sends 16 transfers of 1 MiB to its peer and receives 16 from
// it: 64 concurrent TCP transfers in all, every byte verified on receipt.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "iso_worker.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"

namespace {

struct Params {
  unsigned threads;
  unsigned transfers_per_thread;
  uint32_t bytes;
};

class LwipIsolation : public ::testing::TestWithParam<Params> {};

TEST_P(LwipIsolation, ConcurrentInstancesTransferVerifiedBytesAndShareNothing) {
  const Params prm = GetParam();
  const iso_params p{prm.threads, prm.transfers_per_thread, prm.bytes, 60000};
  std::vector<iso_result> res(prm.threads);
  ASSERT_EQ(iso_run(&p, res.data()), 0);

  std::set<uintptr_t> stats_addrs, pcb_addrs;
  // This thread never started an instance: its lwIP state must be untouched.
  stats_addrs.insert(reinterpret_cast<uintptr_t>(&lwip_stats));
  pcb_addrs.insert(reinterpret_cast<uintptr_t>(&tcp_active_pcbs));
  EXPECT_EQ(lwip_stats.ip.recv, 0u);
  EXPECT_EQ(lwip_stats.tcp.xmit, 0u);
  EXPECT_EQ(tcp_active_pcbs, nullptr);

  uint64_t all_verified = 0;
  for (unsigned i = 0; i < prm.threads; i++) {
    const iso_result& r = res[i];
    SCOPED_TRACE("thread " + std::to_string(i));
    ASSERT_EQ(r.init_rc, 0);
    ASSERT_EQ(r.start_rc, 0);
    EXPECT_EQ(r.stalled, 0);
    // data: every transfer complete, every byte verified, nothing corrupt
    EXPECT_EQ(r.out_complete, prm.transfers_per_thread);
    EXPECT_EQ(r.in_complete, prm.transfers_per_thread);
    EXPECT_EQ(r.verified_bytes, uint64_t{prm.transfers_per_thread} * prm.bytes);
    EXPECT_EQ(r.corrupt, 0u);
    EXPECT_EQ(r.errors, 0u);
    all_verified += r.verified_bytes;
    // isolation: own state, own netif, own connections only
    EXPECT_TRUE(stats_addrs.insert(r.stats_addr).second) << "lwip_stats shared";
    EXPECT_TRUE(pcb_addrs.insert(r.active_pcbs_addr).second) << "tcp_active_pcbs shared";
    EXPECT_EQ(r.max_netifs, 1u);
    EXPECT_EQ(r.foreign_netif, 0u);
    EXPECT_GT(r.pcb_checks, 0u);
    EXPECT_EQ(r.foreign_pcbs, 0u);
    EXPECT_EQ(r.wrong_peer, 0u);
    // the instance processed exactly the frames its own link delivered
    EXPECT_EQ(r.stats.ip.recv, r.link_rx_ipv4);
    EXPECT_EQ(r.stats.etharp.recv, r.link_rx_arp);
    EXPECT_GT(r.stats.tcp.recv, 0u);
    // and gave back everything it took from its own pools
    EXPECT_EQ(r.memp_used_after_stop[0], 0u) << "TCP_PCB";
    EXPECT_EQ(r.memp_used_after_stop[1], 0u) << "TCP_PCB_LISTEN";
    EXPECT_EQ(r.memp_used_after_stop[2], 0u) << "TCP_SEG";
    EXPECT_EQ(r.memp_used_after_stop[3], 0u) << "PBUF_POOL";
  }
  EXPECT_EQ(all_verified, uint64_t{prm.threads} * prm.transfers_per_thread * prm.bytes);
}

INSTANTIATE_TEST_SUITE_P(
    Oversubscribed, LwipIsolation,
    ::testing::Values(Params{4, 16, 1u << 20}),  // 64 transfers of 1 MiB
    [](const ::testing::TestParamInfo<Params>& pi) {
      return std::to_string(pi.param.threads) + "threads_" +
             std::to_string(pi.param.threads * pi.param.transfers_per_thread) + "x" +
             std::to_string(pi.param.bytes >> 10) + "KiB";
    });

}  // namespace
