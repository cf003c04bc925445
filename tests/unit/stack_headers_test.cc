// stack/'s public headers compile alone as C++17 (and as C11: stack_headers_c.c).
#include "inception/stack.h"
#include "inception/stack_call.h"

#include <gtest/gtest.h>

extern "C" int inc_test_stack_headers_c(void);

TEST(StackHeaders, CompileAloneAsCAndCxx) {
  inc_stack_counters c{};
  inc_stack_call call{};
  EXPECT_EQ(c.loops, 0u);
  EXPECT_EQ(call.done, 0);
  EXPECT_EQ(inc_test_stack_headers_c(), 2);
}
