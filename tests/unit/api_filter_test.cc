// Packet filter callbacks (include/inception/filter.h) on running stacks: a
// server stack A with the filters and a client stack B, two workers each, on
// the two ends of a software RSS wire. Datagrams and connections come from B;
// every datagram's bytes are verified where it lands.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_filter_ops.h"
#include "inception/filter.h"
#include "inception/raw.h"
#include "inception/stack_call.h"
#include "stack_env.h"
#include "wire_pair.h"

namespace {

constexpr uint32_t kA = 0xc6120001u, kB = 0xc6120002u;  // 198.18.0.1 (server), .2 (client)
constexpr unsigned kWorkers = 2;

std::atomic<uint64_t> g_late_calls{0};  // callbacks run after their remove returned

std::string wire_name() {
  static int n = 0;
  return "fl" + std::to_string(getpid() % 10000) + "_" + std::to_string(n++);
}

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

bool wait_for(const std::function<bool()>& pred, int ms = 20000) {
  for (int i = 0; i < ms / 5; i++) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Server A and client B on one wire.
struct Pair {
  drvtest::WirePair wp;
  inc_stack *a = nullptr, *b = nullptr;
  void *ma = nullptr, *mb = nullptr;
  inc_chan_app *ea = nullptr, *eb = nullptr;
  unsigned la[kWorkers] = {1, 2}, lb[kWorkers] = {3, 4};
  uint8_t a6[16] = {}, b6[16] = {};  // link-local addresses (v6 pairs)

  std::string start_one(inc_stack** s, void** mem, inc_port* port, unsigned* lcores, uint32_t ip, bool v6) {
    inc_stack_config cfg{};
    cfg.workers = kWorkers;
    cfg.lcores = lcores;
    cfg.n_ports = 1;
    cfg.ports[0].port = port;
    cfg.ports[0].ip4_addr = htonl(ip);
    cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
    cfg.ports[0].ip6_linklocal = v6 ? 1 : 0;
    cfg.idle = INC_STACK_IDLE_YIELD;  // more workers than cores
    cfg.app_endpoints = 2;
    // the raw API's per-worker state (if a test used it) goes with the worker
    cfg.cb.worker_stop = [](inc_worker* w, void*) { (void)inc_raw_worker_fini(w); };
    size_t len = inc_stack_footprint(&cfg);
    if (len == 0 || posix_memalign(mem, 64, len) != 0) return "memory";
    int rc = inc_stack_start(s, *mem, len, &cfg);
    return rc == 0 ? "" : "start " + std::to_string(rc);
  }

  std::string start(bool v6 = false) {
    stacktest::eal_init_once();
    drvtest::WireOpts wo;
    wo.qa = wo.qb = kWorkers;
    std::string e = wp.create(wire_name(), wo);
    if (!e.empty()) return e;
    e = start_one(&a, &ma, &wp.a, la, kA, v6);
    if (!e.empty()) return "A: " + e;
    e = start_one(&b, &mb, &wp.b, lb, kB, v6);
    if (!e.empty()) return "B: " + e;
    if (inc_stack_endpoint_attach(a, &ea) != 0 || inc_stack_endpoint_attach(b, &eb) != 0) return "attach";
    if (v6) {
      // duplicate address detection must end on both sides first
      bool ok = wait_for([&] {
        return on_worker(ea, 0, [&](inc_worker* w) { return afo_linklocal(w, a6); }) == 1 &&
               on_worker(eb, 0, [&](inc_worker* w) { return afo_linklocal(w, b6); }) == 1 &&
               on_worker(eb, 1, [&](inc_worker* w) {
                 uint8_t x[16];
                 return afo_linklocal(w, x);
               }) == 1;
      });
      if (!ok) return "IPv6 link-local addresses never became valid";
    }
    return "";
  }

  ~Pair() {
    if (ea != nullptr) inc_stack_endpoint_detach(ea);
    if (eb != nullptr) inc_stack_endpoint_detach(eb);
    if (a != nullptr) inc_stack_stop(a);
    if (b != nullptr) inc_stack_stop(b);
    stacktest::drain_wire(&wp.w);
    EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u) << "A's mbufs not back after stop";
    EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u) << "B's mbufs not back after stop";
    free(ma);
    free(mb);
  }
};

// A UDP sink on every worker of A (removed before the stacks stop).
struct Sink {
  Pair& p;
  std::unique_ptr<afo_sink> s{new afo_sink()};
  Sink(Pair& pair, uint16_t port) : p(pair) {
    s->port = port;
    for (unsigned w = 0; w < kWorkers; w++) {
      EXPECT_EQ(on_worker(p.ea, w, [&](inc_worker* wk) { return afo_sink_open(wk, s.get()); }), 0);
    }
  }
  ~Sink() {
    for (unsigned w = 0; w < kWorkers; w++) {
      on_worker(p.ea, w, [&](inc_worker* wk) { return afo_sink_close(wk, s.get()); });
    }
  }
  uint64_t got() const { return __atomic_load_n(&s->got, __ATOMIC_ACQUIRE); }
  uint32_t seen(uint32_t id) const { return __atomic_load_n(&s->seen[id], __ATOMIC_RELAXED); }
};

// What a test callback records.
struct Rec {
  std::atomic<uint32_t> seen[AFO_MAX_IDS]{};
  std::atomic<uint64_t> n{0}, bad{0};
  std::atomic<int> answer{1};
  std::atomic<bool> removed{false};
  std::mutex mu;
  std::vector<inc_filter_pkt> tuples;  // TCP: what monitors saw
};

// UDP callback: copies the datagram (the payload may span buffers), checks the
// zero-copy view against the copy and the bytes against the pattern.
int udp_rec(void* arg, const inc_filter_pkt* pkt) {
  auto* r = static_cast<Rec*>(arg);
  if (r->removed.load()) g_late_calls++;
  uint8_t buf[2048];
  bool ok = pkt->tot_len <= sizeof(buf) && pkt->len <= pkt->tot_len && pkt->data != nullptr;
  if (ok) {
    long n = inc_filter_pkt_copy(pkt, 0, buf, pkt->tot_len);
    ok = n == static_cast<long>(pkt->tot_len) && std::memcmp(buf, pkt->data, pkt->len) == 0;
    int64_t id = ok ? afo_check(buf, pkt->tot_len) : -1;
    ok = id >= 0 && id < AFO_MAX_IDS;
    if (ok) r->seen[id]++;
    // a copy from an offset agrees too
    if (ok && pkt->tot_len > 10) {
      uint8_t tail[4];
      ok = inc_filter_pkt_copy(pkt, pkt->tot_len - 2, tail, 4) == 2 && std::memcmp(tail, buf + pkt->tot_len - 2, 2) == 0;
    }
  }
  if (!ok) r->bad++;
  r->n++;
  return r->answer.load();
}

int tcp_mon(void* arg, const inc_filter_pkt* pkt, inc_raw_conn* conn) {
  auto* r = static_cast<Rec*>(arg);
  if (conn != nullptr) r->bad++;  // a monitor never gets the connection
  std::lock_guard<std::mutex> g(r->mu);
  r->tuples.push_back(*pkt);
  r->n++;
  return 1;
}

// Installs on construction, removes on destruction (before the Pair stops).
struct Filter {
  inc_filter* f = nullptr;
  int rc = -1;
  std::vector<inc_filter_net> src, dst;
  std::vector<inc_filter_port> sport, dport;
  inc_filter_config c{};
  Filter(inc_filter_kind kind, inc_filter_mode mode, void* arg) {
    c.kind = kind;
    c.mode = mode;
    c.arg = arg;
    if (kind == INC_FILTER_UDP) c.udp = udp_rec;
    else c.tcp = tcp_mon;
  }
  int install(inc_stack* s) {
    c.src = src.data();
    c.n_src = static_cast<unsigned>(src.size());
    c.dst = dst.data();
    c.n_dst = static_cast<unsigned>(dst.size());
    c.sport = sport.data();
    c.n_sport = static_cast<unsigned>(sport.size());
    c.dport = dport.data();
    c.n_dport = static_cast<unsigned>(dport.size());
    return rc = inc_filter_install(s, &c, &f);
  }
  inc_filter_counters counters() const {
    inc_filter_counters k{};
    EXPECT_EQ(inc_filter_counters_get(f, &k), 0);
    return k;
  }
  int remove() {
    int r = f != nullptr ? inc_filter_remove(f, nullptr) : 0;
    f = nullptr;
    return r;
  }
  ~Filter() { remove(); }
};

inc_filter_net net4(uint32_t host_order, unsigned bits) {
  inc_filter_net n{};
  uint32_t be = htonl(host_order);
  n.addr = inc_addr_ip4(static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                        static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order));
  (void)be;
  n.mask = inc_filter_prefix(INC_AF_INET, bits);
  return n;
}

inc_filter_net net6(const uint8_t a[16], unsigned bits) {
  inc_filter_net n{};
  n.addr.family = INC_AF_INET6;
  std::memcpy(n.addr.u.v6, a, 16);
  n.mask = inc_filter_prefix(INC_AF_INET6, bits);
  return n;
}

afo_dgram dgram4(uint32_t id, uint16_t sport, uint16_t dport, uint32_t len) {
  afo_dgram d{};
  d.family = 4;
  uint32_t be = htonl(kA);
  std::memcpy(d.dst, &be, 4);
  d.sport = sport;
  d.dport = dport;
  d.id = id;
  d.len = len;
  return d;
}

// Sends datagrams from B (datagram i from worker i % workers), in batches,
// waiting after each batch until `arrived()` counts them all (the wire has no
// faults: nothing may be lost). Returns "" or what went wrong.
std::string send_all(Pair& p, const std::vector<afo_dgram>& ds, const std::function<uint64_t()>& arrived) {
  uint64_t base = arrived();
  for (size_t at = 0; at < ds.size(); at += 32) {
    size_t end = std::min(ds.size(), at + 32);
    for (unsigned w = 0; w < kWorkers; w++) {
      int rc = on_worker(p.eb, w, [&](inc_worker* wk) {
        for (size_t i = at; i < end; i++) {
          if (i % kWorkers != w) continue;
          int r = afo_send(wk, &ds[i]);
          if (r != 0) return r;
        }
        return 0;
      });
      if (rc != 0) return "afo_send: " + std::to_string(rc);
    }
    if (!wait_for([&] { return arrived() >= base + end; })) {
      return "only " + std::to_string(arrived() - base) + " of " + std::to_string(end) + " datagrams arrived";
    }
  }
  return "";
}

// ARP (or ND) resolved on every client worker: datagrams to a sink until one
// from each worker arrived.
std::string warm_up(Pair& p, Sink& sink, bool v6) {
  for (int round = 0; round < 200; round++) {
    bool all = true;
    for (unsigned w = 0; w < kWorkers; w++) {
      uint32_t id = AFO_MAX_IDS - 1 - w;
      if (sink.seen(id) > 0) continue;
      all = false;
      afo_dgram d = dgram4(id, static_cast<uint16_t>(9000 + w), sink.s->port, 16);
      if (v6) {
        d.family = 6;
        std::memcpy(d.dst, p.a6, 16);
      }
      on_worker(p.eb, w, [&](inc_worker* wk) { return afo_send(wk, &d); });
    }
    if (all) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "address resolution never completed";
}

constexpr uint16_t kPortC = 6000, kPortOther = 6001;

// Ids 0..n-1: even ones to kPortC, odd ones to kPortOther, sizes 8..1400.
std::vector<afo_dgram> mixed(uint32_t n, bool v6, const uint8_t* a6) {
  std::vector<afo_dgram> ds;
  for (uint32_t i = 0; i < n; i++) {
    afo_dgram d = dgram4(i, static_cast<uint16_t>(20000 + i), i % 2 == 0 ? kPortC : kPortOther, 8 + (i * 97) % 1393);
    if (v6) {
      d.family = 6;
      std::memcpy(d.dst, a6, 16);
    }
    ds.push_back(d);
  }
  return ds;
}

void consumer_gets_exactly_its_datagrams(bool v6) {
  Pair p;
  ASSERT_EQ(p.start(v6), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, v6), "");
  uint64_t other_base = other.got();

  Rec rec;
  Filter f(INC_FILTER_UDP, INC_FILTER_CONSUME, &rec);
  f.dport.push_back({kPortC, 0xffff});
  if (v6) {
    f.src.push_back(net6(p.b6, 64));  // fe80::/64, the client's link
  } else {
    f.src.push_back(net4(kB & 0xffffff00u, 24));
  }
  ASSERT_EQ(f.install(p.a), 0);

  const uint32_t n = 200;
  auto ds = mixed(n, v6, p.a6);
  ASSERT_EQ(send_all(p, ds, [&] { return rec.n.load() + other.got() + c_sink.got(); }), "");
  EXPECT_EQ(rec.bad.load(), 0u) << "a consumed datagram's bytes were wrong";
  EXPECT_EQ(other.s->bad, 0u);
  for (uint32_t i = 0; i < n; i++) {
    if (i % 2 == 0) {
      EXPECT_EQ(rec.seen[i].load(), 1u) << "datagram " << i << " to the consumer's port";
      EXPECT_EQ(c_sink.seen(i), 0u) << "lwIP got consumed datagram " << i;
    } else {
      EXPECT_EQ(rec.seen[i].load(), 0u) << "the consumer got datagram " << i << " of another port";
      EXPECT_EQ(other.seen(i), 1u) << "datagram " << i;
    }
  }
  EXPECT_EQ(c_sink.got(), 0u);
  EXPECT_EQ(other.got() - other_base, n / 2);
  inc_filter_counters k = f.counters();
  EXPECT_EQ(k.matched, n / 2);
  EXPECT_EQ(k.consumed, n / 2);
  EXPECT_EQ(k.declined, 0u);
  EXPECT_EQ(k.monitored, 0u);
}

TEST(ApiFilter, UdpConsumer_GetsExactlyTheMatchingDatagrams_AndLwipDoesNot) {
  consumer_gets_exactly_its_datagrams(false);
}

TEST(ApiFilter, UdpConsumerOverIpv6LinkLocal_GetsExactlyTheMatchingDatagrams) {
  consumer_gets_exactly_its_datagrams(true);
}

// Zero-copy handoff: a consumer takes the buffers of even datagrams and frees
// them later on the worker; a monitor cannot take anything.
struct Taken {
  std::mutex mu;
  std::vector<std::pair<unsigned, inc_buf*>> bufs;
  std::atomic<uint64_t> bad{0}, n{0}, monitor_took{0};
};

int udp_take(void* arg, const inc_filter_pkt* pkt) {
  auto* t = static_cast<Taken*>(arg);
  t->n++;
  uint8_t head[8];
  if (inc_filter_pkt_copy(pkt, 0, head, 8) != 8) t->bad++;
  uint32_t id;
  std::memcpy(&id, head, 4);
  if (id % 2 == 0) {
    inc_buf* b = inc_filter_pkt_take(pkt);
    if (b == nullptr || inc_filter_pkt_take(pkt) != nullptr) t->bad++;  // once only
    // the view and copies stay valid after the take
    uint8_t again[8];
    if (inc_filter_pkt_copy(pkt, 0, again, 8) != 8 || std::memcmp(again, head, 8) != 0 ||
        std::memcmp(pkt->data, head, 8) != 0) {
      t->bad++;
    }
    std::lock_guard<std::mutex> g(t->mu);
    t->bufs.emplace_back(pkt->worker, b);
    return 1;
  }
  return 1;  // copied what it needed (nothing)
}

int udp_mon_take(void* arg, const inc_filter_pkt* pkt) {
  if (inc_filter_pkt_take(pkt) != nullptr) static_cast<Taken*>(arg)->monitor_took++;
  return 0;
}

TEST(ApiFilter, UdpConsumer_TakesTheBuffersZeroCopy_MonitorsCannot) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, false), "");
  Taken t, tm;
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME, &t);
  c.c.udp = udp_take;
  c.dport.push_back({kPortC, 0xffff});
  Filter m(INC_FILTER_UDP, INC_FILTER_MONITOR, &tm);
  m.c.udp = udp_mon_take;
  ASSERT_EQ(c.install(p.a), 0);
  ASSERT_EQ(m.install(p.a), 0);
  std::vector<afo_dgram> ds;
  for (uint32_t i = 0; i < 64; i++) ds.push_back(dgram4(i, 30000, kPortC, 8 + i * 21));
  ASSERT_EQ(send_all(p, ds, [&] { return t.n.load(); }), "");
  EXPECT_EQ(t.bad.load(), 0u);
  EXPECT_EQ(tm.monitor_took.load(), 0u) << "a monitor took a datagram";
  EXPECT_EQ(c_sink.got(), 0u);
  std::set<int64_t> ids;
  {
    std::lock_guard<std::mutex> g(t.mu);
    EXPECT_EQ(t.bufs.size(), 32u);
    for (auto& wb : t.bufs) {
      inc_buf* b = wb.second;
      if (b == nullptr) continue;
      ids.insert(on_worker(p.ea, wb.first, [&](inc_worker* wk) {
        return static_cast<int>(afo_buf_check_free(wk, b));
      }));
    }
  }
  std::set<int64_t> want;
  for (int64_t i = 0; i < 64; i += 2) want.insert(i);
  EXPECT_EQ(ids, want) << "every taken chain holds its datagram, bytes verified";
  inc_filter_counters k = c.counters();
  EXPECT_EQ(k.consumed, 64u);
  // ~Pair checks that every mbuf is back: the taken chains were freed
}

TEST(ApiFilter, UdpMonitor_SeesDatagrams_WhichStillReachTheUdpPcb) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, false), "");
  uint64_t base = other.got();
  Rec rec;
  Filter m(INC_FILTER_UDP, INC_FILTER_MONITOR, &rec);
  m.dport.push_back({kPortOther, 0xffff});
  rec.answer = 1;  // a monitor's answer is ignored: the datagram goes on anyway
  ASSERT_EQ(m.install(p.a), 0);
  const uint32_t n = 100;
  auto ds = mixed(n, false, nullptr);
  ASSERT_EQ(send_all(p, ds, [&] { return other.got() - base + c_sink.got(); }), "");
  EXPECT_EQ(rec.bad.load(), 0u);
  for (uint32_t i = 1; i < n; i += 2) {
    EXPECT_EQ(rec.seen[i].load(), 1u) << "the monitor missed " << i;
    EXPECT_EQ(other.seen(i), 1u) << "the pcb missed " << i;
  }
  for (uint32_t i = 0; i < n; i += 2) {
    EXPECT_EQ(rec.seen[i].load(), 0u) << "the monitor saw another port's datagram " << i;
    EXPECT_EQ(c_sink.seen(i), 1u);
  }
  inc_filter_counters k = m.counters();
  EXPECT_EQ(k.matched, n / 2);
  EXPECT_EQ(k.monitored, n / 2);
  EXPECT_EQ(k.consumed, 0u);
}

TEST(ApiFilter, ExclusiveConsumer_HidesItsDatagramsFromMonitors_OthersStillSeeTheRest) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, false), "");
  uint64_t base = other.got();
  Rec cons, mon;
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME_EXCLUSIVE, &cons);
  c.dport.push_back({kPortC, 0xffff});
  Filter m(INC_FILTER_UDP, INC_FILTER_MONITOR, &mon);  // every datagram
  ASSERT_EQ(c.install(p.a), 0);
  ASSERT_EQ(m.install(p.a), 0);
  const uint32_t n = 100;
  auto ds = mixed(n, false, nullptr);
  ASSERT_EQ(send_all(p, ds, [&] { return cons.n.load() + other.got() - base; }), "");
  for (uint32_t i = 0; i < n; i++) {
    EXPECT_EQ(mon.seen[i].load(), i % 2) << "datagram " << i;
    EXPECT_EQ(cons.seen[i].load(), 1 - i % 2) << "datagram " << i;
  }
  EXPECT_EQ(c_sink.got(), 0u);
  inc_filter_counters km = m.counters();
  EXPECT_EQ(km.hidden, n / 2);
  EXPECT_EQ(km.monitored, n / 2);

  // the same consumer not exclusive: the monitor sees everything
  c.remove();
  Rec cons2;
  Filter c2(INC_FILTER_UDP, INC_FILTER_CONSUME, &cons2);
  c2.dport.push_back({kPortC, 0xffff});
  ASSERT_EQ(c2.install(p.a), 0);
  auto ds2 = mixed(n, false, nullptr);
  for (auto& d : ds2) d.id += 1000;
  uint64_t base2 = other.got();
  ASSERT_EQ(send_all(p, ds2, [&] { return cons2.n.load() + other.got() - base2; }), "");
  for (uint32_t i = 1000; i < 1000 + n; i++) {
    EXPECT_EQ(mon.seen[i].load(), 1u) << "datagram " << i;
    EXPECT_EQ(cons2.seen[i].load(), (i % 2 == 0) ? 1u : 0u) << "datagram " << i;
  }
}

// A callback that tries to remove its own filter (refused: it would wait for
// its own grace period) and to install another, then declines.
struct SelfRemover {
  inc_filter* self = nullptr;
  inc_stack* s = nullptr;
  std::atomic<int> remove_rc{1}, install_rc{1};
  std::atomic<uint64_t> n{0};
};

int udp_self_remove(void* arg, const inc_filter_pkt*) {
  auto* r = static_cast<SelfRemover*>(arg);
  r->remove_rc = inc_filter_remove(r->self, nullptr);
  inc_filter_config c{};
  c.kind = INC_FILTER_UDP;
  c.mode = INC_FILTER_MONITOR;
  c.udp = udp_self_remove;
  c.arg = arg;
  inc_filter* f = nullptr;
  r->install_rc = inc_filter_install(r->s, &c, &f);
  r->n++;
  return 0;
}

TEST(ApiFilter, InstallOrRemoveFromACallback_IsRefusedWithEdeadlk) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC);
  ASSERT_EQ(warm_up(p, c_sink, false), "");
  uint64_t base = c_sink.got();
  SelfRemover r;
  r.s = p.a;
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME, &r);
  c.c.udp = udp_self_remove;
  c.dport.push_back({kPortC, 0xffff});
  ASSERT_EQ(c.install(p.a), 0);
  r.self = c.f;
  std::vector<afo_dgram> ds = {dgram4(1, 30000, kPortC, 50)};
  ASSERT_EQ(send_all(p, ds, [&] { return c_sink.got() - base; }), "");
  EXPECT_EQ(r.n.load(), 1u);
  EXPECT_EQ(r.remove_rc.load(), -EDEADLK);
  EXPECT_EQ(r.install_rc.load(), -EDEADLK);
  EXPECT_EQ(c.remove(), 0) << "the filter is still installed and removable";
}

TEST(ApiFilter, DecliningConsumer_LeavesTheDatagramToLwip) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC);
  ASSERT_EQ(warm_up(p, c_sink, false), "");
  uint64_t base = c_sink.got();
  Rec rec;
  rec.answer = 0;
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME, &rec);
  c.dport.push_back({kPortC, 0xffff});
  ASSERT_EQ(c.install(p.a), 0);
  std::vector<afo_dgram> ds;
  for (uint32_t i = 0; i < 20; i++) ds.push_back(dgram4(i, 30000, kPortC, 100));
  ASSERT_EQ(send_all(p, ds, [&] { return c_sink.got() - base; }), "");
  EXPECT_EQ(rec.n.load(), 20u);
  inc_filter_counters k = c.counters();
  EXPECT_EQ(k.declined, 20u);
  EXPECT_EQ(k.consumed, 0u);
}

TEST(ApiFilter, ConflictingConsumers_AreRefusedWithEaddrinuse_BadInputWithEinval) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Rec r;
  Filter a(INC_FILTER_UDP, INC_FILTER_CONSUME, &r);
  a.dport.push_back({kPortC, 0xffff});
  ASSERT_EQ(a.install(p.a), 0);
  Filter b(INC_FILTER_UDP, INC_FILTER_CONSUME_EXCLUSIVE, &r);  // 5888..6143 covers 6000
  b.dport.push_back({0x1700, 0xff00});
  EXPECT_EQ(b.install(p.a), -EADDRINUSE);
  EXPECT_EQ(b.f, nullptr);
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME, &r);  // another source network: disjoint
  c.dport.push_back({kPortC, 0xffff});
  c.src.push_back(net4(0x0a000000u, 8));
  Filter a2(INC_FILTER_UDP, INC_FILTER_CONSUME, &r);
  a2.dport.push_back({kPortC, 0xffff});
  a2.src.push_back(net4(kB, 32));
  EXPECT_EQ(a2.install(p.a), -EADDRINUSE) << "a narrower set inside a's";
  a.remove();
  EXPECT_EQ(c.install(p.a), 0);
  EXPECT_EQ(a2.install(p.a), 0) << "10/8 and 198.18.0.2/32 are disjoint";
  Filter mon(INC_FILTER_UDP, INC_FILTER_MONITOR, &r);
  mon.dport.push_back({kPortC, 0xffff});
  EXPECT_EQ(mon.install(p.a), 0) << "monitors never conflict";
  Filter t(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &r);
  t.dport.push_back({kPortC, 0xffff});
  EXPECT_EQ(t.install(p.a), 0) << "TCP accepts and UDP datagrams never meet";

  inc_filter* f = nullptr;
  inc_filter_config bad{};
  EXPECT_EQ(inc_filter_install(nullptr, &t.c, &f), -EINVAL);
  EXPECT_EQ(inc_filter_install(p.a, nullptr, &f), -EINVAL);
  EXPECT_EQ(inc_filter_install(p.a, &t.c, nullptr), -EINVAL);
  EXPECT_EQ(inc_filter_install(p.a, &bad, &f), -EINVAL) << "no kind, no callback";
  bad.kind = INC_FILTER_UDP;
  bad.udp = udp_rec;
  bad.n_dport = 1;  // with no list
  EXPECT_EQ(inc_filter_install(p.a, &bad, &f), -EINVAL);
  EXPECT_EQ(inc_filter_remove(nullptr, nullptr), -EINVAL);
  EXPECT_EQ(inc_filter_counters_get(nullptr, nullptr), -EINVAL);
}

TEST(ApiFilter, AddressAndPortMasks_SelectTheConsumer) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, false), "");
  // two consumers of 6000..6015 told apart by source network: the client
  // (198.18.0.2) is in the lower /25 only
  Rec low, high, odd;
  Filter fl(INC_FILTER_UDP, INC_FILTER_CONSUME, &low), fh(INC_FILTER_UDP, INC_FILTER_CONSUME, &high);
  fl.dport.push_back({6000, 0xfff0});
  fl.src.push_back(net4(0xc6120000u, 25));
  fh.dport.push_back({6000, 0xfff0});
  fh.src.push_back(net4(0xc6120080u, 25));
  fh.dst.push_back(net4(kA, 32));
  ASSERT_EQ(fl.install(p.a), 0);
  ASSERT_EQ(fh.install(p.a), 0);
  // odd source ports to 6001 (the sink's port), to a third consumer
  Filter fo(INC_FILTER_UDP, INC_FILTER_CONSUME, &odd);
  fo.dport.push_back({6016, 0xffff});     // 6016: outside fl's 6000..6015
  fo.sport.push_back({1, 1});
  fo.dst.push_back(net4(0xc6120001u, 31));  // 198.18.0.0/31: A's address
  ASSERT_EQ(fo.install(p.a), 0);
  Sink s16(p, 6016);

  std::vector<afo_dgram> ds;
  uint32_t id = 0;
  for (uint16_t port = 5996; port < 6020; port++) {
    for (int j = 0; j < 2; j++) ds.push_back(dgram4(id++, static_cast<uint16_t>(40000 + j), port, 64));
  }
  Sink s5996(p, 5996), s5997(p, 5997), s5998(p, 5998), s5999(p, 5999);
  Sink s17(p, 6017), s18(p, 6018), s19(p, 6019);
  auto sinks = [&] {
    return c_sink.got() + other.got() + s16.got() + s5996.got() + s5997.got() + s5998.got() + s5999.got() +
           s17.got() + s18.got() + s19.got();
  };
  uint64_t base = sinks(), base_c = c_sink.got(), base_o = other.got();
  // datagrams to ports without a sink or consumer (6002..6015 are all
  // consumed by fl) would be answered with ICMP: every port here has one
  ASSERT_EQ(send_all(p, ds, [&] { return low.n.load() + odd.n.load() + sinks() - base; }), "");
  for (const auto& d : ds) {
    bool in_low = (d.dport & 0xfff0) == 6000;
    bool in_odd = d.dport == 6016 && (d.sport & 1) == 1;
    EXPECT_EQ(low.seen[d.id].load(), in_low ? 1u : 0u) << "port " << d.dport;
    EXPECT_EQ(odd.seen[d.id].load(), in_odd ? 1u : 0u) << "port " << d.dport << " sport " << d.sport;
  }
  EXPECT_EQ(high.n.load(), 0u) << "198.18.0.2 is not in 198.18.0.128/25";
  EXPECT_EQ(s16.got(), 1u) << "the even source port's datagram to 6016";
  EXPECT_EQ(c_sink.got() - base_c + other.got() - base_o, 0u) << "6000 and 6001 are in the consumer's 6000/0xfff0";
  EXPECT_EQ(s5996.got() + s5997.got() + s5998.got() + s5999.got() + s17.got() + s18.got() + s19.got(), 14u);
}

// An IPv4 UDP packet (ports host order, addresses host order) with payload
// id's pattern; checksums right unless told.
std::vector<uint8_t> udp4(uint32_t id, uint16_t sport, uint16_t dport, uint32_t len, uint16_t frag_field = 0,
                          bool bad_udp_sum = false) {
  std::vector<uint8_t> b(28 + len);
  auto w16 = [&](size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
  };
  auto w32 = [&](size_t off, uint32_t v) {
    w16(off, static_cast<uint16_t>(v >> 16));
    w16(off + 2, static_cast<uint16_t>(v));
  };
  auto sum = [&](size_t off, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(b[off + i] << 8 | b[off + i + 1]);
    if (n & 1) acc += static_cast<uint32_t>(b[off + n - 1] << 8);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return acc;
  };
  b[0] = 0x45;
  w16(2, static_cast<uint16_t>(28 + len));
  w16(4, static_cast<uint16_t>(id));
  w16(6, frag_field);
  b[8] = 64;
  b[9] = 17;
  w32(12, kB);
  w32(16, kA);
  w16(10, static_cast<uint16_t>(~sum(0, 20, 0)));
  w16(20, sport);
  w16(22, dport);
  w16(24, static_cast<uint16_t>(8 + len));
  afo_fill(b.data() + 28, len, id);
  uint32_t pseudo = (kB >> 16) + (kB & 0xffff) + (kA >> 16) + (kA & 0xffff) + 17 + 8 + len;
  uint16_t s = static_cast<uint16_t>(~sum(20, 8 + len, pseudo));
  w16(26, s == 0 ? 0xffff : s);
  if (bad_udp_sum) b[27] ^= 0x5a;
  return b;
}

// The IP input hook runs before reassembly: fragments are left to lwIP (and
// reach a UDP pcb once reassembled); datagrams that fail a check are left to
// lwIP, which drops them. Packets are injected straight into a worker's lwIP.
TEST(ApiFilter, FragmentsAndBadDatagrams_AreLeftToLwip_GoodOnesAreConsumed) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC);
  Rec rec;
  Filter c(INC_FILTER_UDP, INC_FILTER_CONSUME, &rec);
  c.dport.push_back({kPortC, 0xffff});
  ASSERT_EQ(c.install(p.a), 0);
  auto inject = [&](const std::vector<uint8_t>& pkt) {
    return on_worker(p.ea, 0, [&](inc_worker* wk) { return afo_inject(wk, pkt.data(), static_cast<uint32_t>(pkt.size())); });
  };
  // a good one is consumed
  ASSERT_EQ(inject(udp4(1, 30000, kPortC, 100)), 0);
  EXPECT_EQ(rec.seen[1].load(), 1u);
  // a datagram in two fragments: 8 + 96 bytes of UDP, then 104 more
  std::vector<uint8_t> whole = udp4(2, 30000, kPortC, 200);
  std::vector<uint8_t> f1(whole.begin(), whole.begin() + 20 + 104), f2(20 + whole.size() - 124);
  for (size_t i = 0; i < f2.size(); i++) f2[i] = i < 20 ? whole[i] : whole[i + 104];
  auto fix_ip = [](std::vector<uint8_t>& f, uint16_t frag) {
    f[2] = static_cast<uint8_t>(f.size() >> 8);
    f[3] = static_cast<uint8_t>(f.size());
    f[6] = static_cast<uint8_t>(frag >> 8);
    f[7] = static_cast<uint8_t>(frag);
    f[10] = f[11] = 0;
    uint32_t acc = 0;
    for (int i = 0; i < 20; i += 2) acc += static_cast<uint32_t>(f[i] << 8 | f[i + 1]);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    f[10] = static_cast<uint8_t>(~acc >> 8);
    f[11] = static_cast<uint8_t>(~acc);
  };
  fix_ip(f1, 0x2000);       // MF, offset 0: carries the ports
  fix_ip(f2, 104 / 8);      // offset 13 (x8 bytes), last
  ASSERT_EQ(inject(f1), 0);
  ASSERT_EQ(inject(f2), 0);
  EXPECT_EQ(rec.seen[2].load(), 0u) << "a fragmented datagram is not filtered (documented)";
  EXPECT_TRUE(wait_for([&] { return c_sink.seen(2) == 1; })) << "lwIP reassembled it for the UDP pcb";
  // bad input: wrong UDP checksum, truncated, UDP length beyond the packet,
  // header length field too small, not IPv4/IPv6
  ASSERT_EQ(inject(udp4(3, 30000, kPortC, 100, 0, true)), 0);
  std::vector<uint8_t> cut = udp4(4, 30000, kPortC, 100);
  cut.resize(24);
  ASSERT_EQ(inject(cut), 0);
  std::vector<uint8_t> longer = udp4(5, 30000, kPortC, 100);
  longer[24] = 0x7f;
  ASSERT_EQ(inject(longer), 0);
  std::vector<uint8_t> ihl = udp4(6, 30000, kPortC, 100);
  ihl[0] = 0x44;
  ASSERT_EQ(inject(ihl), 0);
  std::vector<uint8_t> tiny(10, 0x45);
  ASSERT_EQ(inject(tiny), 0);
  // and a good one again: the filter still works
  ASSERT_EQ(inject(udp4(7, 30000, kPortC, 8)), 0);  // no payload beyond the id and length
  EXPECT_EQ(rec.seen[7].load(), 1u);
  EXPECT_EQ(rec.n.load(), 2u) << "only the two good datagrams reached the consumer";
  EXPECT_EQ(rec.bad.load(), 0u);
  for (uint32_t id = 3; id <= 6; id++) EXPECT_EQ(c_sink.seen(id), 0u) << "lwIP dropped bad datagram " << id;
  EXPECT_EQ(c_sink.s->bad, 0u);
}

// TCP: a consumer takes the connections from odd source ports, the listener
// gets the rest; a monitor sees every 4-tuple.
void tcp_accepts(bool v6) {
  Pair p;
  ASSERT_EQ(p.start(v6), "");
  std::unique_ptr<afo_listener> l(new afo_listener());
  l->port = 7000;
  for (unsigned w = 0; w < kWorkers; w++) {
    ASSERT_EQ(on_worker(p.ea, w, [&](inc_worker* wk) { return afo_listen(wk, l.get()); }), 0);
  }
  uint64_t consumed = 0;
  Rec mon;
  Filter m(INC_FILTER_TCP_ACCEPT, INC_FILTER_MONITOR, &mon);
  Filter c(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &consumed);
  c.c.tcp = afo_tcp_consume;
  c.dport.push_back({7000, 0xffff});
  c.sport.push_back({1, 1});
  ASSERT_EQ(m.install(p.a), 0);
  ASSERT_EQ(c.install(p.a), 0);

  const unsigned n = 16;
  std::vector<afo_client> cl(n);
  uint8_t dst[16] = {};
  uint32_t be = htonl(kA);
  if (v6) std::memcpy(dst, p.a6, 16);
  else std::memcpy(dst, &be, 4);
  for (unsigned i = 0; i < n; i++) {
    ASSERT_EQ(on_worker(p.eb, i % kWorkers,
                        [&](inc_worker* wk) { return afo_connect(wk, v6 ? 6 : 4, dst, 7000, &cl[i]); }),
              0);
  }
  bool done = wait_for([&] {
    for (auto& x : cl) {
      if (__atomic_load_n(&x.state, __ATOMIC_ACQUIRE) == 0) return false;
    }
    return true;
  }, 60000);
  ASSERT_TRUE(done) << "connections did not end";
  unsigned odd = 0;
  std::set<uint16_t> ports;
  for (auto& x : cl) {
    EXPECT_EQ(x.state, 1) << "connection from port " << x.lport << " failed";
    int want = (x.lport & 1) ? 'C' : 'L';
    EXPECT_EQ(x.first, want) << "connection from port " << x.lport;
    odd += x.lport & 1;
    ports.insert(x.lport);
  }
  EXPECT_GT(odd, 0u) << "no odd source port: the consumer was not exercised";
  EXPECT_LT(odd, n) << "no even source port: the listener was not exercised";
  EXPECT_EQ(__atomic_load_n(&consumed, __ATOMIC_RELAXED), odd);
  EXPECT_EQ(__atomic_load_n(&l->filtered, __ATOMIC_RELAXED), odd);
  EXPECT_EQ(__atomic_load_n(&l->accepted, __ATOMIC_RELAXED), n - odd);
  {
    std::lock_guard<std::mutex> g(mon.mu);
    EXPECT_EQ(mon.tuples.size(), n);
    std::set<uint16_t> seen;
    for (auto& t : mon.tuples) {
      seen.insert(t.sport);
      EXPECT_EQ(t.dport, 7000);
      EXPECT_EQ(t.src.family, v6 ? INC_AF_INET6 : INC_AF_INET);
      EXPECT_EQ(t.data, nullptr);
      if (!v6) {
        EXPECT_EQ(t.src.u.v4, htonl(kB));
        EXPECT_EQ(t.dst.u.v4, htonl(kA));
      } else {
        EXPECT_EQ(std::memcmp(t.src.u.v6, p.b6, 16), 0);
        EXPECT_EQ(std::memcmp(t.dst.u.v6, p.a6, 16), 0);
      }
    }
    EXPECT_EQ(seen, ports) << "the monitor saw every connection's source port";
  }
  EXPECT_EQ(mon.bad.load(), 0u);
  inc_filter_counters kc = c.counters();
  EXPECT_EQ(kc.consumed, odd);
  EXPECT_EQ(kc.matched, odd);
  m.remove();
  c.remove();
  for (unsigned w = 0; w < kWorkers; w++) {
    on_worker(p.ea, w, [&](inc_worker* wk) { return afo_listen_close(wk, l.get()); });
  }
}

TEST(ApiFilter, TcpAcceptConsumer_TakesMatchingConnections_TheListenerGetsTheRest) { tcp_accepts(false); }

TEST(ApiFilter, TcpAcceptConsumerOverIpv6LinkLocal_TakesMatchingConnections) { tcp_accepts(true); }

// The whole path through the raw API: its listeners' accept path runs the
// filters; the consumer makes the connection a raw API one (inc_raw_tcp_set)
// and answers, or aborts it (which the raw API's accept path allows).
struct RawSrv {
  std::atomic<uint64_t> listener_got{0}, consumer_got{0}, aborted{0}, bad{0};
};

const inc_raw_tcp_ops kRawConsumerOps = {};  // no callbacks: data dropped

int raw_listener_accept(void* arg, inc_raw_conn*, inc_raw_conn* c) {
  auto* s = static_cast<RawSrv*>(arg);
  s->listener_got++;
  if (inc_raw_tcp_write(c, "L", 1, 0) != 1) s->bad++;
  if (inc_raw_tcp_close(c) != 0) s->bad++;
  return 0;
}

int raw_consume(void* arg, const inc_filter_pkt* pkt, inc_raw_conn* conn) {
  auto* s = static_cast<RawSrv*>(arg);
  if (pkt->sport % 4 == 3) {
    s->aborted++;
    if (inc_raw_tcp_abort(conn) != 0) s->bad++;
    return 1;
  }
  if (inc_raw_tcp_set(conn, &kRawConsumerOps, s) != 0) s->bad++;
  if (inc_raw_tcp_write(conn, "C", 1, 0) != 1) s->bad++;
  if (inc_raw_tcp_close(conn) != 0) s->bad++;
  s->consumer_got++;
  return 1;
}

TEST(ApiFilter, TcpAcceptConsumerOnRawApiListeners_OwnsTheConnectionThroughTheRawApi) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  RawSrv srv;
  static const inc_raw_tcp_ops listener_ops = {raw_listener_accept, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  inc_raw_conn* ls[kWorkers] = {};
  ASSERT_EQ(inc_raw_tcp_listen_all(p.a, p.ea, nullptr, 7100, 0, &listener_ops, &srv, ls), 0);
  Filter c(INC_FILTER_TCP_ACCEPT, INC_FILTER_CONSUME, &srv);
  c.c.tcp = raw_consume;
  c.dport.push_back({7100, 0xffff});
  c.sport.push_back({1, 1});
  ASSERT_EQ(c.install(p.a), 0);

  const unsigned n = 24;
  std::vector<afo_client> cl(n);
  uint8_t dst[16] = {};
  uint32_t be = htonl(kA);
  std::memcpy(dst, &be, 4);
  for (unsigned i = 0; i < n; i++) {
    ASSERT_EQ(on_worker(p.eb, i % kWorkers, [&](inc_worker* wk) { return afo_connect(wk, 4, dst, 7100, &cl[i]); }),
              0);
  }
  ASSERT_TRUE(wait_for([&] {
    for (auto& x : cl) {
      if (__atomic_load_n(&x.state, __ATOMIC_ACQUIRE) == 0) return false;
    }
    return true;
  }, 60000)) << "connections did not end";
  unsigned even = 0, odd1 = 0, odd3 = 0;
  for (auto& x : cl) {
    if ((x.lport & 1) == 0) {
      even++;
      EXPECT_EQ(x.state, 1);
      EXPECT_EQ(x.first, 'L') << "port " << x.lport;
    } else if (x.lport % 4 == 1) {
      odd1++;
      EXPECT_EQ(x.state, 1);
      EXPECT_EQ(x.first, 'C') << "port " << x.lport;
    } else {
      odd3++;
      EXPECT_EQ(x.state, 2) << "port " << x.lport << ": the consumer reset it";
      EXPECT_EQ(x.first, -1);
    }
  }
  EXPECT_GT(even, 0u);
  EXPECT_GT(odd1 + odd3, 0u);
  EXPECT_EQ(srv.bad.load(), 0u);
  EXPECT_EQ(srv.listener_got.load(), even);
  EXPECT_EQ(srv.consumer_got.load(), odd1);
  EXPECT_EQ(srv.aborted.load(), odd3);
  EXPECT_EQ(c.remove(), 0);
  EXPECT_EQ(inc_raw_tcp_close_all(p.a, p.ea, ls), 0);
}

// Installs and removes filters while datagrams flow: once remove returns, the
// callback never runs again (its argument is freed at once: ASan would see a
// late call), and nothing leaks.
TEST(ApiFilter, RemoveUnderTraffic_NoCallbackAfterRemoveReturns) {
  Pair p;
  ASSERT_EQ(p.start(), "");
  Sink c_sink(p, kPortC), other(p, kPortOther);
  ASSERT_EQ(warm_up(p, other, false), "");
  std::atomic<bool> stop{false};
  std::atomic<int> send_err{0};
  std::thread traffic([&] {
    uint32_t id = 0;
    inc_chan_app* ep = nullptr;  // an endpoint belongs to one thread
    if (inc_stack_endpoint_attach(p.b, &ep) != 0) {
      send_err = -1;
      return;
    }
    while (!stop.load()) {
      for (unsigned w = 0; w < kWorkers; w++) {
        int rc = on_worker(ep, w, [&](inc_worker* wk) {
          for (int i = 0; i < 8; i++) {
            afo_dgram d = dgram4(id++ % 2000, static_cast<uint16_t>(41000 + i), i % 2 ? kPortOther : kPortC, 200);
            int r = afo_send(wk, &d);
            if (r != 0 && r != -ENOMEM) return r;
          }
          return 0;
        });
        if (rc != 0) send_err = rc;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    inc_stack_endpoint_detach(ep);
  });
  uint64_t calls = 0;
  int rounds = 0;
  for (; rounds < 400 && (rounds < 30 || calls == 0); rounds++) {
    Rec* cons = new Rec();
    Rec* mon = new Rec();
    inc_filter_port dp{kPortC, 0xffff};
    inc_filter_config cc{};
    cc.kind = INC_FILTER_UDP;
    cc.mode = rounds % 2 ? INC_FILTER_CONSUME_EXCLUSIVE : INC_FILTER_CONSUME;
    cc.dport = &dp;
    cc.n_dport = 1;
    cc.udp = udp_rec;
    cc.arg = cons;
    inc_filter_config mc{};
    mc.kind = INC_FILTER_UDP;
    mc.mode = INC_FILTER_MONITOR;
    mc.udp = udp_rec;
    mc.arg = mon;
    inc_filter *fc = nullptr, *fm = nullptr;
    ASSERT_EQ(inc_filter_install(p.a, &cc, &fc), 0);
    ASSERT_EQ(inc_filter_install(p.a, &mc, &fm), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(rounds % 5));
    inc_filter_counters last_c{}, last_m{};
    ASSERT_EQ(inc_filter_remove(fc, &last_c), 0);
    cons->removed = true;
    ASSERT_EQ(inc_filter_remove(fm, &last_m), 0);
    mon->removed = true;
    EXPECT_EQ(last_c.consumed, cons->n.load()) << "final counters agree with the calls";
    EXPECT_EQ(last_m.monitored, mon->n.load());
    EXPECT_EQ(cons->bad.load() + mon->bad.load(), 0u);
    calls += cons->n.load() + mon->n.load();
    delete cons;  // a late call would touch freed memory
    delete mon;
  }
  stop = true;
  traffic.join();
  EXPECT_EQ(send_err.load(), 0);
  EXPECT_EQ(g_late_calls.load(), 0u) << "a callback ran after its remove returned";
  EXPECT_GT(calls, 0u) << "no callback ran in " << rounds << " rounds: the test proved nothing";
}

}  // namespace
