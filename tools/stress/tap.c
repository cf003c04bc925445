/* The stress harness's --tap mode: the namespace, the tap and the child (see
 * tap.h). Linux's plumbing only: `ip` commands, setns(2), fork(2). */
#define _GNU_SOURCE
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NS_PREFIX "incstress"

/* Runs argv (found in PATH), its output to /dev/null; 0 if it exits 0. */
static int run(const char *const argv[])
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int rc, status;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return -rc;
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -errno;
    }
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static void remove_ns(const char *ns, const char *tap)
{
  const char *del_tap[] = {"ip", "-n", ns, "tuntap", "del", "mode", "tap", "multi_queue", "name", tap, NULL};
  const char *del_ns[] = {"ip", "netns", "del", ns, NULL};
  if (tap != NULL) {
    (void)run(del_tap);
  }
  (void)run(del_ns);
}

/* Namespaces of harnesses that died without their child (it cleans up). */
static void remove_stale(void)
{
  DIR *d = opendir("/run/netns");
  struct dirent *e;
  if (d == NULL) {
    return;
  }
  while ((e = readdir(d)) != NULL) {
    char proc[64];
    struct stat st;
    long pid;
    if (strncmp(e->d_name, NS_PREFIX, sizeof(NS_PREFIX) - 1) != 0) {
      continue;
    }
    pid = strtol(e->d_name + sizeof(NS_PREFIX) - 1, NULL, 10);
    snprintf(proc, sizeof(proc), "/proc/%ld", pid);
    if (pid > 0 && stat(proc, &st) != 0) {
      remove_ns(e->d_name, NULL); /* its tap goes with it */
    }
  }
  closedir(d);
}

static int open_ns(const char *ns)
{
  char path[96];
  snprintf(path, sizeof(path), "/run/netns/%s", ns);
  return open(path, O_RDONLY | O_CLOEXEC);
}

struct watch {
  int fd;
  _Atomic int *stop;
};

/* The child's watcher: the harness's end of the pipe closes (it is done, or
 * it died): stop the server. */
static void *watch_main(void *arg)
{
  struct watch *w = (struct watch *)arg;
  char c;
  for (;;) {
    ssize_t r = read(w->fd, &c, 1);
    if (r == 0 || (r < 0 && errno != EINTR)) {
      break;
    }
  }
  /* pairs with the load in linux_server.c's thread_main (a flag, no data
   * behind it: relaxed; pthread_join orders the rest) */
  atomic_store_explicit(w->stop, 1, memory_order_relaxed);
  return NULL;
}

static void child_main(struct tap_peer *p, int rfd, unsigned threads, uint16_t port)
{
  _Atomic int stop;
  struct watch w;
  pthread_t t;
  int fd, rc;

  /* the terminal's ^C and a test runner's SIGTERM go to the harness: this
   * process ends when the harness's pipe end closes, then cleans up */
  setsid();
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  atomic_init(&stop, 0);
  fd = open_ns(p->ns);
  rc = fd < 0 ? -errno : setns(fd, CLONE_NEWNET) != 0 ? -errno : 0;
  if (fd >= 0) {
    close(fd);
  }
  w.fd = rfd;
  w.stop = &stop;
  if (rc == 0 && (rc = -pthread_create(&t, NULL, watch_main, &w)) == 0) {
    rc = tap_linux_serve(p->sh, threads, port, &stop); /* until the pipe closes */
    pthread_join(t, NULL);
  }
  if (rc != 0) {
    /* pairs with the acquire in tap_peer_start */
    atomic_store_explicit(&p->sh->ready, rc, memory_order_release);
    watch_main(&w); /* the harness reports it, then closes the pipe */
  }
  remove_ns(p->ns, p->tap);
  {
    /* the EAL's run-time directory (--file-prefix=incstress<pid>, the
     * namespace's name): the harness removes it, unless it was killed */
    char dir[96];
    const char *rm[] = {"rm", "-rf", dir, NULL};
    snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", p->ns);
    (void)run(rm);
  }
  _exit(rc == 0 ? 0 : 1);
}

int tap_peer_start(struct tap_peer *p, unsigned threads, uint16_t port)
{
  char addr[32];
  int fds[2], i, rc = 0;
  struct timespec ts = {0, 10000000};
  memset(p, 0, sizeof(*p));
  p->child = -1;
  p->pipe_w = -1;
  p->saved_ns = -1;
  if (geteuid() != 0) {
    fprintf(stderr, "inc-stress: --tap needs root (a network namespace and a tap device)\n");
    return -ENOTSUP;
  }
  remove_stale();
  snprintf(p->ns, sizeof(p->ns), NS_PREFIX "%d", (int)getpid());
  snprintf(p->tap, sizeof(p->tap), "incst%d", (int)getpid()); /* at most 15 characters */
  snprintf(addr, sizeof(addr), "198.18.7.2/24");
  {
    const char *add_ns[] = {"ip", "netns", "add", p->ns, NULL};
    const char *lo_up[] = {"ip", "-n", p->ns, "link", "set", "lo", "up", NULL};
    const char *add_tap[] = {"ip", "-n", p->ns, "tuntap", "add", "mode", "tap", "multi_queue", "name", p->tap, NULL};
    const char *add_addr[] = {"ip", "-n", p->ns, "addr", "add", addr, "dev", p->tap, NULL};
    const char *tap_up[] = {"ip", "-n", p->ns, "link", "set", p->tap, "up", NULL};
    /* no IPv6 chatter (DAD, router solicitations) on the tap */
    const char *no6[] = {"ip", "netns", "exec", p->ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", NULL};
    const char *const *steps[] = {add_ns, lo_up, add_tap, add_addr, tap_up, no6};
    for (i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
      if ((rc = run(steps[i])) != 0) {
        fprintf(stderr, "inc-stress: --tap: '%s %s %s %s ...' failed (iproute2 needed)\n", steps[i][0], steps[i][1],
                steps[i][2], steps[i][3]);
        if (i > 0) {
          remove_ns(p->ns, i > 2 ? p->tap : NULL);
        }
        p->created = 0;
        /* no namespaces or no tun device here: the mode is unavailable */
        return i == 0 || i == 2 ? -ENOTSUP : rc;
      }
      p->created = 1;
    }
  }
  p->sh = mmap(NULL, sizeof(*p->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p->sh == MAP_FAILED) {
    rc = -errno;
    p->sh = NULL;
    tap_peer_stop(p);
    return rc;
  }
  memset(p->sh, 0, sizeof(*p->sh));
  if (pipe2(fds, O_CLOEXEC) != 0) {
    rc = -errno;
    tap_peer_stop(p);
    return rc;
  }
  fflush(NULL);
  p->child = fork();
  if (p->child < 0) {
    rc = -errno;
    close(fds[0]);
    close(fds[1]);
    tap_peer_stop(p);
    return rc;
  }
  if (p->child == 0) {
    close(fds[1]);
    child_main(p, fds[0], threads, port);
  }
  close(fds[0]);
  p->pipe_w = fds[1];
  p->created = 0; /* the child deletes it */
  /* pairs with the release in tap_linux_serve (or child_main's on failure) */
  for (i = 0; i < 500 && atomic_load_explicit(&p->sh->ready, memory_order_acquire) == 0; i++) {
    nanosleep(&ts, NULL);
  }
  rc = atomic_load_explicit(&p->sh->ready, memory_order_acquire);
  if (rc != 1) {
    fprintf(stderr, "inc-stress: --tap: Linux's server did not start: %s\n", strerror(rc < 0 ? -rc : ETIMEDOUT));
    tap_peer_stop(p);
    return rc < 0 ? rc : -ETIMEDOUT;
  }
  return 0;
}

int tap_peer_enter(struct tap_peer *p)
{
  int fd = open_ns(p->ns), rc;
  if (fd < 0) {
    return -errno;
  }
  p->saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  rc = p->saved_ns < 0 || setns(fd, CLONE_NEWNET) != 0 ? -errno : 0;
  close(fd);
  if (rc != 0 && p->saved_ns >= 0) {
    close(p->saved_ns);
    p->saved_ns = -1;
  }
  return rc;
}

void tap_peer_leave(struct tap_peer *p)
{
  if (p->saved_ns >= 0) {
    if (setns(p->saved_ns, CLONE_NEWNET) != 0) {
      perror("inc-stress: setns back");
    }
    close(p->saved_ns);
    p->saved_ns = -1;
  }
}

void tap_peer_stop(struct tap_peer *p)
{
  tap_peer_leave(p);
  if (p->pipe_w >= 0) {
    close(p->pipe_w); /* the child stops its server and deletes the namespace */
    p->pipe_w = -1;
  }
  if (p->child > 0) {
    int status;
    while (waitpid(p->child, &status, 0) < 0 && errno == EINTR) {
    }
    p->child = -1;
  }
  if (p->created) {
    remove_ns(p->ns, p->tap);
    p->created = 0;
  }
  if (p->sh != NULL) {
    munmap(p->sh, sizeof(*p->sh));
    p->sh = NULL;
  }
}
