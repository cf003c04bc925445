// The per-core runtime's edges (issue: per-core stack runtime): application
// threads calling into workers (MPSC lanes, completions, eventfd), a packet
// that reaches its owner after the flow closed, a SYN flood while established
// connections transfer, and restarting a stack on the same lcores.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "inception/netif_counters.h"
#include "inception/stack_call.h"
#include "stack_env.h"
#include "stack_ops.h"
#include "sxfer.h"
#include "wire_pair.h"

namespace {

using stacktest::Side;

constexpr uint32_t kA = 0xc6120001u, kB = 0xc6120002u;  // 198.18.0.1, .2

std::string wire_name() {
  static int n = 0;
  return "lc" + std::to_string(getpid() % 10000) + "_" + std::to_string(n++);
}

// A stack on one end of a wire, nothing on the other, no workload.
struct Lone {
  drvtest::WirePair wp;
  inc_stack* s = nullptr;
  void* mem = nullptr;
  unsigned lcores[4] = {1, 2, 3, 4};
  std::string start(unsigned workers) {
    drvtest::WireOpts wo;
    wo.qa = wo.qb = static_cast<uint16_t>(workers);
    std::string e = wp.create(wire_name(), wo);
    if (!e.empty()) return e;
    inc_stack_config cfg{};
    cfg.workers = workers;
    cfg.lcores = lcores;
    cfg.n_ports = 1;
    cfg.ports[0].port = &wp.a;
    cfg.ports[0].ip4_addr = htonl(kA);
    cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
    cfg.idle = INC_STACK_IDLE_SLEEP;  // idle stack: sleep, do not spin
    cfg.app_endpoints = 2;
    size_t len = inc_stack_footprint(&cfg);
    if (len == 0 || posix_memalign(&mem, 64, len) != 0) return "memory";
    int rc = inc_stack_start(&s, mem, len, &cfg);
    return rc == 0 ? "" : "start " + std::to_string(rc);
  }
  ~Lone() {
    if (s != nullptr) inc_stack_stop(s);
    stacktest::drain_wire(&wp.w);
    EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u) << "mbufs not back after stop";
    free(mem);
  }
};

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

TEST(StackLifecycle, AppThreadCalls_RunOnTheWorkerAsked_AndWakeTheCallerByEventfd) {
  stacktest::eal_init_once();
  Lone l;
  ASSERT_EQ(l.start(4), "");
  inc_chan_app* ep = nullptr;
  ASSERT_EQ(inc_stack_endpoint_attach(l.s, &ep), 0);
  for (unsigned w = 0; w < 4; w++) {
    int rc = on_worker(ep, w, [](inc_worker* wk) {
      // the worker that runs it, with its own lwIP instance
      return inc_worker_self() == wk ? 100 + static_cast<int>(inc_worker_index(wk)) : -1;
    });
    EXPECT_EQ(rc, 100 + static_cast<int>(w));
  }
  // non-blocking form: post, sleep in poll(2) on the eventfd, reap
  inc_stack_call call{};
  call.fn = [](inc_worker* wk, void*) { return static_cast<int>(inc_worker_index(wk)); };
  ASSERT_EQ(inc_stack_endpoint_arm(ep), 0);
  ASSERT_EQ(inc_stack_call_post(ep, 2, &call), 0);
  pollfd pfd{inc_stack_endpoint_fd(ep), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "the completion did not wake the eventfd";
  EXPECT_EQ(inc_stack_call_reap(ep), 1);
  EXPECT_TRUE(call.done);
  EXPECT_EQ(call.status, 2);
  EXPECT_EQ(inc_stack_endpoint_detach(ep), 0);
  inc_stack_counters c{};
  inc_stack_counters_total(l.s, &c);
  EXPECT_EQ(c.commands, 5u);
}

TEST(StackLifecycle, PacketInFlightToAFlowThatClosed_GetsLwipsAnswerAndLeaksNothing) {
  stacktest::eal_init_once();
  Lone l;
  ASSERT_EQ(l.start(4), "");
  inc_chan_app* ep = nullptr;
  ASSERT_EQ(inc_stack_endpoint_attach(l.s, &ep), 0);
  tcp_pcb* pcb = nullptr;
  uint16_t lport = 0;
  // worker 1 owns a connection (its SYN goes unanswered)
  ASSERT_EQ(on_worker(ep, 1, [&](inc_worker* w) { return ops_open_tracked(w, htonl(kB), 4444, &pcb, &lport); }), 0);
  EXPECT_EQ(on_worker(ep, 0, [&](inc_worker* w) { return ops_owner(w, htonl(kA), lport, htonl(kB), 4444); }), 1);
  inc_stack_counters before{};
  inc_stack_counters_get(l.s, 1, &before);
  // it closes; a segment of it that another core had already steered arrives
  ASSERT_EQ(on_worker(ep, 1, [&](inc_worker* w) { return ops_abort(w, pcb); }), 0);
  EXPECT_LT(on_worker(ep, 0, [&](inc_worker* w) { return ops_owner(w, htonl(kA), lport, htonl(kB), 4444); }), 0)
      << "the flow should have left the table with its pcb";
  ASSERT_EQ(on_worker(ep, 0, [&](inc_worker* w) { return ops_handoff_ack(w, 1, htonl(kA), lport, htonl(kB), 4444); }),
            0);
  // the owner took it in, found no pcb and no owner: lwIP's own answer
  inc_stack_counters after{};
  for (int i = 0; i < 500; i++) {
    inc_stack_counters_get(l.s, 1, &after);
    if (after.unowned > before.unowned) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(after.steered_in, before.steered_in + 1);
  EXPECT_EQ(after.unowned, before.unowned + 1);
  EXPECT_EQ(inc_stack_endpoint_detach(ep), 0);
  // ~Lone: every mbuf back after stop
}

TEST(StackLifecycle, NetifCounters_AreReadOnTheirWorker_WithoutLwipHeaders) {
  stacktest::eal_init_once();
  Lone l;
  ASSERT_EQ(l.start(2), "");
  inc_chan_app* ep = nullptr;
  ASSERT_EQ(inc_stack_endpoint_attach(l.s, &ep), 0);
  for (unsigned w = 0; w < 2; w++) {
    inc_netif_counters c{};
    // each netif announced itself (gratuitous ARP) when it came up
    EXPECT_EQ(on_worker(ep, w, [&](inc_worker* wk) { return inc_worker_netif_counters(wk, 0, &c); }), 0);
    EXPECT_GE(c.tx_packets, 1u) << "worker " << w;
    EXPECT_GE(c.tx_bytes, 42u) << "worker " << w;
    EXPECT_EQ(on_worker(ep, w, [&](inc_worker* wk) { return inc_worker_netif_counters(wk, 1, &c); }), -EINVAL)
        << "the stack has one port";
    EXPECT_EQ(on_worker(ep, w, [&](inc_worker* wk) { return inc_worker_netif_counters(wk, 0, nullptr); }), -EINVAL);
  }
  // another worker's, or from a thread that is not a worker: refused
  inc_worker* w1 = nullptr;
  ASSERT_EQ(on_worker(ep, 1,
                      [&](inc_worker* wk) {
                        w1 = wk;
                        return 0;
                      }),
            0);
  inc_netif_counters c{};
  EXPECT_EQ(on_worker(ep, 0, [&](inc_worker*) { return inc_worker_netif_counters(w1, 0, &c); }), -EPERM);
  EXPECT_EQ(inc_worker_netif_counters(w1, 0, &c), -EPERM);
  EXPECT_EQ(inc_stack_endpoint_detach(ep), 0);
}

TEST(StackLifecycle, RestartOnTheSameLcores_Works) {
  stacktest::eal_init_once();
  for (int round = 0; round < 3; round++) {
    Lone l;
    ASSERT_EQ(l.start(4), "") << "round " << round;
  }
}

// A flood generator on the client stack's workers, next to its transfers.
struct Flood {
  inc_stack_callbacks inner{};
  const sxfer* x = nullptr;  // the flood waits until its transfers are established
  uint64_t established = 0;
  uint8_t dst_mac[6]{};
  std::atomic<uint64_t> sent{0};
  uint64_t share = 0;    // SYNs per worker
  uint64_t mine[8]{};    // sent by each worker (its own slot only)
  uint64_t rng[8]{};
};

int flood_poll(inc_worker* w, void* arg) {
  Flood* f = static_cast<Flood*>(arg);
  int work = f->inner.worker_poll(w, f->inner.arg);
  unsigned i = inc_worker_index(w);
  if (f->mine[i] < f->share && sxfer_out_connected(f->x) == f->established) {
    uint64_t left = f->share - f->mine[i];
    unsigned n = ops_syn_flood(w, f->dst_mac, htonl(kB), 5001, left < 16 ? (unsigned)left : 16, &f->rng[i]);
    f->mine[i] += n;
    f->sent.fetch_add(n, std::memory_order_relaxed);
    work = 1;
  }
  return work;
}
void flood_start(inc_worker* w, void* arg) {
  Flood* f = static_cast<Flood*>(arg);
  f->inner.worker_start(w, f->inner.arg);
}
void flood_stop(inc_worker* w, void* arg) {
  Flood* f = static_cast<Flood*>(arg);
  f->inner.worker_stop(w, f->inner.arg);
}

TEST(StackLifecycle, SynFloodOf100kSyns_EstablishedConnectionsKeepWorking) {
  stacktest::eal_init_once();
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  wo.qa = wo.qb = 4;
  ASSERT_EQ(wp.create(wire_name(), wo), "");
  const uint32_t xfer_bytes = 4u << 20;
  // server: B serves (and opens nothing)
  Side b;
  ASSERT_EQ(b.start(&wp.b, 4, 5, kB, kA, 0, xfer_bytes, 0x06000000u), "");
  // client: A's 100 connections of 4 MiB each; once they are established,
  // the same workers send 100,000 SYNs from addresses B cannot even answer
  // (no route back), which fill B's backlogs and pcb pools with half-open
  // connections and crowd the wire while the transfers run
  Side a;
  Flood f;
  f.share = 100000 / 4;
  memcpy(f.dst_mac, wp.b.mac, 6);
  for (int i = 0; i < 8; i++) f.rng[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
  a.wrap = [&](inc_stack_callbacks& cb) {
    f.inner = cb;
    f.x = a.x;  // set before any worker runs
    cb.worker_start = flood_start;
    cb.worker_poll = flood_poll;
    cb.worker_stop = flood_stop;
    cb.arg = &f;
  };
  const uint64_t total = 100;
  f.established = total;
  ASSERT_EQ(a.start(&wp.a, 4, 1, kA, kB, 25, xfer_bytes, 0x05000000u), "");
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while ((sxfer_out_complete(a.x) < total || sxfer_in_complete(b.x) < total || f.sent.load() < 100000) &&
         std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  inc_stack_counters cb{};
  inc_stack_counters_total(b.stack, &cb);
  a.stop();
  b.stop();
  stacktest::drain_wire(&wp.w);
  EXPECT_EQ(f.sent.load(), 100000u);
  // B saw the flood: every SYN met the no-connection check
  EXPECT_GE(cb.unowned, 100000u * 9 / 10) << stacktest::describe("B", cb);
  uint64_t out = 0, in = 0, bytes = 0;
  for (unsigned i = 0; i < 4; i++) {
    sxfer_result r{};
    sxfer_result_get(a.x, i, &r);
    EXPECT_EQ(r.errors, 0u);
    EXPECT_EQ(r.wrong_core, 0u);
    out += r.out_complete;
    sxfer_result_get(b.x, i, &r);
    EXPECT_EQ(r.errors, 0u);
    EXPECT_EQ(r.corrupt, 0u);
    EXPECT_EQ(r.wrong_core, 0u);
    in += r.in_complete;
    bytes += r.verified_bytes;
  }
  EXPECT_EQ(out, total);
  EXPECT_EQ(in, total);
  EXPECT_EQ(bytes, total * xfer_bytes);
  EXPECT_EQ(stacktest::pool_in_use(wp.a), 0u);
  EXPECT_EQ(stacktest::pool_in_use(wp.b), 0u);
  printf("%s\n", stacktest::describe("B", cb).c_str());
}

}  // namespace
