/* Error reports and DPDK log capture (drivers_priv.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "drivers_priv.h"

int inc__err(struct inc_drv_err *err, int code, const char *fmt, ...)
{
  char buf[INC_DRV_ERR_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (err != NULL) {
    err->code = code;
    memcpy(err->msg, buf, sizeof(buf));
  }
  INC_LOG(ERR, "%s\n", buf);
  return code;
}

void inc__logcap_begin(struct inc__logcap *c)
{
  memset(c, 0, sizeof(*c));
  c->prev = rte_log_get_stream();
  c->mem = open_memstream(&c->buf, &c->len);
  if (c->mem != NULL) {
    rte_openlog_stream(c->mem);
  }
}

void inc__logcap_end(struct inc__logcap *c)
{
  char *line, *save = NULL;
  if (c->mem == NULL) {
    return;
  }
  rte_openlog_stream(c->prev == stderr ? NULL : c->prev);
  fclose(c->mem);
  c->mem = NULL;
  if (c->buf == NULL) {
    return;
  }
  if (c->len > 0) {
    /* nothing DPDK said is lost: it goes where it would have gone */
    FILE *out = c->prev != NULL ? c->prev : stderr;
    fwrite(c->buf, 1, c->len, out);
    fflush(out);
  }
  for (line = strtok_r(c->buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (line[0] != '\0') {
      snprintf(c->last, sizeof(c->last), "%s", line);
    }
  }
  free(c->buf);
  c->buf = NULL;
}
