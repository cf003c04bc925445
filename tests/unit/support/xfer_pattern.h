/*
 * The byte pattern of xfer transfers (test support), shared by the lwIP side
 * (xfer.c) and Linux peers (stack/linux_peer.c): a stream is a 4-byte id
 * (little endian) followed by payload byte i = table[(i + id * 131) % 65536],
 * where the table comes from a fixed xorshift64 sequence.
 */
#ifndef INC_TEST_XFER_PATTERN_H
#define INC_TEST_XFER_PATTERN_H

#include <stdint.h>

#define XFER_PATTERN_LEN 65536u

static inline void xfer_pattern_fill(uint8_t *table)
{
  uint64_t x = 0x243f6a8885a308d3ULL; /* fixed: every node derives the same pattern */
  uint32_t i;
  for (i = 0; i < XFER_PATTERN_LEN; i++) {
    x ^= x << 13; /* xorshift64 */
    x ^= x >> 7;
    x ^= x << 17;
    table[i] = (uint8_t)(x >> 24);
  }
}

/* Position in the table of payload byte off of transfer id. */
static inline uint32_t xfer_pattern_pos(uint32_t id, uint64_t off)
{
  return (uint32_t)((off + (uint64_t)id * 131u) % XFER_PATTERN_LEN);
}

#endif
