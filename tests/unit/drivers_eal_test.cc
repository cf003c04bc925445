// EAL start-up (include/inception/eal.h). The EAL starts once per process,
// so each case runs in a child process that this (EAL-less) test forks; the
// child reports the return code and message through a pipe.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "inception/eal.h"

namespace {

struct Outcome {
  int rc = 1;
  std::string msg;
  int exit_status = -1;
};

// Runs fn in a child; fn returns (rc, message).
Outcome in_child(const std::function<std::pair<int, std::string>()>& fn) {
  int fd[2];
  Outcome o;
  if (pipe(fd) != 0) return o;
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    auto r = fn();
    std::string out = std::to_string(r.first) + "\n" + r.second;
    ssize_t w = write(fd[1], out.data(), out.size());
    (void)w;
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  std::string all;
  char buf[1024];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof(buf))) > 0) all.append(buf, (size_t)n);
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  o.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  size_t nl = all.find('\n');
  if (nl != std::string::npos) {
    o.rc = std::stoi(all.substr(0, nl));
    o.msg = all.substr(nl + 1);
  }
  return o;
}

// The EAL runtime directory of every child goes with the test.
const pid_t kParent = getpid();
std::string prefix_arg() { return "--file-prefix=inceal" + std::to_string(kParent); }
class Cleanup : public ::testing::Environment {
  void TearDown() override {
    std::string cmd = "rm -rf /var/run/dpdk/inceal" + std::to_string(kParent);
    EXPECT_EQ(system(cmd.c_str()), 0);
  }
};
::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

std::pair<int, std::string> init_with(std::vector<std::string> args, const char* lcores = nullptr) {
  std::vector<const char*> a;
  for (auto& s : args) a.push_back(s.c_str());
  inc_eal_config cfg{};
  cfg.args = a.data();
  cfg.n_args = (int)a.size();
  cfg.lcores = lcores;
  inc_drv_err err{};
  int rc = inc_eal_init(&cfg, &err);
  return {rc, err.msg};
}

TEST(Eal, DefaultsStartWithoutHugepagesAndRunMoreLcoresThanCores) {
  Outcome o = in_child([] {
    inc_eal_config cfg{};  // no arguments: the documented defaults
    cfg.lcores = "(0-3)@(0,1)";
    inc_drv_err err{};
    int rc = inc_eal_init(&cfg, &err);
    std::string m = rc == 0 ? std::to_string(rte_lcore_count()) : std::string(err.msg);
    return std::make_pair(rc, m);
  });
  ASSERT_EQ(o.exit_status, 0);
  EXPECT_EQ(o.rc, 0) << o.msg;
  EXPECT_EQ(o.msg, "4");  // four lcores on two cores
}

TEST(Eal, UnknownArgumentNamesTheProblemAndTheFix) {
  Outcome o = in_child([] { return init_with({"--no-huge", "--no-such-option", prefix_arg()}); });
  ASSERT_EQ(o.exit_status, 0);
  EXPECT_EQ(o.rc, -EINVAL);
  EXPECT_NE(o.msg.find("rte_eal_init failed"), std::string::npos) << o.msg;
  EXPECT_NE(o.msg.find("--no-such-option"), std::string::npos) << o.msg;
  EXPECT_NE(o.msg.find("fix:"), std::string::npos) << o.msg;
  EXPECT_NE(o.msg.find("--no-huge -m 512"), std::string::npos) << o.msg;
}

TEST(Eal, ImpossibleLcoreMapIsRefusedWithAFix) {
  Outcome o = in_child([] {
    return init_with({"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", prefix_arg()},
                     "(0-3)@(57)");  // core 57 does not exist here
  });
  ASSERT_EQ(o.exit_status, 0);
  EXPECT_LT(o.rc, 0);
  EXPECT_NE(o.msg.find("--lcores=(0-3)@(57)"), std::string::npos) << o.msg;
  EXPECT_NE(o.msg.find("fix:"), std::string::npos) << o.msg;
}

TEST(Eal, SecondInitSaysItAlreadyRan) {
  Outcome o = in_child([] {
    auto first = init_with({"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", prefix_arg()});
    if (first.first != 0) return first;
    return init_with({"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", prefix_arg()});
  });
  ASSERT_EQ(o.exit_status, 0);
  EXPECT_EQ(o.rc, -EALREADY) << o.msg;
  EXPECT_NE(o.msg.find("once per process"), std::string::npos) << o.msg;
}

TEST(Eal, BadConfigIsRefusedBeforeDpdkSeesIt) {
  inc_drv_err err{};
  EXPECT_EQ(inc_eal_init(nullptr, &err), -EINVAL);
  inc_eal_config cfg{};
  cfg.n_args = 3;  // but no args
  EXPECT_EQ(inc_eal_init(&cfg, &err), -EINVAL);
  EXPECT_NE(std::string(err.msg).find("fix:"), std::string::npos) << err.msg;
  cfg.n_args = -1;
  EXPECT_EQ(inc_eal_init(&cfg, &err), -EINVAL);
}

}  // namespace
