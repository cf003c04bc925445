// Test support for stack/ tests: the EAL (once per test process, with up to
// 16 worker lcores on the machine's cores), a running Inception stack with
// sxfer transfers on its workers, and pool accounting.
#ifndef INC_TEST_STACK_ENV_H
#define INC_TEST_STACK_ENV_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inception/port.h"
#include "inception/stack.h"
#include "inception/wire.h"
#include "sxfer.h"

namespace stacktest {

constexpr unsigned kMaxLcores = 17;  // the main lcore + 16 workers

void eal_init_once();

struct Side {
  inc_stack* stack = nullptr;
  sxfer* x = nullptr;
  void* mem = nullptr;
  std::vector<unsigned> lcores;
  // If set, may wrap the workers' callbacks before the stack starts.
  std::function<void(inc_stack_callbacks&)> wrap;
  // If set, may change the stack's configuration and the transfers' (e.g.
  // IPv6 addresses and peer) before the stack starts.
  std::function<void(inc_stack_config&, sxfer_params&)> tune;

  // Starts a stack of `workers` on lcores first_lcore.. serving `port` as
  // ip/24 (host order), each worker opening conns_per_worker transfers of
  // `bytes` to peer:5001 and accepting transfers on 5001.
  std::string start(inc_port* port, unsigned workers, unsigned first_lcore, uint32_t ip, uint32_t peer,
                    unsigned conns_per_worker, uint32_t bytes, uint32_t id_base, unsigned ring_size = 0);
  void stop();
  ~Side();
};

// mbufs of a port's pools that are not back (RX and TX pools, clones).
unsigned pool_in_use(const inc_port& p);

// Frees what is still in a software wire's rings (frames in flight when the
// stacks stopped).
void drain_wire(inc_wire* w);

// "name: field value ..." of a stack's counters, for failure messages.
std::string describe(const char* name, const inc_stack_counters& c);

}  // namespace stacktest

#endif
