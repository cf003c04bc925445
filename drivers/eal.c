/* EAL start-up with pass-through arguments and documented defaults (eal.h). */
#include "inception/eal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "drivers_priv.h"
#include "inception/drivers_opt.h"

#define MAX_ARGS 64

static const char *const default_args[] = {INC_EAL_DEFAULT_ARGS};

/* "a b c" of the arguments, for messages. */
static void join_args(char *out, size_t len, char *const *argv, int argc)
{
  size_t used = 0;
  int i;
  out[0] = '\0';
  for (i = 1; i < argc && used + 1 < len; i++) {
    int n = snprintf(out + used, len - used, "%s%s", i > 1 ? " " : "", argv[i]);
    if (n < 0) {
      break;
    }
    used += (size_t)n;
  }
}

/* The fix for each way rte_eal_init() fails (rte_errno values documented in
 * rte_eal.h). */
static const char *fix_for(int e)
{
  switch (e) {
  case EINVAL:
    return "check the EAL arguments (DPDK's complaint is quoted above; `dpdk-testpmd --help` "
           "lists them); on a machine without hugepages or PCI devices use "
           "--no-huge -m 512 --no-pci --no-shconf";
  case ENOMEM:
  case EAGAIN:
    return "give the EAL less memory (-m) or more: with --no-huge, -m comes from anonymous "
           "memory; with hugepages, reserve more (echo N > /proc/sys/vm/nr_hugepages)";
  case EACCES:
    return "run as root, or give the user access to hugepages and devices (or use --no-huge "
           "--no-pci)";
  case EALREADY:
    return "call inc_eal_init() once per process (the EAL cannot start twice)";
  case ENODEV:
    return "check the devices (--vdev/-a): a PMD failed to probe one (quoted above)";
  case ENOTSUP:
    return "this EAL build lacks a feature asked for (see DPDK's message above)";
  case EPROTO:
  case ENOEXEC:
    return "the EAL's runtime directory or a plugin (-d) is unusable; check permissions and "
           "paths";
  default:
    return "see DPDK's message above";
  }
}

int inc_eal_init(const struct inc_eal_config *cfg, struct inc_drv_err *err)
{
  char *argv[MAX_ARGS + 4];
  char lcores_arg[128];
  char joined[512];
  struct inc__logcap cap;
  int argc = 0, i, rc, e;

  if (cfg == NULL || cfg->n_args < 0 || (cfg->args == NULL && cfg->n_args > 0) ||
      cfg->n_args > MAX_ARGS) {
    return inc__err(err, -EINVAL,
                    "EAL: bad configuration (%s); fix: pass at most %d arguments, or none for "
                    "the defaults",
                    cfg == NULL ? "no config" : "argument count", MAX_ARGS);
  }
  argv[argc++] = (char *)(uintptr_t)(cfg->prog_name != NULL ? cfg->prog_name : "inception");
  if (cfg->args == NULL) {
    for (i = 0; i < (int)(sizeof(default_args) / sizeof(default_args[0])); i++) {
      argv[argc++] = (char *)(uintptr_t)default_args[i];
    }
  } else {
    for (i = 0; i < cfg->n_args; i++) {
      if (cfg->args[i] == NULL) {
        return inc__err(err, -EINVAL, "EAL: argument %d is NULL; fix: pass n_args strings", i);
      }
      argv[argc++] = (char *)(uintptr_t)cfg->args[i];
    }
  }
  if (cfg->lcores != NULL) {
    if ((size_t)snprintf(lcores_arg, sizeof(lcores_arg), "--lcores=%s", cfg->lcores) >=
        sizeof(lcores_arg)) {
      return inc__err(err, -EINVAL, "EAL: lcores map \"%s\" is too long; fix: at most %zu characters",
                      cfg->lcores, sizeof(lcores_arg) - 10);
    }
    argv[argc++] = lcores_arg;
  }
  argv[argc] = NULL;
  join_args(joined, sizeof(joined), argv, argc);

  inc__logcap_begin(&cap);
  rc = rte_eal_init(argc, argv);
  e = rte_errno;
  inc__logcap_end(&cap);
  if (rc < 0) {
    if (e == 0) {
      e = EINVAL;
    }
    return inc__err(err, -e, "EAL: rte_eal_init failed (%s) with arguments \"%s\"%s%s%s; fix: %s",
                    rte_strerror(e), joined, cap.last[0] ? "; DPDK said: \"" : "", cap.last,
                    cap.last[0] ? "\"" : "", fix_for(e));
  }
  INC_LOG(INFO, "EAL started with \"%s\"\n", joined);
  return 0;
}

int inc_eal_cleanup(void)
{
  return rte_eal_cleanup() == 0 ? 0 : -rte_errno;
}
