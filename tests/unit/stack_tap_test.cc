// The per-core runtime and steering against Linux (issue: per-core stack
// runtime): Inception's workers serve a multi-queue tap device, Linux's TCP is
// on the other side in a network namespace. Linux, not Inception, chooses the
// queue of every packet it sends (its tun driver's flow hash), so steering is
// what keeps each connection on its owner core. Both ways: Inception accepts
// Linux's connections and opens connections to a Linux server; every byte is
// verified at both ends.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "inception/port.h"
#include "netns.h"
#include "peer_proc.h"
#include "stack_env.h"

namespace {

using stacktest::Peer;  // peer_proc.h: linux_peer.c in the namespace

struct Params {
  unsigned workers;
  unsigned conns;  // each way
  uint32_t bytes;
  int idle_ms;     // Linux's client waits this long before sending
};

class StackTap : public ::testing::TestWithParam<Params> {};

TEST_P(StackTap, LinuxConnectsAndIsConnectedTo_EveryByteVerifiedOnOwnerCores) {
  const Params prm = GetParam();
  stacktest::eal_init_once();
  static int subnet = 60;
  const int sub = subnet++;
  drvtest::TapNs ns;
  ASSERT_EQ(ns.create(sub), "");
  ASSERT_EQ(ns.enter(), "");  // the tap's queues are opened in its namespace
  inc_port port{};
  inc_port_config pc{};
  std::string dev = "net_tap_stk" + std::to_string(getpid()) + "_" + std::to_string(sub) + ",iface=" + ns.tap;
  pc.devargs = dev.c_str();
  pc.n_queues = static_cast<uint16_t>(prm.workers);
  pc.mbufs = 8191;
  pc.socket_id = -1;
  inc_drv_err err{};
  int rc = inc_port_init(&port, &pc, &err);
  if (rc == 0) rc = inc_port_start(&port, &err);
  ns.leave();
  ASSERT_EQ(rc, 0) << err.msg;

  const uint32_t linux_ip = 0xc6120001u | (uint32_t(sub) << 8), our_ip = linux_ip + 1;
  char linux_ip_s[32];
  snprintf(linux_ip_s, sizeof(linux_ip_s), "198.18.%d.1", sub);
  char our_ip_s[32];
  snprintf(our_ip_s, sizeof(our_ip_s), "198.18.%d.2", sub);

  // Linux's server for the connections Inception opens
  Peer server, client;
  ASSERT_EQ(server.start(ns, {"server", "5001", std::to_string(prm.conns), std::to_string(prm.bytes), "120"}),
            "");
  ASSERT_EQ(server.first_line(), "ready");

  const unsigned per_worker = prm.conns / prm.workers;
  {
    stacktest::Side s;
    ASSERT_EQ(s.start(&port, prm.workers, 1, our_ip, linux_ip, per_worker, prm.bytes, 0x03000000u), "");
    // Linux's client: connects, stays idle (its tun driver forgets which queue
    // each flow used after ~3 s: then its hash alone picks the queue), sends.
    ASSERT_EQ(client.start(ns, {"client", our_ip_s, "5001", std::to_string(prm.conns), std::to_string(prm.bytes),
                                "0x04000000", std::to_string(prm.idle_ms), "120"}),
              "");
    const uint64_t total = uint64_t{per_worker} * prm.workers;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(150);
    while ((sxfer_out_complete(s.x) < total || sxfer_in_complete(s.x) < prm.conns) &&
           std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(client.wait(30), 0) << "Linux's client: its streams were not all accepted and verified";
    EXPECT_EQ(server.wait(30), 0) << "Linux's server: our streams did not all arrive whole";
    inc_stack_counters c{};
    inc_stack_counters_total(s.stack, &c);
    s.stop();
    uint64_t out = 0, in = 0, bytes = 0;
    for (unsigned i = 0; i < prm.workers; i++) {
      sxfer_result r{};
      sxfer_result_get(s.x, i, &r);
      SCOPED_TRACE("worker " + std::to_string(i));
      EXPECT_EQ(r.errors, 0u);
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_EQ(r.wrong_core, 0u) << "a callback ran on a core that does not own its connection";
      EXPECT_EQ(r.wrong_peer, 0u);
      out += r.out_complete;
      in += r.in_complete;
      bytes += r.verified_bytes;
    }
    EXPECT_EQ(out, total);
    EXPECT_EQ(in, prm.conns);
    EXPECT_EQ(bytes, uint64_t{prm.conns} * prm.bytes);
    EXPECT_GT(c.steered_out, 0u) << "Linux's queue choice never needed steering?";
    EXPECT_EQ(c.steered_out, c.steered_in);
    printf("%s\n", stacktest::describe("tap", c).c_str());
  }
  // every mbuf is back (inc_port_close() checks it; the tap's RX queues
  // hold their descriptors' mbufs until then)
  EXPECT_EQ(inc_port_close(&port), 0);
}

// 4 workers only: Debian's DPDK 22.11 tap PMD overflows a stack buffer when a
// port with more than 4 queue pairs starts (tap_mp_req_on_rxtx() copies two
// fds per queue pair into rte_mp_msg.fds[RTE_MP_MAX_FD_NUM = 8]; seen as
// "stack smashing detected" in rte_eth_dev_start()). 8 workers run over the
// software wire (stack_steering_test).
INSTANTIATE_TEST_SUITE_P(Tap, StackTap, ::testing::Values(Params{4, 1000, 16384, 4000}),
                         [](const ::testing::TestParamInfo<Params>& pi) {
                           return std::to_string(pi.param.workers) + "workers_" + std::to_string(pi.param.conns) +
                                  "connsEachWay";
                         });

}  // namespace
