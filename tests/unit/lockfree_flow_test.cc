// Flow table (issue 3, item 2): cds_lfht with QSBR, per-core entry pools,
// reclamation after a grace period.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "inception/flow.h"
#include "inception/rcu.h"
#include "lf_stress.h"

namespace {

struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};
using Mem = std::unique_ptr<void, FreeDeleter>;

// The test thread is an RCU reader for the whole test.
class RcuThread : public ::testing::Test {
 protected:
  void SetUp() override { inc_rcu_register(); }
  void TearDown() override { inc_rcu_unregister(); }
};

struct Table {
  Mem mem;
  inc_flow_table* t = nullptr;
  explicit Table(inc_flow_config cfg) {
    size_t len = inc_flow_table_footprint(&cfg);
    EXPECT_GT(len, 0u);
    void* p = nullptr;
    EXPECT_EQ(posix_memalign(&p, 64, len), 0);
    mem.reset(p);
    EXPECT_EQ(inc_flow_table_init(&t, mem.get(), len, &cfg), 0);
  }
  ~Table() {
    if (t) {
      EXPECT_EQ(inc_flow_table_destroy(t), 0);
    }
  }
  inc_flow_stats Stats() const {
    inc_flow_stats s;
    inc_flow_stats_get(t, &s);
    return s;
  }
};

inc_flow_config Cfg(unsigned cores, unsigned per_core) {
  inc_flow_config c{};
  c.cores = cores;
  c.entries_per_core = per_core;
  c.init_buckets = 16;
  c.auto_resize = 1;
  c.seed = 1;
  return c;
}

inc_flow_key V4(uint16_t lport, uint16_t rport, uint32_t raddr = 0xc6130005) {
  inc_flow_key k;
  inc_flow_key_v4(&k, 6, 0, htonl(0xc6120001), lport, htonl(raddr), rport);
  return k;
}

TEST(FlowKey, Builders_ZeroUnusedBytesAndDistinguishFamiliesPortsAndProtocols) {
  inc_flow_key a, b;
  memset(&a, 0xff, sizeof(a));
  inc_flow_key_v4(&a, 6, 1, htonl(0x0a000001), 80, htonl(0x0a000002), 5555);
  EXPECT_EQ(sizeof(inc_flow_key), 40u);
  for (int i = 4; i < 16; i++) {
    EXPECT_EQ(a.local_addr[i], 0);
    EXPECT_EQ(a.remote_addr[i], 0);
  }
  EXPECT_EQ(a.local_addr[0], 10);
  EXPECT_EQ(a.family, INC_FLOW_IPV4);
  uint8_t l6[16] = {10, 0, 0, 1}, r6[16] = {10, 0, 0, 2};
  inc_flow_key_v6(&b, 6, 1, l6, 80, r6, 5555);
  EXPECT_NE(memcmp(&a, &b, sizeof(a)), 0);  // same bytes, other family
  EXPECT_NE(inc_flow_hash(&a, 0), inc_flow_hash(&b, 0));
  inc_flow_key c = a;
  c.port_id = 2;
  EXPECT_NE(inc_flow_hash(&a, 0), inc_flow_hash(&c, 0));
  c = a;
  c.proto = 17;
  EXPECT_NE(inc_flow_hash(&a, 0), inc_flow_hash(&c, 0));
}

TEST(FlowKey, Hash_IsDeterministicSeededAndSpreadsLowBits) {
  const inc_flow_key k = V4(1, 2);
  EXPECT_EQ(inc_flow_hash(&k, 9), inc_flow_hash(&k, 9));
  EXPECT_NE(inc_flow_hash(&k, 9), inc_flow_hash(&k, 10));
  // Sequential remote ports (the worst case for a weak hash): bucket counts of
  // the low 10 bits must look uniform (chi-square, 1023 degrees of freedom;
  // the 99.99th percentile is about 1200).
  const unsigned buckets = 1024, n = 256 * 1024;
  std::vector<unsigned> count(buckets);
  for (unsigned i = 0; i < n; i++) {
    inc_flow_key key = V4(80, static_cast<uint16_t>(i), 0xc6130000 + (i >> 16));
    count[inc_flow_hash(&key, 0) & (buckets - 1)]++;
  }
  double chi = 0, e = double(n) / buckets;
  for (unsigned c : count) chi += (c - e) * (c - e) / e;
  EXPECT_LT(chi, 1200.0);
}

TEST(FlowKey, Hash_ChangesWithEveryKeyBit) {
  uint64_t seed = 12345;
  for (unsigned sample = 0; sample < 64; sample++) {
    inc_flow_key k = V4(static_cast<uint16_t>(sample * 977), static_cast<uint16_t>(sample),
                        0xc6130000 + sample * 65537);
    if (sample % 2) {
      uint8_t l[16], r[16];
      for (int i = 0; i < 16; i++) {
        l[i] = static_cast<uint8_t>(sample * 31 + i);
        r[i] = static_cast<uint8_t>(sample * 7 + 3 * i);
      }
      inc_flow_key_v6(&k, 17, static_cast<uint16_t>(sample), l, 53, r, 4000);
    }
    const uint32_t h = inc_flow_hash(&k, seed);
    for (unsigned bit = 0; bit < 8 * sizeof(k); bit++) {
      inc_flow_key f = k;
      reinterpret_cast<uint8_t*>(&f)[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_NE(inc_flow_hash(&f, seed), h) << "sample " << sample << " bit " << bit;
    }
  }
}

TEST(FlowTable, Init_RejectsBadConfig) {
  Mem mem(malloc(1));
  inc_flow_config bad[] = {Cfg(0, 10), Cfg(INC_LF_MAX_WORKERS + 1, 10), Cfg(2, 0)};
  for (inc_flow_config& c : bad) EXPECT_EQ(inc_flow_table_footprint(&c), 0u);
  inc_flow_config c = Cfg(2, 10);
  c.init_buckets = 12;
  EXPECT_EQ(inc_flow_table_footprint(&c), 0u);
  c = Cfg(2, 10);
  c.max_buckets = 8;  // below init_buckets
  EXPECT_EQ(inc_flow_table_footprint(&c), 0u);
  c = Cfg(2, 10);
  void* p = nullptr;
  size_t len = inc_flow_table_footprint(&c);
  ASSERT_EQ(posix_memalign(&p, 64, len), 0);
  Mem m(p);
  inc_flow_table* t = nullptr;
  EXPECT_EQ(inc_flow_table_init(&t, p, len - 1, &c), -ENOSPC);
  EXPECT_EQ(inc_flow_table_init(&t, static_cast<char*>(p) + 8, len, &c), -EINVAL);
}

TEST_F(RcuThread, InsertLookupRemove_MapsEachKeyToItsOwner) {
  Table tab(Cfg(4, 64));
  for (uint16_t i = 0; i < 40; i++) {
    inc_flow_key k = V4(80, i);
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, i % 4), 0);
  }
  for (uint16_t i = 0; i < 40; i++) {
    inc_flow_key k = V4(80, i);
    EXPECT_EQ(inc_flow_lookup(tab.t, &k), i % 4);
  }
  inc_flow_key absent = V4(81, 0);
  EXPECT_EQ(inc_flow_lookup(tab.t, &absent), -ENOENT);
  EXPECT_EQ(inc_flow_count(tab.t), 40u);
  for (uint16_t i = 0; i < 40; i += 2) {
    inc_flow_key k = V4(80, i);
    EXPECT_EQ(inc_flow_remove(tab.t, 1, &k), 0);  // any core may remove
    EXPECT_EQ(inc_flow_remove(tab.t, 1, &k), -ENOENT);
  }
  for (uint16_t i = 0; i < 40; i++) {
    inc_flow_key k = V4(80, i);
    EXPECT_EQ(inc_flow_lookup(tab.t, &k), i % 2 ? i % 4 : -ENOENT);
  }
  inc_flow_stats s = tab.Stats();
  EXPECT_EQ(s.inserted, 40u);
  EXPECT_EQ(s.removed, 20u);
}

TEST_F(RcuThread, LookupBurst_GivesEachKeyItsOwnerOrEnoentAcrossChunks) {
  Table tab(Cfg(3, 100));
  std::vector<inc_flow_key> keys;
  for (uint16_t i = 0; i < 75; i++) {
    keys.push_back(V4(90, i));
    if (i % 3 != 0) {
      ASSERT_EQ(inc_flow_insert(tab.t, 0, &keys.back(), i % 3), 0);
    }
  }
  std::vector<int> owners(keys.size(), 99);
  EXPECT_EQ(inc_flow_lookup_burst(tab.t, keys.data(), 75, owners.data()), 50u);
  for (uint16_t i = 0; i < 75; i++) EXPECT_EQ(owners[i], i % 3 ? i % 3 : -ENOENT) << i;
  EXPECT_EQ(inc_flow_lookup_burst(tab.t, keys.data(), 0, owners.data()), 0u);
}

// Mixed IPv4/IPv6 keys, n at a time: present, removed, never inserted.
std::vector<inc_flow_key> MixedKeys(unsigned n) {
  std::vector<inc_flow_key> keys(n);
  for (unsigned i = 0; i < n; i++) {
    if (i % 4 == 3) {
      uint8_t la[16] = {0x20, 0x01, 0x0d, 0xb8}, ra[16] = {0x20, 0x01, 0x0d, 0xb8, 1};
      memcpy(&la[12], &i, sizeof(i));
      inc_flow_key_v6(&keys[i], 6, static_cast<uint16_t>(i & 1), la, 443,
                      ra, static_cast<uint16_t>(i));
    } else {
      keys[i] = V4(static_cast<uint16_t>(80 + i % 3), static_cast<uint16_t>(i), 0xc6130000 + i / 7);
    }
  }
  return keys;
}

TEST_F(RcuThread, LookupBurst_EqualsSingleAndLfhtLookupsForPresentRemovedAndAbsentKeys) {
  const unsigned n = 6000;
  Table tab(Cfg(4, 2000));
  std::vector<inc_flow_key> keys = MixedKeys(n);
  for (unsigned i = 0; i < n; i++) {
    if (i % 5 != 4) {  // every fifth key is never inserted
      ASSERT_EQ(inc_flow_insert(tab.t, i % 4, &keys[i], static_cast<uint16_t>((i / 4) % 4)), 0) << i;
    }
  }
  for (unsigned i = 0; i < n; i += 3) {
    if (i % 5 != 4) {
      ASSERT_EQ(inc_flow_remove(tab.t, (i + 1) % 4, &keys[i]), 0) << i;
    }
  }
  std::vector<int> want(n);
  unsigned present = 0;
  for (unsigned i = 0; i < n; i++) {
    const bool in = i % 5 != 4 && i % 3 != 0;
    want[i] = in ? static_cast<int>((i / 4) % 4) : -ENOENT;
    present += in;
    ASSERT_EQ(inc_flow_lookup_lfht(tab.t, &keys[i]), want[i]) << i;
    ASSERT_EQ(inc_flow_lookup(tab.t, &keys[i]), want[i]) << i;
    ASSERT_EQ(inc_flow_lookup_hashed(tab.t, &keys[i], inc_flow_table_hash(tab.t, &keys[i])), want[i]);
  }
  // Burst sizes across the internal group of 32, at every offset.
  for (unsigned b : {1u, 2u, 7u, 31u, 32u, 33u, 64u, 100u, n}) {
    std::vector<int> owners(n, 99);
    unsigned found = 0;
    for (unsigned i = 0; i < n; i += b) {
      const unsigned m = n - i < b ? n - i : b;
      found += inc_flow_lookup_burst(tab.t, &keys[i], m, &owners[i]);
    }
    EXPECT_EQ(found, present) << "burst " << b;
    for (unsigned i = 0; i < n; i++) ASSERT_EQ(owners[i], want[i]) << "burst " << b << " key " << i;
  }
  EXPECT_EQ(inc_flow_lookup_burst(tab.t, keys.data(), 0, nullptr), 0u);
}

TEST_F(RcuThread, RemovedKeyInsertedAgain_IsFoundWithItsNewOwner) {
  Table tab(Cfg(4, 16));
  inc_flow_key k = V4(8080, 1);
  for (uint16_t round = 0; round < 20; round++) {
    const uint16_t owner = round % 4;
    ASSERT_EQ(inc_flow_insert(tab.t, owner, &k, owner), 0);
    int got = -1;
    EXPECT_EQ(inc_flow_lookup(tab.t, &k), owner);
    EXPECT_EQ(inc_flow_lookup_burst(tab.t, &k, 1, &got), 1u);
    EXPECT_EQ(got, owner);
    ASSERT_EQ(inc_flow_remove(tab.t, (owner + 1) % 4, &k), 0);
    EXPECT_EQ(inc_flow_lookup(tab.t, &k), -ENOENT);
    EXPECT_EQ(inc_flow_lookup_burst(tab.t, &k, 1, &got), 0u);
    EXPECT_EQ(got, -ENOENT);
    if (round % 5 == 4) {
      for (unsigned c = 0; c < 4; c++) inc_flow_reclaim(tab.t, c);
      inc_rcu_barrier();
    }
  }
  EXPECT_EQ(tab.Stats().index_overflows, 0u);
}

uint32_t TwoValuedHash(const inc_flow_key* k, uint64_t) { return k->remote_port & 1 ? 0x77 : 0x78; }

TEST_F(RcuThread, FullIndexLinesAndEqualHashes_FallBackToTheLfhtWithExactAnswers) {
  // Two hash values: every key of a value goes to the same index line and
  // carries the same hash, so slots hold unequal keys with the key's hash
  // (rejected by the key comparison) and most keys overflow to the cds_lfht.
  inc_flow_config c = Cfg(2, 200);
  c.hash = TwoValuedHash;
  Table tab(c);
  const unsigned n = 300;
  std::vector<inc_flow_key> keys;
  for (unsigned i = 0; i < n + 40; i++) keys.push_back(V4(5, static_cast<uint16_t>(i)));
  for (unsigned i = 0; i < n; i++) {
    ASSERT_EQ(inc_flow_insert(tab.t, i % 2, &keys[i], static_cast<uint16_t>(i / 2 % 2)), 0);
  }
  // 7 slots per line, two lines: the rest overflowed.
  EXPECT_EQ(tab.Stats().index_overflows, n - 14);
  auto check = [&](const char* when, auto present) {
    std::vector<int> owners(keys.size(), 99);
    unsigned want_found = 0;
    for (unsigned i = 0; i < keys.size(); i++) {
      const int want = present(i) ? static_cast<int>(i / 2 % 2) : -ENOENT;
      want_found += want >= 0;
      ASSERT_EQ(inc_flow_lookup(tab.t, &keys[i]), want) << when << " key " << i;
      ASSERT_EQ(inc_flow_lookup_lfht(tab.t, &keys[i]), want) << when << " key " << i;
    }
    EXPECT_EQ(inc_flow_lookup_burst(tab.t, keys.data(), static_cast<unsigned>(keys.size()), owners.data()),
              want_found) << when;
    for (unsigned i = 0; i < keys.size(); i++)
      ASSERT_EQ(owners[i], present(i) ? static_cast<int>(i / 2 % 2) : -ENOENT) << when << " key " << i;
  };
  check("all inserted", [&](unsigned i) { return i < n; });
  // Remove the keys in the slots (the first inserted) and half of the rest:
  // freed slots are taken by new inserts while overflowed keys stay behind.
  for (unsigned i = 0; i < n; i++) {
    if (i < 14 || i % 2 == 0) {
      ASSERT_EQ(inc_flow_remove(tab.t, 1, &keys[i]), 0) << i;
    }
  }
  check("after removals", [&](unsigned i) { return i < n && i >= 14 && i % 2 == 1; });
  for (unsigned i = n; i < n + 40; i++) {
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &keys[i], static_cast<uint16_t>(i / 2 % 2)), 0);
  }
  check("after new inserts", [&](unsigned i) { return i >= n || (i >= 14 && i % 2 == 1); });
  // Everything out again: with the overflow counts back at zero an absent key
  // is answered by its index line.
  for (unsigned i = 0; i < n + 40; i++) (void)inc_flow_remove(tab.t, 0, &keys[i]);
  check("all removed", [](unsigned) { return false; });
  EXPECT_EQ(inc_flow_count(tab.t), 0u);
}

TEST_F(RcuThread, Insert_OfPresentKeyIsRefusedAndKeepsTheFirstOwner) {
  Table tab(Cfg(2, 8));
  inc_flow_key k = V4(443, 1000);
  ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, 1), 0);
  EXPECT_EQ(inc_flow_insert(tab.t, 1, &k, 0), -EEXIST);
  EXPECT_EQ(inc_flow_lookup(tab.t, &k), 1);
  EXPECT_EQ(tab.Stats().exists, 1u);
  EXPECT_EQ(tab.Stats().entries_in_use, 1u);  // the refused entry went back
}

TEST_F(RcuThread, Insert_WithBadArgumentsIsInvalid) {
  Table tab(Cfg(2, 8));
  inc_flow_key k = V4(1, 1);
  EXPECT_EQ(inc_flow_insert(tab.t, 2, &k, 0), -EINVAL);  // no such core
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &k, 2), -EINVAL);  // no such owner
  k.family = 5;
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &k, 0), -EINVAL);
  EXPECT_EQ(inc_flow_remove(tab.t, 9, &k), -EINVAL);
}

TEST_F(RcuThread, CorePoolExhausted_InsertFailsWithEnomemAndCounts) {
  Table tab(Cfg(2, 4));
  for (uint16_t i = 0; i < 4; i++) {
    inc_flow_key k = V4(1, i);
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, 0), 0);
  }
  inc_flow_key k = V4(1, 99);
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &k, 0), -ENOMEM);
  EXPECT_EQ(tab.Stats().no_memory, 1u);
  EXPECT_EQ(inc_flow_insert(tab.t, 1, &k, 0), 0);  // another core's pool has room
}

TEST_F(RcuThread, RemovedEntry_ReturnsToTheInsertingCoresPoolAfterAGracePeriod) {
  Table tab(Cfg(2, 2));
  inc_flow_key a = V4(1, 1), b = V4(1, 2), c = V4(1, 3);
  ASSERT_EQ(inc_flow_insert(tab.t, 0, &a, 0), 0);
  ASSERT_EQ(inc_flow_insert(tab.t, 0, &b, 0), 0);
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &c, 0), -ENOMEM);
  // Core 1 removes core 0's entry: it must go back to core 0's pool.
  ASSERT_EQ(inc_flow_remove(tab.t, 1, &a), 0);
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &c, 0), -ENOMEM);  // not before a grace period
  inc_flow_reclaim(tab.t, 1);  // core 1 hands its batch to call_rcu
  inc_rcu_barrier();           // the grace period passes, the callback runs
  EXPECT_EQ(tab.Stats().reclaimed, 1u);
  EXPECT_EQ(inc_flow_reclaim(tab.t, 0), 1u);  // core 0 takes it back
  EXPECT_EQ(inc_flow_insert(tab.t, 0, &c, 0), 0);
  EXPECT_EQ(inc_flow_lookup(tab.t, &c), 0);
  EXPECT_EQ(inc_flow_lookup(tab.t, &a), -ENOENT);
  EXPECT_EQ(tab.Stats().entries_in_use, 2u);
}

TEST_F(RcuThread, ManyRemovals_AreReclaimedInBatches) {
  const unsigned n = 10 * INC_FLOW_RETIRE_BATCH;
  Table tab(Cfg(1, n));
  for (unsigned i = 0; i < n; i++) {
    inc_flow_key k = V4(2, static_cast<uint16_t>(i));
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, 0), 0);
  }
  for (unsigned i = 0; i < n; i++) {
    inc_flow_key k = V4(2, static_cast<uint16_t>(i));
    ASSERT_EQ(inc_flow_remove(tab.t, 0, &k), 0);
    inc_rcu_quiescent();
  }
  for (int pass = 0; pass < 3; pass++) {
    inc_flow_reclaim(tab.t, 0);
    inc_rcu_barrier();
  }
  inc_flow_reclaim(tab.t, 0);
  inc_flow_stats s = tab.Stats();
  EXPECT_EQ(s.reclaimed, n);
  // One call_rcu per batch of up to INC_FLOW_RETIRE_BATCH entries, or more
  // when every batch slot was waiting for a grace period: never per entry.
  EXPECT_GE(s.retired_batches, 1u);
  EXPECT_LE(s.retired_batches, 11u);
  EXPECT_EQ(s.entries_in_use, 0u);
}

uint32_t ConstantHash(const inc_flow_key*, uint64_t) { return 0x1234; }

TEST_F(RcuThread, CustomHash_IsUsedAndLookupHashedNeedsTheSameHash) {
  inc_flow_config c = Cfg(1, 64);
  c.hash = ConstantHash;  // every key collides: chains must still be exact
  Table tab(c);
  for (uint16_t i = 0; i < 50; i++) {
    inc_flow_key k = V4(7, i);
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, 0), 0);
  }
  inc_flow_key k = V4(7, 33);
  EXPECT_EQ(inc_flow_table_hash(tab.t, &k), 0x1234u);
  EXPECT_EQ(inc_flow_lookup_hashed(tab.t, &k, 0x1234), 0);
  EXPECT_EQ(inc_flow_lookup_hashed(tab.t, &k, 0x4321), -ENOENT);
  inc_flow_key other = V4(7, 60);
  EXPECT_EQ(inc_flow_lookup(tab.t, &other), -ENOENT);
}

TEST_F(RcuThread, ExplicitResize_OfASelfResizingTableIsRefused) {
  Table tab(Cfg(1, 8));  // auto_resize = 1
  EXPECT_EQ(inc_flow_resize(tab.t, 64), -EPERM);
}

TEST_F(RcuThread, ExplicitResize_KeepsEveryKeyFindable) {
  inc_flow_config c = Cfg(1, 5000);
  c.auto_resize = 0;
  Table tab(c);
  for (uint16_t i = 0; i < 5000; i++) {
    inc_flow_key k = V4(9, i);
    ASSERT_EQ(inc_flow_insert(tab.t, 0, &k, 0), 0);
  }
  EXPECT_EQ(inc_flow_resize(tab.t, 3000), -EINVAL);
  for (unsigned long size : {8192ul, 16ul, 1024ul}) {
    ASSERT_EQ(inc_flow_resize(tab.t, size), 0);
    for (uint16_t i = 0; i < 5000; i++) {
      inc_flow_key k = V4(9, i);
      ASSERT_EQ(inc_flow_lookup(tab.t, &k), 0) << "size " << size << " key " << i;
    }
  }
  EXPECT_EQ(inc_flow_count(tab.t), 5000u);
}

struct FlowCase {
  unsigned writers, readers, stable, churn, rounds;
  int resizer, auto_resize;
  unsigned burst = 0, contested = 0;
  int narrow_hash = 0;
};

std::string FlowName(const ::testing::TestParamInfo<FlowCase>& i) {
  const FlowCase& c = i.param;
  return std::to_string(c.writers) + "writers_" + std::to_string(c.readers) + "readers" +
         (c.resizer ? "_resizing" : "") + (c.auto_resize ? "_auto" : "") +
         (c.burst > 1 ? "_burst" + std::to_string(c.burst) : "") +
         (c.contested ? "_contested" + std::to_string(c.contested) : "") +
         (c.narrow_hash ? "_narrowhash" : "");
}

class FlowStress : public ::testing::TestWithParam<FlowCase> {};

TEST_P(FlowStress, ConcurrentChurnNeverGivesAWrongOwnerNorLosesAnEntry) {
  const FlowCase c = GetParam();
  lf_flow_params p{c.writers,   c.readers, lf_scaled(c.stable, 100), lf_scaled(c.churn, 100),
                   c.rounds,    16,        c.auto_resize,            c.resizer,
                   60000,       c.burst,   c.contested,              c.narrow_hash};
  lf_flow_result r;
  ASSERT_EQ(lf_stress_flow(&p, &r), 0);
  const uint64_t ops = uint64_t{p.writers} * p.churn_keys * p.rounds;
  EXPECT_EQ(r.stable_misses, 0u);
  EXPECT_EQ(r.wrong_owner, 0u);
  EXPECT_EQ(r.own_misses, 0u);
  EXPECT_EQ(r.ghost_hits, 0u);
  EXPECT_EQ(r.unexpected_rc, 0u);
  EXPECT_EQ(r.inserts, ops);
  EXPECT_EQ(r.removes, ops);
  EXPECT_EQ(r.final_count, r.expected_count);
  EXPECT_EQ(r.stats_inserted - r.stats_removed, r.final_count);
  EXPECT_EQ(r.stats_removed, r.stats_reclaimed);
  EXPECT_EQ(r.leaked, 0u);
  // Single, burst and cds_lfht-only lookups agree on every key afterwards.
  EXPECT_EQ(r.index_mismatch, 0u);
  if (c.narrow_hash) {
    EXPECT_GT(r.stats_index_overflows, 0u);
  }
  std::printf("lookups %llu, index overflows %llu, insert/remove handoffs %llu\n",
              static_cast<unsigned long long>(r.lookups),
              static_cast<unsigned long long>(r.stats_index_overflows),
              static_cast<unsigned long long>(r.stats_index_handoffs));
  if (p.readers) {
    EXPECT_GT(r.lookups, 0u);
  }
  if (p.resizer) {
    EXPECT_GT(r.resizes, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Oversubscribed, FlowStress,
                         ::testing::Values(FlowCase{2, 2, 5000, 3000, 6, 0, 1},
                                           FlowCase{4, 1, 1000, 2000, 5, 1, 0},
                                           FlowCase{3, 3, 20000, 1000, 4, 1, 0},
                                           FlowCase{0, 4, 20000, 0, 0, 1, 0}),
                         FlowName);

// The lookup index under concurrent churn (2-8 threads on the machine's 2
// cores): burst readers; contested keys, where a remove on one core meets an
// insert of the same key still under way on another; a narrow hash that fills
// index lines and gives unequal keys equal hashes (fallback to the cds_lfht);
// while the table resizes, by hand or by itself.
INSTANTIATE_TEST_SUITE_P(
    Index, FlowStress,
    ::testing::Values(FlowCase{1, 1, 2000, 1000, 4, 0, 1, 32, 0, 0},
                      FlowCase{2, 2, 5000, 2000, 4, 0, 1, 32, 64, 0},
                      FlowCase{3, 2, 2000, 1000, 3, 1, 0, 32, 16, 0},
                      FlowCase{3, 3, 3000, 1000, 3, 1, 0, 7, 64, 1},
                      FlowCase{6, 2, 2000, 500, 3, 0, 1, 32, 8, 0},
                      FlowCase{8, 0, 1000, 500, 3, 0, 1, 0, 32, 1},
                      // Two contested keys, 8 writers: removes meet inserts
                      // that have not reached the index yet (handoffs).
                      FlowCase{8, 0, 100, 2000, 10, 0, 1, 0, 2, 0},
                      FlowCase{4, 2, 100, 2000, 6, 1, 0, 32, 2, 0}),
    FlowName);

}  // namespace
