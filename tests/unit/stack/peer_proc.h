// A Linux peer process (linux_peer.c) run in a test's network namespace
// with `ip netns exec`, its standard output piped back (test support). The
// including test defines INC_LINUX_PEER, the path of linux_peer.
#ifndef INC_TEST_PEER_PROC_H
#define INC_TEST_PEER_PROC_H

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "netns.h"

extern char** environ;

namespace stacktest {

struct Peer {
  pid_t pid = -1;
  int out = -1;
  // Starts `linux_peer args...` in the namespace. Returns "" or an error.
  std::string start(const drvtest::TapNs& ns, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", ns.ns, INC_LINUX_PEER};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return "pipe";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawnp(&pid, "ip", &fa, nullptr, a.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out = fds[0];
    return rc == 0 ? "" : "posix_spawn";
  }
  // Its stdout up to the first newline ("ready" for a server).
  std::string first_line() {
    std::string s;
    char ch;
    while (read(out, &ch, 1) == 1 && ch != '\n') s += ch;
    return s;
  }
  // Its exit status, or -1 if it had to be killed after timeout_s.
  int wait(int timeout_s) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int st = 0;
    while (waitpid(pid, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        pid = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  ~Peer() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out >= 0) close(out);
  }
};

}  // namespace stacktest

#endif
