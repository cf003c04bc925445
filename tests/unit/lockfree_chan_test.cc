// Channels between cores (issue 3, item 1): the worker mesh of SPSC ck_rings,
// application lanes with completions and eventfd wake-ups.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "inception/chan.h"
#include "lf_stress.h"

namespace {

struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};
using Mem = std::unique_ptr<void, FreeDeleter>;

Mem AllocAligned(size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, n) != 0) return Mem(nullptr);
  return Mem(p);
}

struct Mesh {
  Mem mem;
  inc_chan_mesh* m = nullptr;
  explicit Mesh(inc_chan_config cfg) {
    size_t len = inc_chan_mesh_footprint(&cfg);
    EXPECT_GT(len, 0u);
    mem = AllocAligned(len);
    EXPECT_EQ(inc_chan_mesh_init(&m, mem.get(), len, &cfg), 0);
  }
};

inc_msg Pkt(uintptr_t v) { return inc_msg_packet(reinterpret_cast<void*>(v), 0); }

TEST(ChanMesh, Init_RejectsBadConfigAndShortOrMisalignedMemory) {
  inc_chan_config bad[] = {
      {0, 0, 0, 0},                           // no worker
      {INC_LF_MAX_WORKERS + 1, 0, 0, 0},      // too many workers
      {2, 100, 0, 0},                         // ring size not a power of two
      {2, 1, 0, 0},                           // ring of one slot
      {2, INC_CHAN_RING_SIZE_MAX * 2, 0, 0},  // ring too large
      {2, 0, INC_CHAN_MAX_APPS + 1, 0},       // too many endpoints
      {2, 0, 1, 3},                           // lane size not a power of two
  };
  Mem mem = AllocAligned(1 << 20);
  for (const inc_chan_config& c : bad) {
    inc_chan_mesh* m = nullptr;
    EXPECT_EQ(inc_chan_mesh_footprint(&c), 0u);
    EXPECT_EQ(inc_chan_mesh_init(&m, mem.get(), 1 << 20, &c), -EINVAL);
  }
  inc_chan_config ok{2, 64, 1, 16};
  size_t len = inc_chan_mesh_footprint(&ok);
  ASSERT_GT(len, 0u);
  inc_chan_mesh* m = nullptr;
  EXPECT_EQ(inc_chan_mesh_init(&m, mem.get(), len - 1, &ok), -ENOSPC);
  EXPECT_EQ(inc_chan_mesh_init(&m, static_cast<char*>(mem.get()) + 8, len, &ok), -EINVAL);
  EXPECT_EQ(inc_chan_mesh_init(nullptr, mem.get(), len, &ok), -EINVAL);
  EXPECT_EQ(inc_chan_mesh_init(&m, mem.get(), len, &ok), 0);
  EXPECT_EQ(inc_chan_workers(m), 2u);
  EXPECT_EQ(inc_chan_app_endpoints(m), 1u);
}

TEST(ChanMesh, SendToSelfOrUnknownWorker_IsInvalid) {
  Mesh mesh({3, 8, 0, 0});
  inc_msg msg = Pkt(1), out;
  EXPECT_EQ(inc_chan_send(mesh.m, 1, 1, &msg), -EINVAL);
  EXPECT_EQ(inc_chan_send(mesh.m, 0, 3, &msg), -EINVAL);
  EXPECT_EQ(inc_chan_send_burst(mesh.m, 3, 0, &msg, 1), -EINVAL);
  EXPECT_EQ(inc_chan_recv_burst(mesh.m, 0, 0, &out, 1), -EINVAL);
  EXPECT_EQ(inc_chan_recv(mesh.m, 0, 7, &out), -EINVAL);
  EXPECT_EQ(inc_chan_poll(mesh.m, 3, &out, 1), -EINVAL);
}

TEST(ChanMesh, FullRing_ReportsShortCountCountsRefusedAndDropsNothing) {
  Mesh mesh({2, 8, 0, 0});  // 8 slots: 7 messages
  std::vector<inc_msg> msgs;
  for (uintptr_t i = 1; i <= 10; i++) msgs.push_back(Pkt(i));
  EXPECT_EQ(inc_chan_send_burst(mesh.m, 0, 1, msgs.data(), 10), 7);
  inc_msg extra = Pkt(100);
  EXPECT_EQ(inc_chan_send(mesh.m, 0, 1, &extra), -ENOBUFS);

  inc_chan_stats st;
  ASSERT_EQ(inc_chan_link_stats(mesh.m, 0, 1, &st), 0);
  EXPECT_EQ(st.sent, 7u);
  EXPECT_EQ(st.full_events, 2u);
  EXPECT_EQ(st.refused, 4u);
  EXPECT_EQ(st.queued, 7u);
  EXPECT_EQ(st.capacity, 7u);

  // The refused messages are still the sender's: send them after a drain.
  inc_msg out[16];
  EXPECT_EQ(inc_chan_recv_burst(mesh.m, 1, 0, out, 3), 3);
  EXPECT_EQ(inc_chan_send_burst(mesh.m, 0, 1, msgs.data() + 7, 3), 3);
  EXPECT_EQ(inc_chan_recv_burst(mesh.m, 1, 0, out + 3, 16), 7);
  for (uintptr_t i = 0; i < 10; i++) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(out[i].ptr), i + 1);
    EXPECT_EQ(out[i].src, 0u);
    EXPECT_EQ(out[i].type, INC_MSG_PACKET);
  }
  ASSERT_EQ(inc_chan_link_stats(mesh.m, 0, 1, &st), 0);
  EXPECT_EQ(st.sent, 10u);
  EXPECT_EQ(st.received, 10u);
  EXPECT_EQ(st.queued, 0u);
}

TEST(ChanMesh, SingleAndBurstOps_InteroperateOnOneRingAcrossWrapAround) {
  Mesh mesh({2, 16, 0, 0});
  uint64_t seed = 7;
  uintptr_t next_send = 1, next_recv = 1;
  // Many wraps of a 16-slot ring, alternating ck's single ops and bursts on
  // both sides at random.
  for (int iter = 0; iter < 20000; iter++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned b = 1 + static_cast<unsigned>((seed >> 33) % 20);
    if ((seed >> 60) & 1) {
      inc_msg m = Pkt(next_send);
      if (inc_chan_send(mesh.m, 0, 1, &m) == 0) next_send++;
    } else {
      std::vector<inc_msg> v;
      for (unsigned i = 0; i < b; i++) v.push_back(Pkt(next_send + i));
      int k = inc_chan_send_burst(mesh.m, 0, 1, v.data(), b);
      ASSERT_GE(k, 0);
      next_send += static_cast<unsigned>(k);
    }
    inc_msg out[20];
    int n;
    if ((seed >> 61) & 1) {
      n = inc_chan_recv(mesh.m, 1, 0, out);
    } else {
      n = inc_chan_recv_burst(mesh.m, 1, 0, out, b);
    }
    ASSERT_GE(n, 0);
    for (int i = 0; i < n; i++) ASSERT_EQ(reinterpret_cast<uintptr_t>(out[i].ptr), next_recv++);
  }
  EXPECT_GT(next_recv, 20000u);
}

TEST(ChanRing, CkRingOwnSpscFunctionsAndBurstFunctions_AgreeOnContentOrderFullAndEmpty) {
  for (unsigned size : {2u, 8u, 64u}) {
    EXPECT_EQ(lf_ring_interop(200000, size), 0) << "ring of " << size;
  }
}

TEST(ChanMesh, Poll_TakesFromEverySourceRoundRobin) {
  Mesh mesh({3, 64, 1, 16});
  inc_chan_app* app = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &app), 0);
  for (uintptr_t i = 0; i < 10; i++) {
    inc_msg a = Pkt(100 + i), b = Pkt(200 + i), c = Pkt(300 + i);
    ASSERT_EQ(inc_chan_send(mesh.m, 1, 0, &a), 0);
    ASSERT_EQ(inc_chan_send(mesh.m, 2, 0, &b), 0);
    ASSERT_EQ(inc_chan_app_send(app, 0, &c), 0);
  }
  // One message per call: three calls in a row must cover all three sources.
  std::vector<unsigned> srcs;
  for (int i = 0; i < 3; i++) {
    inc_msg out;
    ASSERT_EQ(inc_chan_poll(mesh.m, 0, &out, 1), 1);
    srcs.push_back(out.src);
  }
  std::sort(srcs.begin(), srcs.end());
  EXPECT_EQ(srcs, (std::vector<unsigned>{1u, 2u, INC_CHAN_SRC_APP | 0u}));
  // Per-source order holds across the interleaving.
  uintptr_t next[3] = {101, 201, 301};
  for (;;) {
    inc_msg out[4];
    int n = inc_chan_poll(mesh.m, 0, out, 4);
    ASSERT_GE(n, 0);
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      uintptr_t v = reinterpret_cast<uintptr_t>(out[i].ptr);
      int k = out[i].src == 1 ? 0 : out[i].src == 2 ? 1 : 2;
      if (v == next[k] - 1) continue;  // the first of each source was taken above
      EXPECT_EQ(v, next[k]);
      next[k] = v + 1;
    }
  }
  EXPECT_EQ(next[0], 110u);
  EXPECT_EQ(next[1], 210u);
  EXPECT_EQ(next[2], 310u);
  ASSERT_EQ(inc_chan_app_detach(app), 0);
}

TEST(ChanApp, AttachBeyondEndpoints_IsBusyAndDetachFreesTheEndpoint) {
  Mesh mesh({2, 8, 2, 8});
  inc_chan_app *a = nullptr, *b = nullptr, *c = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &a), 0);
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &b), 0);
  EXPECT_NE(inc_chan_app_index(a), inc_chan_app_index(b));
  EXPECT_GE(inc_chan_app_fd(a), 0);
  EXPECT_EQ(inc_chan_app_attach(mesh.m, &c), -EBUSY);
  EXPECT_EQ(inc_chan_app_detach(a), 0);
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &c), 0);
  EXPECT_EQ(inc_chan_app_detach(b), 0);
  EXPECT_EQ(inc_chan_app_detach(c), 0);
}

TEST(ChanApp, CommandInFlight_BlocksDetachUntilItsCompletionIsReceived) {
  Mesh mesh({2, 8, 1, 8});
  inc_chan_app* app = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &app), 0);
  int body = 5;
  inc_msg cmd = inc_msg_command(42, &body);
  ASSERT_EQ(inc_chan_app_send(app, 1, &cmd), 0);
  EXPECT_EQ(inc_chan_app_in_flight(app), 1u);
  EXPECT_EQ(inc_chan_app_detach(app), -EBUSY);

  inc_msg got;
  ASSERT_EQ(inc_chan_poll(mesh.m, 1, &got, 1), 1);
  EXPECT_EQ(got.type, INC_MSG_COMMAND);
  EXPECT_EQ(got.arg, 42u);
  EXPECT_EQ(got.ptr, &body);
  EXPECT_EQ(got.src, INC_CHAN_SRC_APP | inc_chan_app_index(app));
  EXPECT_EQ(inc_chan_app_detach(app), -EBUSY);  // taken, not completed

  inc_msg cpl = inc_msg_completion(got.ptr, -ECONNREFUSED);
  ASSERT_EQ(inc_chan_complete_burst(mesh.m, 1, inc_chan_app_index(app), &cpl, 1), 1);
  inc_msg back;
  ASSERT_EQ(inc_chan_app_recv_burst(app, &back, 1), 1);
  EXPECT_EQ(back.type, INC_MSG_COMPLETION);
  EXPECT_EQ(static_cast<int32_t>(back.arg), -ECONNREFUSED);
  EXPECT_EQ(back.ptr, &body);
  EXPECT_EQ(back.src, 1u);
  EXPECT_EQ(inc_chan_app_in_flight(app), 0u);
  EXPECT_EQ(inc_chan_app_detach(app), 0);
}

TEST(ChanApp, UnsentMessagesBlockDetachAndCompletingToDetachedEndpointFails) {
  Mesh mesh({1, 8, 1, 4});
  inc_chan_app* app = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &app), 0);
  const unsigned e = inc_chan_app_index(app);
  inc_msg pkts[5] = {Pkt(1), Pkt(2), Pkt(3), Pkt(4), Pkt(5)};
  EXPECT_EQ(inc_chan_app_send_burst(app, 0, pkts, 5), 3);  // lane of 4 slots
  inc_chan_stats to_w;
  ASSERT_EQ(inc_chan_lane_stats(mesh.m, e, 0, &to_w, nullptr), 0);
  EXPECT_EQ(to_w.refused, 2u);
  EXPECT_EQ(to_w.full_events, 1u);
  EXPECT_EQ(inc_chan_app_detach(app), -EBUSY);
  inc_msg out[4];
  EXPECT_EQ(inc_chan_poll(mesh.m, 0, out, 4), 3);
  EXPECT_EQ(inc_chan_app_detach(app), 0);
  inc_msg cpl = inc_msg_completion(nullptr, 0);
  EXPECT_EQ(inc_chan_complete_burst(mesh.m, 0, e, &cpl, 1), -ENOTCONN);
  EXPECT_EQ(inc_chan_complete_burst(mesh.m, 0, 1, &cpl, 1), -EINVAL);
}

TEST(ChanApp, Arm_WithCompletionWaiting_SaysDoNotSleep) {
  Mesh mesh({2, 8, 1, 8});
  inc_chan_app* app = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &app), 0);
  EXPECT_EQ(inc_chan_app_arm(app), 0);  // nothing waiting: may sleep
  inc_msg cpl = inc_msg_completion(nullptr, 0);
  ASSERT_EQ(inc_chan_complete_burst(mesh.m, 0, inc_chan_app_index(app), &cpl, 1), 1);
  EXPECT_EQ(inc_chan_app_arm(app), -EAGAIN);
  EXPECT_EQ(inc_chan_app_wait(app, 0), 0);  // returns at once
  inc_msg out;
  EXPECT_EQ(inc_chan_app_recv_burst(app, &out, 1), 1);
  EXPECT_EQ(inc_chan_app_wait(app, 10), -ETIMEDOUT);
  EXPECT_EQ(inc_chan_app_detach(app), 0);
}

TEST(ChanApp, SleepingEndpoint_IsWokenByAWorkerCompletion) {
  Mesh mesh({2, 8, 1, 8});
  inc_chan_app* app = nullptr;
  ASSERT_EQ(inc_chan_app_attach(mesh.m, &app), 0);
  const unsigned e = inc_chan_app_index(app);
  for (int round = 0; round < 50; round++) {
    std::atomic<bool> armed{false};
    std::thread worker([&] {
      inc_chan_worker_bind(mesh.m, 1);
      while (!armed.load(std::memory_order_acquire)) std::this_thread::yield();
      inc_msg cpl = inc_msg_completion(nullptr, round);
      EXPECT_EQ(inc_chan_complete_burst(mesh.m, 1, e, &cpl, 1), 1);
    });
    ASSERT_EQ(inc_chan_app_arm(app), 0);
    armed.store(true, std::memory_order_release);
    // Already armed: wait() re-arms, sees the completion or sleeps until the
    // worker's eventfd write. Ten seconds means a lost wake-up.
    EXPECT_EQ(inc_chan_app_wait(app, 10000), 0);
    worker.join();
    inc_msg out;
    ASSERT_EQ(inc_chan_app_recv_burst(app, &out, 1), 1);
    EXPECT_EQ(static_cast<int32_t>(out.arg), round);
  }
  EXPECT_EQ(inc_chan_app_detach(app), 0);
}

// ---- multi-thread validators, oversubscribed on the 2-core CI machine ----

struct MeshCase {
  unsigned workers, msgs_per_pair, ring_size, max_burst;
  int mix_single;
};

std::string MeshName(const ::testing::TestParamInfo<MeshCase>& i) {
  return std::to_string(i.param.workers) + "workers_" + std::to_string(i.param.ring_size) +
         "slots_burst" + std::to_string(i.param.max_burst) + (i.param.mix_single ? "_mixed" : "");
}

class ChanMeshStress : public ::testing::TestWithParam<MeshCase> {};

TEST_P(ChanMeshStress, EveryMessageArrivesOnceInProducerOrder) {
  const MeshCase c = GetParam();
  lf_mesh_params p{c.workers, lf_scaled(c.msgs_per_pair, 500), c.ring_size, c.max_burst,
                   c.mix_single, 60000};
  lf_mesh_result r;
  ASSERT_EQ(lf_stress_mesh(&p, &r), 0);
  const uint64_t expect = uint64_t{p.workers} * (p.workers - 1) * p.msgs_per_pair;
  EXPECT_EQ(r.sent, expect);
  EXPECT_EQ(r.received, expect);
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.wrong_src, 0u);
  EXPECT_EQ(r.wrong_type, 0u);
  EXPECT_EQ(r.stats_sent, expect);
  EXPECT_EQ(r.stats_received, expect);
  EXPECT_EQ(r.stats_refused, r.refused_seen);  // every refusal counted, none silent
}

INSTANTIATE_TEST_SUITE_P(Oversubscribed, ChanMeshStress,
                         ::testing::Values(MeshCase{2, 500000, 64, 32, 1},
                                           MeshCase{4, 60000, 8, 32, 0},
                                           MeshCase{8, 20000, 256, 8, 1}),
                         MeshName);

struct LanesCase {
  unsigned workers, apps, cmds_per_app, lane_size, max_burst;
  int sleep;
};

std::string LanesName(const ::testing::TestParamInfo<LanesCase>& i) {
  return std::to_string(i.param.workers) + "workers_" + std::to_string(i.param.apps) + "apps_" +
         std::to_string(i.param.lane_size) + "slots" + (i.param.sleep ? "_sleeping" : "");
}

class ChanLanesStress : public ::testing::TestWithParam<LanesCase> {};

TEST_P(ChanLanesStress, EveryCommandCompletesExactlyOnceInLaneOrder) {
  const LanesCase c = GetParam();
  lf_lanes_params p{c.workers, c.apps, lf_scaled(c.cmds_per_app, 200), c.lane_size, c.max_burst,
                    c.sleep, 60000};
  lf_lanes_result r;
  ASSERT_EQ(lf_stress_lanes(&p, &r), 0);
  const uint64_t expect = uint64_t{p.apps} * p.cmds_per_app;
  EXPECT_EQ(r.cmds_sent, expect);
  EXPECT_EQ(r.cmds_seen, expect);
  EXPECT_EQ(r.completions, expect);
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.wrong_src, 0u);
  EXPECT_EQ(r.dup_completion, 0u);
  EXPECT_EQ(r.missing, 0u);
  EXPECT_EQ(r.wrong_status, 0u);
  EXPECT_EQ(r.cpl_out_of_order, 0u);
  EXPECT_EQ(r.wait_timeouts, 0u);
  EXPECT_EQ(r.detach_failures, 0u);
  if (c.sleep) {
    EXPECT_GT(r.waits, 0u) << "the sleeping path was not exercised";
  }
}

INSTANTIATE_TEST_SUITE_P(Oversubscribed, ChanLanesStress,
                         ::testing::Values(LanesCase{1, 7, 50000, 16, 8, 0},
                                           LanesCase{3, 5, 40000, 64, 32, 0},
                                           LanesCase{2, 4, 20000, 8, 4, 1}),
                         LanesName);

#ifdef INC_LOCKFREE_CHECK_OWNER
TEST(ChanMeshDeathTest, SendFromAThreadThatIsNotTheBoundWorker_AbortsInCheckedBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Mesh mesh({2, 8, 0, 0});
  ASSERT_EQ(inc_chan_worker_bind(mesh.m, 0), 0);  // bound to this thread
  inc_msg msg = Pkt(1);
  EXPECT_EQ(inc_chan_send(mesh.m, 0, 1, &msg), 0);
  EXPECT_DEATH(
      {
        std::thread t([&] { inc_chan_send(mesh.m, 0, 1, &msg); });
        t.join();
      },
      "not the owner");
}
#endif

}  // namespace
