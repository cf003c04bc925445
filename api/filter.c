/*
 * Packet filter callbacks: the control plane (include/inception/filter.h).
 *
 * The installed filters of a stack form one immutable table (filter_table.c).
 * An install or remove builds the next table, publishes it in every worker's
 * lwIP instance (ip_input / ip_input_ctx: the instance's IP input policy,
 * lwip-hooks/include/inc_lwip_instance.h), waits for an RCU grace period
 * (every worker passes the quiescent state it announces once per loop) and
 * only then frees the previous table (and a removed filter). Workers read the
 * table with one acquire load per packet, no lock.
 *
 * Writers are serialised by one mutex of this module (control-plane rate;
 * the only lock, never taken by a worker's packet path): a table replaces
 * the previous one as a whole, so two writers must not both build on the
 * same one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter_priv.h"
#include "filter_table.h"
#include "inception/filter.h"
#include "inception/rcu.h"
#include "stack_priv.h"

/* Serialises writers of every stack's table (see above). A mutable
 * file-scope object, against STYLE 6, because no per-stack slot exists for
 * it (struct inc_stack is stack/'s) and writers are control-plane only. */
static pthread_mutex_t writers = PTHREAD_MUTEX_INITIALIZER;

/* the published table (writers only, under `writers`) */
static struct inc__ftab *current(struct inc_stack *s)
{
  return (struct inc__ftab *)__atomic_load_n(&s->w[0].lwip.ip_input_ctx, __ATOMIC_RELAXED);
}

static void publish(struct inc_stack *s, struct inc__ftab *t)
{
  unsigned i;
  for (i = 0; i < s->cfg.workers; i++) {
    struct inc_lwip_instance *inst = &s->w[i].lwip;
    /* the policy first: a worker that sees the table sees the function
     * (inc_lwip_instance.h) */
    __atomic_store_n(&inst->ip_input, inc__filter_ip_input, __ATOMIC_RELAXED);
    /* pairs with the acquire loads of inc__lwip_ip_input() and table_of()
     * (filter_in.c): the table's contents are visible before its address */
    __atomic_store_n(&inst->ip_input_ctx, (void *)t, __ATOMIC_RELEASE);
  }
}

static int running(const struct inc_stack *s)
{
  unsigned i;
  for (i = 0; i < s->cfg.workers; i++) {
    /* pairs with the worker's release of its state (stack/worker.c) */
    if (atomic_load_explicit(&s->w[i].state, memory_order_acquire) != INC__W_RUNNING) {
      return 0;
    }
  }
  return s->cfg.workers > 0;
}

int inc_filter_install(struct inc_stack *s, const struct inc_filter_config *cfg, struct inc_filter **out)
{
  struct inc__ftab *old, *t = NULL;
  struct inc_filter *f;
  int rc;

  if (s == NULL || out == NULL || inc__filter_check(cfg) < 0) {
    return -EINVAL;
  }
  if (inc__filter_in_callback()) {
    return -EDEADLK;
  }
  if (!running(s)) {
    return -EINVAL;
  }
  rc = inc__filter_new(cfg, s->cfg.workers, &f);
  if (rc < 0) {
    return rc;
  }
  f->stack = s;
  pthread_mutex_lock(&writers);
  old = current(s);
  rc = inc__ftab_with(old, s, f, &t);
  if (rc == 0) {
    publish(s, t);
  }
  pthread_mutex_unlock(&writers);
  if (rc < 0) {
    inc__filter_free(f);
    return rc;
  }
  if (old != NULL) {
    /* no worker holds the previous table after a grace period */
    inc_rcu_synchronize();
    inc__ftab_free(old);
  }
  *out = f;
  return 0;
}

int inc_filter_remove(struct inc_filter *f, struct inc_filter_counters *last)
{
  struct inc__ftab *old, *t = NULL;
  int rc;

  if (f == NULL) {
    return -EINVAL;
  }
  if (inc__filter_in_callback()) {
    return -EDEADLK;
  }
  pthread_mutex_lock(&writers);
  old = current(f->stack);
  rc = inc__ftab_without(old, f, &t);
  if (rc == 0) {
    publish(f->stack, t);
  }
  pthread_mutex_unlock(&writers);
  if (rc == -ENOENT) {
    return -EINVAL; /* not installed (the stack was restarted under it) */
  }
  if (rc < 0) {
    return rc;
  }
  /* after a grace period no worker runs, or can start, f's callback: every
   * worker has passed a quiescent state since the table without f was
   * published */
  inc_rcu_synchronize();
  inc__ftab_free(old);
  if (last != NULL) {
    inc_filter_counters_get(f, last);
  }
  inc__filter_free(f);
  return 0;
}
