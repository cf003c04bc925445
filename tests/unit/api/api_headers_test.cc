// The API's public headers compile alone as C++17 (and as C11, in
// api_headers_c.c); the readiness bits are Linux's epoll values.
#include "inception/socket.h"  // first: it must need nothing before it

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "inception/addr.h"
#include "inception/conn.h"

extern "C" int api_headers_c(void);

TEST(ApiHeaders, CompileAsCAndCxx) { EXPECT_EQ(api_headers_c(), (int)INC_POLLIN); }

TEST(ApiHeaders, PollBitsAreEpollBits) {
  EXPECT_EQ(INC_POLLIN, (unsigned)EPOLLIN);
  EXPECT_EQ(INC_POLLOUT, (unsigned)EPOLLOUT);
  EXPECT_EQ(INC_POLLERR, (unsigned)EPOLLERR);
  EXPECT_EQ(INC_POLLHUP, (unsigned)EPOLLHUP);
  EXPECT_EQ(INC_POLLRDHUP, (unsigned)EPOLLRDHUP);
}

TEST(ApiAddr, ParseFormatAndSockaddr) {
  inc_addr a{}, b{};
  char t[INC_ADDR_STRLEN];
  ASSERT_EQ(inc_addr_parse(&a, "198.18.3.4"), 0);
  ASSERT_EQ(inc_addr_format(&a, t, sizeof(t)), 0);
  EXPECT_STREQ(t, "198.18.3.4");
  ASSERT_EQ(inc_addr_parse(&b, "2001:2::7%3"), 0);
  EXPECT_EQ(b.family, INC_AF_INET6);
  EXPECT_EQ(b.zone, 3u);
  ASSERT_EQ(inc_addr_format(&b, t, sizeof(t)), 0);
  EXPECT_STREQ(t, "2001:2::7%3");
  EXPECT_EQ(inc_addr_format(&b, t, 4), -ENOSPC);
  EXPECT_EQ(inc_addr_parse(&a, "198.18.3"), -EINVAL);
  EXPECT_EQ(inc_addr_parse(&a, "2001:2::7%x"), -EINVAL);
  sockaddr_storage ss{};
  size_t len = sizeof(ss);
  ASSERT_EQ(inc_addr_to_sockaddr(&b, 8080, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  inc_addr c{};
  uint16_t port = 0;
  ASSERT_EQ(inc_addr_from_sockaddr(&c, &port, reinterpret_cast<sockaddr*>(&ss), len), 0);
  EXPECT_TRUE(inc_addr_equal(&b, &c));
  EXPECT_EQ(port, 8080);
  EXPECT_EQ(inc_addr_from_sockaddr(&c, &port, reinterpret_cast<sockaddr*>(&ss), 8), -EINVAL);
  ss.ss_family = AF_UNIX;
  EXPECT_EQ(inc_addr_from_sockaddr(&c, &port, reinterpret_cast<sockaddr*>(&ss), len), -EAFNOSUPPORT);
  inc_addr any{};
  EXPECT_TRUE(inc_addr_is_any(&any));
}
