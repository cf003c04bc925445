// The other process of the memif software wire test (drivers_memif_test):
// the server end of a memif wire with one receive queue, an lwIP instance
// that accepts `streams` TCP streams of `bytes` bytes of pattern(seed) on port
// 6000 and verifies every byte. Exit status 0 when all were verified.
//
// usage: drivers_memif_peer <socket> <peer queues> <streams> <bytes> <seed> <fault loss %>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <rte_ethdev.h>

#include "inc_lwip_instance.h"
#include "inception/eal.h"
#include "inception/netif.h"
#include "inception/port.h"
#include "inception/wire.h"
#include "tcpio.h"
#include "wire_pair.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s <socket> <peer queues> <streams> <bytes> <seed> <loss %%>\n", argv[0]);
    return 2;
  }
  const char* sock = argv[1];
  const uint16_t peer_queues = (uint16_t)atoi(argv[2]);
  const unsigned streams = (unsigned)atoi(argv[3]);
  const uint64_t bytes = strtoull(argv[4], nullptr, 10);
  const uint32_t seed = (uint32_t)atoi(argv[5]);
  const double loss = atof(argv[6]);

  std::string prefix = "--file-prefix=incmp" + std::to_string(getpid());
  atexit([] {  // the EAL runtime directory goes, however the peer ends
    std::string cmd = "rm -rf /var/run/dpdk/incmp" + std::to_string(getpid());
    if (system(cmd.c_str()) != 0) {
      fprintf(stderr, "peer: could not remove its runtime directory\n");
    }
  });
  std::vector<const char*> args = {"--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry",
                                   prefix.c_str()};
  inc_eal_config ec{};
  ec.args = args.data();
  ec.n_args = (int)args.size();
  ec.prog_name = "memif_peer";
  inc_drv_err err{};
  if (inc_eal_init(&ec, &err) != 0) {
    fprintf(stderr, "peer: %s\n", err.msg);
    return 3;
  }
  inc_wire w;
  inc_wire_config wc{};
  wc.name = "peer";
  wc.kind = INC_WIRE_MEMIF;
  wc.queues_a = 1;
  wc.queues_b = peer_queues;
  wc.memif_socket = sock;
  wc.memif_server = 1;
  wc.fault_ab.loss_pct = loss;
  wc.fault_ab.seed = 99;
  inc_port port;
  inc_port_config pc{};
  if (inc_wire_create(&w, &wc, &err) != 0) {
    fprintf(stderr, "peer: %s\n", err.msg);
    return 4;
  }
  pc.port_id = w.port_a;
  pc.n_queues = 1;
  pc.n_tx_queues = peer_queues;
  pc.mbufs = 4095;
  pc.clones = 4095;
  pc.socket_id = -1;
  if (inc_port_init(&port, &pc, &err) != 0 || inc_wire_attach(&w, &port, nullptr, nullptr, &err) != 0 ||
      inc_port_start(&port, &err) != 0) {
    fprintf(stderr, "peer: %s\n", err.msg);
    return 5;
  }
  inc_lwip_instance inst{};
  inc_lwip_instance_init(&inst);
  auto nif = drvtest::make_netif(&port, 0, 0xc6130002);  // 198.19.0.2
  tio sink;
  tio_init(&sink, 0);
  if (!nif || tio_listen(&sink, 6000, seed, bytes) != 0) {
    return 6;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (sink.sinks_complete < streams && sink.failures == 0 && sink.corrupt == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    if (drvtest::poll_once(nif.get()) == 0) {
      usleep(20);
    }
  }
  // let the last ACKs and FINs out
  for (int i = 0; i < 2000; i++) {
    drvtest::poll_once(nif.get());
    usleep(100);
  }
  fprintf(stderr, "peer: %u of %u streams verified (%llu bytes), %u corrupt, %u failed; tx dropped %llu\n",
          sink.sinks_complete, streams, (unsigned long long)sink.verified, sink.corrupt, sink.failures,
          (unsigned long long)nif->cnt.tx_dropped);
  bool ok = sink.sinks_complete == streams && sink.corrupt == 0 && sink.failures == 0 &&
            sink.verified == streams * bytes;
  tio_stop(&sink);
  inc_netif_fini(nif.get());
  inc_port_close(&port);
  inc_wire_destroy(&w);
  inc_eal_cleanup();
  return ok ? 0 : 1;
}
