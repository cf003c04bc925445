/*
 * One worker core's run loop (run to completion, no locks):
 *
 *   rx burst of each port queue -> classify -> lwIP input or steer
 *   -> drain inbound rings (packets from other cores, application commands)
 *   -> lwIP timers on this core's clock -> application poll -> tx flush
 *   -> flow-table reclamation -> RCU quiescent state -> idle policy.
 *
 * Stopping is two-phase so that no packet is lost in a ring: a stopping
 * worker stops receiving, aborts its connections (their RSTs leave), then
 * keeps draining (and freeing) what other cores send it until every worker
 * has reached that point; only then does it remove its netifs and leave.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "inception/rcu.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "stack_priv.h"

static int start_netifs(struct inc_worker *w)
{
  const struct inc_stack_config *cfg = &w->stack->cfg;
  unsigned p;
  for (p = 0; p < cfg->n_ports; p++) {
    struct inc_netif_config ncfg;
    struct inc_drv_err err;
    int rc;
    inc__netif_config_of(&cfg->ports[p], &ncfg);
    ncfg.queue = (uint16_t)w->index;
    ncfg.name[0] = 'i';
    ncfg.name[1] = (char)('0' + p);
    rc = inc_netif_init(&w->nif[p], cfg->ports[p].port, &ncfg, &err);
    if (rc != 0) {
      fprintf(stderr, "inception: worker %u: port %u: %s\n", w->index, p, err.msg);
      while (p-- > 0) {
        inc_netif_fini(&w->nif[p]);
      }
      return rc;
    }
    inc__steer_wrap_netif(w, p);
    w->ip6_routers += w->nif[p].has_ip6_gw != 0;
  }
  return 0;
}

static unsigned drain(struct inc_worker *w, int discard)
{
  struct inc_msg msgs[INC__BURST];
  unsigned total = 0;
  int n, i;
  while ((n = inc_chan_poll(w->stack->mesh, w->index, msgs, INC__BURST)) > 0) {
    for (i = 0; i < n; i++) {
      if (msgs[i].type == INC_MSG_COMMAND) {
        if (discard) {
          inc__cmd_discard(w, &msgs[i]);
        } else {
          inc__cmd_exec(w, &msgs[i]);
        }
      } else if (discard) {
        inc__steer_msg_discard(&msgs[i]);
      } else {
        inc__steer_msg(w, &msgs[i]);
      }
    }
    total += (unsigned)n;
    if (!discard) {
      break; /* one burst per loop: keep the RX queues served */
    }
  }
  return total;
}

static void idle(struct inc_worker *w)
{
  const struct inc_stack_config *cfg = &w->stack->cfg;
  if (cfg->idle == INC_STACK_IDLE_YIELD) {
    sched_yield();
  } else if (cfg->idle == INC_STACK_IDLE_SLEEP) {
    unsigned max = cfg->idle_sleep_max_us ? cfg->idle_sleep_max_us : 100;
    unsigned us = w->idle_rounds < 16 ? 1u << w->idle_rounds : max;
    struct timespec ts;
    if (us > max) {
      us = max;
    }
    ts.tv_sec = 0;
    ts.tv_nsec = (long)us * 1000;
    inc_rcu_offline(); /* never hold up a grace period while asleep */
    nanosleep(&ts, NULL);
    inc_rcu_online();
  }
  w->idle_rounds++;
}

static void abort_all(void)
{
  struct tcp_pcb *pcb;
  /* listeners first, so that nothing new is accepted */
  while (tcp_listen_pcbs.listen_pcbs != NULL) {
    struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs;
    tcp_arg((struct tcp_pcb *)l, NULL);
    tcp_accept((struct tcp_pcb *)l, NULL);
    tcp_close((struct tcp_pcb *)l);
  }
  while ((pcb = tcp_active_pcbs) != NULL) {
    tcp_abort(pcb); /* calls the application's err callback, then frees */
  }
  while ((pcb = tcp_tw_pcbs) != NULL) {
    tcp_abort(pcb);
  }
  while ((pcb = tcp_bound_pcbs) != NULL) {
    tcp_close(pcb);
  }
  /* fragments waiting for reassembly hold mbufs: age them all out */
  {
    int i;
    for (i = 0; i <= IP_REASS_MAXAGE; i++) {
      ip_reass_tmr();
    }
    for (i = 0; i <= IPV6_REASS_MAXAGE; i++) {
      ip6_reass_tmr();
    }
  }
}

/* Phase barrier of stopping: counts workers that stopped sending. */
static void wait_quiesced(struct inc_worker *w)
{
  struct inc_stack *s = w->stack;
  atomic_store_explicit(&w->state, INC__W_DONE, memory_order_release);
  for (;;) {
    unsigned j, quiet = 0;
    for (j = 0; j < s->cfg.workers; j++) {
      /* pairs with the release store above in worker j */
      int st = atomic_load_explicit(&s->w[j].state, memory_order_acquire);
      quiet += st == INC__W_DONE || st == INC__W_FAILED;
    }
    drain(w, 1);
    if (quiet == s->cfg.workers) {
      break;
    }
    sched_yield();
  }
  drain(w, 1); /* what arrived before the last worker went quiet */
}

int inc__worker_main(void *arg)
{
  struct inc_worker *w = (struct inc_worker *)arg;
  struct inc_stack *s = w->stack;
  const struct inc_stack_config *cfg = &s->cfg;
  struct rte_mbuf *pkts[INC__BURST];
  unsigned p;
  int rc;

  inc_rcu_register();
  inc_pool_bind(w->flow_keys);
  inc_chan_worker_bind(s->mesh, w->index);
  inc_flow_core_bind(s->flows, w->index);
  rc = inc_lwip_instance_init(&w->lwip);
  if (rc == 0) {
    w->lwip_up = 1;
    inc__steer_init(w);
    w->ext_arg_id = (uint8_t)inc_lwip_instance_ext_arg_id();
    w->next_port = LWIP_RAND(); /* each core starts its port search elsewhere */
    rc = start_netifs(w);
  }
  if (rc != 0) {
    w->start_rc = rc;
    atomic_store_explicit(&w->state, INC__W_FAILED, memory_order_release);
    if (w->lwip_up) {
      inc_lwip_instance_detach(&w->lwip);
    }
    inc_rcu_unregister();
    return rc;
  }
  if (cfg->cb.worker_start != NULL) {
    cfg->cb.worker_start(w, cfg->cb.arg);
  }
  /* pairs with the acquire load in inc_stack_start() */
  atomic_store_explicit(&w->state, INC__W_RUNNING, memory_order_release);

  while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
    unsigned work = 0;
    for (p = 0; p < cfg->n_ports; p++) {
      unsigned n = inc_netif_rx(&w->nif[p], pkts, INC__BURST), i;
      for (i = 0; i < n; i++) {
        inc__steer_rx(w, p, pkts[i]);
      }
      work += n;
      INC__CNT_ADD(w, pkts_in, n);
    }
    work += drain(w, 0);
    sys_check_timeouts();
    if (w->ip6_routers && (uint32_t)(sys_now() - w->ip6_keep_ms) >= 1000u) {
      /* a configured IPv6 router stays in the default router list */
      w->ip6_keep_ms = sys_now();
      for (p = 0; p < cfg->n_ports; p++) {
        inc_netif_ip6_router_keep(&w->nif[p]);
      }
    }
    if (cfg->cb.worker_poll != NULL) {
      work += (unsigned)(cfg->cb.worker_poll(w, cfg->cb.arg) != 0);
    }
    for (p = 0; p < cfg->n_ports; p++) {
      unsigned n = inc_netif_flush(&w->nif[p]);
      INC__CNT_ADD(w, pkts_out, n);
      work += n;
    }
    inc_flow_reclaim(s->flows, w->index);
    inc_rcu_quiescent();
    INC__CNT_ADD(w, loops, 1);
    if (work != 0) {
      w->idle_rounds = 0;
    } else {
      idle(w);
    }
  }

  if (cfg->cb.worker_stop != NULL) {
    cfg->cb.worker_stop(w, cfg->cb.arg);
  }
  abort_all();
  for (p = 0; p < cfg->n_ports; p++) {
    inc_netif_flush(&w->nif[p]); /* the RSTs */
  }
  wait_quiesced(w);
  for (p = 0; p < cfg->n_ports; p++) {
    inc_netif_fini(&w->nif[p]);
  }
  inc_flow_reclaim(s->flows, w->index);
  inc_lwip_instance_detach(&w->lwip);
  inc_rcu_unregister();
  return 0;
}
