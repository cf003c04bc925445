// Raw Ethernet frames for the drivers tests (what a peer would send).
#ifndef INC_TEST_FRAMES_H
#define INC_TEST_FRAMES_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace drvtest {

struct Mac {
  uint8_t b[6];
};

// IPv4 frame with a TCP or UDP header (proto 6/17; other protocols get no L4
// header) and payload; checksums right unless told otherwise.
std::vector<uint8_t> ipv4_frame(const Mac& dst, const Mac& src, uint32_t sip, uint32_t dip,
                                uint8_t proto, uint16_t sport, uint16_t dport,
                                const std::vector<uint8_t>& payload, bool good_ip_cksum = true,
                                bool good_l4_cksum = true, uint16_t frag = 0);

std::vector<uint8_t> ipv6_frame(const Mac& dst, const Mac& src, const uint8_t sip[16],
                                const uint8_t dip[16], uint8_t proto, uint16_t sport,
                                uint16_t dport, const std::vector<uint8_t>& payload);

// ICMP echo request (IPv4).
std::vector<uint8_t> icmp_echo(const Mac& dst, const Mac& src, uint32_t sip, uint32_t dip,
                               uint16_t id, uint16_t seq, const std::vector<uint8_t>& payload);

uint16_t inet_cksum(const uint8_t* p, size_t n, uint32_t sum = 0);

}  // namespace drvtest

#endif
