/*
 * Error reports of Inception's drivers (eal.h, port.h, wire.h, netif.h).
 *
 * Functions that can fail for reasons outside the program (a missing PMD, a
 * tap device that does not exist, too few queues, EAL arguments) return a
 * negative errno and, when given a struct inc_drv_err, describe the problem
 * and how to fix it in one line, e.g.:
 *   "port net_ring0: the PMD offers at most 1 RX queues but 4 were asked
 *    (one per worker); fix: ask for at most 1 or create the ring port with
 *    more rings"
 * The same line also goes to DPDK's log (RTE_LOG ERR, type USER1).
 */
#ifndef INC_DRV_ERR_H
#define INC_DRV_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

#define INC_DRV_ERR_LEN 640

struct inc_drv_err {
  int code;                   /* the negative errno returned */
  char msg[INC_DRV_ERR_LEN];  /* "<what>: <problem>; fix: <what to do>" */
};

#ifdef __cplusplus
}
#endif

#endif /* INC_DRV_ERR_H */
