// api/filter_table.c alone (no DPDK, no lwIP): checking configurations,
// matching by address/mask and port/mask lists, the consumer conflict rule,
// building tables, and the per-packet dispatch order.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "filter_table.h"
#include "inception/filter.h"

namespace {

inc_addr A(const char* text) {
  inc_addr a{};
  std::memset(&a, 0, sizeof(a));
  // a tiny parser of our own (the table test links no other api/ file)
  if (std::strchr(text, ':') == nullptr) {
    unsigned b[4];
    EXPECT_EQ(std::sscanf(text, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]), 4);
    return inc_addr_ip4(static_cast<uint8_t>(b[0]), static_cast<uint8_t>(b[1]), static_cast<uint8_t>(b[2]),
                        static_cast<uint8_t>(b[3]));
  }
  // "x:y::z" with one "::" at most, hex groups
  a.family = INC_AF_INET6;
  std::string s(text);
  std::vector<std::string> head, tail;
  size_t dc = s.find("::");
  auto split = [](const std::string& part, std::vector<std::string>& out) {
    size_t i = 0;
    while (i < part.size()) {
      size_t j = part.find(':', i);
      if (j == std::string::npos) j = part.size();
      out.push_back(part.substr(i, j - i));
      i = j + 1;
    }
  };
  if (dc == std::string::npos) {
    split(s, head);
  } else {
    split(s.substr(0, dc), head);
    split(s.substr(dc + 2), tail);
  }
  std::vector<unsigned> g(8, 0);
  for (size_t i = 0; i < head.size(); i++) g[i] = std::stoul(head[i], nullptr, 16);
  for (size_t i = 0; i < tail.size(); i++) g[8 - tail.size() + i] = std::stoul(tail[i], nullptr, 16);
  for (int i = 0; i < 8; i++) {
    a.u.v6[2 * i] = static_cast<uint8_t>(g[i] >> 8);
    a.u.v6[2 * i + 1] = static_cast<uint8_t>(g[i]);
  }
  return a;
}

inc_filter_net Net(const char* addr, unsigned bits) {
  inc_filter_net n{};
  n.addr = A(addr);
  n.mask = inc_filter_prefix(static_cast<inc_addr_family>(n.addr.family), bits);
  return n;
}

struct Calls {
  std::vector<std::string> log;
  int consume_answer = 1;
  int in_cb_seen = -1;
  int mon_may_take = -1, cons_may_take = -1;
};

int udp_mon(void* arg, const inc_filter_pkt* pkt) {
  auto* c = static_cast<Calls*>(arg);
  c->log.push_back("mon");
  c->in_cb_seen = inc__filter_in_callback();
  c->mon_may_take = inc__filter_is_consumer_pkt(pkt);
  return 1;  // ignored for a monitor
}
int udp_mon2(void* arg, const inc_filter_pkt*) {
  static_cast<Calls*>(arg)->log.push_back("mon2");
  return 0;
}
int udp_cons(void* arg, const inc_filter_pkt* pkt) {
  auto* c = static_cast<Calls*>(arg);
  c->cons_may_take = inc__filter_is_consumer_pkt(pkt);
  c->log.push_back("cons");
  return c->consume_answer;
}
int tcp_cb(void* arg, const inc_filter_pkt*, inc_raw_conn* conn) {
  static_cast<Calls*>(arg)->log.push_back(conn != nullptr ? "tcp-cons" : "tcp-mon");
  return 1;
}

// A configuration with owned lists.
struct Cfg {
  std::vector<inc_filter_net> src, dst;
  std::vector<inc_filter_port> sport, dport;
  inc_filter_config c{};
  Cfg(inc_filter_kind kind, inc_filter_mode mode, void* arg) {
    c.kind = kind;
    c.mode = mode;
    if (kind == INC_FILTER_UDP) {
      c.udp = mode == INC_FILTER_MONITOR ? udp_mon : udp_cons;
    } else {
      c.tcp = tcp_cb;
    }
    c.arg = arg;
  }
  const inc_filter_config* get() {
    c.src = src.data();
    c.n_src = static_cast<unsigned>(src.size());
    c.dst = dst.data();
    c.n_dst = static_cast<unsigned>(dst.size());
    c.sport = sport.data();
    c.n_sport = static_cast<unsigned>(sport.size());
    c.dport = dport.data();
    c.n_dport = static_cast<unsigned>(dport.size());
    return &c;
  }
};

struct F {
  inc_filter* f = nullptr;
  explicit F(Cfg& c, unsigned workers = 2) { EXPECT_EQ(inc__filter_new(c.get(), workers, &f), 0); }
  ~F() { inc__filter_free(f); }
};

inc__fkey Key(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  inc__fkey k{};
  inc_addr s = A(src), d = A(dst);
  k.family = s.family;
  inc__fkey_addr(&s, k.src);
  inc__fkey_addr(&d, k.dst);
  k.sport = sport;
  k.dport = dport;
  return k;
}

int M(const inc_filter* f, inc__fkey k) { return inc__filter_match(f, &k); }

TEST(FilterTable, BadConfigurations_AreRefusedWithEinval) {
  Calls calls;
  EXPECT_EQ(inc__filter_check(nullptr), -EINVAL);
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    EXPECT_EQ(inc__filter_check(c.get()), 0);
    c.c.kind = static_cast<inc_filter_kind>(7);
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "unknown kind";
  }
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    c.c.mode = static_cast<inc_filter_mode>(3);
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "unknown mode";
  }
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
    c.c.udp = nullptr;
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "no callback";
    c.c.tcp = tcp_cb;
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "the other kind's callback";
  }
  {
    Cfg c(INC_FILTER_TCP_ACCEPT, INC_FILTER_MONITOR, &calls);
    c.c.udp = udp_mon;
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "both callbacks";
  }
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
    c.get();
    c.c.n_src = 1;  // NULL list, non-zero length
    c.c.src = nullptr;
    EXPECT_EQ(inc__filter_check(&c.c), -EINVAL);
  }
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
    c.dport.assign(INC_FILTER_MAX_PORTS + 1, inc_filter_port{1, 0xffff});
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "list too long";
    c.dport.resize(INC_FILTER_MAX_PORTS);
    EXPECT_EQ(inc__filter_check(c.get()), 0) << "the longest list";
  }
  {
    Cfg c(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
    c.src.push_back(Net("10.0.0.0", 8));
    c.src.back().mask = inc_filter_prefix(INC_AF_INET6, 8);
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "mask of another family";
    c.src.back() = inc_filter_net{};
    EXPECT_EQ(inc__filter_check(c.get()), -EINVAL) << "unset family";
  }
  inc_filter* f = nullptr;
  Cfg ok(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
  EXPECT_EQ(inc__filter_new(ok.get(), 0, &f), -EINVAL) << "no workers";
}

TEST(FilterTable, PrefixMasks_HaveTheirBits) {
  inc_addr m = inc_filter_prefix(INC_AF_INET, 20);
  EXPECT_EQ(m.family, INC_AF_INET);
  const uint8_t* b = reinterpret_cast<const uint8_t*>(&m.u.v4);
  EXPECT_EQ(b[0], 0xff);
  EXPECT_EQ(b[1], 0xff);
  EXPECT_EQ(b[2], 0xf0);
  EXPECT_EQ(b[3], 0x00);
  inc_addr m6 = inc_filter_prefix(INC_AF_INET6, 65);
  EXPECT_EQ(m6.u.v6[7], 0xff);
  EXPECT_EQ(m6.u.v6[8], 0x80);
  EXPECT_EQ(m6.u.v6[15], 0x00);
  EXPECT_EQ(inc_filter_prefix(INC_AF_INET, 99).u.v4, 0xffffffffu) << "clamped";
}

TEST(FilterTable, AddressAndPortMasks_MatchWhatTheyCover) {
  Calls calls;
  Cfg c(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
  c.src.push_back(Net("198.18.0.0", 24));
  c.src.push_back(Net("2001:db8:1::", 48));
  c.dport.push_back({0x1200, 0xff00});  // 0x1200..0x12ff
  c.dport.push_back({53, 0xffff});
  c.sport.push_back({1, 1});            // odd source ports
  F f(c);
  EXPECT_TRUE(M(f.f, Key("198.18.0.9", 1001, "1.2.3.4", 0x1234)));
  EXPECT_TRUE(M(f.f, Key("198.18.0.255", 3, "1.2.3.4", 53)));
  EXPECT_FALSE(M(f.f, Key("198.18.1.9", 1001, "1.2.3.4", 0x1234)))
      << "outside the /24";
  EXPECT_FALSE(M(f.f, Key("198.18.0.9", 1000, "1.2.3.4", 0x1234)))
      << "even source port";
  EXPECT_FALSE(M(f.f, Key("198.18.0.9", 1001, "1.2.3.4", 0x1334)))
      << "port outside the mask";
  EXPECT_FALSE(M(f.f, Key("198.18.0.9", 1001, "1.2.3.4", 54)));
  EXPECT_TRUE(M(f.f, Key("2001:db8:1:ff::7", 9, "::1", 0x12ee)));
  EXPECT_FALSE(M(f.f, Key("2001:db8:2::7", 9, "::1", 0x12ee)));
  // an IPv4 address whose bytes equal a v6 entry's prefix does not match it
  EXPECT_FALSE(M(f.f, Key("32.1.13.184", 9, "1.2.3.4", 53)));

  // empty lists match everything; bits of the address outside the mask are ignored
  Cfg any(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
  any.dst.push_back(Net("10.1.2.3", 8));
  F g(any);
  EXPECT_TRUE(M(g.f, Key("2.2.2.2", 1, "10.200.0.1", 2)));
  EXPECT_FALSE(M(g.f, Key("2.2.2.2", 1, "11.0.0.1", 2)));
  EXPECT_FALSE(M(g.f, Key("::2", 1, "::3", 2))) << "only IPv4 destinations";

  // a non-prefix mask: every address whose last byte is 7
  Cfg odd(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls);
  inc_filter_net n = Net("0.0.0.7", 32);
  n.mask = A("0.0.0.255");
  odd.src.push_back(n);
  F h(odd);
  EXPECT_TRUE(M(h.f, Key("9.9.9.7", 1, "1.1.1.1", 2)));
  EXPECT_FALSE(M(h.f, Key("9.9.9.8", 1, "1.1.1.1", 2)));
}

TEST(FilterTable, ConsumersWhoseSetsOverlap_Conflict_DisjointOnesDoNot) {
  Calls calls;
  auto overlap = [&](Cfg& a, Cfg& b) {
    F fa(a), fb(b);
    int ab = inc__filter_overlap(fa.f, fb.f), ba = inc__filter_overlap(fb.f, fa.f);
    EXPECT_EQ(ab, ba) << "the rule is symmetric";
    return ab;
  };
  {
    Cfg a(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), b(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    a.dport.push_back({5000, 0xffff});
    b.dport.push_back({5001, 0xffff});
    EXPECT_EQ(overlap(a, b), 0) << "different ports";
    b.dport.push_back({0x1000, 0xf000});  // 4096..8191, 5000 among them
    EXPECT_EQ(overlap(a, b), 1);
  }
  {
    Cfg a(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), b(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    a.src.push_back(Net("198.18.0.0", 16));
    b.src.push_back(Net("198.18.7.0", 24));
    EXPECT_EQ(overlap(a, b), 1) << "a /24 inside the /16";
    b.src.back() = Net("198.19.7.0", 24);
    EXPECT_EQ(overlap(a, b), 0);
  }
  {
    Cfg a(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), b(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    a.src.push_back(Net("0.0.0.0", 0));  // every IPv4 source
    b.dst.push_back(Net("::", 0));       // every IPv6 destination
    EXPECT_EQ(overlap(a, b), 0) << "no packet is IPv4 from and IPv6 to";
    b.dst.push_back(Net("198.18.0.1", 32));
    EXPECT_EQ(overlap(a, b), 1);
  }
  {
    Cfg a(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), b(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);
    a.sport.push_back({1, 1});  // odd source ports
    b.sport.push_back({0, 1});  // even ones
    EXPECT_EQ(overlap(a, b), 0);
    Cfg c(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls);  // everything
    EXPECT_EQ(overlap(a, c), 1);
  }
  {
    Cfg a(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), b(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &calls);
    EXPECT_EQ(overlap(a, b), 0) << "UDP and TCP never meet";
  }
}

TEST(FilterTable, Tables_RefuseAConflictingConsumer_AcceptMonitors_AndKeepConsumersFirst) {
  Calls calls;
  Cfg mon(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls), c1(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls),
      c2(INC_FILTER_UDP, INC_FILTER_CONSUME_EXCLUSIVE, &calls), t1(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &calls);
  c1.dport.push_back({7, 0xffff});
  c2.dport.push_back({7, 0xffff});
  F fm(mon), f1(c1), f2(c2), ft(t1);
  inc__ftab *t0 = nullptr, *t1p = nullptr, *t2 = nullptr, *t3 = nullptr, *tx = nullptr;
  ASSERT_EQ(inc__ftab_with(nullptr, nullptr, fm.f, &t0), 0);
  ASSERT_EQ(inc__ftab_with(t0, nullptr, f1.f, &t1p), 0);
  EXPECT_EQ(inc__ftab_with(t1p, nullptr, f2.f, &tx), -EADDRINUSE) << "two consumers of port 7";
  ASSERT_EQ(inc__ftab_with(t1p, nullptr, ft.f, &t2), 0);
  EXPECT_TRUE(inc__ftab_has(t2, INC_FILTER_UDP));
  EXPECT_TRUE(inc__ftab_has(t2, INC_FILTER_TCP_ACCEPT));
  EXPECT_FALSE(inc__ftab_has(t1p, INC_FILTER_TCP_ACCEPT));
  ASSERT_EQ(t2->n, 3u);
  EXPECT_EQ(t2->f[0], f1.f) << "UDP consumer first";
  EXPECT_EQ(t2->udp_mon, 1u);
  EXPECT_EQ(t2->f[1], fm.f);
  EXPECT_EQ(t2->tcp, 2u);
  EXPECT_EQ(t2->f[2], ft.f);
  EXPECT_EQ(t2->tcp_mon, 3u);
  // without the consumer, the other one fits
  ASSERT_EQ(inc__ftab_without(t2, f1.f, &t3), 0);
  EXPECT_EQ(t3->n, 2u);
  EXPECT_EQ(inc__ftab_without(t3, f1.f, &tx), -ENOENT);
  ASSERT_EQ(inc__ftab_with(t3, nullptr, f2.f, &tx), 0);
  inc__ftab_free(tx);
  inc__ftab* last = nullptr;
  inc__ftab* one = nullptr;
  ASSERT_EQ(inc__ftab_without(t3, fm.f, &one), 0);
  ASSERT_EQ(inc__ftab_without(one, ft.f, &last), 0);
  EXPECT_EQ(last, nullptr) << "an empty table is no table";
  for (inc__ftab* t : {t0, t1p, t2, t3, one}) inc__ftab_free(t);
}

TEST(FilterTable, MoreThanTheLimit_IsRefusedWithEnospc) {
  Calls calls;
  std::vector<std::unique_ptr<F>> fs;
  std::vector<Cfg> cfgs(INC_FILTER_MAX + 1, Cfg(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls));
  inc__ftab* t = nullptr;
  for (unsigned i = 0; i <= INC_FILTER_MAX; i++) {
    fs.emplace_back(new F(cfgs[i]));
    inc__ftab* next = nullptr;
    int rc = inc__ftab_with(t, nullptr, fs.back()->f, &next);
    if (i < INC_FILTER_MAX) {
      ASSERT_EQ(rc, 0) << i;
      inc__ftab_free(t);
      t = next;
    } else {
      EXPECT_EQ(rc, -ENOSPC);
    }
  }
  inc__ftab_free(t);
}

TEST(FilterTable, Dispatch_MonitorsRunBeforeTheConsumer_ExclusiveHidesThem_DeclinePassesOn) {
  Calls calls;
  Cfg mon(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls), mon2(INC_FILTER_UDP, INC_FILTER_MONITOR, &calls),
      cons(INC_FILTER_UDP, INC_FILTER_CONSUME, &calls), excl(INC_FILTER_UDP, INC_FILTER_CONSUME_EXCLUSIVE, &calls);
  mon2.c.udp = udp_mon2;
  mon2.dport.push_back({9, 0xffff});
  cons.dport.push_back({7, 0xffff});
  excl.dport.push_back({9, 0xffff});
  F fm(mon), fm2(mon2), fc(cons), fe(excl);
  inc__ftab *a = nullptr, *b = nullptr, *c = nullptr, *d = nullptr;
  ASSERT_EQ(inc__ftab_with(nullptr, nullptr, fm.f, &a), 0);
  ASSERT_EQ(inc__ftab_with(a, nullptr, fc.f, &b), 0);
  ASSERT_EQ(inc__ftab_with(b, nullptr, fe.f, &c), 0);
  ASSERT_EQ(inc__ftab_with(c, nullptr, fm2.f, &d), 0);
  inc_filter_pkt pkt{};

  inc__fkey k7 = Key("1.1.1.1", 1, "2.2.2.2", 7);
  EXPECT_EQ(inc__ftab_dispatch(d, INC_FILTER_UDP, 1, &k7, &pkt, nullptr), 1);
  EXPECT_EQ(calls.log, (std::vector<std::string>{"mon", "cons"}));
  EXPECT_EQ(calls.in_cb_seen, 1) << "a callback knows it is one";
  EXPECT_EQ(calls.mon_may_take, 0) << "a monitor's view cannot be taken";
  EXPECT_EQ(calls.cons_may_take, 1) << "the consumer's can";
  EXPECT_EQ(inc__filter_is_consumer_pkt(&pkt), 0) << "not after the call";
  EXPECT_EQ(inc__filter_in_callback(), 0);

  calls.log.clear();
  inc__fkey k9 = Key("1.1.1.1", 1, "2.2.2.2", 9);
  EXPECT_EQ(inc__ftab_dispatch(d, INC_FILTER_UDP, 0, &k9, &pkt, nullptr), 1);
  EXPECT_EQ(calls.log, (std::vector<std::string>{"cons"})) << "the exclusive consumer's packet: no monitor";

  calls.log.clear();
  calls.consume_answer = 0;  // consumers decline
  EXPECT_EQ(inc__ftab_dispatch(d, INC_FILTER_UDP, 0, &k7, &pkt, nullptr), 0);
  EXPECT_EQ(calls.log, (std::vector<std::string>{"mon", "cons"}));

  EXPECT_TRUE(inc__ftab_any(d, INC_FILTER_UDP, &k7));
  EXPECT_FALSE(inc__ftab_any(d, INC_FILTER_TCP_ACCEPT, &k7)) << "no TCP filter";
  EXPECT_FALSE(inc__ftab_any(nullptr, INC_FILTER_UDP, &k7));

  calls.log.clear();
  inc__fkey k8 = Key("1.1.1.1", 1, "2.2.2.2", 8);
  EXPECT_EQ(inc__ftab_dispatch(d, INC_FILTER_UDP, 0, &k8, &pkt, nullptr), 0);
  EXPECT_EQ(calls.log, (std::vector<std::string>{"mon"})) << "no consumer: monitors only";
  calls.log.clear();
  EXPECT_EQ(inc__ftab_dispatch(d, INC_FILTER_TCP_ACCEPT, 0, &k8, &pkt, nullptr), 0);
  EXPECT_TRUE(calls.log.empty()) << "no TCP filter";

  // counters, per worker and summed
  inc_filter_counters m{}, cc{}, e{}, m2{};
  inc_filter_counters_get(fm.f, &m);
  inc_filter_counters_get(fc.f, &cc);
  inc_filter_counters_get(fe.f, &e);
  inc_filter_counters_get(fm2.f, &m2);
  EXPECT_EQ(m.matched, 4u);
  EXPECT_EQ(m.monitored, 3u);
  EXPECT_EQ(m.hidden, 1u);
  EXPECT_EQ(m2.matched, 1u);
  EXPECT_EQ(m2.hidden, 1u);
  EXPECT_EQ(m2.monitored, 0u);
  EXPECT_EQ(cc.matched, 2u);
  EXPECT_EQ(cc.consumed, 1u);
  EXPECT_EQ(cc.declined, 1u);
  EXPECT_EQ(e.consumed, 1u);
  EXPECT_EQ(fc.f->cnt[1].consumed, 1u) << "worker 1's share";
  EXPECT_EQ(fc.f->cnt[0].declined, 1u) << "worker 0's share";
  for (inc__ftab* t : {a, b, c, d}) inc__ftab_free(t);
}

TEST(FilterTable, TcpDispatch_GivesTheConnectionToTheConsumerOnly) {
  Calls calls;
  Cfg mon(INC_FILTER_TCP_ACCEPT, INC_FILTER_MONITOR, &calls), cons(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &calls);
  F fm(mon), fc(cons);
  inc__ftab *a = nullptr, *b = nullptr;
  ASSERT_EQ(inc__ftab_with(nullptr, nullptr, fm.f, &a), 0);
  ASSERT_EQ(inc__ftab_with(a, nullptr, fc.f, &b), 0);
  inc_filter_pkt pkt{};
  inc__fkey k = Key("::1", 1, "::2", 80);
  int fake_conn = 0;
  EXPECT_EQ(inc__ftab_dispatch(b, INC_FILTER_TCP_ACCEPT, 0, &k, &pkt, reinterpret_cast<inc_raw_conn*>(&fake_conn)), 1);
  EXPECT_EQ(calls.log, (std::vector<std::string>{"tcp-mon", "tcp-cons"}));
  calls.log.clear();
  EXPECT_EQ(inc__ftab_dispatch(b, INC_FILTER_UDP, 0, &k, &pkt, nullptr), 0);
  EXPECT_TRUE(calls.log.empty());
  inc__ftab_free(a);
  inc__ftab_free(b);
}

}  // namespace
