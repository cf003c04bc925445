#include "drv_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "inception/eal.h"

namespace drvtest {

void eal_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::string prefix = "--file-prefix=incdrv" + std::to_string(getpid());
    std::vector<const char*> args = {"--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
                                     "--no-telemetry", prefix.c_str(), "--log-level=user1,info"};
    inc_eal_config cfg{};
    cfg.args = args.data();
    cfg.n_args = (int)args.size();
    cfg.lcores = "(0-3)@(0,1)";
    cfg.prog_name = "drivers_test";
    inc_drv_err err{};
    if (inc_eal_init(&cfg, &err) != 0) {
      fprintf(stderr, "EAL: %s\n", err.msg);
      abort();
    }
    // the EAL's runtime directory of this process goes at exit
    atexit([] {
      inc_eal_cleanup();
      std::string dir = "/var/run/dpdk/incdrv" + std::to_string(getpid());
      std::string cmd = "rm -rf '" + dir + "'";
      if (system(cmd.c_str()) != 0) {
        fprintf(stderr, "could not remove %s\n", dir.c_str());
      }
    });
  });
}

Worker::Worker() {
  th_ = std::thread([this] { run(); });
  call([this] {
    if (inc_lwip_instance_init(&inst_) != 0) {
      abort();
    }
  });
}

Worker::~Worker() {
  stop_loop();
  {
    std::lock_guard<std::mutex> g(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  th_.join();
}

void Worker::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return has_task_ || quit_ || looping_.load(); });
    if (has_task_) {
      auto fn = task_;
      lk.unlock();
      fn();
      lk.lock();
      has_task_ = false;
      done_ = true;
      cv_.notify_all();
      continue;
    }
    if (looping_.load()) {
      auto step = step_;
      lk.unlock();
      while (looping_.load(std::memory_order_acquire)) {
        step();
      }
      lk.lock();
      done_ = true;
      cv_.notify_all();
      continue;
    }
    if (quit_) {
      return;
    }
  }
}

void Worker::call(const std::function<void()>& fn) {
  std::unique_lock<std::mutex> lk(mu_);
  task_ = fn;
  has_task_ = true;
  done_ = false;
  cv_.notify_all();
  cv_.wait(lk, [this] { return done_; });
}

void Worker::loop(const std::function<void()>& step) {
  std::lock_guard<std::mutex> g(mu_);
  step_ = step;
  done_ = false;
  looping_.store(true, std::memory_order_release);
  cv_.notify_all();
}

void Worker::stop_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!looping_.load()) {
    return;
  }
  looping_.store(false, std::memory_order_release);
  cv_.wait(lk, [this] { return done_; });
}

}  // namespace drvtest
