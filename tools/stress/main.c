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
 * --tap: Linux is the server instead (the "or a tap device with
 * Linux as the peer"). Only the client stack runs in Inception, on a DPDK
 * net_tap port (K <= 4: DPDK 22.11's net_tap starts at most 4 queue pairs);
 * the tap's kernel side is in a network namespace the harness creates and
 * removes (incstress<pid>, tap incst<pid>; 198.18.7.1/24 is Inception,
 * 198.18.7.2/24 Linux), where a forked child serves the same session
 * protocol with Linux's TCP and verifies every byte (tap.h,
 * linux_server.c). The child also removes the namespace when the harness
 * ends, however it ends. Root only. Wire faults do not apply (refused).
 *
 * Exit status: 0 all good; 1 a data error, a lost or failed connection, an
 * accounting mismatch or a leaked buffer (or a SIGINT/SIGTERM/SIGHUP: the
 * run stops early and cleans up); 2 bad usage or set-up; 3 a stall (no
 * progress for --stall seconds); 77 --tap cannot run on this machine (not
 * root, no network namespaces or no tun device: ctest counts it skipped).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
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
#include "tap.h"

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
  int tap;
};

/* SIGINT/SIGTERM/SIGHUP: the run ends early, cleanly (the namespace of
 * --tap is removed), and fails. Set by the handler, read by the main loop;
 * a lock-free atomic, so safe in a handler. */
static _Atomic int g_interrupted;

static void on_signal(int sig)
{
  (void)sig;
  atomic_store_explicit(&g_interrupted, 1, memory_order_relaxed);
}

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
          "  --tap             Linux is the server: one Inception stack (the client, K <= 4) on a DPDK\n"
          "                    net_tap port whose kernel side is in a network namespace made and removed\n"
          "                    by the harness (198.18.7.1/24 Inception, 198.18.7.2/24 Linux); root only;\n"
          "                    no wire faults\n"
          "  --quiet           no progress line\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
  static const struct option lo[] = {
      {"workers", 1, 0, 'w'}, {"duration", 1, 0, 'd'}, {"sessions", 1, 0, 's'}, {"mix", 1, 0, 'm'},
      {"req", 1, 0, 'q'},     {"rr-count", 1, 0, 'c'}, {"bulk", 1, 0, 'b'},     {"loss", 1, 0, 'l'},
      {"dup", 1, 0, 'u'},     {"reorder", 1, 0, 'r'},  {"delay-us", 1, 0, 'y'}, {"seed", 1, 0, 'e'},
      {"stall", 1, 0, 't'},   {"quiet", 0, 0, 'Q'},    {"help", 0, 0, 'h'},     {"tap", 0, 0, 'T'},
      {0, 0, 0, 0}};
  int c;
  *o = (struct opts){2, 60, 64, 4, 4, 1, 64, 100, 1u << 20, 0, 0, 0, 0, 1, 30, 0, 0};
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
    case 'T': o->tap = 1; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (o->workers < 1 || o->workers > 8) {
    fprintf(stderr, "inc-stress: --workers must be 1..8 (2 stacks x K workers + 1 lcores)\n");
    return -1;
  }
  if (o->tap && o->workers > 4) {
    fprintf(stderr, "inc-stress: --tap takes --workers 1..4 (DPDK 22.11's net_tap starts at most 4 queue pairs)\n");
    return -1;
  }
  if (o->tap && (o->loss != 0 || o->dup != 0 || o->reorder != 0 || o->delay_us != 0)) {
    fprintf(stderr, "inc-stress: --loss, --dup, --reorder and --delay-us act on the software wire; with --tap "
                    "Linux's tap carries the packets and has no faults\n");
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

/* The client's counters, and the server's: the server stack's (sm) or, with
 * --tap, Linux's (lx). */
static void sum(const struct mix *cm, const struct mix *sm, const struct tap_peer_shared *lx, unsigned k,
                struct totals *t)
{
  unsigned i, b;
  memset(t, 0, sizeof(*t));
  if (lx != NULL) {
    t->corrupt = ld(&lx->corrupt);
    t->srv_done = ld(&lx->done);
    t->srv_bytes = ld(&lx->bytes);
  }
  for (i = 0; i < k; i++) {
    const struct mix_counters *c = mix_counters_of(cm, i);
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
    t->corrupt += ld(&c->corrupt);
    if (sm != NULL) {
      const struct mix_counters *s = mix_counters_of(sm, i);
      t->corrupt += ld(&s->corrupt);
      t->srv_done += ld(&s->srv_done);
      t->srv_bytes += ld(&s->srv_bytes);
    }
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
                       uint32_t ip, struct inc_stack_callbacks *cb, int tap)
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
  if (tap) {
    /* Linux's server shares the cores: idle workers sleep, not spin */
    cfg.idle = INC_STACK_IDLE_SLEEP;
    cfg.idle_sleep_max_us = 100;
  }
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

/* The software wire between ports a (client) and b (server). */
static int open_wire(const struct opts *o, struct inc_wire *wire, struct inc_port *pa, struct inc_port *pb)
{
  struct inc_wire_config wc;
  struct inc_port_config pc;
  struct inc_drv_err err;
  uint16_t k = (uint16_t)o->workers;
  memset(&wc, 0, sizeof(wc));
  wc.name = "stress";
  wc.kind = INC_WIRE_RING;
  wc.queues_a = wc.queues_b = k;
  wc.fault_ab.loss_pct = wc.fault_ba.loss_pct = o->loss;
  wc.fault_ab.dup_pct = wc.fault_ba.dup_pct = o->dup;
  wc.fault_ab.reorder_window = wc.fault_ba.reorder_window = o->reorder;
  wc.fault_ab.delay_us = wc.fault_ba.delay_us = o->delay_us;
  wc.fault_ab.seed = o->seed;
  wc.fault_ba.seed = o->seed + 1;
  memset(&pc, 0, sizeof(pc));
  pc.n_queues = pc.n_tx_queues = k;
  pc.socket_id = -1;
  if (inc_wire_create(wire, &wc, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return -1;
  }
  pc.port_id = wire->port_a;
  if (inc_port_init(pa, &pc, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return -1;
  }
  pc.port_id = wire->port_b;
  if (inc_port_init(pb, &pc, &err) != 0 || inc_wire_attach(wire, pa, pb, NULL, &err) != 0 ||
      inc_port_start(pa, &err) != 0 || inc_port_start(pb, &err) != 0) {
    fprintf(stderr, "inc-stress: %s\n", err.msg);
    return -1;
  }
  return 0;
}

/* The client's port on the tap of --tap: net_tap opens the tap's queues in
 * the namespace the device is in. */
static int open_tap(const struct opts *o, struct tap_peer *tp, struct inc_port *pa)
{
  struct inc_port_config pc;
  struct inc_drv_err err;
  char dev[64];
  int rc;
  memset(&pc, 0, sizeof(pc));
  memset(&err, 0, sizeof(err));
  pc.n_queues = (uint16_t)o->workers;
  pc.socket_id = -1;
  snprintf(dev, sizeof(dev), "net_tap_st%d,iface=%s", (int)getpid(), tp->tap);
  pc.devargs = dev;
  if ((rc = tap_peer_enter(tp)) != 0) {
    fprintf(stderr, "inc-stress: --tap: cannot enter %s: %s\n", tp->ns, strerror(-rc));
    return -1;
  }
  rc = inc_port_init(pa, &pc, &err);
  if (rc == 0) {
    rc = inc_port_start(pa, &err);
  }
  tap_peer_leave(tp);
  if (rc != 0) {
    fprintf(stderr, "inc-stress: --tap: net_tap on %s: %s\n", tp->tap, err.msg);
    return -1;
  }
  return 0;
}

/* The main thread sleeps between samples: net_tap's per-queue signals (SIGIO
 * and real-time ones, F_SETSIG) go to the workers, as in tools/examples. */
static void block_tap_signals(void)
{
  sigset_t set;
  int sig;
  sigemptyset(&set);
  sigaddset(&set, SIGIO);
  for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
    sigaddset(&set, sig);
  }
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int run(const struct opts *op, struct tap_peer *tp)
{
  const struct opts o = *op;
  struct inc_drv_err err;
  struct inc_wire wire;
  struct inc_port pa, pb;
  struct mix cm, sm;
  struct mix *smp = o.tap ? NULL : &sm; /* the server stack's workload (none with --tap) */
  const struct tap_peer_shared *lx = o.tap ? tp->sh : NULL;
  struct mix_config mc;
  struct inc_stack_callbacks ccb, scb;
  struct inc_stack *cs = NULL, *ss = NULL;
  void *cmem = NULL, *smem = NULL;
  unsigned lc[16], i, k, n_lc;
  char lcores[32], prefix[64];
  const char *eal_args[8];
  struct inc_eal_config ec;
  struct totals t, last;
  double t0, tl, last_change;
  uint64_t last_progress = 0;
  unsigned base_a, base_b = 0; /* mbufs out of the pools before the stacks start */
  int rc = 0, stalled = 0, interrupted = 0;

  k = o.workers;
  n_lc = o.tap ? k : 2 * k; /* worker lcores, besides the main one */
  snprintf(lcores, sizeof(lcores), "(0-%u)@(0,1)", n_lc);
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

  memset(&wire, 0, sizeof(wire));
  memset(&pa, 0, sizeof(pa));
  memset(&pb, 0, sizeof(pb));
  if (o.tap ? open_tap(&o, tp, &pa) != 0 : open_wire(&o, &wire, &pa, &pb) != 0) {
    return 2;
  }
  if (o.tap) {
    block_tap_signals();
  }

  memset(&mc, 0, sizeof(mc));
  mc.server_ip4 = htonl(o.tap ? TAP_LINUX_IP4 : 0xc6120002u);
  mc.port = 7000;
  mc.sessions_per_worker = o.sessions;
  mc.weight_short = o.w_short;
  mc.weight_rr = o.w_rr;
  mc.weight_bulk = o.w_bulk;
  mc.req_size = o.req;
  mc.rr_count = o.rr_count;
  mc.bulk_size = o.bulk;
  mc.seed = o.seed;
  if ((smp != NULL && mix_init(smp, &mc, k, 1, &scb) != 0) || mix_init(&cm, &mc, k, 0, &ccb) != 0) {
    fprintf(stderr, "inc-stress: out of memory\n");
    return 2;
  }
  for (i = 0; i < n_lc; i++) {
    lc[i] = i + 1;
  }
  if (o.tap) {
    printf("inc-stress: 1 stack x %u workers on net_tap %s, Linux's TCP the server in namespace %s (198.18.7.1 -> "
           "198.18.7.2); mix short:rr:bulk %u:%u:%u, %u sessions per worker, %u-byte requests, %u per rr session, "
           "%u-byte bulk; seed %" PRIu64 "; %.0f s\n",
           k, tp->tap, tp->ns, o.w_short, o.w_rr, o.w_bulk, o.sessions, o.req, o.rr_count, o.bulk, o.seed,
           o.duration);
  } else {
    printf("inc-stress: 2 stacks x %u workers on the software RSS wire; mix short:rr:bulk %u:%u:%u, %u sessions "
           "per worker, %u-byte requests, %u per rr session, %u-byte bulk; faults loss %.2f%% dup %.2f%% reorder %u "
           "delay %u us seed %" PRIu64 "; %.0f s\n",
           k, o.w_short, o.w_rr, o.w_bulk, o.sessions, o.req, o.rr_count, o.bulk, o.loss, o.dup, o.reorder,
           o.delay_us, o.seed, o.duration);
  }
  base_a = inc_port_mbufs_in_use(&pa);
  if (!o.tap) {
    base_b = inc_port_mbufs_in_use(&pb);
    rc = start_stack(&ss, &smem, &pb, k, lc + k, 0xc6120002u, &scb, 0);
  }
  if (rc != 0 ||
      (rc = start_stack(&cs, &cmem, &pa, k, lc, o.tap ? TAP_OUR_IP4 : 0xc6120001u, &ccb, o.tap)) != 0) {
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
    sum(&cm, smp, lx, k, &t);
    if (atomic_load_explicit(&g_interrupted, memory_order_relaxed)) { /* pairs with on_signal */
      interrupted = 1;
      break;
    }
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
      memset(&c2, 0, sizeof(c2));
      if (ss != NULL) {
        inc_stack_counters_total(ss, &c2);
      }
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
  if (!stalled && !interrupted && t.corrupt == 0) {
    double end = now_s() + o.stall;
    for (;;) {
      usleep(50000);
      sum(&cm, smp, lx, k, &t);
      if (t.started == t.done + t.failed && t.srv_done >= t.done) {
        break; /* every session ended, and the server verified every one */
      }
      if (atomic_load_explicit(&g_interrupted, memory_order_relaxed)) {
        interrupted = 1;
        break;
      }
      if (now_s() > end) {
        stalled = 1;
        break;
      }
    }
  }
  atomic_store(&cm.stopping, 1);
  if (smp != NULL) {
    atomic_store(&smp->stopping, 1);
  } else {
    /* Linux's server: cut sessions are not errors; pairs with the relaxed
     * load in linux_server.c's conn_input (a flag, no data behind it) */
    atomic_store_explicit(&tp->sh->stopping, 1, memory_order_relaxed);
  }
  {
    struct inc_stack_counters c1, c2;
    inc_stack_counters_total(cs, &c1);
    memset(&c2, 0, sizeof(c2));
    if (ss != NULL) {
      inc_stack_counters_total(ss, &c2);
    }
    sum(&cm, smp, lx, k, &t);
    printf("\ninc-stress report (%.1f s)\n", now_s() - t0);
    printf("  sessions: %" PRIu64 " started, %" PRIu64 " completed, %" PRIu64 " failed (%" PRIu64 " connect, %" PRIu64
           " reset, %" PRIu64 " closed early); %s verified %" PRIu64 "\n",
           t.started, t.done, t.failed, t.fail_connect, t.fail_reset, t.fail_closed,
           o.tap ? "Linux's server" : "server", t.srv_done);
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
    if (o.tap) {
      printf("  steering: client %" PRIu64 " packets steered (Linux's tun chose the queue); corrupt %" PRIu64 "\n",
             c1.steered_out, t.corrupt);
    } else {
      printf("  steering: client %" PRIu64 " packets steered, server %" PRIu64 "; corrupt %" PRIu64 "\n",
             c1.steered_out, c2.steered_out, t.corrupt);
    }
    print_counters("client", cs, k);
    if (ss != NULL) {
      print_counters("server", ss, k);
    } else {
      printf("  Linux's server: %" PRIu64 " connections accepted, %" PRIu64 " sessions verified whole, %" PRIu64
             " bytes verified, %" PRIu64 " corrupt\n",
             ld(&lx->accepted), ld(&lx->done), ld(&lx->bytes), ld(&lx->corrupt));
    }
  }
  inc_stack_stop(cs);
  if (ss != NULL) {
    inc_stack_stop(ss);
    inc_wire_drain(&wire); /* frames in flight when the stacks stopped */
  }
  {
    unsigned ea = inc_port_mbufs_in_use(&pa), eb = o.tap ? 0 : inc_port_mbufs_in_use(&pb);
    unsigned ua = ea > base_a ? ea - base_a : 0, ub = eb > base_b ? eb - base_b : 0;
    uint64_t accepted = lx != NULL ? ld(&lx->accepted) : t.srv_done;
    for (i = 0; i < n_lc; i++) { /* the workers are joined: their counters are final */
      const struct inc_netif_counters *l = mix_link_of(i < k ? &cm : smp, i % k);
      printf("  %s core %u link: frames out %" PRIu64 " in %" PRIu64 ", tx no mbuf %" PRIu64 ", tx dropped %" PRIu64
             ", rx no mbuf %" PRIu64 ", rx bad checksum %" PRIu64 "\n",
             i < k ? "client" : "server", i % k, l->tx_packets, l->rx_frames, l->tx_nomem, l->tx_dropped, l->rx_nomem,
             l->rx_bad_l4_cksum);
    }
    if (o.tap) {
      printf("  pools: %u mbufs not back (client port)\n", ua);
    } else {
      printf("  pools: %u mbufs not back (client port), %u (server port)\n", ua, ub);
    }
    if (interrupted) {
      printf("inc-stress: FAILED: interrupted by a signal\n");
      rc = 1;
    } else if (stalled) {
      printf("inc-stress: FAILED: no progress for %.0f s\n", o.stall);
      rc = 3;
    } else if (t.corrupt != 0 || t.failed != 0 || t.started != t.done || t.srv_done != t.done || ua != 0 ||
               ub != 0 || t.done == 0 || accepted != t.srv_done) {
      printf("inc-stress: FAILED: %s\n",
             t.corrupt ? "data error" : t.failed ? "failed connections" : (ua || ub) ? "leaked buffers"
                                        : t.done == 0 ? "no session completed" : "sessions not accounted for");
      rc = 1;
    } else {
      printf("inc-stress: ok: every byte verified, every session accounted for, every buffer back\n");
    }
  }
  if (o.tap) {
    if (tap_peer_enter(tp) != 0) { /* net_tap sets its device down by name, in its namespace */
      fprintf(stderr, "inc-stress: --tap: cannot enter %s to close the port\n", tp->ns);
    }
    inc_port_close(&pa);
    tap_peer_leave(tp);
  } else {
    inc_port_close(&pa);
    inc_port_close(&pb);
    inc_wire_destroy(&wire);
    mix_fini(&sm);
  }
  mix_fini(&cm);
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

int main(int argc, char **argv)
{
  struct opts o;
  struct tap_peer tp;
  struct sigaction sa;
  int rc;

  if (parse(argc, argv, &o) != 0) {
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  memset(&tp, 0, sizeof(tp));
  tp.child = -1;
  tp.pipe_w = tp.saved_ns = -1;
  /* before the EAL: the child is forked while no other thread exists */
  if (o.tap && (rc = tap_peer_start(&tp, o.workers, 7000)) != 0) {
    return rc == -ENOTSUP ? 77 : 2;
  }
  rc = run(&o, &tp);
  tap_peer_stop(&tp); /* the child removes the tap and the namespace; a no-op without --tap */
  return rc;
}
