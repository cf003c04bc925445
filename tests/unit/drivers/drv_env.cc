#include "drv_env.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <vector>

#include "inception/eal.h"

namespace drvtest {

// EAL runtime directories (and memif sockets) of earlier test processes
// that died before cleaning up.
static void remove_stale_runtime_dirs() {
  for (const char* prefix : {"incdrv", "incmp", "inceal"}) {
    std::string list = sh_out(std::string("ls -d /var/run/dpdk/") + prefix + "* 2>/dev/null");
    size_t at = 0;
    while (at < list.size()) {
      size_t nl = list.find('\n', at);
      std::string dir = list.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      at = nl == std::string::npos ? list.size() : nl + 1;
      long pid = atol(dir.c_str() + strlen("/var/run/dpdk/") + strlen(prefix));
      if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        sh("rm -rf '" + dir + "'");
      }
    }
  }
}

void eal_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    remove_stale_runtime_dirs();
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
