/*
 * The stress harness's workload (tools/stress): on every worker of a client
 * stack, sessions of three kinds run at once against a server stack, and
 * every byte is verified at the other end.
 *
 *   short   connect, one request, its response, close
 *   rr      connect, `count` requests and responses (keep-alive), close;
 *           each request's latency is measured (request out to response in)
 *   bulk    connect, `bulk` bytes one way, close; the server checks length
 *
 * A session starts with a 20-byte header (magic, kind, id, count, size).
 * Payload byte i of request/response seq of session id is a function of
 * (id, seq, i), so a byte from another stream or out of place is caught.
 * Runs on the workers, with the per-core raw API (inception/raw.h) only.
 */
#ifndef INC_STRESS_MIX_H
#define INC_STRESS_MIX_H

#include <stdatomic.h>
#include <stdint.h>

#include "inception/netif_counters.h"
#include "inception/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MIX_LAT_BUCKETS 256

/* The session protocol (also spoken by the Linux server of --tap,
 * linux_server.c): a header of five 32-bit words in host order (magic,
 * kind, id, count, size), then `count` units of `size` bytes, byte i of unit
 * seq being mix_pat(id, seq, i); the server answers each short/rr unit with
 * mix_pat(id | MIX_RESP_TAG, seq, i). */
#define MIX_MAGIC 0x58434e49u /* "INCX" */
#define MIX_HDR_LEN 20u
#define MIX_RESP_TAG 0x80000000u
enum { MIX_KIND_SHORT = 1, MIX_KIND_RR = 2, MIX_KIND_BULK = 3 };

/* Payload byte i of unit seq of stream id. Thread: any. */
uint8_t mix_pat(uint32_t id, uint32_t seq, uint64_t i);

/* A server's reading of one session's stream (the Inception server in mix.c
 * and Linux's in linux_server.c): the header, then every request byte
 * checked against mix_pat(). Zeroed at accept. */
struct mix_srv_in {
  uint8_t h[MIX_HDR_LEN];
  uint32_t hoff, kind, id, count, size, seq; /* seq: the unit being read */
  uint64_t in_off;                           /* bytes of it read */
};

/* Takes one received byte. Returns -1 if it is not what the protocol says;
 * 1 if it ends a short/rr request, which must be answered (*answer = its
 * seq); 0 otherwise. Thread: the connection's. */
int mix_srv_in_byte(struct mix_srv_in *in, uint8_t b, uint32_t *answer);

/* Whether the stream ended on a whole session (at the client's FIN). */
int mix_srv_in_whole(const struct mix_srv_in *in);

struct mix_config {
  uint32_t server_ip4;     /* network byte order (client side) */
  uint16_t port;
  unsigned sessions_per_worker; /* concurrent sessions per client worker */
  unsigned weight_short, weight_rr, weight_bulk;
  uint32_t req_size;       /* short and rr request/response bytes */
  uint32_t rr_count;       /* requests per rr session */
  uint32_t bulk_size;      /* bytes per bulk session */
  uint64_t seed;
};

/* Counters of one worker (both roles), written by that worker with relaxed
 * atomic stores, read by the main thread at any time. */
struct mix_counters {
  _Atomic uint64_t started, done, failed;   /* client sessions */
  _Atomic uint64_t fail_connect, fail_reset, fail_closed; /* why: connect refused/no port, RST/abort, early FIN */
  _Atomic int last_fail_err;               /* negative errno of the latest failed session (0: none) */
  _Atomic uint64_t connect_deferred;       /* connects that got -ENOMEM (pools short): retried later */
  _Atomic uint64_t requests, bytes;        /* verified responses / bytes (client) */
  _Atomic uint64_t srv_accepted, srv_done, srv_bytes; /* server side, verified */
  _Atomic uint64_t corrupt;                /* wrong bytes, lengths or headers, either side */
  _Atomic uint64_t lat[MIX_LAT_BUCKETS];   /* request latency histogram (client) */
};

struct mix_worker;

struct mix {
  struct mix_config cfg;
  unsigned workers;
  int server;              /* this stack serves (else it is the client) */
  _Atomic int draining;    /* start no new sessions; the running ones finish */
  _Atomic int stopping;    /* the run is over: cut sessions are not failures */
  struct mix_worker *w;    /* one per worker */
};

/* Builds the workload for one stack; fills cb with its worker callbacks.
 * Returns 0 or -ENOMEM. */
int mix_init(struct mix *m, const struct mix_config *cfg, unsigned workers, int server,
             struct inc_stack_callbacks *cb);
void mix_fini(struct mix *m);

/* Counters of worker i (any thread). */
const struct mix_counters *mix_counters_of(const struct mix *m, unsigned i);

/* Link counters of worker i's netif, as it stopped (read them after
 * inc_stack_stop() has returned: the worker wrote them in worker_stop). */
const struct inc_netif_counters *mix_link_of(const struct mix *m, unsigned i);

/* Latency of histogram bucket b, in nanoseconds (its upper bound). */
uint64_t mix_lat_bucket_ns(unsigned b);

#ifdef __cplusplus
}
#endif

#endif
