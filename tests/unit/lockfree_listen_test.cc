// Listener registry (issue 3, item 2): listened ports replicated on every
// core, read without locks.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "inception/listen.h"
#include "lf_stress.h"

namespace {

struct Registry {
  void* mem = nullptr;
  inc_listen_registry* r = nullptr;
  explicit Registry(unsigned cores) {
    inc_listen_config cfg{cores};
    size_t len = inc_listen_footprint(&cfg);
    EXPECT_GT(len, 0u);
    EXPECT_EQ(posix_memalign(&mem, 64, len), 0);
    EXPECT_EQ(inc_listen_init(&r, mem, len, &cfg), 0);
  }
  ~Registry() {
    inc_listen_destroy(r);
    free(mem);
  }
};

TEST(Listen, Init_RejectsBadConfigAndShortMemory) {
  inc_listen_config zero{0}, many{INC_LF_MAX_WORKERS + 1}, ok{2};
  EXPECT_EQ(inc_listen_footprint(&zero), 0u);
  EXPECT_EQ(inc_listen_footprint(&many), 0u);
  size_t len = inc_listen_footprint(&ok);
  void* mem = nullptr;
  ASSERT_EQ(posix_memalign(&mem, 64, len), 0);
  inc_listen_registry* r = nullptr;
  EXPECT_EQ(inc_listen_init(&r, mem, len - 1, &ok), -ENOSPC);
  EXPECT_EQ(inc_listen_init(&r, mem, len, &zero), -EINVAL);
  free(mem);
}

TEST(Listen, AddedPort_IsSeenOnEveryCoreForItsProtocolOnly) {
  Registry reg(4);
  ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_TCP, 80), 0);
  for (unsigned c = 0; c < 4; c++) {
    EXPECT_EQ(inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, 80), 1);
    EXPECT_EQ(inc_listen_lookup(reg.r, c, INC_LISTEN_UDP, 80), 0);
    EXPECT_EQ(inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, 81), 0);
    EXPECT_EQ(inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, 79), 0);
  }
  EXPECT_EQ(inc_listen_lookup(reg.r, 4, INC_LISTEN_TCP, 80), -EINVAL);
  EXPECT_EQ(inc_listen_lookup(reg.r, 0, 1 /* ICMP */, 80), 0);
  ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_UDP, 0), 0);
  ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_UDP, 65535), 0);
  EXPECT_EQ(inc_listen_lookup(reg.r, 3, INC_LISTEN_UDP, 0), 1);
  EXPECT_EQ(inc_listen_lookup(reg.r, 3, INC_LISTEN_UDP, 65535), 1);
}

TEST(Listen, SharedPort_StaysListenedUntilItsLastListenerIsRemoved) {
  Registry reg(2);
  ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_TCP, 443), 0);
  ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_TCP, 443), 0);
  EXPECT_EQ(inc_listen_count(reg.r, INC_LISTEN_TCP, 443), 2u);
  EXPECT_EQ(inc_listen_remove(reg.r, INC_LISTEN_TCP, 443), 0);
  EXPECT_EQ(inc_listen_lookup(reg.r, 1, INC_LISTEN_TCP, 443), 1);
  EXPECT_EQ(inc_listen_remove(reg.r, INC_LISTEN_TCP, 443), 0);
  EXPECT_EQ(inc_listen_lookup(reg.r, 0, INC_LISTEN_TCP, 443), 0);
  EXPECT_EQ(inc_listen_lookup(reg.r, 1, INC_LISTEN_TCP, 443), 0);
  EXPECT_EQ(inc_listen_remove(reg.r, INC_LISTEN_TCP, 443), -ENOENT);
  EXPECT_EQ(inc_listen_add(reg.r, 1, 443), -EINVAL);
  EXPECT_EQ(inc_listen_remove(reg.r, 1, 443), -EINVAL);
}

TEST(Listen, RefCount_OverflowIsRefused) {
  Registry reg(1);
  for (unsigned i = 0; i < 65535; i++) ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_UDP, 53), 0);
  EXPECT_EQ(inc_listen_add(reg.r, INC_LISTEN_UDP, 53), -EOVERFLOW);
  EXPECT_EQ(inc_listen_count(reg.r, INC_LISTEN_UDP, 53), 65535u);
}

// Writers toggle ports while core threads read: ports listened all along are
// always seen, ports never listened never are, and a port whose add returned
// before a reader was told about it (release/acquire) is seen by that reader.
TEST(Listen, ConcurrentChanges_NeverHideAStablePortAndAreVisibleOnceReturned) {
  const unsigned cores = 4, rounds = lf_scaled(200000, 5000);
  Registry reg(cores);
  for (uint16_t p = 1000; p < 1010; p++) ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_TCP, p), 0);
  // 1 + the last round whose port add returned; round i's port is removed in
  // round i + 63, after that round is announced.
  std::atomic<unsigned> announced{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> ready{0};  // readers running: the writer starts after them
  std::atomic<uint64_t> errors{0}, reads{0};
  std::vector<std::thread> readers;
  for (unsigned c = 0; c < cores; c++)
    readers.emplace_back([&, c] {
      uint64_t n = 0, err = 0;
      ready.fetch_add(1, std::memory_order_release);
      do {
        for (uint16_t p = 1000; p < 1010; p++) err += inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, p) != 1;
        for (uint16_t p = 3000; p < 3010; p++) err += inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, p) != 0;
        const unsigned a = announced.load(std::memory_order_acquire);
        if (a != 0) {
          const uint16_t port = static_cast<uint16_t>(2000 + (a - 1) % 64);
          const int got = inc_listen_lookup(reg.r, c, INC_LISTEN_TCP, port);
          // Gone only if the writer reached its removal round meanwhile.
          const unsigned b = announced.load(std::memory_order_acquire);
          err += got != 1 && b - a < 63;
        }
        n += 21;
      } while (!stop.load(std::memory_order_acquire));
      errors += err;
      reads += n;
    });
  std::thread writer([&] {
    while (ready.load(std::memory_order_acquire) != cores) std::this_thread::yield();
    for (unsigned i = 0; i < rounds; i++) {
      const uint16_t p = static_cast<uint16_t>(2000 + i % 64);
      const uint16_t next = static_cast<uint16_t>(2000 + (i + 1) % 64);
      ASSERT_EQ(inc_listen_add(reg.r, INC_LISTEN_TCP, p), 0);
      announced.store(i + 1, std::memory_order_release);
      // Stop announcing `next` before removing it (it was added rounds ago).
      if (i >= 63) {
        ASSERT_EQ(inc_listen_remove(reg.r, INC_LISTEN_TCP, next), 0);
      }
    }
    stop.store(true, std::memory_order_release);
  });
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
}

}  // namespace
