// Small helpers of the drivers tests that need neither DPDK nor lwIP.
#ifndef INC_TEST_DRV_UTIL_H
#define INC_TEST_DRV_UTIL_H

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace drvtest {

// Byte i of test stream `seed` (not periodic in any short period); the same
// function as tio_pattern() in tcpio.c.
inline uint8_t pattern(uint32_t seed, uint64_t i) {
  uint64_t x = i * 0x9e3779b97f4a7c15ULL + seed * 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  return (uint8_t)(x ^ (x >> 17) ^ (i >> 13));
}

// Runs a shell command; returns its exit status (-1 if it did not exit).
inline int sh(const std::string& cmd) {
  int rc = system(cmd.c_str());
  if (rc == -1 || !WIFEXITED(rc)) {
    return -1;
  }
  return WEXITSTATUS(rc);
}

// Runs a shell command; returns what it wrote to standard output.
inline std::string sh_out(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    out.append(buf, n);
  }
  pclose(f);
  return out;
}

}  // namespace drvtest

#endif
