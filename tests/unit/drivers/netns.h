// A network namespace with a multi-queue tap device in it, for tests with
// Linux as the peer (root only). Names carry the process id, so concurrent
// runs do not collide; namespaces left by runs that died are removed first.
// Addresses: 198.18.<subnet>.1/24 on the Linux side.
#ifndef INC_TEST_NETNS_H
#define INC_TEST_NETNS_H

#include <string>

namespace drvtest {

class TapNs {
 public:
  TapNs() = default;
  TapNs(const TapNs&) = delete;
  TapNs& operator=(const TapNs&) = delete;
  ~TapNs() { destroy(); }

  // Creates the namespace and the tap (queues: multi_queue). "" or an error.
  std::string create(int subnet);
  // Moves the calling thread into the namespace / back. "" or an error.
  std::string enter();
  void leave();
  // Removes the tap and the namespace (also done by the destructor).
  void destroy();
  // "ip netns exec <ns> sh -c '<cmd>'"
  std::string in_ns(const std::string& cmd) const;

  std::string ns, tap;
  int subnet = 0;

 private:
  int saved_fd_ = -1;
  bool created_ = false;
};

// Removes namespaces of earlier runs whose process is gone.
void remove_stale_namespaces();

}  // namespace drvtest

#endif
