// IPv6 in the per-core runtime (issue: public API, IPv6 alongside IPv4):
// static IPv6 addresses and an IPv6 default router on stack ports, active
// opens whose replies hash home, segments, fragments and ICMPv6 errors that
// land on the wrong core steered to the owner, one core's neighbour
// resolution serving all. Over the software RSS wire (two Inception stacks)
// and over tap with Linux as the peer in a namespace. Addresses: only
// 2001:2::/48 (RFC 5180, the IPv6 benchmarking range) and link-local.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "inception/port.h"
#include "inception/rss.h"
#include "inception/stack.h"
#include "inception/stack_call.h"
#include "netns.h"
#include "peer_proc.h"
#include "stack_env.h"
#include "stack_ops6.h"
#include "sxfer.h"
#include "wire_pair.h"

namespace {

using stacktest::Side;
using Addr6 = std::array<uint8_t, 16>;

Addr6 in6(const char* s) {
  Addr6 a{};
  if (inet_pton(AF_INET6, s, a.data()) != 1) {
    ADD_FAILURE() << "bad address in the test: " << s;
  }
  return a;
}

// lwIP's err_t values the tests look for (lwip/err.h)
constexpr int kErrRst = -14;
constexpr int kConnected = 1;

std::string wire_name() {
  static int n = 0;
  return "v6" + std::to_string(getpid() % 10000) + "_" + std::to_string(n++);
}

void set_ip6(inc_stack_port& p, unsigned slot, const Addr6& a) {
  memcpy(p.ip6[slot].addr, a.data(), 16);
  p.ip6[slot].prefix_len = 64;
}

// Runs fn on worker w from this thread.
template <typename F>
int on_worker(inc_chan_app* ep, unsigned w, F fn) {
  struct Box {
    F f;
  } box{fn};
  inc_stack_call call{};
  call.fn = [](inc_worker* wk, void* arg) { return static_cast<Box*>(arg)->f(wk); };
  call.arg = &box;
  return inc_stack_call_run(ep, w, &call, 10000);
}

// A stack of `workers` on one port, IPv6 only, no workload.
struct Bare {
  inc_stack* s = nullptr;
  void* mem = nullptr;
  inc_chan_app* ep = nullptr;
  std::vector<unsigned> lcores;
  std::string start(inc_port* port, unsigned workers, unsigned first_lcore, const Addr6& addr) {
    inc_stack_config cfg{};
    cfg.workers = workers;
    for (unsigned i = 0; i < workers; i++) lcores.push_back(first_lcore + i);
    cfg.lcores = lcores.data();
    cfg.n_ports = 1;
    cfg.ports[0].port = port;
    cfg.ports[0].ip6_linklocal = 1;
    set_ip6(cfg.ports[0], 0, addr);
    cfg.idle = INC_STACK_IDLE_YIELD;  // more workers than cores
    cfg.app_endpoints = 2;
    size_t len = inc_stack_footprint(&cfg);
    if (len == 0 || posix_memalign(&mem, 64, len) != 0) return "memory";
    int rc = inc_stack_start(&s, mem, len, &cfg);
    if (rc != 0) {
      s = nullptr;
      return "start " + std::to_string(rc);
    }
    rc = inc_stack_endpoint_attach(s, &ep);
    return rc == 0 ? "" : "attach " + std::to_string(rc);
  }
  inc_stack_counters counters(unsigned w) const {
    inc_stack_counters c{};
    inc_stack_counters_get(s, w, &c);
    return c;
  }
  void stop() {
    if (ep != nullptr) {
      inc_stack_endpoint_detach(ep);
      ep = nullptr;
    }
    if (s != nullptr) {
      inc_stack_stop(s);
      s = nullptr;
    }
  }
  ~Bare() {
    stop();
    free(mem);
  }
};

// Waits (without a timing assertion: the machine is shared) until pred holds
// or a generous deadline passes. Returns pred's last value.
template <typename P>
bool eventually(P pred, int seconds = 60) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// ---- configuration ---------------------------------------------------------

TEST(StackIpv6Config, BadIpv6Values_AreRefusedWithEinval_GoodOnesAccepted) {
  stacktest::eal_init_once();
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  ASSERT_EQ(wp.create(wire_name(), wo), "");
  inc_stack_config good{};
  good.workers = 1;
  good.n_ports = 1;
  good.ports[0].port = &wp.a;
  set_ip6(good.ports[0], 0, in6("2001:2:0:1::1"));
  set_ip6(good.ports[0], 1, in6("2001:2:0:2::1"));
  memcpy(good.ports[0].ip6_gw, in6("2001:2:0:1::fe").data(), 16);
  EXPECT_GT(inc_stack_footprint(&good), 0u) << "IPv6 only, two addresses and an on-link router";
  {
    inc_stack_config c = good;
    c.ports[0].ip6[0].prefix_len = 0;  // 0 means 64
    EXPECT_GT(inc_stack_footprint(&c), 0u);
    c.ports[0].ip6_linklocal = 1;
    memcpy(c.ports[0].ip6_gw, in6("fe80::1").data(), 16);
    EXPECT_GT(inc_stack_footprint(&c), 0u) << "a link-local router with a link-local address of ours";
  }
  struct Bad {
    const char* what;
    void (*change)(inc_stack_port&);
  };
  const Bad bad[] = {
      {"prefix length 48", [](inc_stack_port& p) { p.ip6[0].prefix_len = 48; }},
      {"prefix length 128", [](inc_stack_port& p) { p.ip6[1].prefix_len = 128; }},
      {"multicast address", [](inc_stack_port& p) { memcpy(p.ip6[0].addr, in6("ff02::1").data(), 16); }},
      {"loopback address", [](inc_stack_port& p) { memcpy(p.ip6[0].addr, in6("::1").data(), 16); }},
      {"IPv4-mapped address", [](inc_stack_port& p) { memcpy(p.ip6[0].addr, in6("::ffff:198.18.0.1").data(), 16); }},
      {"link-local as static", [](inc_stack_port& p) { memcpy(p.ip6[1].addr, in6("fe80::5").data(), 16); }},
      {"the same address twice", [](inc_stack_port& p) { p.ip6[1] = p.ip6[0]; }},
      {"router off link", [](inc_stack_port& p) { memcpy(p.ip6_gw, in6("2001:2:0:3::1").data(), 16); }},
      {"router multicast", [](inc_stack_port& p) { memcpy(p.ip6_gw, in6("ff02::2").data(), 16); }},
      {"router is ourselves", [](inc_stack_port& p) { memcpy(p.ip6_gw, p.ip6[0].addr, 16); }},
      {"link-local router without a link-local address",
       [](inc_stack_port& p) { memcpy(p.ip6_gw, in6("fe80::1").data(), 16); }},
      {"no address at all", [](inc_stack_port& p) {
         memset(p.ip6, 0, sizeof(p.ip6));
         memset(p.ip6_gw, 0, 16);
       }},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    inc_stack_config c = good;
    b.change(c.ports[0]);
    EXPECT_EQ(inc_stack_footprint(&c), 0u);
    alignas(64) static uint8_t mem[64];
    inc_stack* s = nullptr;
    EXPECT_EQ(inc_stack_start(&s, mem, sizeof(mem), &c), -EINVAL);
  }
}

// ---- two stacks over the software RSS wire ---------------------------------

struct WireParams {
  unsigned workers;
  unsigned a_out, b_out;  // connections each side opens
  uint32_t bytes;
  bool mis_hash;          // the wire hashes with another key than the ports announce
  bool via_router;        // A reaches B's second /64 through B as its IPv6 router
};

std::string WireName(const ::testing::TestParamInfo<WireParams>& pi) {
  const WireParams& p = pi.param;
  return std::to_string(p.workers) + "workers_" + std::to_string(p.a_out) + "x" + std::to_string(p.b_out) +
         "conns" + (p.mis_hash ? "_MisHashed" : "") + (p.via_router ? "_ViaRouter" : "");
}

class StackIpv6Wire : public ::testing::TestWithParam<WireParams> {};

TEST_P(StackIpv6Wire, BothSidesServeAndConnect_EveryByteVerifiedOnOwnerCores) {
  const WireParams prm = GetParam();
  stacktest::eal_init_once();
  ASSERT_LE(2 * prm.workers + 1, stacktest::kMaxLcores);
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  wo.qa = wo.qb = static_cast<uint16_t>(prm.workers);
  ASSERT_EQ(wp.create(wire_name(), wo), "");
  if (prm.mis_hash) {
    // the "NIC" spreads frames by another key than the one the stacks choose
    // ports by: replies land anywhere and must be steered
    for (auto& conf : wp.w.peer) {
      for (unsigned i = 0; i < sizeof(conf.key); i++) conf.key[i] = static_cast<uint8_t>(conf.key[i] * 7 + 1);
    }
  }
  // A: 2001:2:0:1::1/64. B: 2001:2:0:1::2/64 and 2001:2:0:2::2/64.
  const Addr6 a1 = in6("2001:2:0:1::1"), b1 = in6("2001:2:0:1::2"), b2 = in6("2001:2:0:2::2");
  const unsigned a_pw = prm.a_out / prm.workers, b_pw = prm.b_out / prm.workers;
  Side a, b;
  a.tune = [&](inc_stack_config& c, sxfer_params& sp) {
    c.ports[0].ip4_addr = 0;  // IPv6 only
    c.ports[0].ip6_linklocal = 1;
    set_ip6(c.ports[0], 0, a1);
    const Addr6& peer = prm.via_router ? b2 : b1;  // b2 is off link for A
    if (prm.via_router) memcpy(c.ports[0].ip6_gw, b1.data(), 16);
    sp.peer_v6 = 1;
    memcpy(sp.peer_ip6, peer.data(), 16);
  };
  b.tune = [&](inc_stack_config& c, sxfer_params& sp) {
    c.ports[0].ip4_addr = 0;
    c.ports[0].ip6_linklocal = 1;
    set_ip6(c.ports[0], 0, b1);
    set_ip6(c.ports[0], 1, b2);
    sp.peer_v6 = 1;
    memcpy(sp.peer_ip6, a1.data(), 16);
  };
  ASSERT_EQ(a.start(&wp.a, prm.workers, 1, 0, 0, a_pw, prm.bytes, 0x06000000u), "");
  ASSERT_EQ(b.start(&wp.b, prm.workers, 1 + prm.workers, 0, 0, b_pw, prm.bytes, 0x07000000u), "");
  ASSERT_EQ(sxfer_failed_starts(a.x), 0u);
  ASSERT_EQ(sxfer_failed_starts(b.x), 0u);

  const uint64_t a_total = uint64_t{a_pw} * prm.workers, b_total = uint64_t{b_pw} * prm.workers;
  auto last_change = std::chrono::steady_clock::now();
  uint64_t last = 0;
  bool stalled = false;
  while (sxfer_out_complete(a.x) < a_total || sxfer_out_complete(b.x) < b_total ||
         sxfer_in_complete(a.x) < b_total || sxfer_in_complete(b.x) < a_total) {
    uint64_t now = sxfer_progress(a.x) + sxfer_progress(b.x);
    if (now != last) {
      last = now;
      last_change = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_change > std::chrono::seconds(60)) {
      stalled = true;  // a hang: no byte moved for a minute
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  inc_stack_counters ca{}, cb{};
  inc_stack_counters_total(a.stack, &ca);
  inc_stack_counters_total(b.stack, &cb);
  a.stop();
  b.stop();
  stacktest::drain_wire(&wp.w);
  EXPECT_FALSE(stalled);

  for (Side* s : {&a, &b}) {
    const bool is_a = s == &a;
    uint64_t out = 0, in = 0, bytes = 0;
    for (unsigned i = 0; i < prm.workers; i++) {
      sxfer_result r{};
      sxfer_result_get(s->x, i, &r);
      SCOPED_TRACE((is_a ? "A worker " : "B worker ") + std::to_string(i));
      EXPECT_EQ(r.errors, 0u);
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_EQ(r.wrong_core, 0u) << "a callback ran on a core that does not own its connection";
      EXPECT_EQ(r.wrong_peer, 0u);
      EXPECT_EQ(r.out_complete, is_a ? a_pw : b_pw);
      out += r.out_complete;
      in += r.in_complete;
      bytes += r.verified_bytes;
    }
    EXPECT_EQ(out, is_a ? a_total : b_total);
    EXPECT_EQ(in, is_a ? b_total : a_total);
    EXPECT_EQ(bytes, (is_a ? b_total : a_total) * prm.bytes);
  }
  EXPECT_GE(ca.flows_opened, a_total + b_total);
  EXPECT_GE(cb.flows_opened, a_total + b_total);
  EXPECT_EQ(ca.drops[INC_DROP_MALFORMED] + cb.drops[INC_DROP_MALFORMED], 0u);
  EXPECT_EQ(ca.drops[INC_DROP_UNRESTORABLE] + cb.drops[INC_DROP_UNRESTORABLE], 0u);
  if (prm.mis_hash) {
    EXPECT_GT(ca.steered_out + cb.steered_out, 0u);
    EXPECT_EQ(ca.steered_out, ca.steered_in);
    EXPECT_EQ(cb.steered_out, cb.steered_in);
  } else {
    // every IPv6 packet arrived where its connection lives: passive opens
    // where the SYN landed, active opens on ports whose replies hash home
    EXPECT_EQ(ca.steered_out + cb.steered_out, 0u);
  }
  // neighbour discovery: advertisements were copied to the other cores
  if (prm.workers > 1) {
    EXPECT_GT(ca.arp_shared_out, 0u);
    EXPECT_GT(cb.arp_shared_out, 0u);
  }
  EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u);
  EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u);
  printf("%s\n%s\n", stacktest::describe("A", ca).c_str(), stacktest::describe("B", cb).c_str());
}

INSTANTIATE_TEST_SUITE_P(SoftwareWire, StackIpv6Wire,
                         ::testing::Values(WireParams{4, 1000, 1000, 16384, false, false},
                                           WireParams{8, 1000, 1000, 8192, false, false},
                                           WireParams{4, 200, 200, 8192, true, false},
                                           WireParams{4, 400, 0, 8192, false, true}),
                         WireName);

// ---- steering of single packets on one stack ------------------------------

// A stack of 4 workers on one end of a wire; nobody answers on the other end,
// so its active opens stay in SYN_SENT with their flows in the table.
class StackIpv6Steering : public ::testing::Test {
 protected:
  static constexpr unsigned kWorkers = 4;
  drvtest::WirePair wp;
  Bare st;
  const Addr6 ours = in6("2001:2:0:1::1"), silent = in6("2001:2:0:1::99"), router = in6("2001:2:0:1::fe");
  void SetUp() override {
    stacktest::eal_init_once();
    drvtest::WireOpts wo;
    wo.qa = wo.qb = kWorkers;
    ASSERT_EQ(wp.create(wire_name(), wo), "");
    ASSERT_EQ(st.start(&wp.a, kWorkers, 1, ours), "");
  }
  void TearDown() override {
    st.stop();
    stacktest::drain_wire(&wp.w);
    EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u) << "mbufs not back after stop";
  }
  // An active open from worker w to silent:rport.
  ops6_conn open(unsigned w, uint16_t rport) {
    ops6_conn c{};
    EXPECT_EQ(on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_open(wk, silent.data(), rport, &c); }), 0);
    return c;
  }
  int poll(unsigned w, ops6_conn& c) {
    return on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_poll(wk, &c); });
  }
  void abort(unsigned w, ops6_conn& c) {
    on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_abort(wk, &c); });
  }
};

TEST_F(StackIpv6Steering, ActiveOpens_ChoosePortsWhoseReplyHashesToTheOpeningCore) {
  for (unsigned w = 0; w < kWorkers; w++) {
    for (unsigned k = 0; k < 8; k++) {
      SCOPED_TRACE("worker " + std::to_string(w) + " open " + std::to_string(k));
      ops6_conn c = open(w, static_cast<uint16_t>(7000 + k));
      EXPECT_EQ(memcmp(c.local, ours.data(), 16), 0) << "source address: our static one";
      // the reply: silent:rport -> ours:lport, hashed as the port's RSS does
      inc_rss_tuple t{};
      t.family = 6;
      t.l4 = 1;
      t.proto = 6;
      memcpy(t.src, silent.data(), 16);
      memcpy(t.dst, ours.data(), 16);
      t.sport = static_cast<uint16_t>(7000 + k);
      t.dport = c.lport;
      EXPECT_EQ(inc_rss_queue(&wp.a.rss, inc_rss_hash(wp.a.rss.key, wp.a.rss.key_len, &t)), w);
      EXPECT_EQ(on_worker(st.ep, 0, [&](inc_worker* wk) {
                  return ops6_owner(wk, ours.data(), c.lport, silent.data(), static_cast<uint16_t>(7000 + k));
                }),
                static_cast<int>(w))
          << "the flow table names the opening core";
      abort(w, c);
    }
  }
}

TEST_F(StackIpv6Steering, SegmentOnTheWrongCore_IsSteeredToItsOwner) {
  const unsigned owner = 2, lands = 0;
  ops6_conn c = open(owner, 7100);
  ASSERT_EQ(c.state, 2 /* SYN_SENT */);
  inc_stack_counters l0 = st.counters(lands), o0 = st.counters(owner);
  // the peer's RST|ACK acknowledging our SYN (RFC 9293 3.10.7.3), on core 0
  ASSERT_EQ(on_worker(st.ep, lands, [&](inc_worker* wk) {
              return ops6_inject_tcp(wk, silent.data(), 7100, ours.data(), c.lport, 0x14 /* RST|ACK */, 0,
                                     c.snd_nxt, 0, 0);
            }),
            0);
  ASSERT_TRUE(eventually([&] { return poll(owner, c) != 0; })) << "the owner never saw the RST";
  EXPECT_EQ(c.err, kErrRst);
  EXPECT_EQ(c.err_core, owner) << "the RST was processed on the owner core";
  inc_stack_counters l1 = st.counters(lands), o1 = st.counters(owner);
  EXPECT_EQ(l1.steered_out - l0.steered_out, 1u);
  EXPECT_EQ(o1.steered_in - o0.steered_in, 1u);
  EXPECT_EQ(l1.unowned, l0.unowned) << "core 0 did not answer it itself";
  EXPECT_LT(on_worker(st.ep, 0, [&](inc_worker* wk) {
              return ops6_owner(wk, ours.data(), c.lport, silent.data(), 7100);
            }),
            0)
      << "the reset connection left the flow table";
}

TEST_F(StackIpv6Steering, FragmentsOfAFlow_AreReassembledWhereTheyLand_ThenSteeredToTheOwner) {
  const unsigned owner = 3, lands = 1;
  ops6_conn c = open(owner, 7200);
  ASSERT_EQ(c.state, 2 /* SYN_SENT */);
  inc_stack_counters l0 = st.counters(lands), o0 = st.counters(owner);
  int frags0 = on_worker(st.ep, lands, [](inc_worker* wk) { return ops6_frags_received(wk); });
  // an RST|ACK with 8 bytes of diagnostic payload (RFC 9293 3.5.3), in two
  // IPv6 fragments
  ASSERT_EQ(on_worker(st.ep, lands, [&](inc_worker* wk) {
              return ops6_inject_tcp(wk, silent.data(), 7200, ours.data(), c.lport, 0x14, 0, c.snd_nxt, 8, 2);
            }),
            0);
  ASSERT_TRUE(eventually([&] { return poll(owner, c) != 0; })) << "the owner never saw the reassembled RST";
  EXPECT_EQ(c.err, kErrRst);
  EXPECT_EQ(c.err_core, owner);
  EXPECT_EQ(on_worker(st.ep, lands, [](inc_worker* wk) { return ops6_frags_received(wk); }) - frags0, 2)
      << "both fragments reached the lwIP of the core they landed on";
  inc_stack_counters l1 = st.counters(lands), o1 = st.counters(owner);
  EXPECT_EQ(l1.steered_out - l0.steered_out, 1u) << "one reassembled packet handed over";
  EXPECT_EQ(o1.steered_in - o0.steered_in, 1u);
  EXPECT_EQ(l1.drops[INC_DROP_UNRESTORABLE], l0.drops[INC_DROP_UNRESTORABLE]);
}

TEST_F(StackIpv6Steering, FragmentedDataSegmentOnTheWrongCore_ArrivesWholeAtTheOwner) {
  // B, on the wire's other end, listens; A's worker 2 connects to it
  Bare b;
  const Addr6 baddr = in6("2001:2:0:1::2");
  ASSERT_EQ(b.start(&wp.b, kWorkers, 1 + kWorkers, baddr), "");
  for (unsigned w = 0; w < kWorkers; w++) {
    ASSERT_EQ(on_worker(b.ep, w, [](inc_worker* wk) { return ops6_listen(wk, 5001); }), 0);
  }
  const unsigned owner = 2, lands = 0;
  ops6_conn c{};
  ASSERT_EQ(on_worker(st.ep, owner, [&](inc_worker* wk) { return ops6_open(wk, baddr.data(), 5001, &c); }), 0);
  ASSERT_TRUE(eventually([&] { return poll(owner, c) != 0; }));
  ASSERT_EQ(c.err, kConnected);
  inc_stack_counters l0 = st.counters(lands), o0 = st.counters(owner);
  // 64 bytes "from B" at the next sequence number, in two IPv6 fragments,
  // landing on core 0: reassembled there, handed to core 2 whole
  ASSERT_EQ(on_worker(st.ep, lands, [&](inc_worker* wk) {
              return ops6_inject_tcp(wk, baddr.data(), 5001, ours.data(), c.lport, 0x18 /* PSH|ACK */,
                                     c.rcv_nxt, c.snd_nxt, 64, 2);
            }),
            0);
  ASSERT_TRUE(eventually([&] {
    poll(owner, c);
    return c.rx_len >= 64;
  })) << "the data never reached the owner's connection";
  EXPECT_EQ(c.rx_len, 64u) << "every byte, no more";
  for (unsigned i = 0; i < 64; i++) {
    ASSERT_EQ(c.rx[i], static_cast<uint8_t>(0xa5 ^ i)) << "byte " << i;
  }
  inc_stack_counters l1 = st.counters(lands), o1 = st.counters(owner);
  EXPECT_EQ(l1.steered_out - l0.steered_out, 1u);
  EXPECT_EQ(o1.steered_in - o0.steered_in, 1u);
  EXPECT_EQ(l1.drops[INC_DROP_UNRESTORABLE], l0.drops[INC_DROP_UNRESTORABLE]);
  abort(owner, c);
  b.stop();
}

TEST_F(StackIpv6Steering, UdpConnectOverIpv6_ChoosesPortsWhoseRepliesReachTheOpeningWorker) {
  // B echoes on [::]:6000 on every worker; each of A's workers connects 8
  // unbound UDP pcbs to it and sends one datagram on each. UDP is not
  // steered: a reply that hashed to another worker would find no pcb there.
  Bare b;
  const Addr6 baddr = in6("2001:2:0:1::2");
  ASSERT_EQ(b.start(&wp.b, kWorkers, 1 + kWorkers, baddr), "");
  udp_pcb* echo[kWorkers] = {};
  for (unsigned w = 0; w < kWorkers; w++) {
    ASSERT_EQ(on_worker(b.ep, w, [&](inc_worker* wk) { return ops6_udp_echo(wk, 6000, &echo[w]); }), 0);
  }
  constexpr unsigned kPer = 8;
  ops6_udp u[kWorkers][kPer]{};
  for (unsigned w = 0; w < kWorkers; w++) {
    for (unsigned k = 0; k < kPer; k++) {
      ASSERT_EQ(on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_udp_open(wk, baddr.data(), 6000, &u[w][k]); }),
                0);
      ASSERT_EQ(on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_udp_send(wk, &u[w][k], 100 + 37 * k); }), 0);
    }
  }
  auto back = [&] {
    unsigned n = 0;
    for (unsigned w = 0; w < kWorkers; w++) {
      n += static_cast<unsigned>(on_worker(st.ep, w, [&](inc_worker*) {
        int sum = 0;
        for (unsigned k = 0; k < kPer; k++) sum += static_cast<int>(u[w][k].rx_ok + u[w][k].rx_bad);
        return sum;
      }));
    }
    return n;
  };
  // a first datagram may wait for neighbour discovery; lwIP queues it
  EXPECT_TRUE(eventually([&] { return back() == kWorkers * kPer; }, 30)) << back() << " of " << kWorkers * kPer;
  for (unsigned w = 0; w < kWorkers; w++) {
    for (unsigned k = 0; k < kPer; k++) {
      SCOPED_TRACE("worker " + std::to_string(w) + " pcb " + std::to_string(k));
      on_worker(st.ep, w, [&](inc_worker* wk) {
        EXPECT_EQ(u[w][k].rx_ok, 1u);
        EXPECT_EQ(u[w][k].rx_bad, 0u);
        EXPECT_EQ(u[w][k].rx_elsewhere, 0u);
        return ops6_udp_close(wk, u[w][k].pcb);
      });
    }
  }
  for (unsigned w = 0; w < kWorkers; w++) {
    on_worker(b.ep, w, [&](inc_worker* wk) { return ops6_udp_close(wk, echo[w]); });
  }
  b.stop();
}

TEST_F(StackIpv6Steering, Icmpv6ErrorQuotingAFlow_IsSteeredToItsOwner_OthersStayLocal) {
  const unsigned owner = 3, lands = 0;
  ops6_conn c = open(owner, 7300);
  inc_stack_counters l0 = st.counters(lands), o0 = st.counters(owner);
  // destination unreachable, port unreachable (RFC 4443 3.1), quoting our SYN
  ASSERT_EQ(on_worker(st.ep, lands, [&](inc_worker* wk) {
              return ops6_inject_icmp_error(wk, 1, 4, router.data(), ours.data(), c.lport, silent.data(), 7300);
            }),
            0);
  // packet too big (RFC 4443 3.2) quoting a flow nobody owns: stays local
  ASSERT_EQ(on_worker(st.ep, lands, [&](inc_worker* wk) {
              return ops6_inject_icmp_error(wk, 2, 0, router.data(), ours.data(), 1, silent.data(), 7300);
            }),
            0);
  ASSERT_TRUE(eventually([&] { return st.counters(owner).steered_in - o0.steered_in >= 1; }));
  inc_stack_counters l1 = st.counters(lands), o1 = st.counters(owner);
  EXPECT_EQ(l1.steered_icmp - l0.steered_icmp, 1u);
  EXPECT_EQ(l1.steered_out - l0.steered_out, 1u);
  EXPECT_EQ(o1.steered_in - o0.steered_in, 1u);
  abort(owner, c);
}

TEST_F(StackIpv6Steering, ConfiguredRouter_IsInEveryWorkersDefaultRouterList) {
  // this fixture's stack has no router; a second one on the wire's other end has
  Bare r;
  std::vector<unsigned> lc;
  inc_stack_config cfg{};
  cfg.workers = kWorkers;
  for (unsigned i = 0; i < kWorkers; i++) lc.push_back(1 + kWorkers + i);
  cfg.lcores = lc.data();
  cfg.n_ports = 1;
  cfg.ports[0].port = &wp.b;
  set_ip6(cfg.ports[0], 0, in6("2001:2:0:1::2"));
  memcpy(cfg.ports[0].ip6_gw, router.data(), 16);
  cfg.idle = INC_STACK_IDLE_YIELD;
  cfg.app_endpoints = 1;
  size_t len = inc_stack_footprint(&cfg);
  ASSERT_GT(len, 0u);
  ASSERT_EQ(posix_memalign(&r.mem, 64, len), 0);
  ASSERT_EQ(inc_stack_start(&r.s, r.mem, len, &cfg), 0);
  ASSERT_EQ(inc_stack_endpoint_attach(r.s, &r.ep), 0);
  for (unsigned w = 0; w < kWorkers; w++) {
    EXPECT_EQ(on_worker(r.ep, w, [&](inc_worker* wk) { return ops6_is_router(wk, router.data()); }), 1)
        << "worker " << w;
    EXPECT_EQ(on_worker(st.ep, w, [&](inc_worker* wk) { return ops6_is_router(wk, router.data()); }), 0)
        << "worker " << w << " of the stack without a router";
  }
  r.stop();
}

// ---- neighbour discovery: one core's resolution serves all -----------------

TEST(StackIpv6Nd, EveryCoreOpensToOneNeighbour_OneSolicitationServesThemAll) {
  stacktest::eal_init_once();
  constexpr unsigned kW = 4;
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  wo.qa = wo.qb = kW;
  ASSERT_EQ(wp.create(wire_name(), wo), "");
  const Addr6 a = in6("2001:2:0:1::1"), b = in6("2001:2:0:1::2");
  Bare sa, sb;
  ASSERT_EQ(sa.start(&wp.a, kW, 1, a), "");
  ASSERT_EQ(sb.start(&wp.b, kW, 1 + kW, b), "");
  // every core of A opens to B at once (nothing listens on B: each attempt
  // ends with B's RST, which needs B's cores to resolve A too)
  ops6_conn c[kW]{};
  struct Ctx {
    const uint8_t* b;
    ops6_conn* c;
  } ctx[kW];
  inc_stack_call calls[kW]{};
  for (unsigned w = 0; w < kW; w++) {
    ctx[w] = Ctx{b.data(), &c[w]};
    calls[w].fn = [](inc_worker* wk, void* arg) {
      Ctx* x = static_cast<Ctx*>(arg);
      return ops6_open(wk, x->b, 7400, x->c);
    };
    calls[w].arg = &ctx[w];
    ASSERT_EQ(inc_stack_call_post(sa.ep, w, &calls[w]), 0);
  }
  ASSERT_TRUE(eventually([&] {
    inc_stack_call_reap(sa.ep);
    for (auto& cl : calls) {
      if (!cl.done) return false;
    }
    return true;
  }));
  for (unsigned w = 0; w < kW; w++) ASSERT_EQ(calls[w].status, 0) << "open on worker " << w;
  for (unsigned w = 0; w < kW; w++) {
    SCOPED_TRACE("worker " + std::to_string(w));
    ASSERT_TRUE(eventually([&] { return on_worker(sa.ep, w, [&](inc_worker* wk) { return ops6_poll(wk, &c[w]); }) != 0; }))
        << "the SYN never got an answer";
    EXPECT_EQ(c[w].err, kErrRst) << "B answered the SYN";
    EXPECT_EQ(c[w].err_core, w);
    int st = on_worker(sa.ep, w, [&](inc_worker* wk) { return ops6_neighbor_state(wk, b.data()); });
    EXPECT_GE(st, 2) << "core " << w << " knows B's link-layer address (reachable, stale, delay or probe)";
  }
  inc_stack_counters ca{}, cb{};
  // a copy of an advertisement may still be in a ring: let the cores take it
  eventually([&] {
    inc_stack_counters_total(sa.s, &ca);
    return ca.arp_shared_out == ca.arp_shared_in;
  }, 10);
  inc_stack_counters_total(sa.s, &ca);
  inc_stack_counters_total(sb.s, &cb);
  sa.stop();
  sb.stop();
  stacktest::drain_wire(&wp.w);
  // one core's solicitation went out; the others were held back and learnt
  // from the advertisement copied to them
  EXPECT_GE(ca.arp_suppressed, 1u);
  EXPECT_GE(ca.arp_shared_out, 1u);
  EXPECT_EQ(ca.arp_shared_out, ca.arp_shared_in);
  EXPECT_EQ(ca.steered_out, 0u);
  EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u);
  EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u);
  printf("%s\n%s\n", stacktest::describe("A", ca).c_str(), stacktest::describe("B", cb).c_str());
}

// ---- Linux as the peer, over tap ---------------------------------------------

struct TapParams {
  unsigned workers;
  unsigned conns;  // each way
  uint32_t bytes;
  int idle_ms;     // Linux's client waits this long before sending
  bool via_router; // Linux is our IPv6 router (by its link-local address) and
                   // talks from an address off our link (on its loopback)
};

class StackIpv6Tap : public ::testing::TestWithParam<TapParams> {};

TEST_P(StackIpv6Tap, LinuxConnectsAndIsConnectedTo_OverIpv6_EveryByteVerifiedOnOwnerCores) {
  const TapParams prm = GetParam();
  stacktest::eal_init_once();
  static int subnet = 80;
  const int sub = subnet++;
  drvtest::TapNs ns;
  ASSERT_EQ(ns.create(sub), "");
  // TapNs turns IPv6 off in the namespace; this test turns it back on for the
  // tap, with a static address and no DAD or router solicitations
  char linux_ip6[64], our_ip6[64], linux_far6[64];
  snprintf(linux_ip6, sizeof(linux_ip6), "2001:2:0:%x::1", sub);
  snprintf(our_ip6, sizeof(our_ip6), "2001:2:0:%x::2", sub);
  snprintf(linux_far6, sizeof(linux_far6), "2001:2:0:ff%02x::1", sub);  // another /64
  const std::string tapconf = "net.ipv6.conf." + ns.tap;
  const std::string cmds[] = {
      "ip netns exec " + ns.ns + " sysctl -q -w " + tapconf + ".accept_dad=0 " + tapconf +
          ".router_solicitations=0 " + tapconf + ".accept_ra=0",
      "ip netns exec " + ns.ns + " sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 " + tapconf + ".disable_ipv6=0",
      "ip -n " + ns.ns + " addr add " + std::string(linux_ip6) + "/64 dev " + ns.tap + " nodad",
  };
  for (const auto& cmd : cmds) {
    ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
  }
  // Linux's link-local address on the tap (the kernel makes its own only
  // once the tap has a carrier: give it a known one now)
  const std::string router = "fe80::1";
  if (prm.via_router) {
    const std::string cmds2[] = {
        "ip -n " + ns.ns + " addr add " + router + "/64 dev " + ns.tap + " nodad",
        "ip -n " + ns.ns + " addr add " + std::string(linux_far6) + "/128 dev lo",
    };
    for (const auto& cmd : cmds2) {
      ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
    }
  }
  ASSERT_EQ(ns.enter(), "");
  inc_port port{};
  inc_port_config pc{};
  std::string dev = "net_tap_v6" + std::to_string(getpid()) + "_" + std::to_string(sub) + ",iface=" + ns.tap;
  pc.devargs = dev.c_str();
  pc.n_queues = static_cast<uint16_t>(prm.workers);
  pc.mbufs = 8191;
  pc.socket_id = -1;
  inc_drv_err err{};
  int rc = inc_port_init(&port, &pc, &err);
  if (rc == 0) rc = inc_port_start(&port, &err);
  ns.leave();
  ASSERT_EQ(rc, 0) << err.msg;

  stacktest::Peer server, client;
  ASSERT_EQ(server.start(ns, {"server6", "5001", std::to_string(prm.conns), std::to_string(prm.bytes), "120"}),
            "");
  ASSERT_EQ(server.first_line(), "ready");

  const unsigned per_worker = prm.conns / prm.workers;
  {
    Side s;
    // via the router, Linux's end of every connection is off our link
    const Addr6 ours = in6(our_ip6), theirs = in6(prm.via_router ? linux_far6 : linux_ip6);
    s.tune = [&](inc_stack_config& c, sxfer_params& sp) {
      // dual stack: the IPv4 address stays, the transfers use IPv6
      c.ports[0].ip6_linklocal = 1;
      set_ip6(c.ports[0], 0, ours);
      if (prm.via_router) memcpy(c.ports[0].ip6_gw, in6(router.c_str()).data(), 16);
      sp.peer_v6 = 1;
      memcpy(sp.peer_ip6, theirs.data(), 16);
    };
    const uint32_t our_ip4 = 0xc6120002u | (uint32_t(sub) << 8), linux_ip4 = our_ip4 - 1;
    ASSERT_EQ(s.start(&port, prm.workers, 1, our_ip4, linux_ip4, per_worker, prm.bytes, 0x08000000u), "");
    std::vector<std::string> cargs = {"client", our_ip6, "5001", std::to_string(prm.conns),
                                      std::to_string(prm.bytes), "0x09000000", std::to_string(prm.idle_ms), "120"};
    if (prm.via_router) cargs.push_back(linux_far6);  // Linux's client talks from off our link too
    ASSERT_EQ(client.start(ns, cargs), "");
    const uint64_t total = uint64_t{per_worker} * prm.workers;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(150);
    while ((sxfer_out_complete(s.x) < total || sxfer_in_complete(s.x) < prm.conns) &&
           std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(client.wait(30), 0) << "Linux's client: its IPv6 streams were not all accepted and verified";
    EXPECT_EQ(server.wait(30), 0) << "Linux's server: our IPv6 streams did not all arrive whole";
    inc_stack_counters c{};
    inc_stack_counters_total(s.stack, &c);
    s.stop();
    uint64_t out = 0, in = 0, bytes = 0;
    for (unsigned i = 0; i < prm.workers; i++) {
      sxfer_result r{};
      sxfer_result_get(s.x, i, &r);
      SCOPED_TRACE("worker " + std::to_string(i));
      EXPECT_EQ(r.errors, 0u);
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_EQ(r.wrong_core, 0u) << "a callback ran on a core that does not own its connection";
      EXPECT_EQ(r.wrong_peer, 0u);
      out += r.out_complete;
      in += r.in_complete;
      bytes += r.verified_bytes;
    }
    EXPECT_EQ(out, total);
    EXPECT_EQ(in, prm.conns);
    EXPECT_EQ(bytes, uint64_t{prm.conns} * prm.bytes);
    // Linux's tun driver learns each flow's queue from our transmissions,
    // so only some of its choices need steering: with 1000 connections each
    // way some always did (150-750 packets); the 200 of the router variant
    // (a routing test) once needed none, so there it is only reported.
    if (!prm.via_router) {
      EXPECT_GT(c.steered_out, 0u) << "Linux's queue choice never needed steering?";
    } else {
      std::printf("steered packets: %llu\n", (unsigned long long)c.steered_out);
    }
    EXPECT_EQ(c.steered_out, c.steered_in);
    EXPECT_EQ(c.drops[INC_DROP_UNRESTORABLE], 0u);
    printf("%s\n", stacktest::describe("tap6", c).c_str());
  }
  EXPECT_EQ(inc_port_close(&port), 0);
}

// 4 workers: see stack_tap_test.cc (DPDK 22.11's tap PMD and more queues).
INSTANTIATE_TEST_SUITE_P(Tap, StackIpv6Tap,
                         ::testing::Values(TapParams{4, 1000, 16384, 4000, false},
                                           TapParams{4, 200, 16384, 4000, true}),
                         [](const ::testing::TestParamInfo<TapParams>& pi) {
                           return std::to_string(pi.param.workers) + "workers_" + std::to_string(pi.param.conns) +
                                  "connsEachWay" + (pi.param.via_router ? "_ViaLinuxAsRouter" : "");
                         });

}  // namespace
