// Test support for drivers/ tests: the EAL (once per test process), worker
// threads that each own an lwIP instance, and lock-step execution.
#ifndef INC_TEST_DRV_ENV_H
#define INC_TEST_DRV_ENV_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "drv_util.h"
#include "inc_lwip_instance.h"

namespace drvtest {

// Starts the EAL with Inception's defaults plus a private file prefix and
// the oversubscribed lcore map (0-3)@(0,1). Aborts the test program if the
// EAL cannot start (every test of the binary needs it).
void eal_init_once();

// A thread with its own lwIP instance. call() runs a function on it and
// waits; in lock-step use (only call()), every DPDK and lwIP operation of
// all workers is ordered by the caller's mutex hand-off, which ThreadSanitizer
// sees (DPDK's own synchronisation is not instrumented). loop() instead runs a
// step function continuously until stop_loop().
class Worker {
 public:
  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Not while loop() runs.
  void call(const std::function<void()>& fn);
  void loop(const std::function<void()>& step);
  void stop_loop();
  inc_lwip_instance& instance() { return inst_; }

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool has_task_ = false, done_ = false, quit_ = false;
  std::function<void()> step_;
  std::atomic<bool> looping_{false};
  inc_lwip_instance inst_{};
  std::thread th_;  // last: starts after every other member exists
};

}  // namespace drvtest

#endif
