// Initial sequence numbers (lwip-hooks/src/isn.c): RFC 6528, not lwIP's
// 6510-plus-a-tick default.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "inc_lwip_hooks.h"
#include "inc_lwip_instance.h"
#include "lwip/ip_addr.h"

namespace {

uint32_t isn(uint32_t remote, uint16_t rport) {
  ip_addr_t l, r;
  ip_addr_set_ip4_u32_val(l, PP_HTONL(0xc6120001u));
  ip_addr_set_ip4_u32_val(r, remote);
  return inc__lwip_tcp_isn(&l, 80, &r, rport);
}

TEST(LwipHooksIsn, ConnectionsOpenedTogether_GetUnrelatedIsns) {
  inc_lwip_instance inst{};
  ASSERT_EQ(inc_lwip_instance_init(&inst), 0);
  std::set<uint32_t> seen;
  for (uint16_t p = 1; p <= 1000; p++) {
    seen.insert(isn(PP_HTONL(0xc6120002u), p));
  }
  EXPECT_GT(seen.size(), 990u) << "ports one apart must not give ISNs one apart or equal";
  // the same connection a little later: the 4 µs clock moved it forward
  uint32_t a = isn(PP_HTONL(0xc6120002u), 7);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  uint32_t b = isn(PP_HTONL(0xc6120002u), 7);
  EXPECT_GE(static_cast<uint32_t>(b - a), 4000u);     // >= 16 ms / 4 µs
  EXPECT_LT(static_cast<uint32_t>(b - a), 2500000u);  // < 10 s / 4 µs
  EXPECT_EQ(inc_lwip_instance_detach(&inst), 0);
}

TEST(LwipHooksIsn, AnotherInstance_HasAnotherSecret) {
  uint32_t here, there = 0;
  inc_lwip_instance a{};
  ASSERT_EQ(inc_lwip_instance_init(&a), 0);
  here = isn(PP_HTONL(0xc6120009u), 9);
  std::thread t([&] {
    inc_lwip_instance b{};
    ASSERT_EQ(inc_lwip_instance_init(&b), 0);
    there = isn(PP_HTONL(0xc6120009u), 9);
    inc_lwip_instance_detach(&b);
  });
  t.join();
  // same 4-tuple within microseconds: differ by far more than the clock moved
  uint32_t d = here - there;
  EXPECT_TRUE(d > 1000000u && d < 0xfff00000u) << "difference " << d;
  inc_lwip_instance_detach(&a);
}

}  // namespace
