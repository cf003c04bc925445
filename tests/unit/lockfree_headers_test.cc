// Every public lockfree header compiles alone as C11 and as C++17 (the
// generated translation units of tests/unit/lockfree.cmake are linked into
// this test), and C and C++ agree on every public struct's layout and on the
// inline builders' results.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "headers_layout.h"
#include "inception/chan.h"
#include "inception/flow.h"
#include "inception/listen.h"
#include "inception/lockfree_opts.h"
#include "inception/pool.h"
#include "inception/rcu.h"

namespace {

#define LF_CXX_TABLE(X)                               \
  X(sizeof(struct inc_msg))                           \
  X(offsetof(struct inc_msg, type))                   \
  X(offsetof(struct inc_msg, src))                    \
  X(offsetof(struct inc_msg, arg))                    \
  X(offsetof(struct inc_msg, ptr))                    \
  X(sizeof(struct inc_chan_config))                   \
  X(offsetof(struct inc_chan_config, app_ring_size))  \
  X(sizeof(struct inc_chan_stats))                    \
  X(offsetof(struct inc_chan_stats, capacity))        \
  X(sizeof(struct inc_flow_key))                      \
  X(offsetof(struct inc_flow_key, port_id))           \
  X(offsetof(struct inc_flow_key, remote_port))       \
  X(offsetof(struct inc_flow_key, local_addr))        \
  X(offsetof(struct inc_flow_key, remote_addr))       \
  X(sizeof(struct inc_flow_config))                   \
  X(offsetof(struct inc_flow_config, hash))           \
  X(offsetof(struct inc_flow_config, seed))           \
  X(sizeof(struct inc_flow_stats))                    \
  X(sizeof(struct inc_listen_config))                 \
  X(sizeof(struct inc_pool_config))                   \
  X(offsetof(struct inc_pool_config, count))          \
  X(sizeof(struct inc_pool_stats))                    \
  X(offsetof(struct inc_pool_stats, capacity))        \
  X(INC_LF_MAX_WORKERS)                               \
  X(INC_CHAN_SRC_APP)

#define LF_CXX_ENTRY(e) {#e, (e)},
const lf_layout_entry kCxxTable[] = {LF_CXX_TABLE(LF_CXX_ENTRY)};

TEST(LockfreeHeaders, CAndCxx_AgreeOnEveryPublicLayout) {
  const lf_layout_entry* c = nullptr;
  const size_t n = lf_c_layout(&c);
  ASSERT_EQ(n, sizeof(kCxxTable) / sizeof(kCxxTable[0]));
  for (size_t i = 0; i < n; i++) {
    EXPECT_STREQ(c[i].what, kCxxTable[i].what);
    EXPECT_EQ(c[i].value, kCxxTable[i].value) << kCxxTable[i].what;
  }
  EXPECT_EQ(sizeof(inc_msg), 2 * sizeof(void*));  // 16 bytes on LP64: one ring slot
  EXPECT_EQ(sizeof(inc_flow_key), 40u);           // no padding: compared as words
}

TEST(LockfreeHeaders, InlineBuilders_GiveTheSameBytesInCAndCxx) {
  inc_flow_key from_c, from_cxx;
  memset(&from_cxx, 0xee, sizeof(from_cxx));
  lf_c_flow_key_v4(&from_c);
  inc_flow_key_v4(&from_cxx, 6, 3, 0x0100000au, 80, 0x0200000au, 4242);
  EXPECT_EQ(memcmp(&from_c, &from_cxx, sizeof(from_c)), 0);
  int body = 0;
  inc_msg mc, mx = inc_msg_completion(&body, -5);
  lf_c_msg_completion(&mc, &body);
  EXPECT_EQ(mc.type, mx.type);
  EXPECT_EQ(mc.arg, mx.arg);
  EXPECT_EQ(mc.ptr, mx.ptr);
  EXPECT_EQ(static_cast<int32_t>(mx.arg), -5);
}

}  // namespace
