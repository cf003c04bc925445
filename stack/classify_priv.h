/*
 * Packet classification for steering (stack/, private).
 *
 * Reads an Ethernet frame as bytes and says what it is and, for packets that
 * belong to a flow, which flow, as seen from the local stack: the key the flow
 * table is indexed by (inception/flow.h). It never writes the frame and never
 * reads past len; every length field is checked against the bytes present.
 * Checksums are not verified here: lwIP verifies them on the owner core.
 *
 * Thread: any (pure function). RCU: none.
 */
#ifndef INC_STACK_CLASSIFY_PRIV_H
#define INC_STACK_CLASSIFY_PRIV_H

#include <stdint.h>

#include "inception/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

enum inc_pkt_kind {
  INC_PKT_MALFORMED = 0, /* drop and count (reason in inc_pkt_class.bad) */
  INC_PKT_ARP,           /* ARP: handled locally, resolution shared by all cores */
  INC_PKT_ND,            /* ICMPv6 neighbour discovery (133..137): same */
  INC_PKT_FLOW,          /* TCP or UDP, not fragmented: key is its flow */
  INC_PKT_ICMP_ERROR,    /* ICMP/ICMPv6 error quoting one of our packets: key is the quoted flow */
  INC_PKT_FRAGMENT,      /* IPv4 or IPv6 fragment: reassembled where it lands */
  INC_PKT_LOCAL,         /* other IP traffic (echo, IGMP/MLD, other protocols): any core */
  INC_PKT_NOT_IP,        /* other ethertypes (lwIP drops and counts them) */
};

/* Why a frame is malformed (drop counters are indexed by this). */
enum inc_pkt_bad {
  INC_BAD_NONE = 0,
  INC_BAD_RUNT,          /* shorter than an Ethernet header */
  INC_BAD_ARP,           /* ARP shorter than an IPv4-over-Ethernet ARP packet */
  INC_BAD_IP_SHORT,      /* fewer bytes than the IP header needs */
  INC_BAD_IP_VERSION,    /* version field does not match the ethertype */
  INC_BAD_IP_HLEN,       /* IPv4 header length < 20 or beyond the frame */
  INC_BAD_IP_LEN,        /* IP total/payload length beyond the frame or below the header */
  INC_BAD_IP6_EXT,       /* IPv6 extension header chain runs past the packet */
  INC_BAD_L4_SHORT,      /* TCP/UDP/ICMP header cut short */
  INC_BAD_TCP_HLEN,      /* TCP data offset < 5 words or beyond the segment */
  INC_BAD_COUNT
};

struct inc_pkt_class {
  uint8_t kind;       /* enum inc_pkt_kind */
  uint8_t bad;        /* enum inc_pkt_bad, for INC_PKT_MALFORMED */
  uint8_t tcp_flags;  /* TCP segments: the flags byte (SYN 0x02, RST 0x04, ACK 0x10) */
  uint8_t ip_version; /* 4 or 6 for IP packets, else 0 */
  uint16_t l3_off;    /* offset of the IP (or ARP) header in the frame */
  uint16_t l4_off;    /* offset of the transport header (IP packets) */
  struct inc_flow_key key; /* INC_PKT_FLOW and INC_PKT_ICMP_ERROR */
};

/*
 * Classifies one Ethernet frame received on port_id. len is the frame's
 * length; cap (<= len) how many of its bytes are at frame (the first buffer
 * of a chain): lengths are checked against len, reads stay below cap, and a
 * header that lies beyond cap makes the frame INC_PKT_LOCAL (lwIP reads it).
 * Returns: out->kind (also stored in *out).
 */
int inc__classify(const uint8_t *frame, uint32_t cap, uint32_t len, uint16_t port_id,
                  struct inc_pkt_class *out);

/* A short name for a bad reason, for counters and logs. */
const char *inc__pkt_bad_name(unsigned bad);

#ifdef __cplusplus
}
#endif

#endif
