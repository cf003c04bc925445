/*
 * Runner for lwIP's own unit suite (test/unit of the lwIP tarball, Check).
 *
 * lwip_unittests.c is compiled with -Dmain=lwip_unittests_main; this runner
 * calls it on a thread of its own:
 * in the redirected build (thread-local lwIP state) that thread's lwIP
 * instance is brand new, so the suite also shows that an instance started on
 * any thread works. Check prints "Checks: N, Failures: F, Errors: E"; ctest
 * matches the expected totals.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int lwip_unittests_main(void);

static void *run(void *arg)
{
  *(int *)arg = lwip_unittests_main();
  return NULL;
}

int main(void)
{
  pthread_t t;
  int rc = EXIT_FAILURE;
  if (pthread_create(&t, NULL, run, &rc) != 0) {
    perror("pthread_create");
    return EXIT_FAILURE;
  }
  pthread_join(t, NULL);
  return rc;
}
