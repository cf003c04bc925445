// The sequential (inception/conn.h) and sockets-style (inception/socket.h)
// APIs on two real stacks joined by the software RSS wire: a server stack and
// a client stack of 2 workers each, used from plain application threads.
// Every byte of every transfer is verified; each error case is checked for
// its POSIX errno.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "inception/conn.h"
#include "inception/socket.h"
#include "api_test_ops.h"
#include "inception/stack.h"
#include "inception/stack_call.h"
#include "stack_env.h"
#include "wire_pair.h"

// <netinet/tcp.h> would clash with lwIP's TCP_MSS (wire_pair.h includes
// lwIP): Linux's value of TCP_NODELAY.
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif

namespace {

constexpr uint32_t kSrv4 = 0xc6120001u, kCli4 = 0xc6120002u;  // 198.18.0.1, .2
constexpr uint8_t kSrv6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};  // 2001:2::1
constexpr uint8_t kCli6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};  // 2001:2::2

// The byte at stream offset i of connection id.
inline uint8_t pattern(uint32_t id, uint64_t i) {
  uint64_t x = (i / 8) * 0x9E3779B97F4A7C15ull ^ (uint64_t)id * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return (uint8_t)(x >> (8 * (i % 8)));
}

void fill(uint32_t id, uint64_t off, uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = pattern(id, off + i);
}

bool check(uint32_t id, uint64_t off, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != pattern(id, off + i)) return false;
  return true;
}

std::string wire_name() {
  static int n = 0;
  return "as" + std::to_string(getpid() % 10000) + "_" + std::to_string(n++);
}

struct Stack {
  inc_stack* s = nullptr;
  void* mem = nullptr;
  inc_api* api = nullptr;
  void* api_mem = nullptr;
  std::string start(inc_port* port, unsigned workers, const unsigned* lcores, uint32_t ip4, const uint8_t* ip6) {
    inc_stack_config cfg{};
    cfg.workers = workers;
    cfg.lcores = lcores;
    cfg.n_ports = 1;
    cfg.ports[0].port = port;
    cfg.ports[0].ip4_addr = htonl(ip4);
    cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
    memcpy(cfg.ports[0].ip6[0].addr, ip6, 16);
    cfg.ports[0].ip6[0].prefix_len = 64;
    cfg.idle = INC_STACK_IDLE_SLEEP;  // 4 workers and the test's threads share 2 cores
    cfg.idle_sleep_max_us = 50;
    cfg.app_endpoints = 32;
    size_t len = inc_stack_footprint(&cfg);
    if (len == 0 || posix_memalign(&mem, 64, len) != 0) return "stack memory";
    int rc = inc_stack_start(&s, mem, len, &cfg);
    if (rc != 0) return "inc_stack_start " + std::to_string(rc);
    inc_api_config acfg{};
    acfg.max_conns = 512;
    acfg.max_epolls = 8;
    size_t alen = inc_api_footprint(&acfg);
    if (alen == 0 || posix_memalign(&api_mem, 64, alen) != 0) return "api memory";
    rc = inc_api_init(&api, s, &acfg, api_mem, alen);
    return rc == 0 ? "" : "inc_api_init " + std::to_string(rc);
  }
  void stop() {
    if (api != nullptr) {
      inc_api_fini(api);
      api = nullptr;
    }
    if (s != nullptr) {
      inc_stack_stop(s);
      s = nullptr;
    }
    free(api_mem);
    api_mem = nullptr;
    free(mem);
    mem = nullptr;
  }
  ~Stack() { stop(); }
};

class ApiSock : public ::testing::Test {
 protected:
  drvtest::WirePair wp;
  Stack srv, cli;
  unsigned srv_lcores[2] = {1, 2}, cli_lcores[2] = {3, 4};

  void SetUp() override {
    stacktest::eal_init_once();
    drvtest::WireOpts wo;
    wo.qa = wo.qb = 2;
    std::string e = wp.create(wire_name(), wo);
    ASSERT_EQ(e, "");
    ASSERT_EQ(srv.start(&wp.a, 2, srv_lcores, kSrv4, kSrv6), "");
    ASSERT_EQ(cli.start(&wp.b, 2, cli_lcores, kCli4, kCli6), "");
  }
  void TearDown() override {
    // every connection closed by the test: nothing left in either table
    if (srv.api != nullptr) {
      EXPECT_EQ(inc_api_conns_in_use(srv.api), 0u) << "server connections leaked";
    }
    if (cli.api != nullptr) {
      EXPECT_EQ(inc_api_conns_in_use(cli.api), 0u) << "client connections leaked";
    }
    cli.stop();
    srv.stop();
    stacktest::drain_wire(&wp.w);
    EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u) << "server mbufs not back";
    EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u) << "client mbufs not back";
  }

  static sockaddr_storage addr(int family, uint16_t port, bool server = true) {
    sockaddr_storage ss{};
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      a->sin_addr.s_addr = htonl(server ? kSrv4 : kCli4);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      memcpy(&a->sin6_addr, server ? kSrv6 : kCli6, 16);
    }
    return ss;
  }
  static socklen_t len_of(int family) {
    return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  }

  // A listening socket of the server on port (any address of the family).
  int listen_on(int family, uint16_t port, int backlog = 128) {
    int fd = inc_socket(srv.api, family, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0) << strerror(errno);
    sockaddr_storage ss{};
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    }
    EXPECT_EQ(inc_bind(srv.api, fd, reinterpret_cast<sockaddr*>(&ss), len_of(family)), 0) << strerror(errno);
    EXPECT_EQ(inc_listen(srv.api, fd, backlog), 0) << strerror(errno);
    return fd;
  }
  int connect_to(int family, uint16_t port) {
    int fd = inc_socket(cli.api, family, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0) << strerror(errno);
    sockaddr_storage ss = addr(family, port);
    int rc = inc_connect(cli.api, fd, reinterpret_cast<sockaddr*>(&ss), len_of(family));
    EXPECT_EQ(rc, 0) << strerror(errno);
    return fd;
  }

  // An epoll echo server on the server stack, until stop is set.
  void echo_server(int lfd, std::atomic<bool>* stop, std::atomic<unsigned>* accepted,
                   std::set<int>* owners) {
    int ep = inc_epoll_create(srv.api, 0);
    ASSERT_GE(ep, 0);
    ASSERT_EQ(inc_set_nonblock(srv.api, lfd, 1), 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    ASSERT_EQ(inc_epoll_ctl(srv.api, ep, EPOLL_CTL_ADD, lfd, &ev), 0);
    std::map<int, std::vector<uint8_t>> pending;  // bytes not yet echoed back
    std::vector<uint8_t> buf(65536);
    epoll_event evs[64];
    while (!stop->load()) {
      int n = inc_epoll_wait(srv.api, ep, evs, 64, 20);
      ASSERT_GE(n, 0) << strerror(errno);
      for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == lfd) {
          for (;;) {
            int c = inc_accept4(srv.api, lfd, nullptr, nullptr, SOCK_NONBLOCK);
            if (c < 0) {
              ASSERT_EQ(errno, EAGAIN);
              break;
            }
            accepted->fetch_add(1);
            owners->insert(inc_conn_owner(inc_sock_conn(srv.api, c)));
            epoll_event cev{};
            cev.events = EPOLLIN | EPOLLRDHUP;
            cev.data.fd = c;
            ASSERT_EQ(inc_epoll_ctl(srv.api, ep, EPOLL_CTL_ADD, c, &cev), 0);
          }
          continue;
        }
        bool closed = false;
        for (;;) {
          ssize_t r = inc_recv(srv.api, fd, buf.data(), buf.size(), 0);
          if (r > 0) {
            auto& q = pending[fd];
            q.insert(q.end(), buf.begin(), buf.begin() + r);
            continue;
          }
          if (r == 0) {
            closed = true;
          } else {
            ASSERT_TRUE(errno == EAGAIN || errno == ECONNRESET) << strerror(errno);
          }
          break;
        }
        auto& q = pending[fd];
        while (!q.empty()) {
          ssize_t w = inc_send(srv.api, fd, q.data(), q.size(), 0);
          if (w < 0) {
            ASSERT_EQ(errno, EAGAIN) << strerror(errno);
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
          }
          q.erase(q.begin(), q.begin() + w);
        }
        if (closed) {
          pending.erase(fd);
          ASSERT_EQ(inc_close(srv.api, fd), 0);
        }
      }
    }
    for (auto& kv : pending) inc_close(srv.api, kv.first);
    ASSERT_EQ(inc_close(srv.api, ep), 0);
  }

  void echo_many(int family, uint16_t port);
};

// Client threads run rounds of send + receive-the-echo on several connections
// each, against an epoll echo server; every byte is checked.
void ApiSock::echo_many(int family, uint16_t port) {
  int lfd = listen_on(family, port);
  std::atomic<bool> stop{false};
  std::atomic<unsigned> accepted{0};
  std::set<int> owners;
  std::thread server([&] { echo_server(lfd, &stop, &accepted, &owners); });
  constexpr unsigned kThreads = 3, kConns = 12, kRounds = 8, kChunk = 3000;
  std::atomic<unsigned> verified{0};
  std::vector<std::thread> clients;
  for (unsigned t = 0; t < kThreads; t++) {
    clients.emplace_back([&, t] {
      std::vector<int> fds;
      for (unsigned i = 0; i < kConns; i++) fds.push_back(connect_to(family, port));
      std::vector<uint8_t> out(kChunk), in(kChunk);
      for (unsigned r = 0; r < kRounds; r++) {
        for (unsigned i = 0; i < kConns; i++) {
          uint32_t id = t * 1000 + i;
          fill(id, (uint64_t)r * kChunk, out.data(), kChunk);
          ASSERT_EQ(inc_send(cli.api, fds[i], out.data(), kChunk, 0), (ssize_t)kChunk) << strerror(errno);
        }
        for (unsigned i = 0; i < kConns; i++) {
          uint32_t id = t * 1000 + i;
          ASSERT_EQ(inc_recv(cli.api, fds[i], in.data(), kChunk, MSG_WAITALL), (ssize_t)kChunk)
              << strerror(errno);
          ASSERT_TRUE(check(id, (uint64_t)r * kChunk, in.data(), kChunk)) << "conn " << id << " round " << r;
          verified.fetch_add(kChunk);
        }
      }
      for (int fd : fds) {
        ASSERT_EQ(inc_shutdown(cli.api, fd, SHUT_WR), 0);
        uint8_t b;
        ASSERT_EQ(inc_recv(cli.api, fd, &b, 1, 0), 0) << "end of stream after the server closed";
        ASSERT_EQ(inc_close(cli.api, fd), 0);
      }
      inc_api_thread_detach(cli.api);
    });
  }
  for (auto& c : clients) c.join();
  // the server closes its side when it reads the end of stream
  for (int i = 0; i < 500 && inc_api_conns_in_use(srv.api) > 1; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  server.join();
  EXPECT_EQ(accepted.load(), kThreads * kConns);
  EXPECT_EQ(verified.load(), kThreads * kConns * kRounds * kChunk);
  EXPECT_EQ(owners.size(), 2u) << "accepted connections come from both server workers";
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

TEST_F(ApiSock, EpollEchoServer_ManyConnectionsFromSeveralThreads_IPv4) { echo_many(AF_INET, 7001); }

TEST_F(ApiSock, EpollEchoServer_ManyConnectionsFromSeveralThreads_IPv6) { echo_many(AF_INET6, 7002); }

// A one-way bulk transfer through a small receive buffer (flow control):
// every byte arrives, in order.
TEST_F(ApiSock, BulkTransfer_SmallReceiveBufferAndLingeringClose_EveryByteInOrder) {
  int lfd = listen_on(AF_INET, 7010);
  int rcvbuf = 8192;
  ASSERT_EQ(inc_setsockopt(srv.api, lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
  constexpr size_t kBytes = 6u << 20;
  std::thread sender([&] {
    int fd = connect_to(AF_INET, 7010);
    std::vector<uint8_t> out(50000);
    size_t off = 0;
    while (off < kBytes) {
      size_t n = std::min(out.size(), kBytes - off);
      fill(77, off, out.data(), n);
      ssize_t w = inc_send(cli.api, fd, out.data(), n, 0);
      ASSERT_GT(w, 0) << strerror(errno);
      off += (size_t)w;
    }
    // a lingering close waits until the peer has acknowledged everything,
    // then ends with a FIN (the reader sees the end of stream, not a reset)
    linger lg{1, 30};
    ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    ASSERT_EQ(inc_close(cli.api, fd), 0);
    inc_api_thread_detach(cli.api);
  });
  sockaddr_storage peer{};
  socklen_t plen = sizeof(peer);
  int c = inc_accept(srv.api, lfd, reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_GE(c, 0) << strerror(errno);
  EXPECT_EQ(plen, sizeof(sockaddr_in));
  EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&peer)->sin_addr.s_addr, htonl(kCli4));
  std::vector<uint8_t> in(70000);
  size_t got = 0;
  for (;;) {
    ssize_t r = inc_recv(srv.api, c, in.data(), in.size(), 0);
    ASSERT_GE(r, 0) << strerror(errno);
    if (r == 0) break;
    ASSERT_TRUE(check(77, got, in.data(), (size_t)r)) << "at offset " << got;
    got += (size_t)r;
  }
  sender.join();
  EXPECT_EQ(got, kBytes);
  EXPECT_EQ(inc_close(srv.api, c), 0);
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

// Payload bytes the client stack's netifs copied / sent by reference /
// copied within frames short enough to copy whole.
static void tx_payload(inc_stack* s, uint64_t* copied, uint64_t* ref, uint64_t* small) {
  inc_chan_app* ep = nullptr;
  ASSERT_EQ(inc_stack_endpoint_attach(s, &ep), 0);
  *copied = *ref = *small = 0;
  for (unsigned w = 0; w < inc_stack_workers(s); w++) {
    uint64_t v[3] = {0, 0, 0};
    inc_stack_call call{};
    call.fn = api_ops_tx_payload;
    call.arg = v;
    ASSERT_EQ(inc_stack_call_run(ep, w, &call, -1), 0);
    *copied += v[0];
    *ref += v[1];
    *small += v[2];
  }
  inc_stack_endpoint_detach(ep);
}

// alloc_send_buffer: the application writes into stack-owned buffers, which
// leave without a copy (the NIC gets the very bytes written: the drivers send
// them by reference, and count any copy; only a frame with at most 128
// payload bytes, e.g. a stream's last, is copied whole, as every frame that
// short is, because one copy costs less than a reference); the peer reads
// every byte.
TEST_F(ApiSock, ZeroCopySend_BuffersWrittenInPlace_ArriveIntactWithoutCopy) {
  uint64_t copied0 = 0, ref0 = 0, small0 = 0, copied1 = 0, ref1 = 0, small1 = 0;
  tx_payload(cli.s, &copied0, &ref0, &small0);
  int lfd = listen_on(AF_INET6, 7020);
  constexpr size_t kBytes = 2u << 20;
  std::thread sender([&] {
    int fd = connect_to(AF_INET6, 7020);
    size_t off = 0;
    while (off < kBytes) {
      inc_zc_buf b{};
      ASSERT_EQ(inc_alloc_send_buffer(cli.api, fd, kBytes - off, 5000, &b), 0) << strerror(errno);
      ASSERT_GT(b.len, 0u);
      ASSERT_LE(b.len, kBytes - off);
      fill(5, off, static_cast<uint8_t*>(b.data), b.len);
      ssize_t n = inc_send_buffer(cli.api, fd, &b, b.len, 0);
      if (n < 0 && errno == ENOBUFS) continue;  // the window shrank meanwhile: buffer returned, retry
      ASSERT_EQ(n, (ssize_t)b.len) << strerror(errno);
      off += (size_t)n;
    }
    // an unused buffer goes back
    inc_zc_buf spare{};
    ASSERT_EQ(inc_alloc_send_buffer(cli.api, fd, 100, -1, &spare), 0);
    ASSERT_EQ(inc_free_send_buffer(cli.api, fd, &spare), 0);
    ASSERT_EQ(inc_close(cli.api, fd), 0);
    inc_api_thread_detach(cli.api);
  });
  int c = inc_accept(srv.api, lfd, nullptr, nullptr);
  ASSERT_GE(c, 0) << strerror(errno);
  std::vector<uint8_t> in(65536);
  size_t got = 0;
  for (;;) {
    ssize_t r = inc_recv(srv.api, c, in.data(), in.size(), 0);
    ASSERT_GE(r, 0) << strerror(errno);
    if (r == 0) break;
    ASSERT_TRUE(check(5, got, in.data(), (size_t)r)) << "at offset " << got;
    got += (size_t)r;
  }
  sender.join();
  EXPECT_EQ(got, kBytes);
  tx_payload(cli.s, &copied1, &ref1, &small1);
  EXPECT_EQ(copied1 - copied0, 0u) << "no payload byte was copied on its way to the wire";
  EXPECT_GE(ref1 - ref0 + (small1 - small0), kBytes) << "every payload byte left (by reference, or in a tiny frame)";
  EXPECT_GE(ref1 - ref0, kBytes - kBytes / 64) << "nearly every payload byte left by reference";
  EXPECT_EQ(inc_close(srv.api, c), 0);
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

// sendmsg/recvmsg gather and scatter; MSG_PEEK leaves the data.
TEST_F(ApiSock, SendmsgRecvmsg_ScatterGatherAndPeek) {
  int lfd = listen_on(AF_INET, 7030);
  int fd = connect_to(AF_INET, 7030);
  int c = inc_accept(srv.api, lfd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  uint8_t a[100], b[1], d[4000];
  fill(9, 0, a, sizeof(a));
  fill(9, 100, b, sizeof(b));
  fill(9, 101, d, sizeof(d));
  iovec out[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {d, sizeof(d)}};
  msghdr m{};
  m.msg_iov = out;
  m.msg_iovlen = 3;
  ASSERT_EQ(inc_sendmsg(cli.api, fd, &m, 0), 4101);
  uint8_t p[10];
  ASSERT_EQ(inc_recv(srv.api, c, p, sizeof(p), MSG_PEEK | MSG_WAITALL), 10);
  ASSERT_TRUE(check(9, 0, p, sizeof(p)));
  uint8_t x[7], y[4094];
  iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  msghdr r{};
  sockaddr_in6 from{};
  r.msg_name = &from;
  r.msg_namelen = sizeof(from);
  r.msg_iov = in;
  r.msg_iovlen = 2;
  ASSERT_EQ(inc_recvmsg(srv.api, c, &r, MSG_WAITALL), 4101);
  EXPECT_TRUE(check(9, 0, x, sizeof(x)));
  EXPECT_TRUE(check(9, 7, y, sizeof(y)));
  EXPECT_EQ(r.msg_namelen, sizeof(sockaddr_in));
  EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&from)->sin_addr.s_addr, htonl(kCli4));
  EXPECT_EQ(inc_close(cli.api, fd), 0);
  EXPECT_EQ(inc_close(srv.api, c), 0);
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

TEST_F(ApiSock, Errors_PosixErrnoValues) {
  // ECONNREFUSED: nobody listens (the server's lwIP answers the SYN with a RST)
  int fd = inc_socket(cli.api, AF_INET, SOCK_STREAM, 0);
  sockaddr_storage ss = addr(AF_INET, 7999);
  EXPECT_EQ(inc_connect(cli.api, fd, reinterpret_cast<sockaddr*>(&ss), len_of(AF_INET)), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(inc_close(cli.api, fd), 0);
  // EBADF: closed, never opened, out of range
  EXPECT_EQ(inc_send(cli.api, fd, "x", 1, 0), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(inc_close(cli.api, 100000), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(inc_recv(cli.api, -1, nullptr, 0, 0), -1);
  EXPECT_EQ(errno, EBADF);
  // EAFNOSUPPORT / EPROTONOSUPPORT
  EXPECT_EQ(inc_socket(cli.api, AF_UNIX, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(inc_socket(cli.api, AF_INET, SOCK_RAW, 0), -1);
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  // EADDRINUSE: a second listener on the same port
  int l1 = listen_on(AF_INET, 7040);
  int l2 = inc_socket(srv.api, AF_INET, SOCK_STREAM, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(7040);
  EXPECT_EQ(inc_bind(srv.api, l2, reinterpret_cast<sockaddr*>(&any), sizeof(any)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  EXPECT_EQ(inc_close(srv.api, l2), 0);
  // EAGAIN: a non-blocking accept and recv with nothing there; SO_RCVTIMEO
  ASSERT_EQ(inc_set_nonblock(srv.api, l1, 1), 0);
  EXPECT_EQ(inc_accept(srv.api, l1, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(inc_set_nonblock(srv.api, l1, 0), 0);
  int cfd = connect_to(AF_INET, 7040);
  int sfd = inc_accept(srv.api, l1, nullptr, nullptr);
  ASSERT_GE(sfd, 0);
  uint8_t b[16];
  EXPECT_EQ(inc_recv(srv.api, sfd, b, sizeof(b), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  timeval tv{0, 50000};
  ASSERT_EQ(inc_setsockopt(srv.api, sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(inc_recv(srv.api, sfd, b, sizeof(b), 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(45));
  // EISCONN: connecting a connected socket
  ss = addr(AF_INET, 7040);
  EXPECT_EQ(inc_connect(cli.api, cfd, reinterpret_cast<sockaddr*>(&ss), len_of(AF_INET)), -1);
  EXPECT_EQ(errno, EISCONN);
  // EPIPE after shutdown(SHUT_WR); the peer reads the end of stream
  ASSERT_EQ(inc_shutdown(cli.api, cfd, SHUT_WR), 0);
  EXPECT_EQ(inc_send(cli.api, cfd, "x", 1, 0), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(inc_recv(srv.api, sfd, b, sizeof(b), 0), 0);
  // ECONNRESET: the peer closes with SO_LINGER 0 (a RST)
  linger lg{1, 0};
  ASSERT_EQ(inc_setsockopt(srv.api, sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  ASSERT_EQ(inc_close(srv.api, sfd), 0);
  EXPECT_EQ(inc_recv(cli.api, cfd, b, sizeof(b), 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(inc_recv(cli.api, cfd, b, sizeof(b), 0), 0) << "reported once; then the end of the stream";
  EXPECT_EQ(inc_send(cli.api, cfd, "x", 1, 0), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(inc_close(cli.api, cfd), 0);
  // ENOTCONN: recv on a socket never connected; EINVAL: bad shutdown
  int n = inc_socket(cli.api, AF_INET6, SOCK_STREAM, 0);
  EXPECT_EQ(inc_recv(cli.api, n, b, sizeof(b), 0), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(inc_shutdown(cli.api, n, 7), -1);
  EXPECT_EQ(errno, EINVAL);
  // EAFNOSUPPORT: an IPv4 address for an IPv6 socket
  ss = addr(AF_INET, 7040);
  EXPECT_EQ(inc_connect(cli.api, n, reinterpret_cast<sockaddr*>(&ss), len_of(AF_INET)), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(inc_close(cli.api, n), 0);
  EXPECT_EQ(inc_close(srv.api, l1), 0);
}

TEST_F(ApiSock, Options_SetGetAndNames) {
  int lfd = listen_on(AF_INET6, 7050);
  int fd = inc_socket(cli.api, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(fd, 0);
  int one = 1, v = 0;
  socklen_t l = sizeof(v);
  ASSERT_EQ(inc_setsockopt(cli.api, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, IPPROTO_TCP, TCP_NODELAY, &v, &l), 0);
  EXPECT_EQ(v, 1);
  ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_KEEPALIVE, &v, &l), 0);
  EXPECT_EQ(v, 1);
  ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_REUSEADDR, &v, &l), 0);
  EXPECT_EQ(v, 1);
  int big = 1 << 30, small = 1;
  ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
  EXPECT_GT(v, 0);
  EXPECT_LT(v, big) << "clamped to what the stack can buffer";
  ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
  EXPECT_GT(v, small) << "raised to at least two segments";
  linger lg{1, 3}, lg2{};
  socklen_t ll = sizeof(lg2);
  ASSERT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_LINGER, &lg2, &ll), 0);
  EXPECT_EQ(lg2.l_onoff, 1);
  EXPECT_EQ(lg2.l_linger, 3);
  EXPECT_EQ(inc_setsockopt(cli.api, fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_TYPE, &v, &l), 0);
  EXPECT_EQ(v, SOCK_STREAM);
  ASSERT_EQ(inc_getsockopt(srv.api, lfd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l), 0);
  EXPECT_EQ(v, 1);
  // a non-blocking connect: EINPROGRESS, then writable, SO_ERROR 0
  sockaddr_storage ss = addr(AF_INET6, 7050);
  ASSERT_EQ(inc_connect(cli.api, fd, reinterpret_cast<sockaddr*>(&ss), len_of(AF_INET6)), -1);
  ASSERT_EQ(errno, EINPROGRESS);
  int ep = inc_epoll_create(cli.api, 0);
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = 42;
  ASSERT_EQ(inc_epoll_ctl(cli.api, ep, EPOLL_CTL_ADD, fd, &ev), 0);
  EXPECT_EQ(inc_epoll_ctl(cli.api, ep, EPOLL_CTL_ADD, fd, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  epoll_event got{};
  ASSERT_EQ(inc_epoll_wait(cli.api, ep, &got, 1, 10000), 1);
  EXPECT_EQ(got.data.u64, 42u);
  EXPECT_TRUE(got.events & EPOLLOUT);
  ASSERT_EQ(inc_getsockopt(cli.api, fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
  EXPECT_EQ(v, 0);
  // the kernel eventfd of the set can sit in poll(2)
  int efd = inc_epoll_fd(cli.api, ep);
  ASSERT_GE(efd, 0);
  ev.events = EPOLLIN;
  ev.data.u64 = 43;
  ASSERT_EQ(inc_epoll_ctl(cli.api, ep, EPOLL_CTL_MOD, fd, &ev), 0);
  EXPECT_EQ(inc_epoll_wait(cli.api, ep, &got, 1, 0), 0);
  int sfd = inc_accept(srv.api, lfd, nullptr, nullptr);
  ASSERT_GE(sfd, 0);
  ASSERT_EQ(inc_send(srv.api, sfd, "hello", 5, 0), 5);
  pollfd pfd{efd, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "the eventfd wakes a kernel poll";
  ASSERT_EQ(inc_epoll_wait(cli.api, ep, &got, 1, 0), 1);
  EXPECT_EQ(got.data.u64, 43u);
  char hello[8];
  EXPECT_EQ(inc_recv(cli.api, fd, hello, sizeof(hello), 0), 5);
  EXPECT_EQ(memcmp(hello, "hello", 5), 0);
  ASSERT_EQ(inc_epoll_ctl(cli.api, ep, EPOLL_CTL_DEL, fd, nullptr), 0);
  EXPECT_EQ(inc_epoll_ctl(cli.api, ep, EPOLL_CTL_DEL, fd, nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
  // names: each side's local address is the other's peer
  sockaddr_in6 cl{}, cp{}, sl{}, sp{};
  socklen_t a = sizeof(cl), b = sizeof(cp), c = sizeof(sl), d = sizeof(sp);
  ASSERT_EQ(inc_getsockname(cli.api, fd, reinterpret_cast<sockaddr*>(&cl), &a), 0);
  ASSERT_EQ(inc_getpeername(cli.api, fd, reinterpret_cast<sockaddr*>(&cp), &b), 0);
  ASSERT_EQ(inc_getsockname(srv.api, sfd, reinterpret_cast<sockaddr*>(&sl), &c), 0);
  ASSERT_EQ(inc_getpeername(srv.api, sfd, reinterpret_cast<sockaddr*>(&sp), &d), 0);
  EXPECT_EQ(memcmp(&cl.sin6_addr, kCli6, 16), 0);
  EXPECT_EQ(memcmp(&cp.sin6_addr, kSrv6, 16), 0);
  EXPECT_EQ(ntohs(cp.sin6_port), 7050);
  EXPECT_EQ(memcmp(&sl.sin6_addr, kSrv6, 16), 0);
  EXPECT_EQ(ntohs(sl.sin6_port), 7050);
  EXPECT_EQ(memcmp(&sp.sin6_addr, kCli6, 16), 0);
  EXPECT_EQ(sp.sin6_port, cl.sin6_port);
  EXPECT_EQ(inc_close(cli.api, ep), 0);
  EXPECT_EQ(inc_close(cli.api, fd), 0);
  EXPECT_EQ(inc_close(srv.api, sfd), 0);
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

// The sequential API directly: timeouts and non-blocking forms.
TEST_F(ApiSock, ConnApi_TimeoutsAndNonBlocking) {
  inc_conn* l = nullptr;
  ASSERT_EQ(inc_conn_new(srv.api, INC_AF_INET, &l), 0);
  ASSERT_EQ(inc_conn_bind(l, nullptr, 0), 0);
  ASSERT_EQ(inc_conn_listen(l, 4), 0);
  uint16_t port = 0;
  ASSERT_EQ(inc_conn_local(l, nullptr, &port), 0);
  EXPECT_NE(port, 0) << "port 0 gets an ephemeral port, the same on every worker";
  inc_conn* a = nullptr;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(inc_conn_accept(l, &a, 30), -EAGAIN);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));
  inc_conn* c = nullptr;
  ASSERT_EQ(inc_conn_new(cli.api, INC_AF_INET, &c), 0);
  inc_addr srv_addr = inc_addr_ip4(198, 18, 0, 1);
  ASSERT_EQ(inc_conn_connect(c, &srv_addr, port, 0), -EINPROGRESS);
  int again = inc_conn_connect(c, &srv_addr, port, 0);
  EXPECT_TRUE(again == -EALREADY || again == -EISCONN) << again;
  ASSERT_EQ(inc_conn_accept(l, &a, 10000), 0);
  EXPECT_GE(inc_conn_owner(a), 0);
  EXPECT_LT(inc_conn_owner(a), 2);
  char buf[32];
  EXPECT_EQ(inc_conn_recv(a, buf, sizeof(buf), 0, 0), -EAGAIN);
  EXPECT_EQ(inc_conn_send(c, "abc", 3, 0, 10000), 3);
  EXPECT_EQ(inc_conn_recv(a, buf, sizeof(buf), 0, 10000), 3);
  EXPECT_EQ(memcmp(buf, "abc", 3), 0);
  EXPECT_EQ(inc_conn_close(c), 0);
  EXPECT_EQ(inc_conn_recv(a, buf, sizeof(buf), 0, 10000), 0);
  EXPECT_EQ(inc_conn_close(a), 0);
  EXPECT_EQ(inc_conn_close(l), 0);
}

// UDP: a server socket on the server stack echoes datagrams of every size
// (up to several IP fragments) back to an unconnected client socket; every
// datagram comes back whole, from the server's address and port.
static void udp_echo(ApiSock* t, inc_api* srv, inc_api* cli, int family, uint16_t port,
                     const sockaddr_storage& srv_addr, socklen_t alen) {
  int s = inc_socket(srv, family, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0) << strerror(errno);
  sockaddr_storage any{};
  any.ss_family = (sa_family_t)family;
  if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&any)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&any)->sin6_port = htons(port);
  }
  ASSERT_EQ(inc_bind(srv, s, reinterpret_cast<sockaddr*>(&any), alen), 0) << strerror(errno);
  int v = 0;
  socklen_t vl = sizeof(v);
  ASSERT_EQ(inc_getsockopt(srv, s, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
  EXPECT_EQ(v, SOCK_DGRAM);
  EXPECT_EQ(inc_listen(srv, s, 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  constexpr unsigned kCount = 120;
  timeval stv{15, 0};  // the server gives up (and the test fails) rather than hang
  ASSERT_EQ(inc_setsockopt(srv, s, SOL_SOCKET, SO_RCVTIMEO, &stv, sizeof(stv)), 0);
  std::thread server([&] {
    std::vector<uint8_t> buf(70000);
    for (unsigned i = 0; i < kCount; i++) {
      sockaddr_storage from{};
      socklen_t fl = sizeof(from);
      ssize_t r = inc_recvfrom(srv, s, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (r < 0) {
        ADD_FAILURE() << "server: datagram " << i << ": " << strerror(errno);
        break;
      }
      ASSERT_EQ(inc_sendto(srv, s, buf.data(), (size_t)r, 0, reinterpret_cast<sockaddr*>(&from), fl), r)
          << strerror(errno);
    }
    inc_api_thread_detach(srv);
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() { t.join(); }
  } joiner{server};
  int c = inc_socket(cli, family, SOCK_DGRAM, 0);
  ASSERT_GE(c, 0);
  timeval tv{10, 0};  // only to turn a lost datagram into a failure rather than a hang
  ASSERT_EQ(inc_setsockopt(cli, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  std::vector<uint8_t> out(9000), in(9000);
  for (unsigned i = 0; i < kCount; i++) {
    size_t n = 1 + (i * 997u) % 8000u;  // 1 byte .. several fragments
    fill(300 + i, 0, out.data(), n);
    ASSERT_EQ(inc_sendto(cli, c, out.data(), n, 0, reinterpret_cast<const sockaddr*>(&srv_addr), alen), (ssize_t)n)
        << strerror(errno);
    sockaddr_storage from{};
    socklen_t fl = sizeof(from);
    ssize_t r = inc_recvfrom(cli, c, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    ASSERT_EQ(r, (ssize_t)n) << "datagram " << i << ": " << strerror(errno);
    ASSERT_TRUE(check(300 + i, 0, in.data(), n)) << "datagram " << i;
    ASSERT_EQ(fl, alen);
    ASSERT_EQ(memcmp(&from, &srv_addr, alen), 0) << "the echo comes from the server's address and port";
  }
  EXPECT_EQ(inc_close(cli, c), 0);
  EXPECT_EQ(inc_close(srv, s), 0);
  (void)t;
}

TEST_F(ApiSock, Udp_EchoEverySize_IPv4) {
  sockaddr_storage a = addr(AF_INET, 7100);
  udp_echo(this, srv.api, cli.api, AF_INET, 7100, a, len_of(AF_INET));
}

TEST_F(ApiSock, Udp_EchoEverySize_IPv6) {
  sockaddr_storage a = addr(AF_INET6, 7101);
  udp_echo(this, srv.api, cli.api, AF_INET6, 7101, a, len_of(AF_INET6));
}

// Connected UDP sockets, errors, truncation, epoll readiness, and a full
// receive buffer dropping (not queueing without bound).
TEST_F(ApiSock, Udp_ConnectedErrorsTruncationEpollAndFullBuffer) {
  int s = inc_socket(srv.api, AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage sa = addr(AF_INET, 7110);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(7110);
  ASSERT_EQ(inc_bind(srv.api, s, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  int s2 = inc_socket(srv.api, AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(inc_bind(srv.api, s2, reinterpret_cast<sockaddr*>(&any), sizeof(any)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  EXPECT_EQ(inc_close(srv.api, s2), 0);
  int c = inc_socket(cli.api, AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(inc_send(cli.api, c, "x", 1, 0), -1);
  EXPECT_EQ(errno, EDESTADDRREQ);
  std::vector<uint8_t> big(70000);
  EXPECT_EQ(inc_sendto(cli.api, c, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sockaddr_in)),
            -1);
  EXPECT_EQ(errno, EMSGSIZE);
  ASSERT_EQ(inc_connect(cli.api, c, reinterpret_cast<sockaddr*>(&sa), sizeof(sockaddr_in)), 0);
  sockaddr_in peer{};
  socklen_t pl = sizeof(peer);
  ASSERT_EQ(inc_getpeername(cli.api, c, reinterpret_cast<sockaddr*>(&peer), &pl), 0);
  EXPECT_EQ(ntohs(peer.sin_port), 7110);
  // epoll: the server socket becomes readable when a datagram arrives
  int ep = inc_epoll_create(srv.api, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 7;
  ASSERT_EQ(inc_epoll_ctl(srv.api, ep, EPOLL_CTL_ADD, s, &ev), 0);
  epoll_event got{};
  EXPECT_EQ(inc_epoll_wait(srv.api, ep, &got, 1, 0), 0);
  uint8_t d[100];
  fill(1, 0, d, sizeof(d));
  ASSERT_EQ(inc_send(cli.api, c, d, sizeof(d), 0), 100);
  ASSERT_EQ(inc_epoll_wait(srv.api, ep, &got, 1, 10000), 1);
  EXPECT_EQ(got.data.u64, 7u);
  EXPECT_TRUE(got.events & EPOLLIN);
  // truncation: a 10-byte buffer gets the first 10 bytes and MSG_TRUNC; the
  // rest of the datagram is gone
  uint8_t small[10];
  iovec iv{small, sizeof(small)};
  msghdr m{};
  sockaddr_in from{};
  m.msg_name = &from;
  m.msg_namelen = sizeof(from);
  m.msg_iov = &iv;
  m.msg_iovlen = 1;
  ASSERT_EQ(inc_recvmsg(srv.api, s, &m, 0), 10);
  EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
  EXPECT_TRUE(check(1, 0, small, sizeof(small)));
  EXPECT_EQ(from.sin_addr.s_addr, htonl(kCli4));
  EXPECT_EQ(inc_recv(srv.api, s, small, sizeof(small), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(inc_close(srv.api, ep), 0);
  // a full receive buffer drops datagrams instead of growing; reading then
  // makes room again
  int rb = 8192;
  ASSERT_EQ(inc_setsockopt(srv.api, s, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)), 0);
  ASSERT_EQ(inc_getsockopt(srv.api, s, SOL_SOCKET, SO_RCVBUF, &rb, &pl), 0);
  std::vector<uint8_t> k(1000);
  for (unsigned i = 0; i < 60; i++) {
    fill(2000 + i, 0, k.data(), k.size());
    ASSERT_EQ(inc_send(cli.api, c, k.data(), k.size(), 0), 1000);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  unsigned queued = 0;
  while (inc_recv(srv.api, s, k.data(), k.size(), MSG_DONTWAIT) == 1000) queued++;
  EXPECT_GT(queued, 0u);
  EXPECT_LE(queued * 1000u, (unsigned)rb) << "no more than SO_RCVBUF was kept";
  fill(9, 0, d, sizeof(d));
  ASSERT_EQ(inc_send(cli.api, c, d, sizeof(d), 0), 100);
  timeval tv{10, 0};
  ASSERT_EQ(inc_setsockopt(srv.api, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  ASSERT_EQ(inc_recv(srv.api, s, k.data(), k.size(), 0), 100);
  EXPECT_TRUE(check(9, 0, k.data(), 100));
  EXPECT_EQ(inc_close(cli.api, c), 0);
  EXPECT_EQ(inc_close(srv.api, s), 0);
}

// Signals (net_tap has the kernel send one per received frame; any handler
// does the same) cut an application thread's sleep short: blocking calls go
// on waiting for their result instead of failing with EINTR, and the call
// in flight is never abandoned.
TEST_F(ApiSock, SignalsDuringBlockingCalls_DoNotInterruptThem) {
  struct sigaction sa {}, old {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll(2) and futex waits return EINTR
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  int lfd = listen_on(AF_INET, 7060);
  int fd = connect_to(AF_INET, 7060);
  int c = inc_accept(srv.api, lfd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  std::atomic<bool> done{false};
  uint8_t out[64 * 1024];
  fill(61, 0, out, sizeof(out));
  std::thread reader([&] {
    std::vector<uint8_t> in(sizeof(out));
    for (int round = 0; round < 20; round++) {
      ssize_t r = inc_recv(srv.api, c, in.data(), in.size(), MSG_WAITALL);
      EXPECT_EQ(r, (ssize_t)in.size()) << "round " << round << ": " << strerror(errno);
      if (r != (ssize_t)in.size()) break;
      EXPECT_TRUE(check(61, 0, in.data(), in.size())) << "round " << round;
    }
    done = true;
    inc_api_thread_detach(srv.api);
  });
  pthread_t rt = reader.native_handle();
  std::thread pest([&] {
    while (!done.load()) {
      pthread_kill(rt, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int round = 0; round < 20; round++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the reader sleeps meanwhile
    ASSERT_EQ(inc_send(cli.api, fd, out, sizeof(out), 0), (ssize_t)sizeof(out)) << strerror(errno);
  }
  reader.join();
  pest.join();
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(inc_close(cli.api, fd), 0);
  EXPECT_EQ(inc_close(srv.api, c), 0);
  EXPECT_EQ(inc_close(srv.api, lfd), 0);
}

}  // namespace
