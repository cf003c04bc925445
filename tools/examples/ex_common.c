/*
 * The examples' shared set-up: options, EAL, wire or tap, stacks, API
 * contexts, teardown with pool accounting, and the deterministic bytes.
 */
#define _GNU_SOURCE
#include "ex_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "inception/eal.h"

volatile sig_atomic_t ex_stop_requested;

static void on_signal(int sig)
{
  (void)sig;
  ex_stop_requested = 1;
}

void ex_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void ex_block_signals(int stop_too)
{
  sigset_t set;
  sigemptyset(&set);
  int sig;
  sigaddset(&set, SIGIO);
  /* net_tap asks the kernel for a real-time signal per queue fd (F_SETSIG) */
  for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
    sigaddset(&set, sig);
  }
  if (stop_too) {
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
  }
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

double ex_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f, const struct ex_prog *p)
{
  fprintf(f, "usage: %s [options]\n\n%s\n\noptions:\n", p->name, p->summary);
  fprintf(f,
          "  --workers K        worker cores per stack, 1..4 (default 2)\n"
          "  --port P           TCP port of the service (default %u)\n"
          "  --tap IF           run on the existing multi_queue tap device IF (DPDK net_tap)\n"
          "                     instead of the software RSS wire; run the program in IF's\n"
          "                     network namespace\n"
          "  --ip A.B.C.D/LEN   our IPv4 address on the tap\n"
          "  --ip6 ADDR/64      our IPv6 address on the tap (a link-local one is always added)\n",
          p->default_port);
  if (p->extra != NULL) {
    fputs(p->extra, f);
  }
  fprintf(f, "  --quiet            only errors and the final line\n"
             "  --help             this text\n");
}

static int bad(const struct ex_prog *p, const char *fmt, const char *what)
{
  fprintf(stderr, "%s: ", p->name);
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n%s: see %s --help\n", p->name, p->name);
  return -1;
}

/* A whole decimal number in [lo, hi]. */
static int num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
  char *end = NULL;
  unsigned long long v;
  if (s == NULL || *s == '\0' || *s == '-' || *s == '+') {
    return -1;
  }
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) {
    return -1;
  }
  *out = v;
  return 0;
}

/* "ADDR/LEN" of the given family. */
static int addr_len(const char *s, int family, struct inc_addr *a, unsigned *len)
{
  char buf[INC_ADDR_STRLEN + 8];
  char *slash;
  uint64_t l;
  if (strlen(s) >= sizeof(buf)) {
    return -1;
  }
  strcpy(buf, s);
  slash = strchr(buf, '/');
  if (slash == NULL) {
    return -1;
  }
  *slash = '\0';
  if (inc_addr_parse(a, buf) != 0 || a->family != family || a->zone != 0) {
    return -1;
  }
  if (num(slash + 1, family == INC_AF_INET ? 1 : 64, family == INC_AF_INET ? 30 : 64, &l) != 0) {
    return -1;
  }
  *len = (unsigned)l;
  return 0;
}

int ex_parse(int argc, char **argv, const struct ex_prog *p, struct ex_opts *o)
{
  enum { O_WORKERS = 256, O_PORT, O_TAP, O_IP, O_IP6, O_REQ, O_CONNS, O_BYTES, O_SERVER, O_SIZES, O_PROTO,
         O_DURATION, O_QUIET, O_HELP };
  static const struct option lo[] = {
      {"workers", 1, 0, O_WORKERS}, {"port", 1, 0, O_PORT},       {"tap", 1, 0, O_TAP},
      {"ip", 1, 0, O_IP},           {"ip6", 1, 0, O_IP6},         {"requests", 1, 0, O_REQ},
      {"conns", 1, 0, O_CONNS},     {"bytes", 1, 0, O_BYTES},     {"server", 1, 0, O_SERVER},
      {"sizes", 1, 0, O_SIZES},     {"proto", 1, 0, O_PROTO},     {"duration", 1, 0, O_DURATION},
      {"quiet", 0, 0, O_QUIET},     {"help", 0, 0, O_HELP},       {0, 0, 0, 0}};
  static const unsigned need[] = {
      [O_REQ - O_WORKERS] = EX_OPT_REQUESTS,    [O_CONNS - O_WORKERS] = EX_OPT_CONNS,
      [O_BYTES - O_WORKERS] = EX_OPT_BYTES,     [O_SERVER - O_WORKERS] = EX_OPT_SERVER,
      [O_SIZES - O_WORKERS] = EX_OPT_SIZES,     [O_PROTO - O_WORKERS] = EX_OPT_PROTO,
      [O_DURATION - O_WORKERS] = EX_OPT_DURATION, [O_HELP - O_WORKERS] = 0};
  static const uint64_t def_sizes[] = {0, 1, 137, 1460, 4096, 65536, 300000};
  uint64_t v;
  int c;

  memset(o, 0, sizeof(*o));
  o->prog = p->name;
  o->workers = 2;
  o->port = p->default_port;
  o->requests = p->default_requests;
  o->conns = p->default_conns;
  o->bytes = p->default_bytes;
  memcpy(o->sizes, def_sizes, sizeof(def_sizes));
  o->n_sizes = sizeof(def_sizes) / sizeof(def_sizes[0]);
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
    if (c >= O_WORKERS && c <= O_HELP && need[c - O_WORKERS] != 0 && !(p->accept & need[c - O_WORKERS])) {
      const struct option *x = lo;
      while (x->name != NULL && x->val != c) {
        x++;
      }
      return bad(p, "option --%s is not one of this program's", x->name != NULL ? x->name : "?");
    }
    switch (c) {
    case O_WORKERS:
      if (num(optarg, 1, 4, &v) != 0) {
        return bad(p, "--workers wants 1..4 (DPDK 22.11's net_tap takes at most 4 queue pairs), not '%s'",
                   optarg);
      }
      o->workers = (unsigned)v;
      break;
    case O_PORT:
      if (num(optarg, 1, 65535, &v) != 0) {
        return bad(p, "--port wants a TCP port 1..65535, not '%s'", optarg);
      }
      o->port = (uint16_t)v;
      o->port_given = 1;
      break;
    case O_TAP:
      if (optarg[0] == '\0' || strlen(optarg) > 15 || strchr(optarg, ',') != NULL) {
        return bad(p, "--tap wants an interface name (1..15 characters, no comma), not '%s'", optarg);
      }
      o->tap = optarg;
      break;
    case O_IP:
      if (addr_len(optarg, INC_AF_INET, &o->ip4, &o->ip4_len) != 0) {
        return bad(p, "--ip wants an IPv4 address with its prefix length (1..30), e.g. 198.18.1.2/24, not '%s'",
                   optarg);
      }
      break;
    case O_IP6:
      if (addr_len(optarg, INC_AF_INET6, &o->ip6, &o->ip6_len) != 0) {
        return bad(p, "--ip6 wants an IPv6 address with prefix length 64, e.g. 2001:2:0:1::2/64, not '%s'", optarg);
      }
      break;
    case O_REQ:
      if (num(optarg, 1, 100000000, &v) != 0) {
        return bad(p, "--requests wants a count 1..100000000, not '%s'", optarg);
      }
      o->requests = (unsigned)v;
      break;
    case O_CONNS:
      if (num(optarg, 1, 64, &v) != 0) {
        return bad(p, "--conns wants 1..64 connections, not '%s'", optarg);
      }
      o->conns = (unsigned)v;
      break;
    case O_BYTES:
      if (num(optarg, 1, (uint64_t)1 << 36, &v) != 0) {
        return bad(p, "--bytes wants a byte count 1..2^36, not '%s'", optarg);
      }
      o->bytes = v;
      break;
    case O_SERVER:
      if (inc_addr_parse(&o->server, optarg) != 0 || inc_addr_is_any(&o->server)) {
        return bad(p, "--server wants the server's IPv4 or IPv6 address, not '%s'", optarg);
      }
      break;
    case O_SIZES: {
      char buf[512], *tok, *save = NULL;
      if (strlen(optarg) >= sizeof(buf)) {
        return bad(p, "--sizes: list too long ('%s')", optarg);
      }
      strcpy(buf, optarg);
      o->n_sizes = 0;
      for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (o->n_sizes == EX_MAX_SIZES || num(tok, 0, (uint64_t)1 << 30, &v) != 0) {
          return bad(p, "--sizes wants up to 16 comma-separated body sizes 0..2^30, not '%s'", optarg);
        }
        o->sizes[o->n_sizes++] = v;
      }
      if (o->n_sizes == 0) {
        return bad(p, "--sizes wants at least one size, not '%s'", optarg);
      }
      break;
    }
    case O_PROTO:
      if (strcmp(optarg, "http") == 0) {
        o->proto_echo = 0;
      } else if (strcmp(optarg, "echo") == 0) {
        o->proto_echo = 1;
      } else {
        return bad(p, "--proto wants http or echo, not '%s'", optarg);
      }
      break;
    case O_DURATION: {
      char *end = NULL;
      double d = strtod(optarg, &end);
      if (end == optarg || *end != '\0' || !(d >= 0 && d <= 86400)) {
        return bad(p, "--duration wants seconds 0..86400 (0: until SIGINT/SIGTERM), not '%s'", optarg);
      }
      o->duration = d;
      break;
    }
    case O_QUIET:
      o->quiet = 1;
      break;
    case O_HELP:
    case 'h':
      usage(stdout, p);
      exit(0);
    case ':':
      return bad(p, "option %s needs a value", argv[optind - 1]);
    default:
      return bad(p, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) {
    return bad(p, "unexpected argument '%s' (options start with --)", argv[optind]);
  }
  if (o->tap == NULL) {
    if (o->ip4.family != INC_AF_NONE || o->ip6.family != INC_AF_NONE || o->server.family != INC_AF_NONE) {
      return bad(p, "%s", "--ip, --ip6 and --server go with --tap (the software wire has its own addresses)");
    }
  } else {
    if (o->ip4.family == INC_AF_NONE && o->ip6.family == INC_AF_NONE) {
      return bad(p, "%s", "--tap needs our address: --ip A.B.C.D/LEN, --ip6 ADDR/64, or both");
    }
    if ((p->accept & EX_OPT_SERVER) && o->server.family == INC_AF_NONE) {
      return bad(p, "%s", "--tap needs --server ADDR (the server on the tap's other side)");
    }
    if (o->server.family == INC_AF_INET && o->ip4.family == INC_AF_NONE) {
      return bad(p, "%s", "an IPv4 --server needs our IPv4 address (--ip)");
    }
    if (o->server.family == INC_AF_INET6 && o->ip6.family == INC_AF_NONE) {
      return bad(p, "%s", "an IPv6 --server needs our IPv6 address (--ip6)");
    }
  }
  if ((p->accept & EX_OPT_REQUESTS) && o->conns > o->requests && !o->proto_echo) {
    o->conns = o->requests;
  }
  return 0;
}

/* ---- EAL, ports, stacks ---------------------------------------------------- */

/* "(0-N)@(cpus we may run on)": more lcores than cores, as the README says. */
static void lcore_map(char *buf, size_t len, unsigned lcores)
{
  cpu_set_t set;
  int n = 0, cpu;
  size_t off;
  off = (size_t)snprintf(buf, len, "(0-%u)@(", lcores - 1);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    CPU_ZERO(&set);
    CPU_SET(0, &set);
  }
  for (cpu = 0; cpu < CPU_SETSIZE && off + 8 < len; cpu++) {
    if (CPU_ISSET(cpu, &set)) {
      off += (size_t)snprintf(buf + off, len - off, "%s%d", n++ ? "," : "", cpu);
    }
  }
  snprintf(buf + off, len - off, ")");
}

int ex_env_init(struct ex_env *e, const struct ex_opts *o)
{
  struct inc_drv_err err;
  struct inc_eal_config ec;
  struct inc_port_config pc;
  char lcores[600], prefix[64];
  const char *args[8];
  unsigned k = o->workers;

  memset(e, 0, sizeof(*e));
  e->o = o;
  memset(&err, 0, sizeof(err));
  lcore_map(lcores, sizeof(lcores), o->tap != NULL ? k + 1 : 2 * k + 1);
  snprintf(prefix, sizeof(prefix), "--file-prefix=incex%d", (int)getpid());
  snprintf(e->run_dir, sizeof(e->run_dir), "/var/run/dpdk/incex%d", (int)getpid());
  args[0] = "--no-huge";
  args[1] = "-m";
  args[2] = "1024";
  args[3] = "--no-pci";
  args[4] = "--no-shconf";
  args[5] = "--no-telemetry";
  args[6] = prefix;
  args[7] = "--log-level=user1,warning";
  memset(&ec, 0, sizeof(ec));
  ec.args = args;
  ec.n_args = 8;
  ec.lcores = lcores;
  ec.prog_name = o->prog;
  if (inc_eal_init(&ec, &err) != 0) {
    fprintf(stderr, "%s: EAL: %s\n", o->prog, err.msg);
    return -1;
  }

  memset(&pc, 0, sizeof(pc));
  pc.n_queues = (uint16_t)k;
  pc.socket_id = -1;
  if (o->tap != NULL) {
    char dev[64];
    snprintf(dev, sizeof(dev), "net_tap_ex%d,iface=%s", (int)getpid(), o->tap);
    pc.devargs = dev;
    if (inc_port_init(&e->port[0], &pc, &err) != 0 || inc_port_start(&e->port[0], &err) != 0) {
      fprintf(stderr, "%s: tap %s: %s\n", o->prog, o->tap, err.msg);
      fprintf(stderr, "%s: the tap must exist in this network namespace, made with "
                      "`ip tuntap add mode tap multi_queue name %s`\n", o->prog, o->tap);
      if (e->port[0].started || e->port[0].vdev) {
        inc_port_close(&e->port[0]);
      }
      return -1;
    }
    e->n_ports = 1;
    return 0;
  }
  {
    struct inc_wire_config wc;
    memset(&wc, 0, sizeof(wc));
    wc.name = "exwire";
    wc.kind = INC_WIRE_RING;
    wc.queues_a = wc.queues_b = (uint16_t)k;
    if (inc_wire_create(&e->wire, &wc, &err) != 0) {
      fprintf(stderr, "%s: wire: %s\n", o->prog, err.msg);
      return -1;
    }
    pc.n_tx_queues = (uint16_t)k;
    pc.port_id = e->wire.port_a;
    if (inc_port_init(&e->port[EX_SERVER], &pc, &err) != 0) {
      fprintf(stderr, "%s: wire end A: %s\n", o->prog, err.msg);
      return -1;
    }
    pc.port_id = e->wire.port_b;
    if (inc_port_init(&e->port[EX_CLIENT], &pc, &err) != 0 ||
        inc_wire_attach(&e->wire, &e->port[EX_SERVER], &e->port[EX_CLIENT], NULL, &err) != 0 ||
        inc_port_start(&e->port[EX_SERVER], &err) != 0 || inc_port_start(&e->port[EX_CLIENT], &err) != 0) {
      fprintf(stderr, "%s: wire: %s\n", o->prog, err.msg);
      return -1;
    }
    e->n_ports = 2;
  }
  return 0;
}

static const uint8_t k_wire6[2][16] = {
    {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, /* 2001:2::1 */
    {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}, /* 2001:2::2 */
};

struct inc_addr ex_wire_server_addr(int family)
{
  struct inc_addr a;
  if (family == INC_AF_INET) {
    return inc_addr_ip4(198, 18, 0, 1);
  }
  memset(&a, 0, sizeof(a));
  a.family = INC_AF_INET6;
  memcpy(a.u.v6, k_wire6[EX_SERVER], 16);
  return a;
}

int ex_stack_start(struct ex_env *e, enum ex_side side, const struct inc_stack_callbacks *cb, int with_api)
{
  const struct ex_opts *o = e->o;
  struct inc_stack_config cfg;
  unsigned lc[INC_STACK_MAX_WORKERS], i, k = o->workers;
  int slot = o->tap != NULL ? 0 : (int)side;
  size_t len;
  int rc;

  memset(&cfg, 0, sizeof(cfg));
  cfg.workers = k;
  for (i = 0; i < k; i++) {
    lc[i] = 1 + (o->tap != NULL ? 0 : (unsigned)side * k) + i;
  }
  cfg.lcores = lc;
  cfg.n_ports = 1;
  cfg.ports[0].port = &e->port[slot];
  if (o->tap != NULL) {
    if (o->ip4.family == INC_AF_INET) {
      cfg.ports[0].ip4_addr = o->ip4.u.v4;
      cfg.ports[0].ip4_netmask = htonl(o->ip4_len == 0 ? 0 : 0xffffffffu << (32 - o->ip4_len));
    }
    if (o->ip6.family == INC_AF_INET6) {
      memcpy(cfg.ports[0].ip6[0].addr, o->ip6.u.v6, 16);
      cfg.ports[0].ip6[0].prefix_len = 64;
    }
    cfg.ports[0].ip6_linklocal = 1;
  } else {
    cfg.ports[0].ip4_addr = htonl(0xc6120001u + (uint32_t)side); /* 198.18.0.1 / .2 */
    cfg.ports[0].ip4_netmask = htonl(0xffffff00u);
    memcpy(cfg.ports[0].ip6[0].addr, k_wire6[side], 16);
    cfg.ports[0].ip6[0].prefix_len = 64;
  }
  /* the machine's cores are shared (and in wire mode two stacks run on them):
   * workers sleep briefly when idle instead of spinning */
  cfg.idle = INC_STACK_IDLE_SLEEP;
  cfg.idle_sleep_max_us = 100;
  cfg.app_endpoints = 80;
  if (cb != NULL) {
    cfg.cb = *cb;
  }
  len = inc_stack_footprint(&cfg);
  if (len == 0 || posix_memalign(&e->stack_mem[side], 64, len) != 0) {
    fprintf(stderr, "%s: no memory for the stack\n", o->prog);
    return -1;
  }
  rc = inc_stack_start(&e->stack[side], e->stack_mem[side], len, &cfg);
  if (rc != 0) {
    fprintf(stderr, "%s: the %s stack did not start: %s\n", o->prog, side == EX_SERVER ? "server" : "client",
            strerror(-rc));
    e->stack[side] = NULL;
    return -1;
  }
  if (with_api) {
    struct inc_api_config ac;
    memset(&ac, 0, sizeof(ac));
    ac.max_conns = 1024;
    ac.max_epolls = 8;
    len = inc_api_footprint(&ac);
    if (len == 0 || posix_memalign(&e->api_mem[side], 64, len) != 0) {
      fprintf(stderr, "%s: no memory for the API context\n", o->prog);
      return -1;
    }
    rc = inc_api_init(&e->api[side], e->stack[side], &ac, e->api_mem[side], len);
    if (rc != 0) {
      fprintf(stderr, "%s: inc_api_init: %s\n", o->prog, strerror(-rc));
      e->api[side] = NULL;
      return -1;
    }
  }
  return 0;
}

static unsigned pool_in_use(const struct inc_port *p)
{
  unsigned n = 0, q;
  for (q = 0; q < p->n_queues; q++) {
    if (p->q[q].pool != NULL) {
      n += rte_mempool_in_use_count(p->q[q].pool);
    }
    if (p->q[q].clones != NULL) {
      n += rte_mempool_in_use_count(p->q[q].clones);
    }
    if (p->q[q].large != NULL) {
      n += rte_mempool_in_use_count(p->q[q].large);
    }
  }
  return n;
}

int ex_env_fini(struct ex_env *e)
{
  int rc = 0, s;
  unsigned d, q, n;
  char cmd[160];

  for (s = 1; s >= 0; s--) {
    if (e->api[s] != NULL) {
      inc_api_fini(e->api[s]);
      e->api[s] = NULL;
    }
  }
  for (s = 1; s >= 0; s--) {
    if (e->stack[s] != NULL) {
      inc_stack_stop(e->stack[s]);
      e->stack[s] = NULL;
    }
  }
  if (e->n_ports == 2) {
    /* frames still on the wire when the stacks stopped */
    for (d = 0; d < 2; d++) {
      for (q = 0; q < INC_DRV_MAX_QUEUES; q++) {
        void *m = NULL;
        while (e->wire.rings[d][q] != NULL && rte_ring_dequeue(e->wire.rings[d][q], &m) == 0) {
          rte_pktmbuf_free((struct rte_mbuf *)m);
        }
      }
    }
    for (s = 0; s < 2; s++) {
      n = pool_in_use(&e->port[s]);
      if (n != 0) {
        fprintf(stderr, "%s: %u mbufs of the %s port did not come back to their pools\n", e->o->prog, n,
                s == EX_SERVER ? "server" : "client");
        rc = -1;
      }
    }
  }
  for (s = 0; s < e->n_ports; s++) {
    int r = inc_port_close(&e->port[s]);
    if (r != 0) {
      fprintf(stderr, "%s: closing port %s: %s\n", e->o->prog, e->port[s].name, strerror(-r));
      rc = -1;
    }
  }
  if (e->n_ports == 2) {
    inc_wire_destroy(&e->wire);
  }
  for (s = 0; s < 2; s++) {
    free(e->api_mem[s]);
    free(e->stack_mem[s]);
  }
  inc_eal_cleanup();
  snprintf(cmd, sizeof(cmd), "rm -rf %s", e->run_dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "%s: could not remove %s\n", e->o->prog, e->run_dir);
  }
  return rc;
}

/* ---- the deterministic bytes ------------------------------------------------ */

void ex_body_fill(uint32_t id, uint64_t off, uint8_t *p, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  uint64_t k = off / 16;
  unsigned pos = (unsigned)(off % 16);
  size_t i = 0;
  while (i < n) {
    uint8_t rec[16];
    uint64_t v = ((uint64_t)id << 40) + k;
    int j;
    for (j = 14; j >= 0; j--) {
      rec[j] = (uint8_t)hex[v & 15];
      v >>= 4;
    }
    rec[15] = '\n';
    while (pos < 16 && i < n) {
      p[i++] = rec[pos++];
    }
    pos = 0;
    k++;
  }
}

size_t ex_body_check(uint32_t id, uint64_t off, const uint8_t *p, size_t n)
{
  uint8_t tmp[4096];
  size_t done = 0, i;
  while (done < n) {
    size_t m = n - done < sizeof(tmp) ? n - done : sizeof(tmp);
    ex_body_fill(id, off + done, tmp, m);
    if (memcmp(tmp, p + done, m) != 0) {
      for (i = 0; i < m; i++) {
        if (tmp[i] != p[done + i]) {
          return done + i;
        }
      }
    }
    done += m;
  }
  return n;
}
