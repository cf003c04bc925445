// lwIP's bound on the pcbs kept in TIME-WAIT (upstream-patches/0008,
// TCP_TIME_WAIT_MAX_PCBS, set by lwip-hooks/include/lwipopts.h): hand-made
// segments into one lwIP instance on this thread, through a netif without a
// link layer. The instance closes first, so each connection ends in its
// TIME-WAIT; a new connection frees the oldest TIME-WAIT pcb once
// TCP_TIME_WAIT_MAX_PCBS are in that state.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "inc_lwip_instance.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

namespace {

static_assert(TCP_TIME_WAIT_MAX_PCBS > 0, "Inception bounds TIME-WAIT");
static_assert(TCP_TIME_WAIT_MAX_PCBS + 40 < MEMP_NUM_TCP_PCB, "the test must stay below the pool");

constexpr uint32_t kLocal = 0x0a000001u;  // 10.0.0.1, host order
constexpr uint32_t kPeer = 0x0a000002u;   // 10.0.0.2
constexpr uint16_t kPort = 7000;
constexpr uint16_t kFirstPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000000u;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

std::vector<std::vector<uint8_t>>* g_sent;  // packets the instance sent (this thread only)
struct tcp_pcb* g_accepted;

err_t capture_output(struct netif*, struct pbuf* p, const ip4_addr_t*) {
  std::vector<uint8_t> v(p->tot_len);
  pbuf_copy_partial(p, v.data(), p->tot_len, 0);
  g_sent->push_back(std::move(v));
  return ERR_OK;
}

err_t netif_init_fn(struct netif* n) {
  n->output = capture_output;
  n->mtu = 1500;
  n->name[0] = 't';
  n->name[1] = 'w';
  return ERR_OK;
}

uint32_t sum16(const uint8_t* b, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t(b[i]) << 8) | b[i + 1];
  if (n & 1) s += uint32_t(b[n - 1]) << 8;
  return s;
}

uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

void put16(uint8_t* b, uint16_t v) {
  b[0] = uint8_t(v >> 8);
  b[1] = uint8_t(v);
}

void put32(uint8_t* b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b + 2, uint16_t(v));
}

uint32_t get32(const uint8_t* b) { return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3]; }

err_t on_accept(void*, struct tcp_pcb* newpcb, err_t err) {
  if (err != ERR_OK || newpcb == nullptr) return ERR_VAL;
  g_accepted = newpcb;
  return ERR_OK;
}

unsigned time_wait_count() {
  unsigned n = 0;
  for (struct tcp_pcb* p = tcp_tw_pcbs; p != nullptr; p = p->next) n++;
  return n;
}

bool in_time_wait(uint16_t peer_port) {
  for (struct tcp_pcb* p = tcp_tw_pcbs; p != nullptr; p = p->next) {
    if (p->remote_port == peer_port) return true;
  }
  return false;
}

class LwipTcpTimeWait : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(inc_lwip_instance_init(&inst_), 0);
    g_sent = &sent_;
    ip4_addr_t a, m, gw;
    ip4_addr_set_u32(&a, PP_HTONL(kLocal));
    ip4_addr_set_u32(&m, PP_HTONL(0xffffff00u));
    ip4_addr_set_zero(&gw);
    ASSERT_NE(netif_add(&nif_, &a, &m, &gw, nullptr, netif_init_fn, ip4_input), nullptr);
    netif_set_up(&nif_);
    netif_set_link_up(&nif_);
    struct tcp_pcb* l = tcp_new();
    ASSERT_NE(l, nullptr);
    ASSERT_EQ(tcp_bind(l, IP4_ADDR_ANY, kPort), ERR_OK);
    listener_ = tcp_listen(l);
    ASSERT_NE(listener_, nullptr);
    tcp_accept(listener_, on_accept);
  }

  void TearDown() override {
    while (tcp_tw_pcbs != nullptr) tcp_abort(tcp_tw_pcbs);
    if (listener_ != nullptr) tcp_close(listener_);
    netif_remove(&nif_);
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
    g_sent = nullptr;
  }

  // One segment from the peer's port pport, without payload or options.
  void peer_send(uint16_t pport, uint8_t flags, uint32_t seq, uint32_t ack) {
    struct pbuf* p = pbuf_alloc(PBUF_RAW, 40, PBUF_RAM);
    ASSERT_NE(p, nullptr);
    uint8_t* b = static_cast<uint8_t*>(p->payload);
    std::memset(b, 0, 40);
    b[0] = 0x45;
    put16(b + 2, 40);
    b[8] = 64;
    b[9] = 6;  // TCP
    put32(b + 12, kPeer);
    put32(b + 16, kLocal);
    put16(b + 10, fold(sum16(b, 20, 0)));
    uint8_t* t = b + 20;
    put16(t, pport);
    put16(t + 2, kPort);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    put16(t + 16, fold(sum16(t, 20, sum16(b + 12, 8, 0) + 6 + 20)));
    ASSERT_EQ(nif_.input(p, &nif_), ERR_OK);
  }

  // A connection from pport that the instance closes first; the peer's
  // FIN|ACK puts it in TIME-WAIT. Returns the instance's ISN.
  uint32_t connect_and_close(uint16_t pport) {
    g_accepted = nullptr;
    peer_send(pport, kSyn, kPeerIsn, 0);
    EXPECT_FALSE(sent_.empty());
    if (sent_.empty()) return 0;
    const uint32_t isn = get32(&sent_.back()[24]);
    peer_send(pport, kAck, kPeerIsn + 1, isn + 1);
    EXPECT_NE(g_accepted, nullptr);
    if (g_accepted == nullptr) return isn;
    EXPECT_EQ(tcp_close(g_accepted), ERR_OK);
    peer_send(pport, kFin | kAck, kPeerIsn + 1, isn + 2);  // ACKs the FIN, sends its own
    EXPECT_TRUE(in_time_wait(pport)) << pport;
    return isn;
  }

  inc_lwip_instance inst_{};
  struct netif nif_ {};
  std::vector<std::vector<uint8_t>> sent_;
  struct tcp_pcb* listener_ = nullptr;
};

TEST_F(LwipTcpTimeWait, NewConnectionsBeyondTheBound_FreeTheOldestTimeWaitPcbs) {
  constexpr unsigned kExtra = 25;
  for (unsigned i = 0; i < TCP_TIME_WAIT_MAX_PCBS + kExtra; i++) {
    connect_and_close(uint16_t(kFirstPeerPort + i));
    ASSERT_LE(time_wait_count(), unsigned(TCP_TIME_WAIT_MAX_PCBS)) << "after connection " << i;
  }
  EXPECT_EQ(time_wait_count(), unsigned(TCP_TIME_WAIT_MAX_PCBS));
  for (unsigned i = 0; i < TCP_TIME_WAIT_MAX_PCBS + kExtra; i++) {
    EXPECT_EQ(in_time_wait(uint16_t(kFirstPeerPort + i)), i >= kExtra) << "connection " << i;
  }
}

TEST_F(LwipTcpTimeWait, RetransmittedFin_IsAckedInTimeWaitAndResetOnceTheBoundFreedIt) {
  const uint32_t first_isn = connect_and_close(kFirstPeerPort);
  // our last ACK was lost: the peer sends its FIN again (RFC 9293 3.6.1)
  sent_.clear();
  peer_send(kFirstPeerPort, kFin | kAck, kPeerIsn + 1, first_isn + 2);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0][20 + 13], kAck) << "TIME-WAIT ACKs the retransmitted FIN";
  for (unsigned i = 1; i <= TCP_TIME_WAIT_MAX_PCBS; i++) {
    connect_and_close(uint16_t(kFirstPeerPort + i));
  }
  ASSERT_FALSE(in_time_wait(kFirstPeerPort)) << "the oldest was freed";
  // the documented price of the bound: the same FIN now meets no pcb
  sent_.clear();
  peer_send(kFirstPeerPort, kFin | kAck, kPeerIsn + 1, first_isn + 2);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_NE(sent_[0][20 + 13] & kRst, 0);
}

}  // namespace
