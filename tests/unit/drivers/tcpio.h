/*
 * tcpio: verified TCP streams on lwIP's raw API for the drivers tests.
 *
 * A sink listens and checks every byte of each accepted stream against
 * pattern(seed, offset) (the same function as drvtest::pattern); a source
 * connects and sends `bytes` bytes of the pattern, then closes. A source can
 * copy (tcp_write with TCP_WRITE_FLAG_COPY) or send without copying: the
 * application writes the pattern into buffers it takes from the stack
 * (pbuf_alloc(PBUF_RAM): mbufs of the core's pool) and gives them to
 * tcp_write() by reference, freeing each once TCP has it acknowledged.
 * Everything runs on the thread that owns the lwIP instance.
 */
#ifndef INC_TEST_TCPIO_H
#define INC_TEST_TCPIO_H

#include <stdint.h>

#include "lwip/ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TIO_MAX_CONNS 32
#define TIO_ZC_BUF 1400u   /* bytes per zero-copy buffer */
#define TIO_ZC_INFLIGHT 96 /* zero-copy buffers a source may have unacknowledged */

struct tcp_pcb;
struct pbuf;
struct tio;

struct tio_conn {
  struct tio *t;
  struct tcp_pcb *pcb;
  int used, sink, closed, failed, corrupt, complete;
  uint32_t seed;
  uint64_t bytes;   /* expected (sink) or to send (source) */
  uint64_t done;    /* verified (sink) or written (source) */
  uint64_t acked;   /* source: acknowledged */
  /* zero-copy source: buffers in flight, oldest first */
  struct pbuf *zc[TIO_ZC_INFLIGHT];
  uint32_t zc_len[TIO_ZC_INFLIGHT];
  unsigned zc_head, zc_n;
};

struct tio {
  struct tcp_pcb *listener;
  uint32_t sink_seed;
  uint64_t sink_bytes;   /* each accepted stream must carry this many bytes */
  int accept_as_source;  /* accepted connections send instead (tio_listen_source) */
  int zerocopy;          /* sources send without copying */
  struct tio_conn c[TIO_MAX_CONNS];
  unsigned accepted, sinks_complete, sources_complete, failures, corrupt;
  uint64_t verified;     /* sink bytes verified */
  /* the last payload address a sink read, and the first one a zero-copy
   * source wrote (zero-copy checks) */
  const void *last_rx_payload;
  const void *first_zc_buf;
};

/* Zeroes t. */
void tio_init(struct tio *t, int zerocopy);
/* Listens on port for streams of `bytes` bytes of pattern(seed). Returns 0 or
 * a negative lwIP err_t. */
int tio_listen(struct tio *t, uint16_t port, uint32_t seed, uint64_t bytes);
/* Listens on port and sends `bytes` bytes of pattern(seed) on each accepted
 * connection, then closes it (data toward a peer that opened the connection).
 * Returns 0 or a negative lwIP err_t. */
int tio_listen_source(struct tio *t, uint16_t port, uint32_t seed, uint64_t bytes);
/* Opens a stream of `bytes` bytes of pattern(seed) to dst:port from local
 * port local_port (0: lwIP picks). Returns 0 or a negative lwIP err_t. */
int tio_connect(struct tio *t, const ip_addr_t *dst, uint16_t port, uint16_t local_port, uint32_t seed,
                uint64_t bytes);
/* Keeps sources writing (call from the poll loop). */
void tio_poll(struct tio *t);
/* Closes the listener and aborts what is still open. */
void tio_stop(struct tio *t);

uint8_t tio_pattern(uint32_t seed, uint64_t i);

/* Prints the state of every open stream to stderr (for failing tests). */
void tio_dump(const struct tio *t, const char *tag);

#ifdef __cplusplus
}
#endif

#endif
