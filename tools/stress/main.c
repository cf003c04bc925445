/*
 * inc-stress: the multi-core stress harness (the project's main job).
 *
 * Two Inception stacks, a client and a server, with K workers each, joined by
 * the software RSS wire; the client's workers run a mix of short
 * connections, keep-alive request/response and bulk transfers (mix.h), every
 * byte verified at the other end; optional seeded faults on the wire. A live
 * progress line every second, a final report with per-core counters,
 * steering, latency percentiles and pool accounting.
 *
 * Exit status: 0 all good; 1 a data error, a lost or failed connection, an
 * accounting mismatch or a leaked buffer; 2 bad usage or set-up; 3 a stall
 * (no progress for --stall seconds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inception/eal.h"
#include "inception/port.h"
#include "inception/stack.h"
#include "inception/wire.h"
#include "mix.h"

struct opts {
  unsigned workers;
  double duration;
  unsigned sessions;
  unsigned w_short, w_rr, w_bulk;
  uint32_t req, rr_count, bulk;
  double loss, dup;
  unsigned reorder, delay_us;
  uint64_t seed;
  double stall;
  int quiet;
};

static void usage(FILE *f)
{
  fprintf(f,
          "usage: inc-stress [options]\n"
          "  --workers K       worker cores per stack (default 2; the machine's cores are shared)\n"
          "  --duration S      seconds of load (default 60)\n"
          "  --sessions N      concurrent sessions per client worker (default 64)\n"
          "  --mix S,R,B       weights of short / request-response / bulk sessions (default 4,4,1)\n"
          "  --req BYTES       request and response size (default 64)\n"
          "  --rr-count N      requests per request-response session (default 100)\n"
          "  --bulk BYTES      bytes per bulk session (default 1048576)\n"
          "  --loss PCT --dup PCT --reorder W --delay-us US   wire faults, both ways (default none)\n"
          "  --seed N          seed of the faults and the mix (default 1)\n"
          "  --stall S         fail after S seconds without progress (default 30)\n"
          "  --quiet           no progress line\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
  static const struct option lo[] = {
      {"workers", 1, 0, 'w'}, {"duration", 1, 0, 'd'}, {"sessions", 1, 0, 's'}, {"mix", 1, 0, 'm'},
      {"req", 1, 0, 'q'},     {"rr-count", 1, 0, 'c'}, {"bulk", 1, 0, 'b'},     {"loss", 1, 0, 'l'},
      {"dup", 1, 0, 'u'},     {"reorder", 1, 0, 'r'},  {"delay-us", 1, 0, 'y'}, {"seed", 1, 0, 'e'},
      {"stall", 1, 0, 't'},   {"quiet", 0, 0, 'Q'},    {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
  int c;
  *o = (struct opts){2, 60, 64, 4, 4, 1, 64, 100, 1u << 20, 0, 0, 0, 0, 1, 30, 0};
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'w': o->workers = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'd': o->duration = atof(optarg); break;
    case 's': o->sessions = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'm':
      if (sscanf(optarg, "%u,%u,%u", &o->w_short, &o->w_rr, &o->w_bulk) != 3) {
        fprintf(stderr, "inc-stress: --mix wants three weights, e.g. 4,4,1\n");
        return -1;
      }
      break;
    case 'q': o->req = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'c': o->rr_count = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'b': o->bulk = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'l': o->loss = atof(optarg); break;
    case 'u': o->dup = atof(optarg); break;
    case 'r': o->reorder = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'y': o->delay_us = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'e': o->seed = strtoull(optarg, NULL, 10); break;
    case 't': o->stall = atof(optarg); break;
    case 'Q': o->quiet = 1; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (o->workers < 1 || o->workers > 8) {
    fprintf(stderr, "inc-stress: --workers must be 1..8 (2 stacks x K workers + 1 lcores)\n");
    return -1;
  }
  if (o->sessions < 1 || o->sessions > 4096 || o->req < 1 || o->req > (1u << 20) || o->rr_count < 1 ||
      o->bulk < 1 || o->w_short + o->w_rr + o->w_bulk == 0 || o->duration <= 0 || o->loss < 0 ||
      o->loss > 50 || o->dup < 0 || o->dup > 50 || o->stall <= 0) {
    fprintf(stderr, "inc-stress: an option is out of range (see --help)\n");
    return -1;
  }
  return 0;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct totals {
  uint64_t started, done, failed, requests, bytes, srv_done, srv_bytes, corrupt;
  uint64_t fail_connect, fail_reset, fail_closed, connect_deferred;
  int last_fail_err; /* of the highest worker with one */
  uint64_t lat[MIX_LAT_BUCKETS];
};

static uint64_t ld(const _Atomic uint64_t *a)
{
  return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)a, memory_order_relaxed);
}

static void sum(const struct mix *cm, const struct mix *sm, unsigned k, struct totals *t)
{
  unsigned i, b;
  memset(t, 0, sizeof(*t));
  for (i = 0; i < k; i++) {
    const struct mix_counters *c = mix_counters_of(cm, i), *s = mix_counters_of(sm, i);
    t->started += ld(&c->started);
    t->done += ld(&c->done);
    t->failed += ld(&c->failed);
    t->fail_connect += ld(&c->fail_connect);
    t->fail_reset += ld(&c->fail_reset);
    t->fail_closed += ld(&c->fail_closed);
    t->connect_deferred += ld(&c->connect_deferred);
    if (atomic_load_explicit(&c->last_fail_err, memory_order_relaxed) != 0) {
      t->last_fail_err = atomic_load_explicit(&c->last_fail_err, memory_order_relaxed);
    }
    t->requests += ld(&c->requests);
    t->bytes += ld(&c->bytes);
    t->corrupt += ld(&c->corrupt) + ld(&s->corrupt);
    t->srv_done += ld(&s->srv_done);
    t->srv_bytes += ld(&s->srv_bytes);
    for (b = 0; b < MIX_LAT_BUCKETS; b++) {
      t->lat[b] += ld(&c->lat[b]);
    }
  }
}

static double pct(const struct totals *t, double p)
{
  uint64_t n = 0, seen = 0;
  unsigned b;
  for (b = 0; b < MIX_LAT_BUCKETS; b++) {
    n += t->lat[b];
  }
  if (n == 0) {
    return 0;
  }
  for (b = 0; b < MIX_LAT_BUCKETS; b++) {
    seen += t->lat[b];
    if ((double)seen >= p * (double)n) {
      return (double)mix_lat_bucket_ns(b) / 1000.0;
    }
  }
  return 0;
}

static int start_stack(struct inc_stack **s, void **mem, struct inc_port *port, unsigned k, const unsigned *lcores,
                       uint32_t ip, struct inc_stack_callbacks *cb)
{
  struct inc_stack_config cfg;
  size_t len;
  memset(&cfg, 0, sizeof(cfg));
  cfg.workers = k;
  cfg.lcores = lcores;
  cfg.n_ports = 1;
  cfg.ports[0].port = port;
  cfg.ports[0].ip4_addr = htonl(ip);
  cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
  cfg.idle = INC_STACK_IDLE_YIELD; /* more workers than cores on a small machine */
  cfg.flows_per_core = 8192;
  cfg.cb = *cb;
  len = inc_stack_footprint(&cfg);
  if (len == 0 || posix_memalign(mem, 64, len) != 0) {
    return -ENOMEM;
  }
  return inc_stack_start(s, *mem, len, &cfg);
}

static void print_counters(const char *who, const struct inc_stack *s, unsigned k)
{
  unsigned i;
  for (i = 0; i < k; i++) {
    struct inc_stack_counters c;
    inc_stack_counters_get(s, i, &c);
    printf("  %s core %u: pkts in %" PRIu64 " out %" PRIu64 ", steered out %" PRIu64 " in %" PRIu64
           ", flows %" PRIu64 ", ring full %" PRIu64 ", drops %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64
           ", unowned %" PRIu64 "\n",
           who, i, c.pkts_in, c.pkts_out, c.steered_out, c.steered_in, c.flows_opened, c.ring_full,
           c.drops[INC_DROP_MALFORMED], c.drops[INC_DROP_RING_FULL], c.drops[INC_DROP_UNRESTORABLE],
           c.drops[INC_DROP_INPUT], c.unowned);
  }
}

int main(int argc, char **argv)
{
  struct opts o;
  struct inc_drv_err err;
  struct inc_wire wire;
  struct inc_wire_config wc;
  struct inc_port pa, pb;
  struct inc_port_config pc;
  struct mix cm, sm;
  struct mix_config mc;
  struct inc_stack_callbacks ccb, scb;
  struct inc_stack *cs = NULL, *ss = NULL;
  void *cmem = NULL, *smem = NULL;
  unsigned lc[16], i, k;
  char lcores[32], prefix[64];
  const char *eal_args[8];
  struct inc_eal_config ec;
  struct totals t, last;
  double t0, tl, last_change;
  uint64_t last_progress = 0;
  unsigned base_a, base_b; /* mbufs out of the pools before the stacks start */
  int rc = 0, stalled = 0;

  if (parse(argc, argv, &o) != 0) {
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  k = o.workers;
  snprintf(lcores, sizeof(lcores), "(0-%u)@(0,1)", 2 * k);
  snprintf(prefix, sizeof(prefix), "--file-prefix=incstress%d", (int)getpid());
  eal_args[0] = "--no-huge";
  eal_args[1] = "-m";
  eal_args[2] = "1024";
  eal_args[3] = "--no-pci";
  eal_args[4] = "--no-shconf";
  eal_args[5] = "--no-telemetry";
  eal_args[6] = prefix;
  eal_args[7] = "--log-level=user1,warning";
  memset(&ec, 0, sizeof(ec));
  ec.args = eal_args;
  ec.n_args = 8;
  ec.lcores = lcores;
  ec.prog_name = "inc-stress";
  if (inc_eal_init(&ec, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return 2;
  }

  memset(&wc, 0, sizeof(wc));
  wc.name = "stress";
  wc.kind = INC_WIRE_RING;
  wc.queues_a = wc.queues_b = (uint16_t)k;
  wc.fault_ab.loss_pct = wc.fault_ba.loss_pct = o.loss;
  wc.fault_ab.dup_pct = wc.fault_ba.dup_pct = o.dup;
  wc.fault_ab.reorder_window = wc.fault_ba.reorder_window = o.reorder;
  wc.fault_ab.delay_us = wc.fault_ba.delay_us = o.delay_us;
  wc.fault_ab.seed = o.seed;
  wc.fault_ba.seed = o.seed + 1;
  memset(&wire, 0, sizeof(wire));
  memset(&pa, 0, sizeof(pa));
  memset(&pb, 0, sizeof(pb));
  memset(&pc, 0, sizeof(pc));
  pc.n_queues = pc.n_tx_queues = (uint16_t)k;
  pc.socket_id = -1;
  if (inc_wire_create(&wire, &wc, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return 2;
  }
  pc.port_id = wire.port_a;
  if (inc_port_init(&pa, &pc, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return 2;
  }
  pc.port_id = wire.port_b;
  if (inc_port_init(&pb, &pc, &err) != 0 || inc_wire_attach(&wire, &pa, &pb, NULL, &err) != 0 ||
      inc_port_start(&pa, &err) != 0 || inc_port_start(&pb, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return 2;
  }

  memset(&mc, 0, sizeof(mc));
  mc.server_ip4 = htonl(0xc6120002u);
  mc.port = 7000;
  mc.sessions_per_worker = o.sessions;
  mc.weight_short = o.w_short;
  mc.weight_rr = o.w_rr;
  mc.weight_bulk = o.w_bulk;
  mc.req_size = o.req;
  mc.rr_count = o.rr_count;
  mc.bulk_size = o.bulk;
  mc.seed = o.seed;
  if (mix_init(&sm, &mc, k, 1, &scb) != 0 || mix_init(&cm, &mc, k, 0, &ccb) != 0) {
    fprintf(stderr, "inc-stress: out of memory\n");
    return 2;
  }
  for (i = 0; i < 2 * k; i++) {
    lc[i] = i + 1;
  }
  printf("inc-stress: 2 stacks x %u workers on the software RSS wire; mix short:rr:bulk %u:%u:%u, %u sessions "
         "per worker, %u-byte requests, %u per rr session, %u-byte bulk; faults loss %.2f%% dup %.2f%% reorder %u "
         "delay %u us seed %" PRIu64 "; %.0f s\n",
         k, o.w_short, o.w_rr, o.w_bulk, o.sessions, o.req, o.rr_count, o.bulk, o.loss, o.dup, o.reorder,
         o.delay_us, o.seed, o.duration);
  base_a = inc_port_mbufs_in_use(&pa);
  base_b = inc_port_mbufs_in_use(&pb);
  if ((rc = start_stack(&ss, &smem, &pb, k, lc + k, 0xc6120002u, &scb)) != 0 ||
      (rc = start_stack(&cs, &cmem, &pa, k, lc, 0xc6120001u, &ccb)) != 0) {
    fprintf(stderr, "inc-stress: the stacks did not start (%d)\n", rc);
    return 2;
  }

  t0 = tl = last_change = now_s();
  memset(&last, 0, sizeof(last));
  while (now_s() - t0 < o.duration) {
    struct inc_stack_counters c1, c2;
    double now;
    usleep(200000);
    now = now_s();
    sum(&cm, &sm, k, &t);
    if (t.requests + t.srv_bytes != last_progress) {
      last_progress = t.requests + t.srv_bytes;
      last_change = now;
    } else if (now - last_change > o.stall) {
      stalled = 1;
      break;
    }
    if (t.corrupt != 0) {
      break;
    }
    if (!o.quiet && now - tl >= 1.0) {
      inc_stack_counters_total(cs, &c1);
      inc_stack_counters_total(ss, &c2);
      printf("[%5.1fs] sessions %" PRIu64 " (%.0f/s) failed %" PRIu64 " | %.0f req/s | %.2f Gbit/s | corrupt %" PRIu64
             " | steered %" PRIu64 " | p50 %.0f us p99 %.0f us\n",
             now - t0, t.done, (double)(t.done - last.done) / (now - tl), t.failed,
             (double)(t.requests - last.requests) / (now - tl),
             (double)(t.srv_bytes - last.srv_bytes) * 8 / (now - tl) / 1e9, t.corrupt,
             c1.steered_out + c2.steered_out, pct(&t, 0.5), pct(&t, 0.99));
      last = t;
      tl = now;
    }
  }
  /* drain: no new sessions; the running ones finish (or the stall timer hits) */
  atomic_store(&cm.draining, 1);
  if (!stalled && t.corrupt == 0) {
    double end = now_s() + o.stall;
    for (;;) {
      usleep(50000);
      sum(&cm, &sm, k, &t);
      if (t.started == t.done + t.failed && t.srv_done >= t.done) {
        break; /* every session ended, and the server verified every one */
      }
      if (now_s() > end) {
        stalled = 1;
        break;
      }
    }
  }
  atomic_store(&cm.stopping, 1);
  atomic_store(&sm.stopping, 1);
  {
    struct inc_stack_counters c1, c2;
    inc_stack_counters_total(cs, &c1);
    inc_stack_counters_total(ss, &c2);
    sum(&cm, &sm, k, &t);
    printf("\ninc-stress report (%.1f s)\n", now_s() - t0);
    printf("  sessions: %" PRIu64 " started, %" PRIu64 " completed, %" PRIu64 " failed (%" PRIu64 " connect, %" PRIu64
           " reset, %" PRIu64 " closed early); server verified %" PRIu64 "\n",
           t.started, t.done, t.failed, t.fail_connect, t.fail_reset, t.fail_closed, t.srv_done);
    if (t.connect_deferred != 0) {
      printf("  connects deferred: %" PRIu64 " (-ENOMEM: the client's pools were short; each retried later)\n",
             t.connect_deferred);
    }
    if (t.last_fail_err != 0) {
      printf("  last failure: %s (%d)\n", strerror(-t.last_fail_err), t.last_fail_err);
    }
    printf("  requests: %" PRIu64 " verified responses; bytes verified by the server: %" PRIu64 "\n", t.requests,
           t.srv_bytes);
    printf("  latency (request out -> response in): p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n", pct(&t, 0.5),
           pct(&t, 0.99), pct(&t, 0.999));
    printf("  steering: client %" PRIu64 " packets steered, server %" PRIu64 "; corrupt %" PRIu64 "\n",
           c1.steered_out, c2.steered_out, t.corrupt);
    print_counters("client", cs, k);
    print_counters("server", ss, k);
  }
  inc_stack_stop(cs);
  inc_stack_stop(ss);
  inc_wire_drain(&wire); /* frames in flight when the stacks stopped */
  {
    unsigned ea = inc_port_mbufs_in_use(&pa), eb = inc_port_mbufs_in_use(&pb);
    unsigned ua = ea > base_a ? ea - base_a : 0, ub = eb > base_b ? eb - base_b : 0;
    for (i = 0; i < 2 * k; i++) { /* the workers are joined: their counters are final */
      const struct inc_netif_counters *l = mix_link_of(i < k ? &cm : &sm, i % k);
      printf("  %s core %u link: frames out %" PRIu64 " in %" PRIu64 ", tx no mbuf %" PRIu64 ", tx dropped %" PRIu64
             ", rx no mbuf %" PRIu64 ", rx bad checksum %" PRIu64 "\n",
             i < k ? "client" : "server", i % k, l->tx_packets, l->rx_frames, l->tx_nomem, l->tx_dropped, l->rx_nomem,
             l->rx_bad_l4_cksum);
    }
    printf("  pools: %u mbufs not back (client port), %u (server port)\n", ua, ub);
    if (stalled) {
      printf("inc-stress: FAILED: no progress for %.0f s\n", o.stall);
      rc = 3;
    } else if (t.corrupt != 0 || t.failed != 0 || t.started != t.done || t.srv_done != t.done || ua != 0 ||
               ub != 0 || t.done == 0) {
      printf("inc-stress: FAILED: %s\n",
             t.corrupt ? "data error" : t.failed ? "failed connections" : (ua || ub) ? "leaked buffers"
                                        : t.done == 0 ? "no session completed" : "sessions not accounted for");
      rc = 1;
    } else {
      printf("inc-stress: ok: every byte verified, every session accounted for, every buffer back\n");
    }
  }
  inc_port_close(&pa);
  inc_port_close(&pb);
  inc_wire_destroy(&wire);
  mix_fini(&cm);
  mix_fini(&sm);
  free(cmem);
  free(smem);
  inc_eal_cleanup();
  {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/incstress%d", (int)getpid());
    if (system(cmd) != 0) {
      fprintf(stderr, "inc-stress: could not remove the EAL's run-time directory\n");
    }
  }
  return rc;
}
