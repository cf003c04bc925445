// The pcapng writer (include/inception/pcap.h): files that tshark reads
// with the right packet count, lengths, bytes and directions. Pure: no EAL.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drv_util.h"
#include "frames.h"
#include "inception/pcap.h"

namespace {

std::string tmp_path(const char* tag) {
  return "/tmp/inc-pcap-" + std::to_string(getpid()) + "-" + tag + ".pcapng";
}

// Removes a file when the test ends, passed or not.
struct Unlink {
  std::string path;
  ~Unlink() { unlink(path.c_str()); }
};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

TEST(Pcap, TsharkReadsEveryPacketWithLengthsDirectionAndBytes) {
  ASSERT_EQ(drvtest::sh("command -v tshark >/dev/null"), 0) << "tshark is needed (tools/install-deps.sh)";
  std::string path = tmp_path("basic");
  Unlink gone{path};
  std::vector<uint8_t> buf(8192);
  inc_pcap w;
  inc_pcap_config cfg{};
  cfg.path = path.c_str();
  cfg.if_name = "port0/q1";
  cfg.snaplen = 1000;
  cfg.buf = buf.data();
  cfg.buf_len = buf.size();
  ASSERT_EQ(inc_pcap_open(&w, &cfg), 0);
  drvtest::Mac a{{2, 0, 0, 0, 0, 1}}, b{{2, 0, 0, 0, 0, 2}};
  const int n = 300;
  std::vector<size_t> sizes;
  for (int i = 0; i < n; i++) {
    std::vector<uint8_t> payload((size_t)(i * 7) % 1500);
    for (size_t k = 0; k < payload.size(); k++) payload[k] = drvtest::pattern((uint32_t)i, k);
    auto f = drvtest::ipv4_frame(a, b, 0xc6120001, 0xc6120002, 17, 1000, (uint16_t)(2000 + i), payload);
    sizes.push_back(f.size());
    // as two pieces, the way a chained mbuf would be written
    size_t cut = f.size() / 3;
    inc_pcap_seg segs[2] = {{f.data(), (uint32_t)cut}, {f.data() + cut, (uint32_t)(f.size() - cut)}};
    ASSERT_EQ(inc_pcap_write(&w, 1700000000ull * 1000000000ull + (uint64_t)i * 1000, segs, 2,
                             (uint32_t)f.size(), (i % 3) ? INC_PCAP_DIR_IN : INC_PCAP_DIR_OUT),
              0);
  }
  ASSERT_EQ(inc_pcap_close(&w), 0);
  EXPECT_EQ(w.packets, (uint64_t)n);
  EXPECT_EQ(w.write_errors, 0u);

  auto out = lines(drvtest::sh_out("tshark -r " + path +
                                   " -T fields -e frame.len -e frame.cap_len -e frame.packet_flags_direction "
                                   "-e udp.dstport -e frame.interface_name 2>/dev/null"));
  ASSERT_EQ(out.size(), (size_t)n) << (out.empty() ? "" : out[0]);
  for (int i = 0; i < n; i++) {
    std::istringstream l(out[(size_t)i]);
    size_t len, cap;
    std::string dir, ifname;
    unsigned dport;
    l >> len >> cap >> dir >> dport >> ifname;
    EXPECT_EQ(len, sizes[(size_t)i]);
    EXPECT_EQ(cap, std::min<size_t>(sizes[(size_t)i], 1000));
    EXPECT_EQ(dir, (i % 3) ? "0x00000001" : "0x00000002") << out[(size_t)i];
    EXPECT_EQ(dport, 2000u + (unsigned)i);
    EXPECT_EQ(ifname, "port0/q1");
  }
  // tcpdump (libpcap) reads it too
  ASSERT_EQ(drvtest::sh("command -v tcpdump >/dev/null"), 0) << "tcpdump is needed (tools/install-deps.sh)";
  EXPECT_EQ(lines(drvtest::sh_out("tcpdump -nn -r " + path + " 2>/dev/null")).size(), (size_t)n);
  // the bytes of one packet, as tshark dumps them
  std::string hex = drvtest::sh_out("tshark -r " + path + " -Y 'udp.dstport == 2050' -T fields -e data.data 2>/dev/null");
  std::ostringstream want;
  for (size_t k = 0; k < (size_t)(50 * 7) % 1500; k++) {
    char h[3];
    snprintf(h, sizeof(h), "%02x", drvtest::pattern(50, k));
    want << h;
  }
  EXPECT_EQ(lines(hex).at(0), want.str());
  unlink(path.c_str());
}

TEST(Pcap, PacketsLargerThanTheBufferAreWrittenWhole) {
  std::string path = tmp_path("large");
  Unlink gone{path};
  std::vector<uint8_t> buf(4096);
  inc_pcap w;
  inc_pcap_config cfg{};
  cfg.path = path.c_str();
  cfg.buf = buf.data();
  cfg.buf_len = buf.size();
  ASSERT_EQ(inc_pcap_open(&w, &cfg), 0);
  std::vector<uint8_t> big(9000, 0xab);
  big[12] = 0x88;  // an ethertype tshark shows as data
  big[13] = 0xb5;
  for (int i = 0; i < 5; i++) {
    inc_pcap_seg seg{big.data(), (uint32_t)big.size()};
    ASSERT_EQ(inc_pcap_write(&w, 1, &seg, 1, (uint32_t)big.size(), INC_PCAP_DIR_IN), 0);
    std::vector<uint8_t> small(60, 0);
    inc_pcap_seg s2{small.data(), 60};
    ASSERT_EQ(inc_pcap_write(&w, 2, &s2, 1, 60, INC_PCAP_DIR_OUT), 0);
  }
  ASSERT_EQ(inc_pcap_close(&w), 0);
  auto out = lines(drvtest::sh_out("tshark -r " + path + " -T fields -e frame.len 2>/dev/null"));
  ASSERT_EQ(out.size(), 10u);
  for (size_t i = 0; i < out.size(); i++) EXPECT_EQ(out[i], i % 2 ? "60" : "9000");
  unlink(path.c_str());
}

TEST(Pcap, BadArgumentsAndUnwritablePathsAreReported) {
  std::vector<uint8_t> buf(4096);
  inc_pcap w;
  inc_pcap_config cfg{};
  cfg.buf = buf.data();
  cfg.buf_len = buf.size();
  EXPECT_EQ(inc_pcap_open(&w, &cfg), -EINVAL);  // no path
  cfg.path = "/nonexistent-dir/x.pcapng";
  EXPECT_EQ(inc_pcap_open(&w, &cfg), -ENOENT);
  cfg.buf_len = 100;
  EXPECT_EQ(inc_pcap_open(&w, &cfg), -EINVAL);
}

}  // namespace
