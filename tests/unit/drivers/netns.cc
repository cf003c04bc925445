#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "drv_util.h"

namespace drvtest {

static const char kPrefix[] = "incdrv";

void remove_stale_namespaces() {
  std::istringstream in(sh_out("ip netns list 2>/dev/null"));
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(kPrefix, 0) != 0) continue;
    long pid = atol(name.c_str() + sizeof(kPrefix) - 1);
    struct stat st;
    if (pid > 0 && stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0) {
      sh("ip netns del " + name + " 2>/dev/null");
    }
  }
}

std::string TapNs::create(int sub) {
  static int n;
  subnet = sub;
  ns = std::string(kPrefix) + std::to_string(getpid()) + "_" + std::to_string(n);
  tap = "it" + std::to_string(getpid() % 1000000) + "_" + std::to_string(n);  // at most 15 characters
  n++;
  if (sh("ip netns add " + ns) != 0) return "cannot create namespace " + ns + " (root needed)";
  created_ = true;
  std::string ip = "198.18." + std::to_string(subnet) + ".1/24";
  const std::string cmds[] = {
      "ip -n " + ns + " link set lo up",
      "ip -n " + ns + " tuntap add mode tap multi_queue name " + tap,
      "ip -n " + ns + " addr add " + ip + " dev " + tap,
      "ip -n " + ns + " link set " + tap + " up",
      // no IPv6 chatter (DAD, router solicitations) on the tap
      "ip netns exec " + ns + " sysctl -q -w net.ipv6.conf.all.disable_ipv6=1",
  };
  for (const auto& c : cmds) {
    if (sh(c) != 0) return "failed: " + c;
  }
  return "";
}

std::string TapNs::enter() {
  saved_fd_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (saved_fd_ < 0 || fd < 0) return std::string("open netns: ") + strerror(errno);
  int rc = setns(fd, CLONE_NEWNET);
  close(fd);
  return rc == 0 ? "" : std::string("setns: ") + strerror(errno);
}

void TapNs::leave() {
  if (saved_fd_ >= 0) {
    if (setns(saved_fd_, CLONE_NEWNET) != 0) {
      perror("setns back");
    }
    close(saved_fd_);
    saved_fd_ = -1;
  }
}

void TapNs::destroy() {
  leave();
  if (created_) {
    sh("ip -n " + ns + " tuntap del mode tap multi_queue name " + tap + " 2>/dev/null");
    sh("ip netns del " + ns);
    created_ = false;
  }
}

std::string TapNs::in_ns(const std::string& cmd) const {
  return "ip netns exec " + ns + " sh -c '" + cmd + "'";
}

}  // namespace drvtest
