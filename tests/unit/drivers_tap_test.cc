// Linux as a real peer (issue 4, item 4): the tap PMD on a multi-queue tap
// made beforehand in a network namespace this test creates (198.18.0.0/15
// only) and removes. Two workers, one per tap queue; the kernel's tun hash
// picks the queue of each flow. ARP, ICMP echo and TCP both ways with every
// byte verified, once with everything the PMD offloads and once with each
// offload forced off (its software fallback does the work); capture files
// per queue, switched at run time, counted by tshark. Needs root.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drv_env.h"
#include "inception/netif.h"
#include "inception/port.h"
#include "netns.h"
#include "tcpio.h"
#include "wire_pair.h"
#include "zc_peer.h"

namespace {

class Eal : public ::testing::Environment {
  void SetUp() override {
    drvtest::remove_stale_namespaces();
    drvtest::eal_init_once();
  }
};
::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

std::string mac_str(const uint8_t* m) {
  char b[32];
  snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

std::string tmpfile(const std::string& tag) {
  return "/tmp/inc-tap-" + std::to_string(getpid()) + "-" + tag;
}

void write_pattern(const std::string& path, uint32_t seed, uint64_t n) {
  std::vector<char> buf(n);
  for (uint64_t i = 0; i < n; i++) buf[i] = (char)drvtest::pattern(seed, i);
  std::ofstream(path, std::ios::binary).write(buf.data(), (std::streamsize)n);
}

// Bytes of the file that differ from pattern(seed); -1 if its size is wrong.
long long pattern_mismatch(const std::string& path, uint32_t seed, uint64_t n) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (got.size() != n) return -1;
  long long bad = 0;
  for (uint64_t i = 0; i < n; i++) bad += (uint8_t)got[i] != drvtest::pattern(seed, i);
  return bad;
}

constexpr int kQueues = 2;

// A tap port in its own namespace, with one worker and netif per queue.
class Tap : public ::testing::Test {
 protected:
  std::string up(uint32_t offload_want, uint32_t offload_deny) {
    static int subnet = 10;
    subnet_ = subnet++;
    std::string e = ns.create(subnet_);
    if (!e.empty()) return e;
    e = ns.enter();  // the tap's queues are opened in its namespace
    if (!e.empty()) return e;
    inc_port_config c{};
    std::string dev = "net_tap_" + std::to_string(getpid()) + "_" + std::to_string(subnet_) + ",iface=" + ns.tap;
    c.devargs = dev.c_str();
    c.n_queues = kQueues;
    c.offload_want = offload_want;
    c.offload_deny = offload_deny;
    c.mbufs = 8191;
    c.socket_id = -1;
    inc_drv_err err{};
    int rc = inc_port_init(&port, &c, &err);
    if (rc == 0) rc = inc_port_start(&port, &err);
    ns.leave();
    if (rc != 0) return err.msg;
    port_up = true;
    for (int q = 0; q < kQueues; q++) {
      w[q].call([&, q] {
        nif[q] = drvtest::make_netif(&port, (uint16_t)q, ip(2));
        tio_init(&sink[q], 0);
        tio_init(&src[q], 1);
      });
      if (!nif[q]) return "netif";
    }
    return "";
  }
  void TearDown() override {
    // this test's files (capture files, transfer files), passed or not
    drvtest::sh("rm -f /tmp/inc-tap-" + std::to_string(getpid()) + "-*");
    stop();
    for (int q = 0; q < kQueues; q++) {
      if (nif[q]) {
        w[q].call([&, q] {
          tio_stop(&sink[q]);
          tio_stop(&src[q]);
          zc_tcp_abort_all();  // closing connections still hold their FIN segments
          inc_netif_fini(nif[q].get());
        });
      }
    }
    if (port_up) {
      // every mbuf is back: nothing leaked by lwIP, the PMD or the driver
      EXPECT_EQ(inc_port_close(&port), 0);
    }
    ns.destroy();
  }
  uint32_t ip(int host) const { return 0xc6120000u | ((uint32_t)subnet_ << 8) | (uint32_t)host; }
  std::string ip_str(int host) const { return "198.18." + std::to_string(subnet_) + "." + std::to_string(host); }
  // Workers poll freely; an idle worker naps 50 µs so that two of them, the
  // kernel's side and the Linux tools share two cores (and a sanitizer's
  // slowdown) without starving each other. Progress is published for the
  // test thread, which must not read a running worker's state.
  void run() {
    for (int q = 0; q < kQueues; q++) {
      w[q].loop([this, q] {
        unsigned n = drvtest::poll_once(nif[q].get());
        tio_poll(&src[q]);
        sinks_done[q].store(sink[q].sinks_complete, std::memory_order_release);
        if (n == 0) usleep(50);
      });
    }
  }
  void stop() {
    for (auto& x : w) x.stop_loop();
  }
  inc_netif_counters sum() const {
    inc_netif_counters s{};
    for (int q = 0; q < kQueues; q++) {
      const uint64_t* a = reinterpret_cast<const uint64_t*>(&nif[q]->cnt);
      uint64_t* b = reinterpret_cast<uint64_t*>(&s);
      for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++) b[i] += a[i];
    }
    return s;
  }

  drvtest::TapNs ns;
  drvtest::Worker w[kQueues];
  inc_port port{};
  bool port_up = false;
  int subnet_ = 0;
  std::unique_ptr<inc_netif> nif[kQueues];
  tio sink[kQueues], src[kQueues];
  std::atomic<unsigned> sinks_done[kQueues]{};
};

TEST_F(Tap, LinuxResolvesUsByArpAndGetsIcmpEchoReplies) {
  ASSERT_EQ(up(0, 0), "");
  run();
  int rc = drvtest::sh(ns.in_ns("ping -c 5 -i 0.2 -W 2 " + ip_str(2) + " >/dev/null"));
  std::string neigh = drvtest::sh_out("ip -n " + ns.ns + " neigh show " + ip_str(2));
  stop();
  EXPECT_EQ(rc, 0) << "ping from Linux failed";
  EXPECT_NE(neigh.find(mac_str(port.mac)), std::string::npos) << "ARP: Linux has " << neigh;
  zc_lwip_stats st[kQueues];
  for (int q = 0; q < kQueues; q++) w[q].call([&, q] { zc_lwip_stats_get(&st[q]); });
  EXPECT_GE(st[0].icmp_xmit + st[1].icmp_xmit, 5u);
  EXPECT_GE(st[0].etharp_xmit + st[1].etharp_xmit, 1u);
  EXPECT_EQ(sum().rx_bad_l3 + sum().rx_bad_ip_cksum + sum().rx_bad_l4_cksum, 0u);
}

struct Variant {
  const char* name;
  uint32_t want, deny;
};

class TapTcp : public Tap, public ::testing::WithParamInterface<Variant> {};

// Linux sends four streams to us and reads two from us (nc); every byte is
// checked on both sides. Linux opens every connection: the reply to a
// connection we open may land on the other queue (the kernel's tun hash is
// not ours), which is steering's case (issue 5), not the driver's.
TEST_P(TapTcp, StreamsBothWaysArriveVerified) {
  const Variant v = GetParam();
  ASSERT_EQ(up(v.want, v.deny), "");
  const uint64_t in_bytes = 2u << 20, out_bytes = 3u << 20;
  const uint32_t in_seed = 31, out_seed = 32;
  std::string in_file = tmpfile(std::string(v.name) + "-in"), out_file = tmpfile(std::string(v.name) + "-out");
  write_pattern(in_file, in_seed, in_bytes);
  for (int q = 0; q < kQueues; q++) {
    w[q].call([&, q] {
      ASSERT_EQ(tio_listen(&sink[q], 5001, in_seed, in_bytes), 0);
      ASSERT_EQ(tio_listen_source(&src[q], 5002, out_seed, out_bytes), 0);
    });
  }
  run();
  int rc = drvtest::sh(ns.in_ns("for i in 1 2 3 4; do timeout 60 nc -N " + ip_str(2) + " 5001 < " + in_file +
                                " & done; for i in 1 2; do timeout 60 nc -d " + ip_str(2) + " 5002 > " + out_file +
                                "$i & done; wait"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         sinks_done[0].load(std::memory_order_acquire) + sinks_done[1].load(std::memory_order_acquire) < 4) {
    usleep(10000);
  }
  stop();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(sink[0].sinks_complete + sink[1].sinks_complete, 4u);
  EXPECT_EQ(sink[0].verified + sink[1].verified, 4 * in_bytes);
  EXPECT_EQ(sink[0].corrupt + sink[1].corrupt + sink[0].failures + sink[1].failures, 0u);
  EXPECT_EQ(src[0].sources_complete + src[1].sources_complete, 2u);
  EXPECT_EQ(src[0].failures + src[1].failures, 0u);
  for (int i = 1; i <= 2; i++) {
    std::string f = out_file + std::to_string(i);
    EXPECT_EQ(pattern_mismatch(f, out_seed, out_bytes), 0) << "what Linux received differs (" << f << ")";
    unlink(f.c_str());
  }
  unlink(in_file.c_str());

  inc_netif_counters c = sum();
  SCOPED_TRACE(v.name);
  EXPECT_EQ(c.rx_bad_ip_cksum + c.rx_bad_l4_cksum + c.rx_bad_l3, 0u);
  EXPECT_EQ(c.tx_payload_copied, 0u);
  const uint32_t hw = port.offloads.hw;
  // each capability is done where negotiation put it
  if (v.deny & INC_OFFLOAD_TX_TCP_CKSUM) {
    EXPECT_FALSE(hw & INC_OFFLOAD_TX_TCP_CKSUM);
    EXPECT_EQ(c.tx_cksum_hw, 0u);
    EXPECT_GT(c.tx_cksum_sw, 0u);
  } else {
    EXPECT_TRUE(hw & INC_OFFLOAD_TX_TCP_CKSUM);
    EXPECT_GT(c.tx_cksum_hw, 0u);
  }
  if (v.deny & INC_OFFLOAD_RX_TCP_CKSUM) {
    EXPECT_EQ(c.rx_cksum_hw, 0u);
    EXPECT_GT(c.rx_cksum_sw, 0u);
  } else {
    EXPECT_GT(c.rx_cksum_hw, 0u);
  }
  if (hw & INC_OFFLOAD_TSO) {
    EXPECT_GT(c.tx_tso, 0u);
    EXPECT_EQ(c.tx_gso, 0u);
  } else {
    EXPECT_EQ(c.tx_tso, 0u);
    EXPECT_GT(c.tx_gso, 0u);  // rte_gso made the MSS-sized segments
  }
  if (v.deny & INC_OFFLOAD_MULTI_SEGS) {
    EXPECT_GT(c.tx_linearized, 0u);
  } else {
    EXPECT_EQ(c.tx_linearized, 0u);
  }
  if (!(port.offloads.sw & INC_OFFLOAD_LRO)) {
    EXPECT_EQ(c.rx_gro_merged, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Offloads, TapTcp,
    ::testing::Values(Variant{"all_offloads", 0, 0},
                      Variant{"tx_cksum_in_software", 0, INC_OFFLOAD_TX_IPV4_CKSUM | INC_OFFLOAD_TX_TCP_CKSUM},
                      Variant{"rx_cksum_in_software", 0,
                              INC_OFFLOAD_RX_IPV4_CKSUM | INC_OFFLOAD_RX_TCP_CKSUM | INC_OFFLOAD_RX_UDP_CKSUM},
                      Variant{"tso_by_rte_gso", 0, INC_OFFLOAD_TSO},
                      Variant{"no_multi_segs_linearized", 0, INC_OFFLOAD_MULTI_SEGS},
                      Variant{"no_coalescing", INC_OFFLOAD_ALL & ~INC_OFFLOAD_LRO, 0},
                      Variant{"everything_in_software", 0, INC_OFFLOAD_ALL}),
    [](const ::testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

TEST_F(Tap, CaptureFilesPerQueueAndPerPortSwitchedAtRunTimeParseInTshark) {
  ASSERT_EQ(drvtest::sh("command -v tshark >/dev/null"), 0) << "tshark is needed";
  ASSERT_EQ(up(0, 0), "");
  std::string prefix = tmpfile("cap");
  auto file = [&](int q) { return prefix + "-p" + std::to_string(port.port_id) + "-q" + std::to_string(q) + ".pcapng"; };
  auto count = [&](int q, const std::string& filter) {
    std::string out = drvtest::sh_out("tshark -r " + file(q) + (filter.empty() ? "" : " -Y '" + filter + "'") +
                                      " -T fields -e frame.number 2>/dev/null | wc -l");
    return std::stoul(out);
  };
  // 1. one queue: queue 1 only. While its worker has not applied a switch,
  // another one is refused.
  stop();
  inc_drv_err err{};
  ASSERT_EQ(inc_port_capture_start(&port, 1, prefix.c_str(), &err), 0) << err.msg;
  EXPECT_EQ(inc_port_capture_start(&port, 1, prefix.c_str(), &err), -EBUSY);
  EXPECT_NE(std::string(err.msg).find("not applied yet"), std::string::npos) << err.msg;
  EXPECT_EQ(inc_port_capture_wait(&port, 1, 10), -ETIMEDOUT);
  EXPECT_EQ(inc_port_capture_start(&port, 2, prefix.c_str(), &err), -EINVAL);  // no queue 2
  run();
  ASSERT_EQ(inc_port_capture_wait(&port, 1, 5000), 0);
  EXPECT_EQ(drvtest::sh(ns.in_ns("ping -c 3 -i 0.2 -W 2 " + ip_str(2) + " >/dev/null")), 0);
  ASSERT_EQ(inc_port_capture_stop(&port, 1), 0);
  ASSERT_EQ(inc_port_capture_wait(&port, 1, 5000), 0);
  stop();
  EXPECT_NE(access(file(1).c_str(), F_OK), -1);
  EXPECT_EQ(access(file(0).c_str(), F_OK), -1) << "queue 0 was not asked to capture";
  EXPECT_EQ(count(1, ""), nif[1]->cnt.cap_written);
  EXPECT_EQ(nif[0]->cnt.cap_written, 0u);
  unlink(file(1).c_str());

  // 2. the whole port, then off again: nothing more is written
  const uint64_t base[kQueues] = {nif[0]->cnt.cap_written, nif[1]->cnt.cap_written};
  run();
  ASSERT_EQ(inc_port_capture_start(&port, INC_PORT_ALL_QUEUES, prefix.c_str(), &err), 0) << err.msg;
  ASSERT_EQ(inc_port_capture_wait(&port, INC_PORT_ALL_QUEUES, 5000), 0);
  EXPECT_EQ(drvtest::sh(ns.in_ns("ping -c 4 -i 0.2 -W 2 " + ip_str(2) + " >/dev/null")), 0);
  EXPECT_EQ(drvtest::sh(ns.in_ns("head -c 200000 /dev/zero | timeout 20 nc -N " + ip_str(2) + " 5003")), 1)
      << "nothing listens on 5003: the connection must be refused";
  ASSERT_EQ(inc_port_capture_stop(&port, INC_PORT_ALL_QUEUES), 0);
  ASSERT_EQ(inc_port_capture_wait(&port, INC_PORT_ALL_QUEUES, 5000), 0);
  uint64_t written[kQueues] = {nif[0]->cnt.cap_written, nif[1]->cnt.cap_written};
  EXPECT_EQ(drvtest::sh(ns.in_ns("ping -c 2 -i 0.2 -W 2 " + ip_str(2) + " >/dev/null")), 0);
  stop();
  unsigned long total = 0, echo_req = 0, echo_rep = 0, rst = 0;
  for (int q = 0; q < kQueues; q++) {
    SCOPED_TRACE(q);
    EXPECT_EQ(nif[q]->cnt.cap_written, written[q]) << "written after the capture was switched off";
    EXPECT_EQ(nif[q]->cnt.cap_errors, 0u);
    EXPECT_EQ(count(q, ""), written[q] - base[q]);
    total += count(q, "");
    echo_req += count(q, "icmp.type == 8 && frame.packet_flags_direction == 1");
    echo_rep += count(q, "icmp.type == 0 && frame.packet_flags_direction == 2");
    rst += count(q, "tcp.flags.reset == 1 && frame.packet_flags_direction == 2");
    unlink(file(q).c_str());
  }
  EXPECT_EQ(echo_req, 4u);
  EXPECT_EQ(echo_rep, 4u);
  EXPECT_GE(rst, 1u);
  EXPECT_GE(total, 4u + 4u + 2u);  // + the refused SYN
}

TEST_F(Tap, MoreQueuesThanTheTapPmdOffersIsRefusedWithAFix) {
  ASSERT_EQ(ns.create(99), "");
  ASSERT_EQ(ns.enter(), "");
  inc_port p;
  inc_port_config c{};
  std::string dev = "net_tap_" + std::to_string(getpid()) + "_q,iface=" + ns.tap;
  c.devargs = dev.c_str();
  c.n_queues = 17;
  inc_drv_err err{};
  EXPECT_EQ(inc_port_init(&p, &c, &err), -ERANGE);
  ns.leave();
  EXPECT_NE(std::string(err.msg).find("at most 16 RX queues but 17 were asked"), std::string::npos) << err.msg;
  EXPECT_NE(std::string(err.msg).find("multi_queue"), std::string::npos) << err.msg;
}

// DPDK 22.11's net_tap smashes its own stack when it starts with more than
// 4 queue pairs (8 fds in its start message): refused before that happens.
TEST_F(Tap, MoreThanFourQueuePairsOnTheTapPmdAreRefusedBeforeItCrashes) {
  ASSERT_EQ(ns.create(98), "");
  ASSERT_EQ(ns.enter(), "");
  inc_port p;
  inc_port_config c{};
  std::string dev = "net_tap_" + std::to_string(getpid()) + "_q5,iface=" + ns.tap;
  c.devargs = dev.c_str();
  c.n_queues = 5;
  inc_drv_err err{};
  EXPECT_EQ(inc_port_init(&p, &c, &err), -ERANGE);
  ns.leave();
  EXPECT_NE(std::string(err.msg).find("at most 4 workers on a tap port"), std::string::npos) << err.msg;
}

}  // namespace
