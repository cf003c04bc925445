/*
 * Packet capture files in pcapng format (tcpdump, tshark and Wireshark read
 * them), one writer per file, written by one thread. Pure C.
 *
 * A file has one interface (Ethernet, nanosecond timestamps) named after what
 * it captures (e.g. "port0/q1"); each packet records its direction (inbound
 * or outbound) in the enhanced packet block's flags, so a capture of a
 * queue's RX and TX can be split again (tshark: frame.packet_flags_direction).
 *
 * Capturing the traffic of a running port, per port or per queue, switched on
 * and off at run time: inc_port_capture_start() in port.h.
 */
#ifndef INC_PCAP_H
#define INC_PCAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum inc_pcap_dir {
  INC_PCAP_DIR_UNKNOWN = 0,
  INC_PCAP_DIR_IN = 1,  /* received */
  INC_PCAP_DIR_OUT = 2, /* transmitted */
};

struct inc_pcap_config {
  const char *path;    /* created or truncated */
  const char *if_name; /* name of the captured interface; NULL: "inception" */
  uint32_t snaplen;    /* bytes kept per packet; 0: INC_DRV_PCAP_SNAPLEN */
  uint8_t *buf;        /* write buffer, the caller's; at least 4096 bytes */
  size_t buf_len;
};

/** A capture file being written. The caller's; fields are read-only to it. */
struct inc_pcap {
  int fd;
  uint32_t snaplen;
  uint8_t *buf;
  size_t cap, len;
  uint64_t packets;      /* packets written (or buffered) */
  uint64_t write_errors; /* failed writes (the file is then incomplete) */
};

/** A piece of a packet (packets may be chained buffers). */
struct inc_pcap_seg {
  const void *data;
  uint32_t len;
};

/**
 * Creates the file and writes its header blocks.
 * Thread: any; the writer then belongs to the calling thread.
 * Ownership: cfg->buf stays the caller's and must outlive the writer.
 * RCU: none. Returns: 0; -EINVAL (no path, buffer under 4096 bytes, snaplen below 64),
 *   or the negative errno of open()/write().
 */
int inc_pcap_open(struct inc_pcap *w, const struct inc_pcap_config *cfg);

/**
 * Adds one packet of orig_len bytes made of nseg pieces (their lengths add up
 * to orig_len; only snaplen bytes are kept), taken at ts_ns (nanoseconds since
 * the epoch), in direction dir.
 * Thread: the writer's. Ownership: the pieces stay the caller's.
 * RCU: none. Returns: 0, or the negative errno of a failed write (counted).
 */
int inc_pcap_write(struct inc_pcap *w, uint64_t ts_ns, const struct inc_pcap_seg *segs,
                   unsigned nseg, uint32_t orig_len, enum inc_pcap_dir dir);

/**
 * Writes out what is buffered. Thread: the writer's.
 * RCU: none. Returns: 0 or the negative errno of write().
 */
int inc_pcap_flush(struct inc_pcap *w);

/**
 * Flushes and closes the file. Thread: the writer's.
 * RCU: none. Returns: 0 or the negative errno of the last write/close.
 */
int inc_pcap_close(struct inc_pcap *w);

#ifdef __cplusplus
}
#endif

#endif /* INC_PCAP_H */
