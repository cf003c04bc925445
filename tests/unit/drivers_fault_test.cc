// The software wire's fault injector (drivers/fault.c): seeded loss,
// duplicates, reorder window and fixed delay. Pure: no EAL, no DPDK.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "fault_priv.h"

namespace {

// The fault state is large (it holds up to INC_DRV_WIRE_MAX_HELD frames).
std::unique_ptr<inc_wire_faults> make(const inc_wire_fault& cfg) {
  auto f = std::make_unique<inc_wire_faults>();
  EXPECT_EQ(inc__fault_init(f.get(), &cfg), 0);
  return f;
}

void* pkt(uintptr_t id) { return reinterpret_cast<void*>(id); }

// Offers n packets (ids 1..n) at time t, keeping what is released. Returns
// the ids in release order (duplicates appear twice).
std::vector<uintptr_t> run(inc_wire_faults* f, unsigned n, uint64_t t0, uint64_t step_ns,
                           uint64_t* dropped = nullptr) {
  std::vector<uintptr_t> out;
  void* buf[64];
  uint64_t t = t0;
  for (unsigned i = 1; i <= n; i++, t += step_ns) {
    unsigned v = inc__fault_decide(f);
    if (v & INC__FAULT_DROP) {
      if (dropped) (*dropped)++;
      continue;
    }
    if (v & INC__FAULT_DUP) {
      EXPECT_EQ(inc__fault_hold(f, pkt(i), t), 0);
    }
    EXPECT_EQ(inc__fault_hold(f, pkt(i), t), 0);
    unsigned k;
    while ((k = inc__fault_release(f, t, buf, 64, 0)) > 0) {
      for (unsigned j = 0; j < k; j++) out.push_back(reinterpret_cast<uintptr_t>(buf[j]));
    }
  }
  // long after: everything is let go
  unsigned k;
  while ((k = inc__fault_release(f, t + 60ull * 1000 * 1000 * 1000, buf, 64, 0)) > 0) {
    for (unsigned j = 0; j < k; j++) out.push_back(reinterpret_cast<uintptr_t>(buf[j]));
  }
  EXPECT_EQ(f->n_held, 0u);
  return out;
}

TEST(WireFault, NoFaultsPassEverythingInOrderAtOnce) {
  inc_wire_fault cfg{};
  auto f = make(cfg);
  EXPECT_FALSE(f->active);
  auto out = run(f.get(), 1000, 0, 0);
  ASSERT_EQ(out.size(), 1000u);
  for (unsigned i = 0; i < out.size(); i++) EXPECT_EQ(out[i], i + 1);
}

TEST(WireFault, SameSeedSameDecisionsOtherSeedOthers) {
  inc_wire_fault cfg{};
  cfg.loss_pct = 20;
  cfg.dup_pct = 10;
  cfg.reorder_window = 8;
  cfg.seed = 1234;
  auto a = run(make(cfg).get(), 5000, 0, 1000);
  auto b = run(make(cfg).get(), 5000, 0, 1000);
  EXPECT_EQ(a, b);
  cfg.seed = 1235;
  auto c = run(make(cfg).get(), 5000, 0, 1000);
  EXPECT_NE(a, c);
}

TEST(WireFault, LossAndDuplicateRatesFollowTheSettings) {
  inc_wire_fault cfg{};
  cfg.loss_pct = 10;
  cfg.dup_pct = 5;
  cfg.seed = 99;
  auto f = make(cfg);
  const unsigned n = 100000;
  uint64_t dropped = 0;
  auto out = run(f.get(), n, 0, 100, &dropped);
  EXPECT_EQ(f->counts.dropped, dropped);
  // binomial: sd of 10 % of 100000 is about 95 packets, of 5 % about 69
  EXPECT_NEAR((double)f->counts.dropped, 0.10 * n, 600.0);
  EXPECT_NEAR((double)f->counts.duplicated, 0.05 * (n - dropped), 500.0);
  EXPECT_EQ(out.size(), n - f->counts.dropped + f->counts.duplicated);
  std::map<uintptr_t, int> seen;
  for (auto id : out) seen[id]++;
  for (auto& kv : seen) EXPECT_LE(kv.second, 2);
  EXPECT_EQ(seen.size(), n - f->counts.dropped);
}

TEST(WireFault, AllLostAtHundredPercent) {
  inc_wire_fault cfg{};
  cfg.loss_pct = 100;
  auto f = make(cfg);
  EXPECT_TRUE(run(f.get(), 1000, 0, 10).empty());
  EXPECT_EQ(f->counts.dropped, 1000u);
}

TEST(WireFault, ReorderStaysWithinTheWindowAndDoesReorder) {
  for (uint32_t w : {2u, 4u, 16u, 64u}) {
    SCOPED_TRACE(w);
    inc_wire_fault cfg{};
    cfg.reorder_window = w;
    cfg.seed = w;
    auto f = make(cfg);
    auto out = run(f.get(), 20000, 0, 10);
    ASSERT_EQ(out.size(), 20000u);
    // a packet is overtaken by at most w - 1 packets sent after it
    for (size_t pos = 0; pos < out.size(); pos++) {
      size_t overtaken = 0;
      for (size_t j = 0; j < pos; j++) overtaken += out[j] > out[pos];
      if (pos > 200) break;  // the quadratic check on a prefix; the bound below on all
      EXPECT_LT(overtaken, w);
    }
    uint64_t max_seen = 0, late = 0;
    for (auto id : out) {
      if (id < max_seen) late++;
      max_seen = std::max<uint64_t>(max_seen, id);
      EXPECT_LT(max_seen - id, w);  // never more than w - 1 behind the newest delivered
    }
    EXPECT_GT(late, 0u);
    EXPECT_EQ(late, f->counts.reordered);
  }
}

TEST(WireFault, DelayHoldsEachPacketItsTime) {
  inc_wire_fault cfg{};
  cfg.delay_us = 500;
  auto f = make(cfg);
  void* buf[8];
  ASSERT_EQ(inc__fault_decide(f.get()), 0u);
  ASSERT_EQ(inc__fault_hold(f.get(), pkt(1), 1000000), 0);
  EXPECT_EQ(inc__fault_release(f.get(), 1000000 + 499999, buf, 8, 0), 0u);
  ASSERT_EQ(inc__fault_release(f.get(), 1000000 + 500000, buf, 8, 0), 1u);
  EXPECT_EQ(buf[0], pkt(1));
}

TEST(WireFault, ReorderWindowDoesNotHoldALonePacketForever) {
  inc_wire_fault cfg{};
  cfg.reorder_window = 32;
  cfg.seed = 5;
  auto f = make(cfg);
  void* buf[16];
  const uint64_t hold = (uint64_t)INC_DRV_WIRE_REORDER_HOLD_US * 1000, t = 1000;
  for (uintptr_t i = 1; i <= 10; i++) {
    ASSERT_EQ(inc__fault_hold(f.get(), pkt(i), t), 0);
  }
  // packets whose key lies beyond the packets offered wait for later ones...
  unsigned now = inc__fault_release(f.get(), t, buf, 16, 0);
  EXPECT_LT(now, 10u);
  EXPECT_EQ(inc__fault_release(f.get(), t + hold - 1, buf, 16, 0), 0u);
  // ...but when none come, they leave after the hold time
  EXPECT_EQ(now + inc__fault_release(f.get(), t + hold, buf, 16, 0), 10u);
  EXPECT_EQ(f->n_held, 0u);
}

TEST(WireFault, FullHoldingAreaForcesTheEarliestOut) {
  inc_wire_fault cfg{};
  cfg.delay_us = 1000000;
  auto f = make(cfg);
  for (uintptr_t i = 0; i < INC_DRV_WIRE_MAX_HELD; i++) {
    ASSERT_EQ(inc__fault_hold(f.get(), pkt(i + 1), 0), 0);
  }
  EXPECT_EQ(inc__fault_hold(f.get(), pkt(99999), 0), -ENOSPC);
  void* buf[2];
  EXPECT_EQ(inc__fault_release(f.get(), 0, buf, 2, 0), 0u);
  ASSERT_EQ(inc__fault_release(f.get(), 0, buf, 2, 1), 1u);  // forced: one, the earliest
  EXPECT_EQ(buf[0], pkt(1));
  EXPECT_EQ(f->counts.overflow, 1u);
  EXPECT_EQ(inc__fault_hold(f.get(), pkt(99999), 0), 0);
  void* all[INC_DRV_WIRE_MAX_HELD];
  EXPECT_EQ(inc__fault_drain(f.get(), all, INC_DRV_WIRE_MAX_HELD), (unsigned)INC_DRV_WIRE_MAX_HELD);
}

TEST(WireFault, OutOfRangeSettingsAreRefused) {
  auto f = std::make_unique<inc_wire_faults>();
  inc_wire_fault cfg{};
  cfg.loss_pct = 101;
  EXPECT_EQ(inc__fault_init(f.get(), &cfg), -EINVAL);
  cfg = {};
  cfg.dup_pct = -1;
  EXPECT_EQ(inc__fault_init(f.get(), &cfg), -EINVAL);
  cfg = {};
  cfg.reorder_window = INC_DRV_WIRE_MAX_HELD;
  EXPECT_EQ(inc__fault_init(f.get(), &cfg), -EINVAL);
  cfg = {};
  cfg.delay_us = 20u * 1000 * 1000;
  EXPECT_EQ(inc__fault_init(f.get(), &cfg), -EINVAL);
  EXPECT_EQ(inc__fault_init(f.get(), nullptr), 0);
  EXPECT_FALSE(f->active);
}

}  // namespace
