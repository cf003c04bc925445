// include/inception/raw.h compiles alone as C++17 (and as C11:
// api_raw_headers_c.c).
#include "inception/raw.h"

#include <gtest/gtest.h>

extern "C" int inc_test_raw_headers_c(void);

TEST(ApiRawHeaders, CompileAloneAsCAndCxx) {
  inc_raw_tcp_ops ops{};
  inc_raw_config cfg{};
  EXPECT_EQ(ops.accept, nullptr);
  EXPECT_EQ(cfg.udp_socks, 0u);
  EXPECT_EQ(INC_RAW_WRITE_NOCOPY & INC_RAW_WRITE_MORE, 0u);
  EXPECT_EQ(inc_test_raw_headers_c(), 3);
}
