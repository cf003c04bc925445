/*
 * Layout of a channel mesh (chan_mesh.c builds it, chan_app.c uses it).
 *
 * One block of caller memory:
 *   struct inc_chan_mesh | w2w rings | a2w rings | w2a rings | cores | apps | slots
 * Ring index of each kind:
 *   w2w: src * (W - 1) + (dst < src ? dst : dst - 1)   producer src, consumer dst
 *   a2w: w * A + e        producer endpoint e, consumer worker w (w's lanes adjacent)
 *   w2a: e * W + w        producer worker w, consumer endpoint e (e's lanes adjacent)
 */
#ifndef INC_CHAN_PRIV_H
#define INC_CHAN_PRIV_H

#include "inception/chan.h"
#include "lf_priv.h"
#include "ring_priv.h"

/* Endpoint states (inc__app.state). */
enum { INC__APP_FREE = 0, INC__APP_CLAIMED = 1, INC__APP_ATTACHED = 2 };

/* inc__app.armed: IDLE; ARMED (the endpoint may sleep); WAKING (a worker
 * took ARMED and is writing the eventfd); FIRED (it has written it: the
 * endpoint drains it); CLOSED (detached: no more writes). See chan_app.c. */
enum { INC__IDLE = 0, INC__ARMED = 1, INC__WAKING = 2, INC__FIRED = 3, INC__CLOSED = 4 };

/* A worker's consumer-side state: its own line. */
struct inc__core {
  struct inc__owner owner;
  unsigned rr; /* inc_chan_poll's next first source */
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc__app {
  /* Read-mostly: written at attach/detach only. */
  uint32_t state; /* INC__APP_*; see chan_app.c for its partners */
  unsigned index;
  int efd;
  struct inc_chan_mesh *mesh;
  /* Written by the endpoint (arm) and by workers (wake): its own line. */
  uint32_t armed __attribute__((aligned(INC_LF_CACHELINE)));
  /* The endpoint's own. */
  struct {
    struct inc__owner owner;
    unsigned rr; /* inc_chan_app_recv_burst's next first worker */
    uint64_t cmds_sent;
    uint64_t cpls_received;
  } own __attribute__((aligned(INC_LF_CACHELINE)));
} __attribute__((aligned(INC_LF_CACHELINE)));

struct inc_chan_mesh {
  unsigned workers;
  unsigned apps;
  unsigned ring_size;
  unsigned app_ring_size;
  /* 1 + the highest endpoint index ever attached: workers poll lanes below
   * it only. Raised by attach (release), read by poll (acquire). */
  unsigned apps_hwm;
  struct inc__ring *w2w;
  struct inc__ring *a2w;
  struct inc__ring *w2a;
  struct inc__core *cores;
  struct inc__app *app;
} __attribute__((aligned(INC_LF_CACHELINE)));

static inline struct inc__ring *inc__w2w(const struct inc_chan_mesh *m, unsigned src,
                                         unsigned dst) {
  return &m->w2w[src * (m->workers - 1) + (dst < src ? dst : dst - 1)];
}

static inline struct inc__ring *inc__a2w(const struct inc_chan_mesh *m, unsigned e, unsigned w) {
  return &m->a2w[w * m->apps + e];
}

static inline struct inc__ring *inc__w2a(const struct inc_chan_mesh *m, unsigned w, unsigned e) {
  return &m->w2a[e * m->workers + w];
}

#endif /* INC_CHAN_PRIV_H */
