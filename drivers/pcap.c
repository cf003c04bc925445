/*
 * pcapng writer (pcap.h). Block layouts: the PCAP Next Generation Dump File
 * Format (IETF draft-ietf-opsawg-pcapng), sections 4.1 (SHB), 4.2 (IDB),
 * 4.3 (EPB); all in host byte order, which the byte-order magic declares.
 */
#define _GNU_SOURCE
#include "inception/pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "inception/drivers_opt.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1u
#define OPT_ENDOFOPT 0u
#define OPT_IF_NAME 2u
#define OPT_IF_TSRESOL 9u
#define OPT_EPB_FLAGS 2u

static size_t pad4(size_t n)
{
  return (n + 3u) & ~(size_t)3u;
}

static int write_all(int fd, const void *data, size_t len)
{
  const uint8_t *p = (const uint8_t *)data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int inc_pcap_flush(struct inc_pcap *w)
{
  int rc = 0;
  if (w->len > 0) {
    rc = write_all(w->fd, w->buf, w->len);
    if (rc != 0) {
      w->write_errors++;
    }
    w->len = 0;
  }
  return rc;
}

/* Room for n more bytes in the buffer (flushing first if needed). */
static int reserve(struct inc_pcap *w, size_t n)
{
  if (w->len + n > w->cap) {
    return inc_pcap_flush(w);
  }
  return 0;
}

static void put32(struct inc_pcap *w, uint32_t v)
{
  memcpy(w->buf + w->len, &v, 4);
  w->len += 4;
}

static void put16(struct inc_pcap *w, uint16_t v)
{
  memcpy(w->buf + w->len, &v, 2);
  w->len += 2;
}

static void put_bytes(struct inc_pcap *w, const void *p, size_t n)
{
  memcpy(w->buf + w->len, p, n);
  w->len += n;
  while (w->len % 4 != 0) {
    w->buf[w->len++] = 0;
  }
}

static void put_header_blocks(struct inc_pcap *w, const char *if_name)
{
  size_t name_len = strlen(if_name);
  uint32_t idb_len;
  uint64_t section_len = UINT64_MAX; /* unspecified */
  /* SHB: type, length, magic, version 1.0, section length, length */
  put32(w, BT_SHB);
  put32(w, 28);
  put32(w, BYTE_ORDER_MAGIC);
  put16(w, 1);
  put16(w, 0);
  memcpy(w->buf + w->len, &section_len, 8);
  w->len += 8;
  put32(w, 28);
  /* IDB: type, length, linktype, reserved, snaplen, options, length */
  idb_len = (uint32_t)(20 + 4 + pad4(name_len) + 4 + 4 + 4);
  put32(w, BT_IDB);
  put32(w, idb_len);
  put16(w, LINKTYPE_ETHERNET);
  put16(w, 0);
  put32(w, w->snaplen);
  put16(w, OPT_IF_NAME);
  put16(w, (uint16_t)name_len);
  put_bytes(w, if_name, name_len);
  put16(w, OPT_IF_TSRESOL);
  put16(w, 1);
  w->buf[w->len++] = 9; /* 10^-9 s */
  w->buf[w->len++] = 0;
  w->buf[w->len++] = 0;
  w->buf[w->len++] = 0;
  put16(w, OPT_ENDOFOPT);
  put16(w, 0);
  put32(w, idb_len);
}

int inc_pcap_open(struct inc_pcap *w, const struct inc_pcap_config *cfg)
{
  const char *if_name;
  int rc;
  if (w == NULL || cfg == NULL || cfg->path == NULL || cfg->buf == NULL || cfg->buf_len < 4096) {
    return -EINVAL;
  }
  if_name = cfg->if_name != NULL ? cfg->if_name : "inception";
  if (strlen(if_name) > 256 || (cfg->snaplen != 0 && cfg->snaplen < 64)) {
    return -EINVAL;
  }
  memset(w, 0, sizeof(*w));
  w->snaplen = cfg->snaplen != 0 ? cfg->snaplen : INC_DRV_PCAP_SNAPLEN;
  w->buf = cfg->buf;
  w->cap = cfg->buf_len;
  w->fd = open(cfg->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    return -errno;
  }
  put_header_blocks(w, if_name);
  rc = inc_pcap_flush(w);
  if (rc != 0) {
    close(w->fd);
    w->fd = -1;
  }
  return rc;
}

int inc_pcap_write(struct inc_pcap *w, uint64_t ts_ns, const struct inc_pcap_seg *segs,
                   unsigned nseg, uint32_t orig_len, enum inc_pcap_dir dir)
{
  uint32_t caplen = orig_len < w->snaplen ? orig_len : w->snaplen;
  size_t data_len = pad4(caplen);
  uint32_t block_len = (uint32_t)(28 + data_len + 4 + 4 + 4 + 4);
  uint32_t left = caplen;
  unsigned i;
  int rc;

  rc = reserve(w, block_len);
  if (rc != 0) {
    return rc;
  }
  if (block_len > w->cap) {
    /* larger than the buffer (a large snaplen with a small buffer):
     * header, data and trailer go out in one writev */
    uint8_t head[28], tail[16];
    uint32_t v[7] = {BT_EPB, block_len, 0, (uint32_t)(ts_ns >> 32), (uint32_t)ts_ns, caplen, orig_len};
    uint16_t opt_flags[2] = {OPT_EPB_FLAGS, 4}, opt_end[2] = {OPT_ENDOFOPT, 0};
    uint32_t flags = (uint32_t)dir;
    struct iovec iov[66];
    unsigned n = 0;
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    ssize_t want = 0, got;
    memcpy(head, v, sizeof(head));
    memcpy(tail, opt_flags, 4);
    memcpy(tail + 4, &flags, 4);
    memcpy(tail + 8, opt_end, 4);
    memcpy(tail + 12, &block_len, 4);
    iov[n].iov_base = head;
    iov[n++].iov_len = sizeof(head);
    for (i = 0; i < nseg && left > 0 && n < 64; i++) {
      uint32_t take = segs[i].len < left ? segs[i].len : left;
      iov[n].iov_base = (void *)(uintptr_t)segs[i].data;
      iov[n++].iov_len = take;
      left -= take;
    }
    if (data_len - (caplen - left) > sizeof(zeros)) {
      return -EINVAL; /* the pieces do not add up to orig_len */
    }
    iov[n].iov_base = (void *)(uintptr_t)zeros;
    iov[n++].iov_len = data_len - (caplen - left);
    iov[n].iov_base = tail;
    iov[n++].iov_len = 16;
    for (i = 0; i < n; i++) {
      want += (ssize_t)iov[i].iov_len;
    }
    got = writev(w->fd, iov, (int)n);
    if (got != want) {
      w->write_errors++;
      return got < 0 ? -errno : -EIO;
    }
    w->packets++;
    return 0;
  }
  put32(w, BT_EPB);
  put32(w, block_len);
  put32(w, 0); /* interface 0 */
  put32(w, (uint32_t)(ts_ns >> 32));
  put32(w, (uint32_t)ts_ns);
  put32(w, caplen);
  put32(w, orig_len);
  for (i = 0; i < nseg && left > 0; i++) {
    uint32_t take = segs[i].len < left ? segs[i].len : left;
    memcpy(w->buf + w->len, segs[i].data, take);
    w->len += take;
    left -= take;
  }
  /* pieces shorter than orig_len claimed: keep the block well formed */
  memset(w->buf + w->len, 0, data_len - (caplen - left));
  w->len += data_len - (caplen - left);
  put16(w, OPT_EPB_FLAGS);
  put16(w, 4);
  put32(w, (uint32_t)dir); /* bits 0-1: inbound 1, outbound 2 */
  put16(w, OPT_ENDOFOPT);
  put16(w, 0);
  put32(w, block_len);
  w->packets++;
  return 0;
}

int inc_pcap_close(struct inc_pcap *w)
{
  int rc = inc_pcap_flush(w);
  if (w->fd >= 0 && close(w->fd) != 0 && rc == 0) {
    rc = -errno;
  }
  w->fd = -1;
  return rc;
}
