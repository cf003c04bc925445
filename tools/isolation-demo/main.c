/*
 * isolation-demo: the main job until the stress harness exists.
 *
 * Runs N threads, each with its own lwIP instance (thread-local lwIP state),
 * joined in pairs by in-memory Ethernet links, each sending T verified
 * transfers to its peer and receiving T from it; prints a summary. Exits
 * non-zero on any data error, stall or isolation violation.
 *
 * usage: isolation-demo [threads] [transfers-per-thread] [KiB-per-transfer]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "iso_worker.h"

static unsigned arg(int argc, char **argv, int i, unsigned dflt)
{
  char *end;
  unsigned long v;
  if (argc <= i) {
    return dflt;
  }
  v = strtoul(argv[i], &end, 10);
  if (*end != '\0' || v == 0 || v > 1000000) {
    fprintf(stderr, "isolation-demo: argument %d ('%s') must be a positive integer\n", i, argv[i]);
    exit(2);
  }
  return (unsigned)v;
}

int main(int argc, char **argv)
{
  struct iso_params p;
  struct iso_result *r;
  struct timespec t0, t1;
  double secs;
  uint64_t total = 0, end_ns;
  unsigned i, bad = 0;

  p.threads = arg(argc, argv, 1, 4);
  p.transfers_per_thread = arg(argc, argv, 2, 16);
  p.bytes = arg(argc, argv, 3, 1024) * 1024u;
  p.stall_ms = 60000;
  if (p.threads % 2 != 0 || p.threads > 254 || p.transfers_per_thread > 64) {
    fprintf(stderr, "isolation-demo: threads must be even and <= 254, transfers per thread <= 64\n");
    return 2;
  }
  r = calloc(p.threads, sizeof(*r));
  if (r == NULL) {
    perror("calloc");
    return 1;
  }
  printf("isolation-demo: %u threads (one lwIP instance each, paired by in-memory links), "
         "%u x %u KiB transfers per thread each way\n",
         p.threads, p.transfers_per_thread, p.bytes / 1024u);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (iso_run(&p, r) != 0) {
    fprintf(stderr, "isolation-demo: setup failed\n");
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  /* until the last thread had all its transfers done (not the final drain) */
  end_ns = 0;
  for (i = 0; i < p.threads; i++) {
    if (r[i].finished_ns > end_ns) {
      end_ns = r[i].finished_ns;
    }
  }
  if (end_ns == 0) {
    end_ns = (uint64_t)t1.tv_sec * 1000000000u + (uint64_t)t1.tv_nsec;
  }
  secs = (double)(end_ns - ((uint64_t)t0.tv_sec * 1000000000u + (uint64_t)t0.tv_nsec)) / 1e9;

  printf("%-6s %10s %8s %8s %8s %10s %10s %9s %9s %7s\n", "thread", "verified", "out", "in", "errors",
         "ip.recv", "link.rx4", "tcp.xmit", "link.drop", "foreign");
  for (i = 0; i < p.threads; i++) {
    const struct iso_result *x = &r[i];
    int ok = x->init_rc == 0 && x->start_rc == 0 && !x->stalled &&
             x->out_complete == p.transfers_per_thread && x->in_complete == p.transfers_per_thread &&
             x->verified_bytes == (uint64_t)p.transfers_per_thread * p.bytes && x->corrupt == 0 &&
             x->errors == 0 && x->foreign_pcbs == 0 && x->foreign_netif == 0 && x->wrong_peer == 0 &&
             x->stats.ip.recv == x->link_rx_ipv4 && x->memp_used_after_stop[0] == 0 &&
             x->memp_used_after_stop[2] == 0 && x->memp_used_after_stop[3] == 0;
    printf("%-6u %9.1fM %8u %8u %8u %10u %10" PRIu64 " %9u %9" PRIu64 " %7u %s\n", i,
           (double)x->verified_bytes / 1048576.0, x->out_complete, x->in_complete, x->errors + x->corrupt,
           (unsigned)x->stats.ip.recv, x->link_rx_ipv4, (unsigned)x->stats.tcp.xmit,
           x->link_tx_dropped + x->link_rx_dropped, x->foreign_pcbs + x->foreign_netif + x->wrong_peer,
           ok ? "ok" : "FAILED");
    total += x->verified_bytes;
    bad += !ok;
  }
  printf("total: %.1f MiB verified in %.2f s (%.2f Gbit/s of payload across all instances); %s\n",
         (double)total / 1048576.0, secs, (double)total * 8.0 / secs / 1e9,
         bad ? "FAILED" : "every byte verified, no instance saw another's state");
  free(r);
  return bad ? 1 : 0;
}
