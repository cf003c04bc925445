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
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip_tcp_peer.h"

namespace {

static_assert(TCP_TIME_WAIT_MAX_PCBS > 0, "Inception bounds TIME-WAIT");
static_assert(TCP_TIME_WAIT_MAX_PCBS + 40 < MEMP_NUM_TCP_PCB, "the test must stay below the pool");

using namespace lwip_peer;

constexpr uint16_t kPort = 7000;
constexpr uint16_t kFirstPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000000u;

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
    peer_.up();
    listener_ = peer_.listen(kPort);
    ASSERT_NE(listener_, nullptr);
  }

  void TearDown() override {
    while (tcp_tw_pcbs != nullptr) tcp_abort(tcp_tw_pcbs);
    if (listener_ != nullptr) tcp_close(listener_);
    peer_.down();
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
  }

  // One segment from the peer's port pport, without payload or options.
  void peer_send(uint16_t pport, uint8_t flags, uint32_t seq, uint32_t ack) {
    peer_.from_port = pport;
    peer_.send(kPort, flags, seq, ack, 0);
  }

  // A connection from pport that the instance closes first; the peer's
  // FIN|ACK puts it in TIME-WAIT. Returns the instance's ISN.
  uint32_t connect_and_close(uint16_t pport) {
    peer_.accepted = nullptr;
    peer_send(pport, kSyn, kPeerIsn, 0);
    EXPECT_FALSE(peer_.sent.empty());
    if (peer_.sent.empty()) return 0;
    const uint32_t isn = peer_.segment(peer_.sent.size() - 1).seq;
    peer_send(pport, kAck, kPeerIsn + 1, isn + 1);
    EXPECT_NE(peer_.accepted, nullptr);
    if (peer_.accepted == nullptr) return isn;
    EXPECT_EQ(tcp_close(peer_.accepted), ERR_OK);
    peer_send(pport, kFin | kAck, kPeerIsn + 1, isn + 2);  // ACKs the FIN, sends its own
    EXPECT_TRUE(in_time_wait(pport)) << pport;
    return isn;
  }

  inc_lwip_instance inst_{};
  Peer peer_;
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
  peer_.sent.clear();
  peer_send(kFirstPeerPort, kFin | kAck, kPeerIsn + 1, first_isn + 2);
  ASSERT_EQ(peer_.sent.size(), 1u);
  EXPECT_EQ(peer_.segment(0).flags, kAck) << "TIME-WAIT ACKs the retransmitted FIN";
  for (unsigned i = 1; i <= TCP_TIME_WAIT_MAX_PCBS; i++) {
    connect_and_close(uint16_t(kFirstPeerPort + i));
  }
  ASSERT_FALSE(in_time_wait(kFirstPeerPort)) << "the oldest was freed";
  // the documented price of the bound: the same FIN now meets no pcb
  peer_.sent.clear();
  peer_send(kFirstPeerPort, kFin | kAck, kPeerIsn + 1, first_isn + 2);
  ASSERT_EQ(peer_.sent.size(), 1u);
  EXPECT_NE(peer_.segment(0).flags & kRst, 0);
}

}  // namespace
