/*
 * The filter module's entry points for the rest of api/ (private).
 */
#ifndef INC_FILTER_PRIV_H
#define INC_FILTER_PRIV_H

#ifdef __cplusplus
extern "C" {
#endif

struct inc_worker;
struct tcp_pcb;

/*
 * A listener of worker w accepted newpcb (lwIP's accept callback, before the
 * listener's owner sees it): the installed TCP-accept filters run. Monitors
 * see it (unless an exclusive consumer matches); if a consumer matches, it
 * takes the connection.
 * Thread: worker w. Returns: 1 (a consumer took newpcb: the caller must not
 * touch it again and returns ERR_OK to lwIP: a consumer may have closed
 * newpcb; it may abort it only where the caller detects that and returns
 * ERR_ABRT to lwIP, as the raw API's accept path does (filter.h tells
 * consumers so)), 0 (deliver it to the listener as usual).
 * Cost without TCP-accept filters: one acquire load. Implemented in
 * api/filter_in.c.
 */
int inc__filter_tcp_accept(struct inc_worker *w, struct tcp_pcb *newpcb);

#ifdef __cplusplus
}
#endif

#endif /* INC_FILTER_PRIV_H */
