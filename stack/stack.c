/*
 * The stack's control plane: memory layout, starting and stopping the
 * workers, counters, and the application side of cross-thread calls.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "inception/port.h"
#include "inception/rcu.h"
#include "inception/stack_call.h"
#include "stack_priv.h"

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)
#define DEFAULT_FLOWS_PER_CORE 4096u

struct layout {
  size_t workers_off, mesh_off, mesh_len, flows_off, flows_len, keys_off, keys_len, total;
  struct inc_chan_config chan;
  struct inc_flow_config flow;
  struct inc_pool_config keys; /* per worker */
};

static int bad(const char *what)
{
  fprintf(stderr, "inception: stack config: %s\n", what);
  return -EINVAL;
}

_Static_assert(INC_STACK_IP6_ADDRS == INC_NETIF_IP6_ADDRS, "one IPv6 slot of the stack per netif slot");

void inc__netif_config_of(const struct inc_stack_port *sp, struct inc_netif_config *nc)
{
  unsigned i;
  memset(nc, 0, sizeof(*nc));
  nc->ip4_addr = sp->ip4_addr;
  nc->ip4_netmask = sp->ip4_netmask;
  nc->ip4_gw = sp->ip4_gw;
  nc->ip6_linklocal = sp->ip6_linklocal;
  for (i = 0; i < INC_STACK_IP6_ADDRS; i++) {
    memcpy(nc->ip6_addr[i], sp->ip6[i].addr, 16);
    nc->ip6_prefix_len[i] = sp->ip6[i].prefix_len;
  }
  memcpy(nc->ip6_gw, sp->ip6_gw, 16);
}

int inc__port_has_ip6(const struct inc_stack_port *sp)
{
  static const uint8_t zero[16];
  unsigned i;
  for (i = 0; i < INC_STACK_IP6_ADDRS; i++) {
    if (memcmp(sp->ip6[i].addr, zero, 16) != 0) {
      return 1;
    }
  }
  return sp->ip6_linklocal != 0;
}

static int check_config(const struct inc_stack_config *cfg)
{
  unsigned p;
  if (cfg == NULL) {
    return bad("NULL config");
  }
  if (cfg->workers == 0 || cfg->workers > INC_STACK_MAX_WORKERS) {
    return bad("workers must be 1..INC_STACK_MAX_WORKERS");
  }
  if (cfg->n_ports == 0 || cfg->n_ports > INC_STACK_MAX_PORTS) {
    return bad("n_ports must be 1..INC_STACK_MAX_PORTS");
  }
  for (p = 0; p < cfg->n_ports; p++) {
    const struct inc_port *port = cfg->ports[p].port;
    if (port == NULL) {
      return bad("ports[].port is NULL");
    }
    if (port->n_queues != cfg->workers) {
      return bad("a port must have one queue per worker (n_queues == workers)");
    }
    if (!port->started) {
      return bad("a port is not started (inc_port_start())");
    }
    {
      struct inc_netif_config nc;
      const char *why;
      inc__netif_config_of(&cfg->ports[p], &nc);
      why = inc_netif_ip6_check(&nc);
      if (why != NULL) {
        fprintf(stderr, "inception: stack config: ports[%u]: %s\n", p, why);
        return -EINVAL;
      }
      if (cfg->ports[p].ip4_addr == 0 && !inc__port_has_ip6(&cfg->ports[p])) {
        return bad("a port has neither an IPv4 address nor an IPv6 one (ip6_linklocal or ip6[])");
      }
    }
  }
  if (cfg->ring_size != 0 && (cfg->ring_size & (cfg->ring_size - 1)) != 0) {
    return bad("ring_size must be a power of two");
  }
  if (cfg->idle > INC_STACK_IDLE_SLEEP) {
    return bad("idle must be an enum inc_stack_idle value");
  }
  return 0;
}

static int plan(const struct inc_stack_config *cfg, struct layout *l)
{
  uint64_t seed = 0;
  memset(l, 0, sizeof(*l));
  l->chan.workers = cfg->workers;
  l->chan.ring_size = cfg->ring_size;
  l->chan.app_endpoints = cfg->app_endpoints;
  l->chan.app_ring_size = 0;
  l->flow.cores = cfg->workers;
  l->flow.entries_per_core = cfg->flows_per_core ? cfg->flows_per_core : DEFAULT_FLOWS_PER_CORE;
  l->flow.auto_resize = 1;
  if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
    seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
  }
  l->flow.seed = seed; /* a random seed: remote peers cannot aim at one bucket */
  l->keys.name = "flow keys";
  l->keys.obj_size = sizeof(struct inc_flow_key);
  l->keys.obj_align = 8;
  l->keys.count = l->flow.entries_per_core;
  l->mesh_len = inc_chan_mesh_footprint(&l->chan);
  l->flows_len = inc_flow_table_footprint(&l->flow);
  l->keys_len = ALIGN64(inc_pool_footprint(&l->keys));
  if (l->mesh_len == 0 || l->flows_len == 0 || l->keys_len == 0) {
    return bad("channel, flow table or flow pool sizes out of range");
  }
  l->workers_off = ALIGN64(sizeof(struct inc_stack));
  l->mesh_off = ALIGN64(l->workers_off + (size_t)cfg->workers * sizeof(struct inc_worker));
  l->flows_off = ALIGN64(l->mesh_off + l->mesh_len);
  l->keys_off = ALIGN64(l->flows_off + l->flows_len);
  l->total = l->keys_off + (size_t)cfg->workers * l->keys_len;
  return 0;
}

size_t inc_stack_footprint(const struct inc_stack_config *cfg)
{
  struct layout l;
  if (check_config(cfg) != 0 || plan(cfg, &l) != 0) {
    return 0;
  }
  return l.total;
}

static void stop_workers(struct inc_stack *s)
{
  unsigned i;
  for (i = 0; i < s->launched; i++) {
    /* pairs with the acquire load in the worker's loop */
    atomic_store_explicit(&s->w[i].stop, 1, memory_order_release);
  }
  for (i = 0; i < s->launched; i++) {
    rte_eal_wait_lcore(s->w[i].lcore);
  }
  s->launched = 0;
}

static void teardown_tables(struct inc_stack *s)
{
  inc_rcu_register();
  inc_flow_table_destroy(s->flows);
  inc_rcu_unregister();
}

static int pick_lcores(const struct inc_stack_config *cfg, unsigned *out)
{
  unsigned i, lc = rte_get_main_lcore(), n = 0;
  if (cfg->lcores != NULL) {
    for (i = 0; i < cfg->workers; i++) {
      out[i] = cfg->lcores[i];
    }
  } else {
    RTE_LCORE_FOREACH_WORKER(lc) {
      if (n == cfg->workers) {
        break;
      }
      out[n++] = lc;
    }
    if (n < cfg->workers) {
      fprintf(stderr, "inception: stack: %u workers need %u EAL worker lcores, EAL has %u "
                      "(give EAL more, e.g. --lcores=(0-%u)@(0,1))\n",
              cfg->workers, cfg->workers, n, cfg->workers);
      return -EINVAL;
    }
  }
  for (i = 0; i < cfg->workers; i++) {
    if (out[i] >= RTE_MAX_LCORE || !rte_lcore_is_enabled(out[i]) || out[i] == rte_get_main_lcore()) {
      fprintf(stderr, "inception: stack: lcore %u is not an enabled EAL worker lcore\n", out[i]);
      return -EINVAL;
    }
    if (rte_eal_get_lcore_state(out[i]) != WAIT) {
      fprintf(stderr, "inception: stack: lcore %u is busy\n", out[i]);
      return -EBUSY;
    }
  }
  return 0;
}

int inc_stack_start(struct inc_stack **out, void *mem, size_t len, const struct inc_stack_config *cfg)
{
  struct layout l;
  struct inc_stack *s;
  unsigned lcores[INC_STACK_MAX_WORKERS];
  unsigned i;
  int rc;

  if (out == NULL || mem == NULL || ((uintptr_t)mem & 63u) != 0) {
    return bad("out or mem NULL, or mem not 64-byte aligned");
  }
  rc = check_config(cfg);
  if (rc != 0 || (rc = plan(cfg, &l)) != 0) {
    return rc;
  }
  if (len < l.total) {
    return -ENOSPC;
  }
  rc = pick_lcores(cfg, lcores);
  if (rc != 0) {
    return rc;
  }
  memset(mem, 0, l.total);
  s = (struct inc_stack *)mem;
  s->cfg = *cfg;
  s->w = (struct inc_worker *)(void *)((uint8_t *)mem + l.workers_off);
  rc = inc_chan_mesh_init(&s->mesh, (uint8_t *)mem + l.mesh_off, l.mesh_len, &l.chan);
  if (rc != 0) {
    return rc;
  }
  rc = inc_flow_table_init(&s->flows, (uint8_t *)mem + l.flows_off, l.flows_len, &l.flow);
  if (rc != 0) {
    return rc;
  }
  for (i = 0; i < cfg->workers; i++) {
    struct inc_worker *w = &s->w[i];
    rc = inc_pool_init(&w->flow_keys, (uint8_t *)mem + l.keys_off + (size_t)i * l.keys_len, l.keys_len, &l.keys);
    if (rc != 0) {
      teardown_tables(s);
      return rc;
    }
    w->index = i;
    w->lcore = lcores[i];
    w->stack = s;
    atomic_init(&w->stop, 0);
    atomic_init(&w->state, INC__W_NEW);
  }
  for (i = 0; i < cfg->workers; i++) {
    rc = rte_eal_remote_launch(inc__worker_main, &s->w[i], s->w[i].lcore);
    if (rc != 0) {
      fprintf(stderr, "inception: stack: cannot launch worker %u on lcore %u\n", i, s->w[i].lcore);
      stop_workers(s);
      teardown_tables(s);
      return rc;
    }
    s->launched++;
  }
  rc = 0;
  for (i = 0; i < cfg->workers; i++) {
    int st;
    /* pairs with the release stores of the worker's state */
    while ((st = atomic_load_explicit(&s->w[i].state, memory_order_acquire)) == INC__W_NEW) {
      sched_yield();
    }
    if (st == INC__W_FAILED && rc == 0) {
      rc = s->w[i].start_rc ? s->w[i].start_rc : -EIO;
    }
  }
  if (rc != 0) {
    stop_workers(s);
    teardown_tables(s);
    return rc;
  }
  *out = s;
  return 0;
}

int inc_stack_stop(struct inc_stack *s)
{
  if (s == NULL) {
    return -EINVAL;
  }
  stop_workers(s);
  teardown_tables(s);
  return 0;
}

unsigned inc_stack_workers(const struct inc_stack *s)
{
  return s->cfg.workers;
}

int inc_stack_counters_get(const struct inc_stack *s, unsigned w, struct inc_stack_counters *out)
{
  const uint64_t *src;
  uint64_t *dst = (uint64_t *)(void *)out;
  size_t i;
  if (s == NULL || out == NULL || w >= s->cfg.workers) {
    return -EINVAL;
  }
  src = (const uint64_t *)(const void *)&s->w[w].cnt;
  for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
    /* relaxed: pairs with the owner's relaxed adds; counters only */
    dst[i] = atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)&src[i], memory_order_relaxed);
  }
  return 0;
}

void inc_stack_counters_total(const struct inc_stack *s, struct inc_stack_counters *out)
{
  unsigned w;
  size_t i;
  memset(out, 0, sizeof(*out));
  for (w = 0; w < s->cfg.workers; w++) {
    struct inc_stack_counters c;
    const uint64_t *src = (const uint64_t *)(const void *)&c;
    uint64_t *dst = (uint64_t *)(void *)out;
    inc_stack_counters_get(s, w, &c);
    for (i = 0; i < sizeof(c) / sizeof(uint64_t); i++) {
      dst[i] += src[i];
    }
  }
}

unsigned inc_worker_index(const struct inc_worker *w)
{
  return w->index;
}

struct inc_stack *inc_worker_stack(const struct inc_worker *w)
{
  return w->stack;
}

struct inc_worker *inc_worker_self(void)
{
  struct inc_lwip_instance *inst = inc_lwip_instance_self();
  return inst != NULL ? (struct inc_worker *)inst->ctx : NULL;
}

int inc_worker_netif_counters(const struct inc_worker *w, unsigned port, struct inc_netif_counters *out)
{
  if (w == NULL || out == NULL || port >= w->stack->cfg.n_ports) {
    return -EINVAL;
  }
  if (inc_worker_self() != w) {
    return -EPERM; /* plain stores of the owner: only it reads them safely */
  }
  memcpy(out, &w->nif[port].cnt, sizeof(*out));
  return 0;
}

/* ---- application endpoints ----------------------------------------------- */

int inc_stack_endpoint_attach(struct inc_stack *s, struct inc_chan_app **out)
{
  int rc;
  if (s == NULL || out == NULL) {
    return -EINVAL;
  }
  rc = inc_chan_app_attach(s->mesh, out);
  return rc == -EBUSY ? -ENOSPC : rc;
}

int inc_stack_endpoint_detach(struct inc_chan_app *ep)
{
  return inc_chan_app_detach(ep);
}

int inc_stack_endpoint_fd(const struct inc_chan_app *ep)
{
  return inc_chan_app_fd(ep);
}

int inc_stack_endpoint_arm(struct inc_chan_app *ep)
{
  return inc_chan_app_arm(ep);
}

int inc_stack_call_post(struct inc_chan_app *ep, unsigned w, struct inc_stack_call *call)
{
  struct inc_msg m = inc_msg_command(0, call);
  call->done = 0;
  call->status = 0;
  return inc_chan_app_send(ep, w, &m);
}

int inc_stack_call_reap(struct inc_chan_app *ep)
{
  struct inc_msg msgs[32];
  int n, i, total = 0;
  while ((n = inc_chan_app_recv_burst(ep, msgs, 32)) > 0) {
    for (i = 0; i < n; i++) {
      struct inc_stack_call *c = (struct inc_stack_call *)msgs[i].ptr;
      if (msgs[i].type != INC_MSG_COMPLETION || c == NULL) {
        continue;
      }
      c->status = (int32_t)msgs[i].arg;
      c->done = 1;
      total++;
    }
  }
  return total;
}

static int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int inc_stack_call_run(struct inc_chan_app *ep, unsigned w, struct inc_stack_call *call, int timeout_ms)
{
  int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
  int rc = inc_stack_call_post(ep, w, call);
  if (rc != 0) {
    return rc;
  }
  for (;;) {
    int left;
    inc_stack_call_reap(ep);
    if (call->done) {
      return call->status;
    }
    left = deadline < 0 ? -1 : (int)(deadline - mono_ms());
    if (deadline >= 0 && left <= 0) {
      return -ETIMEDOUT;
    }
    rc = inc_chan_app_wait(ep, left);
    /* a signal (net_tap asks the kernel for one on its queue fds; any
     * handler will do) only cuts the sleep short: the call is still in
     * flight in the caller's memory, so keep waiting for it */
    if (rc != 0 && rc != -ETIMEDOUT && rc != -EINTR) {
      return rc;
    }
  }
}
