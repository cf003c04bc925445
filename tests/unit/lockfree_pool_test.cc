// Per-core object pools (issue 3, item 3): O(1) alloc/free from caller
// memory, a counted NULL on exhaustion, lock-free remote frees.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdlib.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "inception/pool.h"
#include "lf_stress.h"

namespace {

struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};
using Mem = std::unique_ptr<void, FreeDeleter>;

Mem AllocAligned(size_t n, size_t align = 64) {
  void* p = nullptr;
  if (posix_memalign(&p, align, n) != 0) return Mem(nullptr);
  return Mem(p);
}

struct Pool {
  Mem mem;
  inc_pool* p = nullptr;
  explicit Pool(inc_pool_config cfg) {
    size_t len = inc_pool_footprint(&cfg);
    EXPECT_GT(len, 0u);
    size_t align = cfg.obj_align > 64 ? cfg.obj_align : 64;
    mem = AllocAligned(len, align);
    EXPECT_EQ(inc_pool_init(&p, mem.get(), len, &cfg), 0);
    inc_pool_bind(p);
  }
  inc_pool_stats Stats() const {
    inc_pool_stats s;
    inc_pool_stats_get(p, &s);
    return s;
  }
};

TEST(Pool, Init_RejectsBadConfigAndShortOrMisalignedMemory) {
  const inc_pool_config bad[] = {
      {"zero size", 0, 0, 4},
      {"zero count", 8, 0, 0},
      {"align not pow2", 8, 24, 4},
      {"align too big", 8, INC_POOL_ALIGN_MAX * 2, 4},
      {"too big", INC_POOL_OBJ_SIZE_MAX + 1, 0, 4},
      {"too many", 8, 0, INC_POOL_COUNT_MAX + 1},
  };
  Mem mem = AllocAligned(1 << 16);
  for (const inc_pool_config& c : bad) {
    inc_pool* p = nullptr;
    EXPECT_EQ(inc_pool_footprint(&c), 0u) << c.name;
    EXPECT_EQ(inc_pool_init(&p, mem.get(), 1 << 16, &c), -EINVAL) << c.name;
  }
  inc_pool_config ok{"ok", 24, 8, 10};
  size_t len = inc_pool_footprint(&ok);
  inc_pool* p = nullptr;
  EXPECT_EQ(inc_pool_init(&p, mem.get(), len - 1, &ok), -ENOSPC);
  EXPECT_EQ(inc_pool_init(&p, static_cast<char*>(mem.get()) + 16, len, &ok), -EINVAL);
  EXPECT_EQ(inc_pool_init(&p, mem.get(), len, &ok), 0);
  EXPECT_STREQ(inc_pool_name(p), "ok");
}

TEST(Pool, Exhaustion_ReturnsNullAndCountsFailuresWithoutTouchingTheHeap) {
  Pool pool({"small", 40, 0, 3});
  void* a = inc_pool_alloc(pool.p);
  void* b = inc_pool_alloc(pool.p);
  void* c = inc_pool_alloc(pool.p);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(inc_pool_alloc(pool.p), nullptr);
  EXPECT_EQ(inc_pool_alloc(pool.p), nullptr);
  inc_pool_stats s = pool.Stats();
  EXPECT_EQ(s.in_use, 3u);
  EXPECT_EQ(s.high_water, 3u);
  EXPECT_EQ(s.failures, 2u);
  EXPECT_EQ(s.allocs, 3u);
  EXPECT_EQ(s.capacity, 3u);
  EXPECT_EQ(inc_pool_free(pool.p, b), 0);
  EXPECT_EQ(inc_pool_alloc(pool.p), b);  // LIFO: the cache-hot object comes back
  s = pool.Stats();
  EXPECT_EQ(s.in_use, 3u);
  EXPECT_EQ(s.frees, 1u);
}

TEST(Pool, HighWater_KeepsThePeakAfterFrees) {
  Pool pool({"hw", 16, 0, 8});
  std::vector<void*> v;
  for (int i = 0; i < 5; i++) v.push_back(inc_pool_alloc(pool.p));
  for (void* o : v) EXPECT_EQ(inc_pool_free(pool.p, o), 0);
  ASSERT_NE(inc_pool_alloc(pool.p), nullptr);
  inc_pool_stats s = pool.Stats();
  EXPECT_EQ(s.in_use, 1u);
  EXPECT_EQ(s.high_water, 5u);
}

TEST(Pool, Objects_AreDistinctAlignedAndInsideThePool) {
  for (size_t align : {size_t{8}, size_t{16}, size_t{64}, size_t{256}}) {
    Pool pool({"align", 33, align, 20});
    std::set<uintptr_t> seen;
    for (unsigned i = 0; i < 20; i++) {
      void* o = inc_pool_alloc(pool.p);
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(o) % align, 0u) << "align " << align;
      EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(o)).second);
      long idx = inc_pool_index(pool.p, o);
      ASSERT_GE(idx, 0);
      EXPECT_EQ(inc_pool_object(pool.p, static_cast<unsigned>(idx)), o);
      memset(o, 0xab, 33);  // the whole object is usable
    }
    // Objects do not overlap: consecutive ones are at least obj_size apart.
    uintptr_t prev = 0;
    for (uintptr_t a : seen) {
      if (prev) {
        EXPECT_GE(a - prev, 33u);
      }
      prev = a;
    }
    EXPECT_EQ(inc_pool_object(pool.p, 20), nullptr);
  }
}

TEST(Pool, FreeOfForeignOrInteriorPointer_IsRejected) {
  Pool pool({"f", 32, 0, 4});
  Pool other({"g", 32, 0, 4});
  char* o = static_cast<char*>(inc_pool_alloc(pool.p));
  void* x = inc_pool_alloc(other.p);
  int local = 0;
  EXPECT_EQ(inc_pool_free(pool.p, &local), -EINVAL);
  EXPECT_EQ(inc_pool_free(pool.p, o + 1), -EINVAL);
  EXPECT_EQ(inc_pool_free(pool.p, x), -EINVAL);
  EXPECT_EQ(inc_pool_free_remote(pool.p, x), -EINVAL);
  EXPECT_EQ(inc_pool_index(pool.p, o + 8), -EINVAL);
  EXPECT_EQ(inc_pool_free(pool.p, o), 0);
  EXPECT_EQ(inc_pool_free(other.p, x), 0);
}

TEST(Pool, DoubleFree_IsRefusedLocallyAndRemotely) {
  Pool pool({"d", 32, 0, 4});
  void* o = inc_pool_alloc(pool.p);
  EXPECT_EQ(inc_pool_free(pool.p, o), 0);
  EXPECT_EQ(inc_pool_free(pool.p, o), -EALREADY);
  EXPECT_EQ(inc_pool_free_remote(pool.p, o), -EALREADY);
  void* r = inc_pool_alloc(pool.p);
  ASSERT_EQ(r, o);
  std::thread t([&] {
    EXPECT_EQ(inc_pool_free_remote(pool.p, r), 0);
    EXPECT_EQ(inc_pool_free_remote(pool.p, r), -EALREADY);
  });
  t.join();
  EXPECT_EQ(inc_pool_free(pool.p, r), -EALREADY);  // freed remotely, not reclaimed yet
  EXPECT_EQ(pool.Stats().in_use, 1u);
  EXPECT_EQ(inc_pool_reclaim(pool.p), 1u);
  EXPECT_EQ(pool.Stats().in_use, 0u);
  EXPECT_EQ(pool.Stats().remote_frees, 1u);
}

TEST(Pool, RemoteFrees_AreReclaimedWhenTheOwnerRunsDry) {
  Pool pool({"r", 64, 0, 16});
  std::vector<void*> held;
  for (int i = 0; i < 16; i++) held.push_back(inc_pool_alloc(pool.p));
  EXPECT_EQ(inc_pool_alloc(pool.p), nullptr);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++)
    ts.emplace_back([&, t] {
      for (int i = t; i < 16; i += 4) EXPECT_EQ(inc_pool_free_remote(pool.p, held[i]), 0);
    });
  for (auto& t : ts) t.join();
  // The free list is empty, so alloc takes the remote frees back itself.
  std::set<void*> again;
  for (int i = 0; i < 16; i++) {
    void* o = inc_pool_alloc(pool.p);
    ASSERT_NE(o, nullptr);
    again.insert(o);
  }
  EXPECT_EQ(again, std::set<void*>(held.begin(), held.end()));
  inc_pool_stats s = pool.Stats();
  EXPECT_EQ(s.remote_frees, 16u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.in_use, 16u);
}

#ifdef INC_LOCKFREE_CHECK_OWNER
TEST(PoolDeathTest, AllocFromAThreadThatIsNotTheOwner_AbortsInCheckedBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Pool pool({"o", 16, 0, 4});
  EXPECT_DEATH(
      {
        std::thread t([&] { (void)inc_pool_alloc(pool.p); });
        t.join();
      },
      "not the owner");
}
#endif

#if defined(__SANITIZE_ADDRESS__)
TEST(PoolDeathTest, UseAfterFree_IsReportedByAddressSanitizer) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Pool pool({"u", 32, 0, 4});
  EXPECT_DEATH(
      {
        int* o = static_cast<int*>(inc_pool_alloc(pool.p));
        inc_pool_free(pool.p, o);
        *static_cast<volatile int*>(o) = 1;
      },
      "use-after-poison");
}
#endif

struct PoolCase {
  unsigned remotes, objects, ops;
};

std::string PoolName(const ::testing::TestParamInfo<PoolCase>& i) {
  return std::to_string(i.param.remotes) + "remotes_" + std::to_string(i.param.objects) +
         "objects";
}

class PoolStress : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolStress, RemoteFreesNeverHandOutAnObjectTwiceAndCountersAgree) {
  const PoolCase c = GetParam();
  lf_pool_params p{c.remotes, c.objects, lf_scaled(c.ops, 1000), 60000};
  lf_pool_result r;
  ASSERT_EQ(lf_stress_pool(&p, &r), 0);
  EXPECT_EQ(r.allocs, p.ops);
  EXPECT_EQ(r.double_alloc, 0u);
  EXPECT_EQ(r.corrupt, 0u);
  EXPECT_EQ(r.stats_mismatch, 0u);
  EXPECT_EQ(r.in_use_after, 0u);
  EXPECT_EQ(r.local_frees + r.remote_frees, r.allocs);
  EXPECT_LE(r.high_water, c.objects);
  EXPECT_EQ(r.failures, r.null_allocs);
}

INSTANTIATE_TEST_SUITE_P(Oversubscribed, PoolStress,
                         ::testing::Values(PoolCase{1, 32, 1000000}, PoolCase{3, 1024, 1000000},
                                           PoolCase{7, 128, 500000}),
                         PoolName);

}  // namespace
