// Zero copy in both directions (include/inception/netif.h), observed at the
// PMD boundary with DPDK's own rx/tx callbacks: the payload address the
// application wrote is the address handed to tx_burst, the address rx_burst
// returned is the one the application reads, and a retransmission sends the
// same buffer again by reference. Lock-step workers: every sanitizer.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drv_env.h"
#include "frames.h"
#include "inc_lwip_bufs.h"
#include "tcpio.h"
#include "wire_pair.h"
#include "zc_peer.h"

namespace {

class Eal : public ::testing::Environment {
  void SetUp() override { drvtest::eal_init_once(); }
};
::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

const uint32_t kA = 0xc6120201, kB = 0xc6120202;  // 198.18.2.1, .2

struct Seg {
  const void* at;
  uint16_t len;
  bool indirect;
  uint16_t direct_refcnt;  // refcnt of the mbuf that holds the data
  rte_mbuf* mbuf;
  std::vector<uint8_t> bytes;  // first 64 bytes
};
using Packet = std::vector<Seg>;
struct Record {
  std::vector<Packet> pkts;
};

Packet describe(rte_mbuf* m) {
  Packet p;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    Seg g;
    g.at = rte_pktmbuf_mtod(s, const void*);
    g.len = s->data_len;
    g.indirect = RTE_MBUF_CLONED(s);
    g.direct_refcnt = rte_mbuf_refcnt_read(g.indirect ? rte_mbuf_from_indirect(s) : s);
    g.mbuf = s;
    g.bytes.assign(rte_pktmbuf_mtod(s, uint8_t*), rte_pktmbuf_mtod(s, uint8_t*) + std::min<uint16_t>(s->data_len, 64));
    p.push_back(g);
  }
  return p;
}

uint16_t on_tx(uint16_t, uint16_t, rte_mbuf* pkts[], uint16_t n, void* arg) {
  for (uint16_t i = 0; i < n; i++) static_cast<Record*>(arg)->pkts.push_back(describe(pkts[i]));
  return n;
}

uint16_t on_rx(uint16_t, uint16_t, rte_mbuf* pkts[], uint16_t n, uint16_t, void* arg) {
  for (uint16_t i = 0; i < n; i++) static_cast<Record*>(arg)->pkts.push_back(describe(pkts[i]));
  return n;
}

const Seg* find(const Record& r, const void* at) {
  for (auto& p : r.pkts)
    for (auto& s : p)
      if (s.at == at) return &s;
  return nullptr;
}

class ZeroCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n;
    drvtest::WireOpts o;
    ASSERT_EQ(wp.create("zc" + std::to_string(getpid() % 100000) + "_" + std::to_string(n++), o), "");
    txcb = rte_eth_add_tx_callback(wp.a.port_id, 0, on_tx, &tx);
    rxcb = rte_eth_add_rx_callback(wp.b.port_id, 0, on_rx, &rx);
    ASSERT_TRUE(txcb && rxcb);
    wa.call([&] {
      na = drvtest::make_netif(&wp.a, 0, kA);
      drvtest::static_arp(kB, wp.b.mac);
    });
    wb.call([&] {
      nb = drvtest::make_netif(&wp.b, 0, kB);
      drvtest::static_arp(kA, wp.a.mac);
    });
    ASSERT_TRUE(na && nb);
    poll_both(10);  // the gratuitous ARPs
    tx.pkts.clear();
    rx.pkts.clear();
  }
  void TearDown() override {
    wa.call([&] { inc_netif_fini(na.get()); });
    wb.call([&] { inc_netif_fini(nb.get()); });
    rte_eth_remove_tx_callback(wp.a.port_id, 0, txcb);
    rte_eth_remove_rx_callback(wp.b.port_id, 0, rxcb);
    // every mbuf is back in its pool: no pbuf or reference leaked
    EXPECT_EQ(wp.destroy(), 0);
  }
  void poll_both(int rounds) {
    for (int i = 0; i < rounds; i++) {
      wa.call([&] { drvtest::poll_once(na.get()); });
      wb.call([&] { drvtest::poll_once(nb.get()); });
    }
  }
  bool poll_until(const std::function<bool()>& done) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      poll_both(1);
    }
    return true;
  }
  drvtest::Worker wa, wb;
  drvtest::WirePair wp;
  std::unique_ptr<inc_netif> na, nb;
  Record tx, rx;
  const rte_eth_rxtx_callback *txcb = nullptr, *rxcb = nullptr;
};

TEST_F(ZeroCopy, UdpPayloadWrittenByTheAppIsWhatTxBurstSendsAndWhatTheReceiverReads) {
  zc_udp u;
  wb.call([&] { ASSERT_EQ(zc_udp_listen(&u, 7000, 3), 0); });
  const void* wrote = nullptr;
  wa.call([&] {
    ASSERT_EQ(zc_udp_send(kB, 7000, 1200, 3, &wrote), 0);
    inc_netif_flush(na.get());
  });
  ASSERT_NE(wrote, nullptr);
  // tx_burst was handed the application's buffer itself
  const Seg* s = find(tx, wrote);
  ASSERT_NE(s, nullptr) << "the payload handed to tx_burst is not where the application wrote it";
  EXPECT_EQ(s->len, 1200);
  EXPECT_FALSE(s->indirect);  // lwIP's buffer, sent as the mbuf itself
  EXPECT_EQ(tx.pkts.size(), 1u);
  EXPECT_EQ(tx.pkts[0].size(), 2u);       // header copy + payload by reference
  EXPECT_EQ(tx.pkts[0][0].len, 42);        // Ethernet + IPv4 + UDP
  EXPECT_EQ(na->cnt.tx_payload_copied, 0u);
  EXPECT_EQ(na->cnt.tx_direct_refs, 1u);
  ASSERT_TRUE(poll_until([&] { return u.datagrams == 1; }));
  EXPECT_EQ(u.corrupt, 0u);
  EXPECT_EQ(u.len, 1200);
  // the receiver reads where rx_burst put the data: the same memory
  EXPECT_NE(find(rx, u.read_at), nullptr) << "the application read bytes rx_burst did not return";
  EXPECT_EQ(u.read_at, wrote);
  wb.call([&] { zc_udp_close(&u); });
}

TEST_F(ZeroCopy, TcpWriteWithoutCopyGoesByReferenceAndIsRetransmittedFromTheSameBuffer) {
  zc_tcp ta, tb;
  wb.call([&] { ASSERT_EQ(zc_tcp_listen(&tb, 8000, 9), 0); });
  wa.call([&] { ASSERT_EQ(zc_tcp_connect(&ta, kB, 8000, 9), 0); });
  ASSERT_TRUE(poll_until([&] { return ta.established && tb.established; }));
  poll_both(3);
  tx.pkts.clear();

  const void* wrote = nullptr;
  wa.call([&] {
    ASSERT_EQ(zc_tcp_write_ref(&ta, 1000, &wrote), 0);
    zc_tcp_output(&ta);
    inc_netif_flush(na.get());
  });
  const Seg* first = find(tx, wrote);
  ASSERT_NE(first, nullptr) << "the payload handed to tx_burst is not the application's buffer";
  EXPECT_EQ(first->len, 1000);
  EXPECT_TRUE(first->indirect);            // lwIP only references it: attached, not moved
  EXPECT_EQ(first->direct_refcnt, 2);      // the application's reference + this transmission
  Packet p1 = tx.pkts.back();
  tx.pkts.clear();

  // The frame still sits in the receiver's queue (the wire passes the very
  // mbufs). lwIP retransmits: the same buffer goes again by reference, with a
  // new header; the header of the first transmission is left as it was.
  wa.call([&] {
    zc_tcp_rexmit(&ta);
    inc_netif_flush(na.get());
  });
  const Seg* again = find(tx, wrote);
  ASSERT_NE(again, nullptr) << "the retransmission did not send the same buffer";
  EXPECT_TRUE(again->indirect);
  EXPECT_EQ(again->direct_refcnt, 3);      // application + two transmissions in flight
  EXPECT_NE(tx.pkts.back()[0].mbuf, p1[0].mbuf);
  EXPECT_EQ(memcmp(rte_pktmbuf_mtod(p1[0].mbuf, const uint8_t*), p1[0].bytes.data(), p1[0].bytes.size()), 0)
      << "the header of the first transmission was rewritten while it was in flight";
  EXPECT_GE(na->cnt.tx_clone_refs, 2u);
  EXPECT_EQ(na->cnt.tx_payload_copied, 0u);

  ASSERT_TRUE(poll_until([&] { return tb.received == 1000 && zc_tcp_held(&ta) == 0; }));
  EXPECT_EQ(tb.corrupt, 0u);
  EXPECT_NE(find(rx, tb.first_read_at), nullptr);
  EXPECT_EQ(tb.first_read_at, wrote);      // the receiver read the very bytes the sender wrote
  wa.call([&] { zc_tcp_close(&ta); });
  wb.call([&] { zc_tcp_close(&tb); });
  poll_both(5);
}

TEST_F(ZeroCopy, TcpCopyPathSendsLwipsOwnMbufsWithoutAnotherCopy) {
  zc_tcp ta, tb;
  wb.call([&] { ASSERT_EQ(zc_tcp_listen(&tb, 8001, 5), 0); });
  wa.call([&] { ASSERT_EQ(zc_tcp_connect(&ta, kB, 8001, 5), 0); });
  ASSERT_TRUE(poll_until([&] { return ta.established && tb.established; }));
  inc_lwip_bufs_stats before{}, after{};
  wa.call([&] {
    inc_lwip_bufs_stats_get(&before);
    for (int i = 0; i < 8; i++) ASSERT_EQ(zc_tcp_write_copy(&ta, 4000), 0);
    zc_tcp_output(&ta);
  });
  ASSERT_TRUE(poll_until([&] { return tb.received == 32000; }));
  wa.call([&] { inc_lwip_bufs_stats_get(&after); });
  EXPECT_EQ(tb.corrupt, 0u);
  EXPECT_GT(after.provider_allocs, before.provider_allocs);  // lwIP's segments are mbufs
  EXPECT_EQ(after.libc_allocs, before.libc_allocs);
  EXPECT_EQ(na->cnt.tx_payload_copied, 0u);
  EXPECT_GT(na->cnt.tx_payload_ref, 32000u - 1);
  // lwIP's own segment buffers went out as themselves, or (large segments
  // cut by rte_gso) as indirect mbufs attached to them
  EXPECT_GT(na->cnt.tx_direct_refs + na->cnt.tx_gso_segs, 0u);
  wa.call([&] { zc_tcp_close(&ta); });
  wb.call([&] { zc_tcp_close(&tb); });
  poll_both(5);
}

TEST_F(ZeroCopy, RxBurstAddressIsWhereTheApplicationReads) {
  zc_udp u;
  wb.call([&] { ASSERT_EQ(zc_udp_listen(&u, 7100, 4), 0); });
  std::vector<uint8_t> payload(300);
  for (size_t i = 0; i < payload.size(); i++) payload[i] = drvtest::pattern(4, i);
  drvtest::Mac ma, mb;
  memcpy(ma.b, wp.a.mac, 6);
  memcpy(mb.b, wp.b.mac, 6);
  auto f = drvtest::ipv4_frame(mb, ma, kA, kB, 17, 1234, 7100, payload);
  // a frame put on the wire directly, as a NIC would DMA it
  rte_mbuf* m = rte_pktmbuf_alloc(wp.a.q[0].pool);
  ASSERT_NE(m, nullptr);
  memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
  const void* data = rte_pktmbuf_mtod_offset(m, const void*, 42);
  ASSERT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
  ASSERT_TRUE(poll_until([&] { return u.datagrams == 1; }));
  EXPECT_EQ(u.corrupt, 0u);
  EXPECT_EQ(u.read_at, data);
  EXPECT_EQ(nb->cnt.rx_copied, 0u);

  // an mbuf without room for a pbuf (another application's pool) is copied
  rte_mempool* foreign = rte_pktmbuf_pool_create(("zcf" + std::to_string(getpid() % 100000)).c_str(), 63, 0, 0,
                                                 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(foreign, nullptr);
  m = rte_pktmbuf_alloc(foreign);
  memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
  ASSERT_EQ(rte_eth_tx_burst(wp.a.port_id, 0, &m, 1), 1);
  ASSERT_TRUE(poll_until([&] { return u.datagrams == 2; }));
  EXPECT_EQ(u.corrupt, 0u);
  EXPECT_EQ(nb->cnt.rx_copied, 1u);
  EXPECT_TRUE(rte_mempool_full(foreign));
  rte_mempool_free(foreign);
  wb.call([&] { zc_udp_close(&u); });
}

}  // namespace
