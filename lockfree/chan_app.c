/*
 * Channel mesh, application side: endpoints that are not workers send
 * commands (and packets) to any worker over their own SPSC lane, and get
 * completions back on a lane per worker, with an eventfd to sleep on.
 *
 * A worker's lanes together are its MPSC inbound channel. Each lane has one
 * producer, so a producer never waits for another one: ck_ring's own MP
 * enqueue (and DPDK's default MP rte_ring) makes a producer spin until every
 * producer that reserved a slot before it has published, which stalls for a
 * whole scheduler time slice when that producer is preempted (2 cores, 4-8
 * threads). tools/bench-lockfree measures both.
 *
 * Sleep/wake handshake (no lost wake-up): the endpoint stores armed = 1 and
 * then reads every completion ring's p_tail; a worker publishes p_tail and
 * then reads armed; all four accesses are sequentially consistent, so at
 * least one side sees the other's store (Dekker). The worker that moves armed
 * from ARMED to WAKING writes the eventfd, then sets FIRED; the endpoint
 * drains it when it wakes, or when it finds FIRED on its next arm. While a
 * worker is WAKING the endpoint neither re-arms nor closes the fd (detach
 * moves armed to CLOSED first), so a write never meets a closed or reused fd.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chan_priv.h"

/* Drains the eventfd count a worker's FIRED left behind (non-blocking). */
static void inc__app_drain(struct inc__app *a) {
  uint64_t v;
  if (read(a->efd, &v, sizeof(v)) < 0) {
    /* EAGAIN: nothing to drain. */
  }
}

/* Moves armed to `to` and returns the state it left. A worker owns WAKING
 * (it is writing the eventfd, which must stay open): wait that out, it is one
 * write(2). Otherwise only the endpoint changes armed, except a worker's CAS
 * ARMED -> WAKING, after which ours retries. Seq-cst: the CAS to ARMED is the
 * endpoint's half of the Dekker handshake; acquire pairs with the worker's
 * release store of FIRED (its write is done). */
static uint32_t inc__app_set(struct inc__app *a, uint32_t to) {
  uint32_t s = __atomic_load_n(&a->armed, __ATOMIC_ACQUIRE);
  for (;;) {
    if (s == INC__WAKING) {
      sched_yield();
      s = __atomic_load_n(&a->armed, __ATOMIC_ACQUIRE);
      continue;
    }
    if (__atomic_compare_exchange_n(&a->armed, &s, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
      return s;
  }
}

int inc_chan_app_attach(struct inc_chan_mesh *m, struct inc_chan_app **out) {
  if (m == NULL || out == NULL)
    return -EINVAL;
  for (unsigned e = 0; e < m->apps; e++) {
    struct inc__app *a = &m->app[e];
    uint32_t expect = INC__APP_FREE;
    /* Acquire pairs with the release store of FREE in inc_chan_app_detach:
     * the previous owner's last use of the lanes happens before ours. */
    if (!__atomic_compare_exchange_n(&a->state, &expect, INC__APP_CLAIMED, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
      continue;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
      int err = -errno;
      /* Release pairs with the acquire CAS above (next claimant). */
      __atomic_store_n(&a->state, INC__APP_FREE, __ATOMIC_RELEASE);
      return err;
    }
    a->efd = fd;
    /* Relaxed: nobody else touches armed while the endpoint is not attached
     * (workers only complete to ATTACHED endpoints, see below). */
    __atomic_store_n(&a->armed, INC__IDLE, __ATOMIC_RELAXED);
    inc__owner_bind(&a->own.owner);
    a->own.rr = 0;
    a->own.cmds_sent = 0;
    a->own.cpls_received = 0;
    /* Raise the lane mark so that workers start polling this lane. Release
     * pairs with the acquire load in inc_chan_poll. */
    unsigned hwm = __atomic_load_n(&m->apps_hwm, __ATOMIC_RELAXED);
    while (hwm < e + 1 &&
           !__atomic_compare_exchange_n(&m->apps_hwm, &hwm, e + 1, 1, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
    }
    /* Release pairs with the acquire load of state in
     * inc_chan_complete_burst: efd and armed are set before a worker uses them. */
    __atomic_store_n(&a->state, INC__APP_ATTACHED, __ATOMIC_RELEASE);
    *out = (struct inc_chan_app *)a;
    return 0;
  }
  return -EBUSY;
}

static inline struct inc__app *inc__app(struct inc_chan_app *a) { return (struct inc__app *)a; }

static inline const struct inc__app *inc__capp(const struct inc_chan_app *a) {
  return (const struct inc__app *)a;
}

int inc_chan_app_detach(struct inc_chan_app *app) {
  struct inc__app *a = inc__app(app);
  struct inc_chan_mesh *m = a->mesh;

  INC_LF_ASSERT_OWNER(&a->own.owner, "inc_chan_app_detach");
  if (a->own.cmds_sent > a->own.cpls_received)
    return -EBUSY;
  for (unsigned w = 0; w < m->workers; w++) {
    struct inc__ring *r = inc__a2w(m, a->index, w);
    /* Acquire pairs with the worker's release store of c_head in
     * inc__ring_get: it has read the slots before the lane changes hands. */
    if (__atomic_load_n(&r->ck.c_head, __ATOMIC_ACQUIRE) !=
        __atomic_load_n(&r->ck.p_tail, __ATOMIC_RELAXED))
      return -EBUSY;
    /* Acquire pairs with the worker's release of p_tail: a message waiting
     * for us must be received, or the next owner would get it. */
    r = inc__w2a(m, w, a->index);
    if (__atomic_load_n(&r->ck.p_tail, __ATOMIC_ACQUIRE) !=
        __atomic_load_n(&r->ck.c_head, __ATOMIC_RELAXED))
      return -EBUSY;
  }
  /* CLOSED: no worker may start an eventfd write from now on, and none is
   * in the middle of one (inc__app_set waits WAKING out). */
  (void)inc__app_set(a, INC__CLOSED);
  close(a->efd);
  a->efd = -1;
  /* Release pairs with the acquire CAS in inc_chan_app_attach. */
  __atomic_store_n(&a->state, INC__APP_FREE, __ATOMIC_RELEASE);
  return 0;
}

unsigned inc_chan_app_index(const struct inc_chan_app *a) { return inc__capp(a)->index; }

int inc_chan_app_fd(const struct inc_chan_app *a) { return inc__capp(a)->efd; }

uint64_t inc_chan_app_in_flight(const struct inc_chan_app *app) {
  const struct inc__app *a = inc__capp(app);
  return a->own.cmds_sent > a->own.cpls_received ? a->own.cmds_sent - a->own.cpls_received : 0;
}

static unsigned inc__count_type(const struct inc_msg *msgs, unsigned n, uint16_t type) {
  unsigned c = 0;
  for (unsigned i = 0; i < n; i++)
    c += msgs[i].type == type;
  return c;
}

int inc_chan_app_send_burst(struct inc_chan_app *app, unsigned w, const struct inc_msg *msgs,
                            unsigned n) {
  struct inc__app *a = inc__app(app);
  struct inc_chan_mesh *m = a->mesh;

  if (INC_LF_UNLIKELY(w >= m->workers))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&a->own.owner, "inc_chan_app_send_burst");
  unsigned k = inc__ring_put(inc__a2w(m, a->index, w), msgs, n,
                             (uint16_t)(INC_CHAN_SRC_APP | a->index));
  a->own.cmds_sent += inc__count_type(msgs, k, INC_MSG_COMMAND);
  return (int)k;
}

int inc_chan_app_send(struct inc_chan_app *app, unsigned w, const struct inc_msg *msg) {
  struct inc__app *a = inc__app(app);
  struct inc_chan_mesh *m = a->mesh;

  if (INC_LF_UNLIKELY(w >= m->workers))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&a->own.owner, "inc_chan_app_send");
  int rc = inc__ring_put1(inc__a2w(m, a->index, w), msg, (uint16_t)(INC_CHAN_SRC_APP | a->index));
  if (rc == 0 && msg->type == INC_MSG_COMMAND)
    a->own.cmds_sent++;
  return rc;
}

int inc_chan_app_recv_burst(struct inc_chan_app *app, struct inc_msg *out, unsigned n) {
  struct inc__app *a = inc__app(app);
  struct inc_chan_mesh *m = a->mesh;

  INC_LF_ASSERT_OWNER(&a->own.owner, "inc_chan_app_recv_burst");
  const unsigned nw = m->workers;
  unsigned start = a->own.rr < nw ? a->own.rr : 0;
  a->own.rr = start + 1 < nw ? start + 1 : 0;
  unsigned got = 0;
  for (unsigned i = 0; i < nw && got < n; i++) {
    unsigned w = start + i < nw ? start + i : start + i - nw;
    got += inc__ring_get(inc__w2a(m, w, a->index), out + got, n - got);
  }
  a->own.cpls_received += inc__count_type(out, got, INC_MSG_COMPLETION);
  return (int)got;
}

/* Gives up sleeping; drains what a worker wrote meanwhile. */
static void inc__app_disarm(struct inc__app *a) {
  if (inc__app_set(a, INC__IDLE) == INC__FIRED)
    inc__app_drain(a);
}

int inc_chan_app_arm(struct inc_chan_app *app) {
  struct inc__app *a = inc__app(app);
  struct inc_chan_mesh *m = a->mesh;

  INC_LF_ASSERT_OWNER(&a->own.owner, "inc_chan_app_arm");
  /* Seq-cst CAS (in inc__app_set), then seq-cst loads of p_tail: pairs with
   * the seq-cst p_tail store and armed load in inc_chan_complete_burst
   * (Dekker, see the top of this file). */
  if (inc__app_set(a, INC__ARMED) == INC__FIRED)
    inc__app_drain(a); /* an earlier arm fired while we were not sleeping */
  for (unsigned w = 0; w < m->workers; w++) {
    const struct inc__ring *r = inc__w2a(m, w, a->index);
    if (__atomic_load_n(&r->ck.p_tail, __ATOMIC_SEQ_CST) !=
        __atomic_load_n(&r->ck.c_head, __ATOMIC_RELAXED)) {
      inc__app_disarm(a);
      return -EAGAIN;
    }
  }
  return 0;
}

int inc_chan_app_wait(struct inc_chan_app *app, int timeout_ms) {
  struct inc__app *a = inc__app(app);

  if (inc_chan_app_arm(app) == -EAGAIN)
    return 0;
  struct pollfd pfd = {.fd = a->efd, .events = POLLIN, .revents = 0};
  int rc = poll(&pfd, 1, timeout_ms);
  if (rc <= 0) {
    int err = rc == 0 ? -ETIMEDOUT : -errno;
    inc__app_disarm(a);
    return err;
  }
  /* Woken: the worker that fired wrote the count; take it and go idle. */
  inc__app_disarm(a);
  return 0;
}

/* Worker side: completions to an endpoint, and its wake-up. */
int inc_chan_complete_burst(struct inc_chan_mesh *m, unsigned self, unsigned e,
                            const struct inc_msg *msgs, unsigned n) {
  if (INC_LF_UNLIKELY(self >= m->workers || e >= m->apps))
    return -EINVAL;
  INC_LF_ASSERT_OWNER(&m->cores[self].owner, "inc_chan_complete_burst");
  struct inc__app *a = &m->app[e];
  /* Acquire pairs with the release store of ATTACHED in inc_chan_app_attach. */
  if (__atomic_load_n(&a->state, __ATOMIC_ACQUIRE) != INC__APP_ATTACHED)
    return -ENOTCONN;
  unsigned k = inc__ring_put_order(inc__w2a(m, self, e), msgs, n, (uint16_t)self,
                                   __ATOMIC_SEQ_CST);
  /* Seq-cst load pairs with the endpoint's seq-cst CAS to ARMED in
   * inc_chan_app_arm (after our seq-cst p_tail store above). The CAS to
   * WAKING lets one worker only write the fd, and keeps the endpoint from
   * closing it meanwhile (inc__app_set waits WAKING out); acquire pairs with
   * the endpoint's CAS, so efd is the one it armed with. */
  uint32_t armed = INC__ARMED;
  if (k != 0 && __atomic_load_n(&a->armed, __ATOMIC_SEQ_CST) == INC__ARMED &&
      __atomic_compare_exchange_n(&a->armed, &armed, INC__WAKING, 0, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED)) {
    const uint64_t one = 1;
    /* An eventfd write of 1 fails only if the counter would overflow, and
     * then the fd is readable anyway. */
    if (write(a->efd, &one, sizeof(one)) < 0) {
      /* Nothing to do: see above. */
    }
    /* Release pairs with the acquire in inc__app_set: the write is done.
     * Plain store: nobody else leaves WAKING. */
    __atomic_store_n(&a->armed, INC__FIRED, __ATOMIC_RELEASE);
  }
  return (int)k;
}
