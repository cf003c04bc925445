// Bad input (issue 4, item 7): a missing PMD, an unusable vdev argument, too
// few queues and bad settings give a message that names the problem and the
// fix; malformed frames are dropped and counted, and the stack goes on.
// Single worker, lock-step: every sanitizer.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drv_env.h"
#include "frames.h"
#include "inception/netif.h"
#include "inception/port.h"
#include "inception/wire.h"
#include "wire_pair.h"
#include "zc_peer.h"

namespace {

class Eal : public ::testing::Environment {
  void SetUp() override { drvtest::eal_init_once(); }
};
::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

std::string uniq(const std::string& s) {
  static int n;
  return s + std::to_string(getpid() % 100000) + "x" + std::to_string(n++);
}

bool has(const std::string& msg, const char* what) { return msg.find(what) != std::string::npos; }

TEST(BadInput, MissingPmdNamesTheDeviceAndHowToLoadAPmd) {
  inc_port port;
  inc_port_config c{};
  std::string dev = uniq("net_nosuchpmd");
  c.devargs = dev.c_str();
  c.n_queues = 1;
  inc_drv_err err{};
  EXPECT_EQ(inc_port_init(&port, &c, &err), -ENODEV);
  EXPECT_TRUE(has(err.msg, "no PMD provides device")) << err.msg;
  EXPECT_TRUE(has(err.msg, dev.c_str())) << err.msg;
  EXPECT_TRUE(has(err.msg, "fix:") && has(err.msg, "-d ")) << err.msg;
  EXPECT_EQ(err.code, -ENODEV);
}

TEST(BadInput, UnusableVdevArgumentQuotesDpdkAndThePmdsArguments) {
  struct Case {
    std::string devargs;
    const char* hint;
  } cases[] = {
      {uniq("net_memif_b") + ",role=sideways", "role=server|client"},
      {uniq("net_ring_b") + ",nodeaction=bogus", "nodeaction="},
  };
  for (auto& k : cases) {
    SCOPED_TRACE(k.devargs);
    inc_port port;
    inc_port_config c{};
    c.devargs = k.devargs.c_str();
    c.n_queues = 1;
    inc_drv_err err{};
    EXPECT_EQ(inc_port_init(&port, &c, &err), -EINVAL);
    EXPECT_TRUE(has(err.msg, "refused device")) << err.msg;
    EXPECT_TRUE(has(err.msg, k.hint)) << err.msg;
    EXPECT_TRUE(has(err.msg, "fix:")) << err.msg;
  }
}

TEST(BadInput, TooFewQueuesSaysHowManyThereAreAndWhatToDo) {
  inc_wire w;
  inc_wire_config wc{};
  std::string name = uniq("q");
  wc.name = name.c_str();
  wc.queues_a = 1;
  wc.queues_b = 1;
  inc_drv_err err{};
  ASSERT_EQ(inc_wire_create(&w, &wc, &err), 0) << err.msg;
  inc_port port;
  inc_port_config c{};
  c.port_id = w.port_a;
  c.n_queues = 4;  // four workers, one ring
  c.n_tx_queues = 1;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -ERANGE);
  EXPECT_TRUE(has(err.msg, "at most 1 RX queues but 4 were asked")) << err.msg;
  EXPECT_TRUE(has(err.msg, "fix: run at most 1 workers")) << err.msg;
  EXPECT_TRUE(has(err.msg, "queues_a/queues_b")) << err.msg;  // the PMD's own remedy
  rte_eth_dev_close(w.port_a);
  rte_eth_dev_close(w.port_b);
  inc_wire_destroy(&w);
}

TEST(BadInput, BadSettingsAreRefusedWithAFix) {
  inc_port port;
  inc_drv_err err{};
  inc_port_config c{};
  c.port_id = 0;
  c.n_queues = 0;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -EINVAL);
  EXPECT_TRUE(has(err.msg, "fix: between 1 and")) << err.msg;
  c.n_queues = 1;
  c.mtu = 100;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -EINVAL);
  EXPECT_TRUE(has(err.msg, "MTU 100")) << err.msg;
  c.mtu = 0;
  uint8_t key[33] = {0};
  c.rss_key = key;
  c.rss_key_len = 33;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -EINVAL);
  EXPECT_TRUE(has(err.msg, "40 or 52")) << err.msg;
  c.rss_key = nullptr;
  c.rss_key_len = 0;
  c.offload_deny = 1u << 30;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -EINVAL);
  c.offload_deny = 0;
  c.port_id = 999;
  EXPECT_EQ(inc_port_init(&port, &c, &err), -ENODEV);
  EXPECT_TRUE(has(err.msg, "no ethdev port 999")) << err.msg;

  inc_wire w;
  inc_wire_config wc{};
  wc.name = "a-name-much-longer-than-sixteen";
  wc.queues_a = wc.queues_b = 1;
  EXPECT_EQ(inc_wire_create(&w, &wc, &err), -EINVAL);
  wc.name = "ok";
  wc.queues_a = 0;
  EXPECT_EQ(inc_wire_create(&w, &wc, &err), -EINVAL);
  wc.queues_a = 1;
  wc.fault_ab.loss_pct = 200;
  EXPECT_EQ(inc_wire_create(&w, &wc, &err), -EINVAL);
  EXPECT_TRUE(has(err.msg, "0..100")) << err.msg;
}

// Malformed frames reach a netif: each is dropped and counted where it is
// recognised, and traffic goes on.
TEST(BadInput, MalformedFramesAreDroppedCountedAndHarmless) {
  drvtest::Worker wb;
  drvtest::WirePair wp;
  ASSERT_EQ(wp.create(uniq("mf"), drvtest::WireOpts{}), "");
  const uint32_t kA = 0xc6120301, kB = 0xc6120302;
  std::unique_ptr<inc_netif> nb;
  zc_udp u;
  wb.call([&] {
    nb = drvtest::make_netif(&wp.b, 0, kB);
    ASSERT_EQ(zc_udp_listen(&u, 9000, 1), 0);
  });
  ASSERT_NE(nb, nullptr);
  drvtest::Mac ma, mb;
  memcpy(ma.b, wp.a.mac, 6);
  memcpy(mb.b, wp.b.mac, 6);
  std::vector<uint8_t> pl(64);
  for (size_t i = 0; i < pl.size(); i++) pl[i] = drvtest::pattern(1, i);
  auto udp = [&](bool ipc, bool l4c) { return drvtest::ipv4_frame(mb, ma, kA, kB, 17, 5, 9000, pl, ipc, l4c); };
  auto tcp = [&](bool ipc, bool l4c) { return drvtest::ipv4_frame(mb, ma, kA, kB, 6, 5, 9001, pl, ipc, l4c); };

  std::vector<std::vector<uint8_t>> frames;
  uint64_t runt = 0, bad_l3 = 0, bad_ip = 0, bad_l4 = 0;
  frames.push_back(std::vector<uint8_t>(10, 0xff)), runt++;           // shorter than Ethernet
  frames.push_back({}), runt++;                                        // empty
  auto f = udp(true, true);
  f[14] = 0x55, frames.push_back(f), bad_l3++;                        // IP version 5
  f = udp(true, true);
  f[14] = 0x43, frames.push_back(f), bad_l3++;                        // IHL 3
  f = udp(true, true);
  f[16] = 0x0f, frames.push_back(f), bad_l3++;                        // total length beyond the frame
  f = udp(true, true);
  f.resize(14 + 12), frames.push_back(f), bad_l3++;                   // IPv4 header cut short
  frames.push_back(udp(false, true)), bad_ip++;                        // IPv4 header checksum
  frames.push_back(tcp(true, false)), bad_l4++;                        // TCP checksum
  f = tcp(true, true);
  f[14 + 20 + 12] = 0x20, frames.push_back(f), bad_l3++;               // TCP data offset 2
  uint8_t s6[16] = {0xfe, 0x80}, d6[16] = {0xfe, 0x80, 1};
  f = drvtest::ipv6_frame(mb, ma, s6, d6, 17, 5, 9000, pl);
  f[18] = 0x7f, frames.push_back(f), bad_l3++;                         // IPv6 payload length beyond the frame
  frames.push_back(udp(true, false));                                  // UDP checksum: lwIP's to find
  std::mt19937 rng(2024);                                              // and garbage
  const int garbage = 2000;
  for (int i = 0; i < garbage; i++) {
    std::vector<uint8_t> g(rng() % 160);
    for (auto& b : g) b = (uint8_t)rng();
    if (g.size() > 14 && i % 3 != 0) {
      g[12] = i % 3 == 1 ? 0x08 : 0x86;
      g[13] = i % 3 == 1 ? 0x00 : 0xdd;
      g[14] = i % 3 == 1 ? (uint8_t)(0x40 | (g[14] & 0x0f)) : (uint8_t)(0x60 | (g[14] & 0x0f));
    }
    frames.push_back(g);
  }
  for (auto& fr : frames) {
    rte_mbuf* m = rte_pktmbuf_alloc(wp.a.q[0].pool);
    ASSERT_NE(m, nullptr);
    if (!fr.empty()) memcpy(rte_pktmbuf_append(m, (uint16_t)fr.size()), fr.data(), fr.size());
    ASSERT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
  }
  // a good datagram after all that
  frames.push_back(udp(true, true));
  {
    rte_mbuf* m = rte_pktmbuf_alloc(wp.a.q[0].pool);
    memcpy(rte_pktmbuf_append(m, (uint16_t)frames.back().size()), frames.back().data(), frames.back().size());
    ASSERT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
  }
  uint64_t udp_chkerr = 0;
  wb.call([&] {
    for (int i = 0; i < 200; i++) drvtest::poll_once(nb.get());
    udp_chkerr = zc_udp_chkerr();
  });
  const inc_netif_counters& c = nb->cnt;
  EXPECT_EQ(c.rx_frames, frames.size());
  // the crafted ones exactly (garbage adds to these counters too)
  EXPECT_GE(c.rx_runt, runt);
  EXPECT_GE(c.rx_bad_l3, bad_l3);
  EXPECT_GE(c.rx_bad_ip_cksum, bad_ip);
  EXPECT_GE(c.rx_bad_l4_cksum, bad_l4);
  EXPECT_GE(udp_chkerr, 1u);
  // every frame is accounted for: dropped here, or given to lwIP
  EXPECT_EQ(c.rx_runt + c.rx_bad_l3 + c.rx_bad_ip_cksum + c.rx_bad_l4_cksum + c.rx_packets + c.rx_gro_merged,
            c.rx_frames);
  // the good datagram got through, and only it
  EXPECT_EQ(u.datagrams, 1u);
  EXPECT_EQ(u.corrupt, 0u);
  EXPECT_EQ(u.len, pl.size());

  // and the stack still answers: an ICMP echo comes back
  auto ping = drvtest::icmp_echo(mb, ma, kA, kB, 77, 1, pl);
  rte_mbuf* m = rte_pktmbuf_alloc(wp.a.q[0].pool);
  memcpy(rte_pktmbuf_append(m, (uint16_t)ping.size()), ping.data(), ping.size());
  ASSERT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
  wb.call([&] {
    drvtest::static_arp(kA, wp.a.mac);
    for (int i = 0; i < 20; i++) drvtest::poll_once(nb.get());
  });
  bool reply = false;
  rte_mbuf* in[32];
  uint16_t n = rte_eth_rx_burst(wp.a.port_id, 0, in, 32);
  for (uint16_t i = 0; i < n; i++) {
    const uint8_t* d = rte_pktmbuf_mtod(in[i], const uint8_t*);
    if (in[i]->data_len >= 42 && d[12] == 0x08 && d[13] == 0 && d[23] == 1 && d[34] == 0) reply = true;
    rte_pktmbuf_free(in[i]);
  }
  EXPECT_TRUE(reply) << "no ICMP echo reply after the malformed frames";
  wb.call([&] {
    zc_udp_close(&u);
    inc_netif_fini(nb.get());
  });
  EXPECT_EQ(wp.destroy(), 0);
}

}  // namespace
