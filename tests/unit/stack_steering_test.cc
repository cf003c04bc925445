// The per-core runtime and steering (issue: per-core stack runtime): two
// Inception stacks, each with W workers, joined by the software RSS wire.
// Both serve and both connect: every byte verified, every connection's
// callbacks on its owner core, steering counted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "inception/stack.h"
#include "stack_env.h"
#include "sxfer.h"
#include "wire_pair.h"

namespace {

using stacktest::Side;

struct Params {
  unsigned workers;
  unsigned conns_per_side;  // connections each side opens
  uint32_t bytes;
  bool mis_hash;            // the wire hashes with another key than the ports announce
  unsigned ring_size;
};

std::string Name(const ::testing::TestParamInfo<Params>& pi) {
  const Params& p = pi.param;
  return std::to_string(p.workers) + "workers_" + std::to_string(p.conns_per_side) + "connsEachWay" +
         (p.mis_hash ? "_MisHashed" : "") + (p.ring_size ? "_Ring" + std::to_string(p.ring_size) : "");
}

class StackSteering : public ::testing::TestWithParam<Params> {};

TEST_P(StackSteering, BothSidesServeAndConnect_EveryByteVerifiedOnOwnerCores) {
  const Params prm = GetParam();
  stacktest::eal_init_once();
  ASSERT_LE(2 * prm.workers + 1, stacktest::kMaxLcores);
  static unsigned serial = 0;
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  wo.qa = wo.qb = static_cast<uint16_t>(prm.workers);
  wo.mbufs = 4095;
  wo.clones = 4095;
  std::string err = wp.create("stk" + std::to_string(getpid() % 1000) + "_" + std::to_string(serial++), wo);
  ASSERT_EQ(err, "");
  if (prm.mis_hash) {
    // The wire delivers by a key the ports do not announce: the stacks choose
    // ports (and expect SYNs) by one hash, the "NIC" spreads by another, as
    // the kernel does behind a tap device. Everything must be steered.
    for (auto& conf : wp.w.peer) {
      for (unsigned i = 0; i < sizeof(conf.key); i++) {
        conf.key[i] = static_cast<uint8_t>(conf.key[i] * 7 + 1);
      }
    }
  }
  const unsigned per_worker = prm.conns_per_side / prm.workers;
  Side a, b;
  ASSERT_EQ(a.start(&wp.a, prm.workers, 1, 0xc6120001u, 0xc6120002u, per_worker, prm.bytes, 0x01000000u,
                    prm.ring_size), "");
  ASSERT_EQ(b.start(&wp.b, prm.workers, 1 + prm.workers, 0xc6120002u, 0xc6120001u, per_worker, prm.bytes,
                    0x02000000u, prm.ring_size), "");
  ASSERT_EQ(sxfer_failed_starts(a.x), 0u);
  ASSERT_EQ(sxfer_failed_starts(b.x), 0u);

  const uint64_t total = uint64_t{per_worker} * prm.workers;
  auto last_change = std::chrono::steady_clock::now();
  uint64_t last = 0;
  bool stalled = false;
  while (sxfer_out_complete(a.x) < total || sxfer_out_complete(b.x) < total ||
         sxfer_in_complete(a.x) < total || sxfer_in_complete(b.x) < total) {
    uint64_t now = sxfer_progress(a.x) + sxfer_progress(b.x);
    if (now != last) {
      last = now;
      last_change = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_change > std::chrono::seconds(60)) {
      stalled = true;  // a hang: no byte moved for a minute
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  inc_stack_counters ca{}, cb{};
  inc_stack_counters_total(a.stack, &ca);
  inc_stack_counters_total(b.stack, &cb);
  a.stop();
  b.stop();
  stacktest::drain_wire(&wp.w);
  EXPECT_FALSE(stalled);

  for (Side* s : {&a, &b}) {
    uint64_t out = 0, in = 0, bytes = 0;
    for (unsigned i = 0; i < prm.workers; i++) {
      sxfer_result r{};
      sxfer_result_get(s->x, i, &r);
      SCOPED_TRACE((s == &a ? "A worker " : "B worker ") + std::to_string(i));
      EXPECT_EQ(r.errors, 0u);
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_EQ(r.wrong_core, 0u) << "a callback ran on a core that does not own its connection";
      EXPECT_EQ(r.wrong_peer, 0u);
      EXPECT_EQ(r.out_complete, per_worker);
      out += r.out_complete;
      in += r.in_complete;
      bytes += r.verified_bytes;
    }
    EXPECT_EQ(out, total);
    EXPECT_EQ(in, total);
    EXPECT_EQ(bytes, total * prm.bytes);
  }
  // flows: each side owned what it opened and what it accepted (a SYN that
  // found a core out of memory is dropped and its retransmission tracked again)
  EXPECT_GE(ca.flows_opened, 2 * total);
  EXPECT_GE(cb.flows_opened, 2 * total);
  EXPECT_EQ(ca.drops[INC_DROP_MALFORMED] + cb.drops[INC_DROP_MALFORMED], 0u);
  if (prm.mis_hash) {
    EXPECT_GT(ca.steered_out + cb.steered_out, 0u);
    // what a core handed over, its owner took in (none was left in a ring)
    EXPECT_EQ(ca.steered_out, ca.steered_in);
    EXPECT_EQ(cb.steered_out, cb.steered_in);
  } else {
    // RSS delivered every packet to its owner: passive opens where the SYN
    // landed, active opens on ports whose replies hash home
    EXPECT_EQ(ca.steered_out + cb.steered_out, 0u);
  }
  if (prm.ring_size != 0) {
    EXPECT_GT(ca.ring_full + cb.ring_full, 0u) << "the test meant to fill a ring";
  }
  // every mbuf is back in its pool
  EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u);
  EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u);
  printf("%s\n%s\n", stacktest::describe("A", ca).c_str(), stacktest::describe("B", cb).c_str());
}

INSTANTIATE_TEST_SUITE_P(SoftwareWire, StackSteering,
                         ::testing::Values(Params{4, 1000, 16384, false, 0}, Params{8, 1000, 8192, false, 0},
                                           Params{4, 1000, 16384, true, 0}, Params{4, 200, 8192, true, 4}),
                         Name);

}  // namespace
