// drivers-bench: TCP over the software RSS wire, one stream per core pair,
// free-running workers; prints goodput and what the driver did.
//
// usage: drivers-bench [--bytes N] [--streams N] [--copy] [--no-tso] [--no-gro]
//                      [--loss PCT] [--lcores MAP]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "drv_env.h"
#include "inception/rss.h"
#include "tcpio.h"
#include "wire_pair.h"
#include "zc_peer.h"

int main(int argc, char** argv) {
  uint64_t bytes = 256ull << 20;
  unsigned streams = 1;
  bool copy = false, no_tso = false, no_gro = false;
  double loss = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--bytes" && i + 1 < argc) bytes = strtoull(argv[++i], nullptr, 10);
    else if (a == "--streams" && i + 1 < argc) streams = (unsigned)atoi(argv[++i]);
    else if (a == "--copy") copy = true;
    else if (a == "--no-tso") no_tso = true;
    else if (a == "--no-gro") no_gro = true;
    else if (a == "--loss" && i + 1 < argc) loss = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--bytes N] [--streams N] [--copy] [--no-tso] [--no-gro] [--loss PCT]\n", argv[0]);
      return 2;
    }
  }
  if (streams == 0 || streams > 16) {
    fprintf(stderr, "--streams: 1..16\n");
    return 2;
  }
  drvtest::eal_init_once();
  drvtest::WirePair wp;
  drvtest::WireOpts o;
  o.ab.loss_pct = loss;
  o.ab.seed = 1;
  o.ba = o.ab;
  uint32_t want = INC_OFFLOAD_ALL & ~(no_tso ? INC_OFFLOAD_TSO : 0u) & ~(no_gro ? INC_OFFLOAD_LRO : 0u);
  o.want_a = o.want_b = want;
  o.mbufs = 16383;
  o.clones = 16383;
  std::string e = wp.create("bench" + std::to_string(getpid() % 10000), o);
  if (!e.empty()) {
    fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  const uint32_t a_ip = 0xc6120701, b_ip = 0xc6120702;
  drvtest::Worker wa, wb;
  std::unique_ptr<inc_netif> na, nb;
  tio src, sink;
  std::atomic<unsigned> done{0};
  wb.call([&] {
    nb = drvtest::make_netif(&wp.b, 0, b_ip);
    drvtest::static_arp(a_ip, wp.a.mac);
    tio_init(&sink, 0);
    tio_listen(&sink, 7100, 5, bytes);
  });
  wa.call([&] {
    na = drvtest::make_netif(&wp.a, 0, a_ip);
    drvtest::static_arp(b_ip, wp.b.mac);
    tio_init(&src, !copy);
    ip_addr_t dst;
    IP_ADDR4(&dst, 198, 18, 7, 2);
    for (unsigned s = 0; s < streams; s++) tio_connect(&src, &dst, 7100, 0, 5, bytes);
  });
  auto t0 = std::chrono::steady_clock::now();
  wa.loop([&] {
    drvtest::poll_once(na.get());
    tio_poll(&src);
  });
  wb.loop([&] {
    drvtest::poll_once(nb.get());
    done.store(sink.sinks_complete + 1000 * (sink.failures + sink.corrupt), std::memory_order_release);
  });
  while (done.load(std::memory_order_acquire) < streams) usleep(1000);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  wa.stop_loop();
  wb.stop_loop();
  const inc_netif_counters &ca = na->cnt, &cb = nb->cnt;
  printf("streams %u x %llu bytes (%s, tso %s, gro %s, loss %.2f%%): %.3f s, %.2f Gbit/s goodput\n", streams,
         (unsigned long long)bytes, copy ? "copy" : "zero-copy", no_tso ? "off" : "rte_gso",
         no_gro ? "off" : "rte_gro", loss, secs, 8.0 * (double)sink.verified / secs / 1e9);
  printf("  sender: %llu frames, %llu large segments cut into %llu, payload by reference %llu B, copied %llu B, "
         "header bytes copied %llu\n",
         (unsigned long long)ca.tx_packets, (unsigned long long)ca.tx_gso, (unsigned long long)ca.tx_gso_segs,
         (unsigned long long)ca.tx_payload_ref, (unsigned long long)ca.tx_payload_copied,
         (unsigned long long)ca.tx_hdr_copied);
  printf("  receiver: %llu frames, %llu packets to lwIP (%llu merged by rte_gro), verified %llu B, corrupt %u\n",
         (unsigned long long)cb.rx_frames, (unsigned long long)cb.rx_packets, (unsigned long long)cb.rx_gro_merged,
         (unsigned long long)sink.verified, sink.corrupt);
  wa.call([&] {
    tio_stop(&src);
    zc_tcp_abort_all();
    inc_netif_fini(na.get());
  });
  wb.call([&] {
    tio_stop(&sink);
    zc_tcp_abort_all();
    inc_netif_fini(nb.get());
  });
  return sink.corrupt == 0 && sink.sinks_complete == streams ? 0 : 1;
}
