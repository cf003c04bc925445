// lwIP's retransmission timeout after a fast retransmission that a zero
// window kept in unsent (upstream-patches/0009, LWIP_TCP_RTO_KEEP_ORDER): one
// lwIP instance on this thread and a hand-made peer.
//
// Three segments A, B, C are in flight. The peer acknowledges part of A and
// closes its window; three duplicate ACKs move A back to unsent (fast
// retransmit), but the closed window keeps it there. The retransmission
// timeout then moves B and C to unsent too: lwIP 2.1.3 puts them in front of
// A, so unsent is B, C, A. When the window reopens with cwnd at one MSS, B
// (which starts after the hole that A fills) does not fit, nothing is in
// flight, and the connection stalls; with a split persist timer it sends B's
// start, and the hole is never filled. With the patch, unsent is A, B, C.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "inc_lwip_instance.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip_tcp_peer.h"

namespace {

using namespace lwip_peer;

constexpr uint16_t kPort = 7002;
constexpr uint32_t kPeerIsn = 7000000u;
constexpr uint16_t kMss = 1460;
constexpr size_t kData = 3 * kMss;  // three segments: the initial cwnd

class LwipTcpRtoOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(inc_lwip_instance_init(&inst_), 0);
    peer_.up();
    listener_ = peer_.listen(kPort);
    ASSERT_NE(listener_, nullptr);
    peer_.send(kPort, kSyn, kPeerIsn, 0, 0, 65535, opt_mss(kMss));
    ASSERT_EQ(peer_.sent.size(), 1u);
    isn_ = peer_.segment(0).seq;
    peer_.send(kPort, kAck, kPeerIsn + 1, isn_ + 1, 0, 65535);
    pcb_ = peer_.accepted;
    ASSERT_NE(pcb_, nullptr);
    ASSERT_EQ(pcb_->state, ESTABLISHED);
    data_.resize(kData);
    for (size_t i = 0; i < kData; i++) data_[i] = uint8_t(i * 11 + 1);
    got_.assign(kData, 0);
    have_.assign(kData, false);
  }

  void TearDown() override {
    if (pcb_ != nullptr) tcp_abort(pcb_);
    if (listener_ != nullptr) tcp_close(listener_);
    peer_.down();
    EXPECT_EQ(inc_lwip_instance_detach(&inst_), 0);
  }

  // The peer's receive side: takes every payload byte lwIP sent since packet
  // `from` (checked against data_); returns how many bytes it has in order.
  size_t receive(size_t from) {
    for (size_t i = from; i < peer_.sent.size(); i++) {
      const Segment s = peer_.segment(i);
      for (size_t k = 0; k < s.payload.size(); k++) {
        const size_t off = size_t(s.seq - (isn_ + 1)) + k;
        EXPECT_LT(off, kData);
        if (off >= kData) break;
        EXPECT_EQ(s.payload[k], data_[off]) << "byte " << off;
        got_[off] = s.payload[k];
        have_[off] = true;
      }
    }
    size_t n = 0;
    while (n < kData && have_[n]) n++;
    return n;
  }

  bool unsent_in_order() const {
    for (struct tcp_seg* s = pcb_->unsent; s != nullptr && s->next != nullptr; s = s->next) {
      if (!TCP_SEQ_LT(lwip_ntohl(s->tcphdr->seqno), lwip_ntohl(s->next->tcphdr->seqno))) return false;
    }
    return true;
  }

  inc_lwip_instance inst_{};
  Peer peer_;
  struct tcp_pcb* listener_ = nullptr;
  struct tcp_pcb* pcb_ = nullptr;
  uint32_t isn_ = 0;
  std::vector<uint8_t> data_, got_;
  std::vector<bool> have_;
};

TEST_F(LwipTcpRtoOrder, FastRetransmitHeldByZeroWindow_ThenTimeout_UnsentStaysInOrder_EveryByteArrives) {
  ASSERT_EQ(tcp_write(pcb_, data_.data(), uint16_t(kData), TCP_WRITE_FLAG_COPY), ERR_OK);
  ASSERT_EQ(tcp_output(pcb_), ERR_OK);
  ASSERT_EQ(pcb_->unsent, nullptr) << "A, B and C are in flight";
  ASSERT_NE(pcb_->unacked, nullptr);
  ASSERT_EQ(peer_.sent.size(), 1u + 3u) << "SYN|ACK, then A, B and C";
  // all three are lost; the peer got the first 700 bytes of A some other way
  // (a segment the netif cut from a larger one, say): it acknowledges them
  // and closes its window
  const uint32_t ack = isn_ + 1 + 700;
  const uint32_t pseq = kPeerIsn + 1;
  peer_.send(kPort, kAck, pseq, ack, 0, 0);
  ASSERT_EQ(pcb_->lastack, ack);
  ASSERT_EQ(pcb_->snd_wnd, 0u);
  // three duplicate ACKs: fast retransmit moves A to unsent; the window keeps it
  for (int i = 0; i < 3; i++) peer_.send(kPort, kAck, pseq, ack, 0, 0);
  ASSERT_NE(pcb_->unsent, nullptr) << "no fast retransmission";
  ASSERT_EQ(lwip_ntohl(pcb_->unsent->tcphdr->seqno), isn_ + 1) << "A is back on unsent";
  ASSERT_NE(pcb_->unacked, nullptr) << "B and C still on unacked";

  // the retransmission timeout moves B and C to unsent
  for (int tick = 0; tick < 40 && pcb_->unacked != nullptr; tick++) tcp_slowtmr();
  ASSERT_EQ(pcb_->unacked, nullptr) << "no retransmission timeout";
  EXPECT_TRUE(unsent_in_order()) << "unsent is out of sequence order";
  EXPECT_EQ(lwip_ntohl(pcb_->unsent->tcphdr->seqno), isn_ + 1) << "A is not first";

  // the window reopens; the peer acknowledges what it has in order
  const size_t mark = peer_.sent.size();
  peer_.send(kPort, kAck, pseq, ack, 0, 65535);
  size_t in_order = receive(mark);
  for (int round = 0; round < 60 && in_order < kData; round++) {
    const size_t m = peer_.sent.size();
    peer_.send(kPort, kAck, pseq, isn_ + 1 + uint32_t(in_order), 0, 65535);
    tcp_slowtmr();
    in_order = receive(m);
  }
  ASSERT_EQ(in_order, kData) << "stalled: bytes " << in_order << ".. never arrived";
  EXPECT_EQ(std::memcmp(got_.data(), data_.data(), kData), 0);
  peer_.send(kPort, kAck, pseq, isn_ + 1 + uint32_t(kData), 0, 65535);
  EXPECT_EQ(pcb_->unsent, nullptr);
  EXPECT_EQ(pcb_->unacked, nullptr);
}

}  // namespace
