// The per-core runtime and steering (issue: per-core stack runtime): two
// Inception stacks, each with W workers, joined by the software RSS wire.
// Both serve and both connect: every byte verified, every connection's
// callbacks on its owner core, steering counted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "inception/eal.h"
#include "inception/stack.h"
#include "sxfer.h"
#include "wire_pair.h"

namespace {

constexpr unsigned kMaxLcores = 17;  // 2 stacks x 8 workers + the main lcore

void eal_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::string prefix = "--file-prefix=incstk" + std::to_string(getpid());
    std::vector<const char*> args = {"--no-huge", "-m", "2048", "--no-pci", "--no-shconf",
                                     "--no-telemetry", prefix.c_str(), "--log-level=user1,warning"};
    inc_eal_config cfg{};
    cfg.args = args.data();
    cfg.n_args = static_cast<int>(args.size());
    cfg.lcores = "(0-16)@(0,1)";
    cfg.prog_name = "stack_steering_test";
    inc_drv_err err{};
    if (inc_eal_init(&cfg, &err) != 0) {
      fprintf(stderr, "EAL: %s\n", err.msg);
      abort();
    }
  });
}

struct Aligned {
  void* p = nullptr;
  explicit Aligned(size_t n) {
    if (posix_memalign(&p, 64, n) != 0) {
      p = nullptr;
    }
  }
  ~Aligned() { free(p); }
};

// One stack on one end of the wire.
struct Side {
  inc_stack* stack = nullptr;
  sxfer* x = nullptr;
  std::unique_ptr<Aligned> mem;
  std::vector<unsigned> lcores;

  std::string start(inc_port* port, unsigned workers, unsigned first_lcore, uint32_t ip, uint32_t peer,
                    unsigned conns_per_worker, uint32_t bytes, uint32_t id_base, unsigned ring_size) {
    inc_stack_config cfg{};
    cfg.workers = workers;
    for (unsigned i = 0; i < workers; i++) {
      lcores.push_back(first_lcore + i);
    }
    cfg.lcores = lcores.data();
    cfg.n_ports = 1;
    cfg.ports[0].port = port;
    cfg.ports[0].ip4_addr = htonl(ip);
    cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
    cfg.idle = INC_STACK_IDLE_YIELD;  // more workers than cores
    cfg.ring_size = ring_size;
    sxfer_params sp{};
    sp.workers = workers;
    sp.peer_ip4 = htonl(peer);
    sp.port = 5001;
    sp.bytes = bytes;
    sp.out_per_worker = conns_per_worker;
    sp.open_batch = 8;
    sp.id_base = id_base;
    sp.tracked = 1;
    x = sxfer_new(&sp, &cfg.cb);
    if (x == nullptr) {
      return "sxfer_new";
    }
    size_t len = inc_stack_footprint(&cfg);
    if (len == 0) {
      return "footprint";
    }
    mem = std::make_unique<Aligned>(len);
    int rc = inc_stack_start(&stack, mem->p, len, &cfg);
    if (rc != 0) {
      stack = nullptr;
      return "inc_stack_start: " + std::to_string(rc);
    }
    return "";
  }

  void stop() {
    if (stack != nullptr) {
      inc_stack_stop(stack);
      stack = nullptr;
    }
  }
  ~Side() {
    stop();
    sxfer_free(x);
  }
};

struct Params {
  unsigned workers;
  unsigned conns_per_side;  // connections each side opens
  uint32_t bytes;
  bool mis_hash;            // the wire hashes with another key than the ports announce
  unsigned ring_size;
};

std::string Name(const ::testing::TestParamInfo<Params>& pi) {
  const Params& p = pi.param;
  return std::to_string(p.workers) + "workers_" + std::to_string(p.conns_per_side) + "connsEachWay" +
         (p.mis_hash ? "_MisHashed" : "") + (p.ring_size ? "_Ring" + std::to_string(p.ring_size) : "");
}

// Frames still in the wire's rings when the stacks stop belong to nobody.
void drain_wire(inc_wire* w) {
  for (auto& dir : w->rings) {
    for (rte_ring* r : dir) {
      void* m;
      while (r != nullptr && rte_ring_dequeue(r, &m) == 0) {
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
    }
  }
}

unsigned pool_in_use(const inc_port& p) {
  unsigned n = 0;
  for (unsigned q = 0; q < p.n_queues; q++) {
    n += rte_mempool_in_use_count(p.q[q].pool) + rte_mempool_in_use_count(p.q[q].clones);
  }
  return n;
}

class StackSteering : public ::testing::TestWithParam<Params> {};

TEST_P(StackSteering, BothSidesServeAndConnect_EveryByteVerifiedOnOwnerCores) {
  const Params prm = GetParam();
  eal_once();
  ASSERT_LE(2 * prm.workers + 1, kMaxLcores);
  static unsigned serial = 0;
  drvtest::WirePair wp;
  drvtest::WireOpts wo;
  wo.qa = wo.qb = static_cast<uint16_t>(prm.workers);
  wo.mbufs = 4095;
  wo.clones = 4095;
  std::string err = wp.create("stk" + std::to_string(getpid() % 1000) + "_" + std::to_string(serial++), wo);
  ASSERT_EQ(err, "");
  if (prm.mis_hash) {
    // The wire delivers by a key the ports do not announce: the stacks choose
    // ports (and expect SYNs) by one hash, the "NIC" spreads by another, as
    // the kernel does behind a tap device. Everything must be steered.
    for (auto& conf : wp.w.peer) {
      for (unsigned i = 0; i < sizeof(conf.key); i++) {
        conf.key[i] = static_cast<uint8_t>(conf.key[i] * 7 + 1);
      }
    }
  }
  const unsigned per_worker = prm.conns_per_side / prm.workers;
  Side a, b;
  ASSERT_EQ(a.start(&wp.a, prm.workers, 1, 0xc6120001u, 0xc6120002u, per_worker, prm.bytes, 0x01000000u,
                    prm.ring_size), "");
  ASSERT_EQ(b.start(&wp.b, prm.workers, 1 + prm.workers, 0xc6120002u, 0xc6120001u, per_worker, prm.bytes,
                    0x02000000u, prm.ring_size), "");
  ASSERT_EQ(sxfer_failed_starts(a.x), 0u);
  ASSERT_EQ(sxfer_failed_starts(b.x), 0u);
  if (const char* cap = getenv("INC_TEST_CAPTURE")) {  // debugging aid: pcapng per queue
    inc_drv_err cerr{};
    inc_port_capture_start(&wp.a, INC_PORT_ALL_QUEUES, (std::string(cap) + "-A").c_str(), &cerr);
    inc_port_capture_start(&wp.b, INC_PORT_ALL_QUEUES, (std::string(cap) + "-B").c_str(), &cerr);
  }

  const uint64_t total = uint64_t{per_worker} * prm.workers;
  auto last_change = std::chrono::steady_clock::now();
  uint64_t last = 0;
  bool stalled = false;
  while (sxfer_out_complete(a.x) < total || sxfer_out_complete(b.x) < total ||
         sxfer_in_complete(a.x) < total || sxfer_in_complete(b.x) < total) {
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
  drain_wire(&wp.w);
  EXPECT_FALSE(stalled);

  for (Side* s : {&a, &b}) {
    uint64_t out = 0, in = 0, bytes = 0;
    for (unsigned i = 0; i < prm.workers; i++) {
      sxfer_result r{};
      sxfer_result_get(s->x, i, &r);
      SCOPED_TRACE((s == &a ? "A worker " : "B worker ") + std::to_string(i));
      EXPECT_EQ(r.errors, 0u);
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_EQ(r.wrong_core, 0u) << "a callback ran on a core that does not own its connection";
      EXPECT_EQ(r.wrong_peer, 0u);
      EXPECT_EQ(r.out_complete, per_worker);
      out += r.out_complete;
      in += r.in_complete;
      bytes += r.verified_bytes;
    }
    EXPECT_EQ(out, total);
    EXPECT_EQ(in, total);
    EXPECT_EQ(bytes, total * prm.bytes);
  }
  // flows: each side owned what it opened and what it accepted
  EXPECT_EQ(ca.flows_opened, 2 * total);
  EXPECT_EQ(cb.flows_opened, 2 * total);
  EXPECT_EQ(ca.drops[INC_DROP_MALFORMED] + cb.drops[INC_DROP_MALFORMED], 0u);
  if (prm.mis_hash) {
    EXPECT_GT(ca.steered_out + cb.steered_out, 0u);
    // what a core handed over, its owner took in (none was left in a ring)
    EXPECT_EQ(ca.steered_out, ca.steered_in);
    EXPECT_EQ(cb.steered_out, cb.steered_in);
  } else {
    // RSS delivered every packet to its owner: passive opens where the SYN
    // landed, active opens on ports whose replies hash home
    EXPECT_EQ(ca.steered_out + cb.steered_out, 0u);
  }
  if (prm.ring_size != 0) {
    EXPECT_GT(ca.ring_full + cb.ring_full, 0u) << "the test meant to fill a ring";
  }
  // every mbuf is back in its pool
  EXPECT_EQ(pool_in_use(wp.a), 0u);
  EXPECT_EQ(pool_in_use(wp.b), 0u);
  for (const inc_stack_counters* c : {&ca, &cb}) {
    printf("%s: unowned %llu in %llu out %llu steered out %llu in %llu icmp %llu flows %llu ring_full %llu drops %llu/%llu/%llu/%llu\n",
           c == &ca ? "A" : "B", (unsigned long long)c->unowned, (unsigned long long)c->pkts_in, (unsigned long long)c->pkts_out,
           (unsigned long long)c->steered_out, (unsigned long long)c->steered_in,
           (unsigned long long)c->steered_icmp, (unsigned long long)c->flows_opened,
           (unsigned long long)c->ring_full, (unsigned long long)c->drops[0], (unsigned long long)c->drops[1],
           (unsigned long long)c->drops[2], (unsigned long long)c->drops[3]);
  }
  printf("steered A %llu B %llu, ring full %llu, ARP shared %llu suppressed %llu\n",
         static_cast<unsigned long long>(ca.steered_out), static_cast<unsigned long long>(cb.steered_out),
         static_cast<unsigned long long>(ca.ring_full + cb.ring_full),
         static_cast<unsigned long long>(ca.arp_shared_out + cb.arp_shared_out),
         static_cast<unsigned long long>(ca.arp_suppressed + cb.arp_suppressed));
}

INSTANTIATE_TEST_SUITE_P(SoftwareWire, StackSteering,
                         ::testing::Values(Params{4, 1000, 16384, false, 0}, Params{8, 1000, 8192, false, 0},
                                           Params{4, 1000, 16384, true, 0}, Params{4, 200, 8192, true, 4}),
                         Name);

}  // namespace
