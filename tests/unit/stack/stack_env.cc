#include "stack_env.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "inception/eal.h"

namespace stacktest {

void eal_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    static std::string prefix = "--file-prefix=incstk" + std::to_string(getpid());
    static std::vector<const char*> args = {"--no-huge", "-m", "2048", "--no-pci", "--no-shconf",
                                            "--no-telemetry", prefix.c_str(), "--log-level=user1,warning"};
    inc_eal_config cfg{};
    cfg.args = args.data();
    cfg.n_args = static_cast<int>(args.size());
    cfg.lcores = "(0-16)@(0,1)";  // more lcores than cores: oversubscribed
    cfg.prog_name = "stack_test";
    inc_drv_err err{};
    if (inc_eal_init(&cfg, &err) != 0) {
      fprintf(stderr, "EAL: %s\n", err.msg);
      abort();
    }
    // release the EAL (and its run-time directory) when the test program ends
    atexit([] {
      inc_eal_cleanup();
      std::string dir = "/var/run/dpdk/incstk" + std::to_string(getpid());
      if (system(("rm -rf " + dir).c_str()) != 0) {
        fprintf(stderr, "could not remove %s\n", dir.c_str());
      }
    });
  });
}

std::string Side::start(inc_port* port, unsigned workers, unsigned first_lcore, uint32_t ip, uint32_t peer,
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
  cfg.app_endpoints = 4;
  sxfer_params sp{};
  sp.workers = workers;
  sp.peer_ip4 = htonl(peer);
  sp.port = 5001;
  sp.bytes = bytes;
  sp.out_per_worker = conns_per_worker;
  sp.open_batch = 8;
  sp.id_base = id_base;
  sp.tracked = 1;
  if (tune) {
    tune(cfg, sp);
  }
  x = sxfer_new(&sp, &cfg.cb);
  if (x == nullptr) {
    return "sxfer_new";
  }
  if (wrap) {
    wrap(cfg.cb);
  }
  size_t len = inc_stack_footprint(&cfg);
  if (len == 0 || posix_memalign(&mem, 64, len) != 0) {
    return "stack memory";
  }
  int rc = inc_stack_start(&stack, mem, len, &cfg);
  if (rc != 0) {
    stack = nullptr;
    return "inc_stack_start: " + std::to_string(rc);
  }
  return "";
}

void Side::stop() {
  if (stack != nullptr) {
    inc_stack_stop(stack);
    stack = nullptr;
  }
}

Side::~Side() {
  stop();
  sxfer_free(x);
  free(mem);
}

unsigned pool_in_use(const inc_port& p) {
  unsigned n = 0;
  for (unsigned q = 0; q < p.n_queues; q++) {
    n += rte_mempool_in_use_count(p.q[q].pool) + rte_mempool_in_use_count(p.q[q].clones);
    if (p.q[q].large != nullptr) {
      n += rte_mempool_in_use_count(p.q[q].large);
    }
  }
  return n;
}

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

std::string describe(const char* name, const inc_stack_counters& c) {
  char buf[512];
  snprintf(buf, sizeof(buf),
           "%s: in %llu out %llu steered out %llu in %llu (icmp %llu) unowned %llu flows %llu ring_full %llu "
           "drops malformed %llu ring %llu unrestorable %llu input %llu arp shared %llu suppressed %llu",
           name, (unsigned long long)c.pkts_in, (unsigned long long)c.pkts_out,
           (unsigned long long)c.steered_out, (unsigned long long)c.steered_in,
           (unsigned long long)c.steered_icmp, (unsigned long long)c.unowned,
           (unsigned long long)c.flows_opened, (unsigned long long)c.ring_full,
           (unsigned long long)c.drops[INC_DROP_MALFORMED], (unsigned long long)c.drops[INC_DROP_RING_FULL],
           (unsigned long long)c.drops[INC_DROP_UNRESTORABLE], (unsigned long long)c.drops[INC_DROP_INPUT],
           (unsigned long long)c.arp_shared_out, (unsigned long long)c.arp_suppressed);
  return buf;
}

}  // namespace stacktest
