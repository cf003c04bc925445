/*
 * Receive-side scaling as a NIC computes it: the Toeplitz hash of a packet's
 * addresses (and ports), and the redirection table (RETA) that maps the hash
 * to a receive queue. Pure C, no DPDK: the software RSS wire (wire.h) picks
 * the queue of each frame with it, and steering (stack/) picks ephemeral ports
 * whose replies land on the opening core.
 *
 * Hash input, as Microsoft's RSS specification defines it ("Verifying the RSS
 * Hash Calculation"): source address, destination address, then for TCP and
 * UDP source port and destination port, all in network byte order. IPv4
 * fragments and protocols other than TCP/UDP hash the two addresses only, as
 * NICs do (a fragment has no ports).
 */
#ifndef INC_RSS_H
#define INC_RSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INC_RSS_KEY_MAX 52u   /* longest key of a DPDK PMD (52 bytes) */
#define INC_RSS_RETA_MAX 512u /* largest redirection table kept */
#define INC_RSS_INPUT_MAX 36u /* longest hash input: IPv6 addresses and ports */

/** The symmetric Toeplitz key: 0x6d5a repeated. With it, a flow and its reply
 * (addresses and ports swapped) hash alike, so both directions of a
 * connection land on the same queue index (Woo and Park, "Scalable TCP
 * Session Monitoring with Symmetric Receive-side Scaling", 2012). */
extern const uint8_t inc_rss_symmetric_key[INC_RSS_KEY_MAX];

/** The key of Microsoft's RSS verification suite (and many NICs' default). */
extern const uint8_t inc_rss_ms_key[40];

/** What a packet contributes to its hash. Addresses in network byte order,
 * ports in host byte order. */
struct inc_rss_tuple {
  uint8_t family;   /* 4 or 6; 0: not IP (hash 0, queue of RETA entry 0) */
  uint8_t l4;       /* 1: ports are part of the hash (TCP or UDP, not a fragment) */
  uint8_t proto;    /* IP protocol (6 TCP, 17 UDP, ...) */
  uint8_t src[16];  /* IPv4 uses the first 4 bytes */
  uint8_t dst[16];
  uint16_t sport, dport;
};

/** A port's RSS configuration as the NIC (or the software wire) applies it.
 * inc_rss_conf_init() fills it; a copy by value stays valid. reta and key
 * may be changed in place (not while other threads hash with the conf); a
 * key changed after inc_rss_conf_init() is hashed bit by bit until
 * inc_rss_conf_init() computes its tables again. */
struct inc_rss_conf {
  uint8_t key[INC_RSS_KEY_MAX];
  uint8_t key_len;              /* 40 or 52 */
  uint16_t n_queues;
  uint16_t reta_size;           /* entries used in reta[] */
  uint16_t reta[INC_RSS_RETA_MAX];
  /* The Toeplitz hash is linear in its input (XOR of the key windows of
   * the set bits): lut[i][v] is the hash of byte value v at input byte i
   * with all other bytes 0, so a hash is one lookup per input byte
   * (inc_rss_conf_hash()). 36 KiB, computed once from key. */
  uint32_t lut[INC_RSS_INPUT_MAX][256];
  uint8_t lut_key[INC_RSS_KEY_MAX]; /* the key lut was computed from */
};

/**
 * The Toeplitz hash of len input bytes under key (key_len >= len + 4).
 * Thread: any. RCU: none. Returns: the 32-bit hash (0 when key_len is too short).
 */
uint32_t inc_rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *input, size_t len);

/**
 * The hash of a tuple: 12 input bytes for IPv4 with ports, 8 without; 36 and
 * 32 for IPv6. Bit by bit from the key (the reference; ~100 instructions per
 * input byte): on a data path use inc_rss_conf_hash().
 * Thread: any. RCU: none. Returns: the hash, 0 for a non-IP tuple.
 */
uint32_t inc_rss_hash(const uint8_t *key, size_t key_len, const struct inc_rss_tuple *t);

/**
 * The same hash as inc_rss_hash(conf->key, conf->key_len, t), from conf's
 * lookup tables: one table lookup per input byte (bit by bit if conf->key
 * was changed since inc_rss_conf_init()).
 * Thread: any (conf is read only). RCU: none. Returns: the hash, 0 for a
 *   non-IP tuple.
 */
uint32_t inc_rss_conf_hash(const struct inc_rss_conf *conf, const struct inc_rss_tuple *t);

/**
 * Reads the RSS tuple of an Ethernet frame (an optional 802.1Q tag is
 * skipped). Only the bytes the hash needs are read.
 * Thread: any.
 * RCU: none. Returns: 0; -EPROTONOSUPPORT for a frame that is not IPv4/IPv6 (t->family
 *   is then 0); -EBADMSG for an IP header that is truncated or malformed.
 */
int inc_rss_tuple_from_frame(const uint8_t *frame, size_t len, struct inc_rss_tuple *t);

/**
 * Fills conf with key (NULL: inc_rss_symmetric_key of key_len bytes), its
 * hash lookup tables (conf->lut), and a redirection table of reta_size
 * entries that spreads n_queues round robin (entry i -> queue i % n_queues),
 * as DPDK PMDs do by default.
 * Thread: any (conf is the caller's).
 * RCU: none. Returns: 0, or -EINVAL (key_len not 40 or 52, n_queues 0, reta_size 0 or
 *   above INC_RSS_RETA_MAX).
 */
int inc_rss_conf_init(struct inc_rss_conf *conf, const uint8_t *key, size_t key_len,
                      uint16_t n_queues, uint16_t reta_size);

/**
 * The queue a NIC with this configuration picks for hash: reta[hash % reta_size].
 * Thread: any. RCU: none. Returns: the queue index.
 */
static inline uint16_t inc_rss_queue(const struct inc_rss_conf *conf, uint32_t hash)
{
  return conf->reta[hash % conf->reta_size];
}

/**
 * The queue of a frame: tuple, hash (inc_rss_conf_hash()), RETA. Frames
 * that are not IP go to the queue of RETA entry 0 (as NICs deliver what they
 * do not hash).
 * Thread: any. RCU: none. Returns: the queue index.
 */
uint16_t inc_rss_queue_of_frame(const struct inc_rss_conf *conf, const uint8_t *frame, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* INC_RSS_H */
