/* System helpers: clock, commands, namespaces, cleanup guardian (bench_sys.h). */
#define _GNU_SOURCE
#include "bench_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define GUARD_MAX_NS 16
#define NS_NAME_MAX 64

uint64_t inc_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int inc_bench_run_cmd(const char *const argv[], int quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static void guardian_delete(const char *name)
{
	const char *argv[] = {"ip", "netns", "del", name, NULL};

	inc_bench_run_cmd(argv, 1);
}

/* The guardian process: collect names until EOF, then delete them. */
static void guardian_main(int rfd)
{
	char names[GUARD_MAX_NS][NS_NAME_MAX];
	unsigned n = 0;
	char buf[512];
	size_t have = 0;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t r = read(rfd, buf + have, sizeof buf - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		char *nl;

		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			const char *name = buf + 2;

			size_t nlen = strlen(name);

			if (buf[0] == 'A' && n < GUARD_MAX_NS && nlen < NS_NAME_MAX) {
				memcpy(names[n++], name, nlen + 1);
			} else if (buf[0] == 'R') {
				for (unsigned i = 0; i < n; i++) {
					if (strcmp(names[i], name) == 0) {
						memmove(names[i], names[--n], NS_NAME_MAX);
						break;
					}
				}
			}
			size_t used = (size_t)(nl - buf) + 1;

			memmove(buf, nl + 1, have - used);
			have -= used;
		}
		if (have == sizeof buf)
			have = 0; /* a line longer than any we write: drop it */
	}
	for (unsigned i = 0; i < n; i++)
		guardian_delete(names[i]);
	_exit(0);
}

int inc_bench_guard_start(struct inc_bench_guard *g)
{
	int p[2];

	g->fd = -1;
	g->pid = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();

	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		guardian_main(p[0]);
	}
	close(p[0]);
	g->fd = p[1];
	g->pid = pid;
	return 0;
}

static int guard_send(struct inc_bench_guard *g, char op, const char *name)
{
	char line[NS_NAME_MAX + 4];
	int n = snprintf(line, sizeof line, "%c %s\n", op, name);

	if (g->fd < 0)
		return -EBADF;
	if (n < 0 || (size_t)n >= sizeof line)
		return -ENAMETOOLONG;
	/* One write under PIPE_BUF: atomic. */
	return write(g->fd, line, (size_t)n) == n ? 0 : -EIO;
}

int inc_bench_guard_add_netns(struct inc_bench_guard *g, const char *name)
{
	return guard_send(g, 'A', name);
}

int inc_bench_guard_remove_netns(struct inc_bench_guard *g, const char *name)
{
	return guard_send(g, 'R', name);
}

void inc_bench_guard_stop(struct inc_bench_guard *g)
{
	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
	if (g->pid > 0) {
		while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
			;
		g->pid = -1;
	}
}

int inc_bench_netns_create(struct inc_bench_guard *g, const char *name, int *fd)
{
	const char *add[] = {"ip", "netns", "add", name, NULL};
	const char *lo[] = {"ip", "-n", name, "link", "set", "lo", "up", NULL};
	char path[128];
	int rc = inc_bench_guard_add_netns(g, name);

	*fd = -1;
	if (rc < 0)
		return rc;
	rc = inc_bench_run_cmd(add, 0);
	if (rc < 0) {
		fprintf(stderr, "inc_bench: 'ip netns add %s' failed (root needed)\n", name);
		inc_bench_guard_remove_netns(g, name);
		return rc;
	}
	rc = inc_bench_run_cmd(lo, 0);
	if (rc == 0) {
		snprintf(path, sizeof path, "/run/netns/%s", name);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			rc = -errno;
	}
	if (rc < 0)
		inc_bench_netns_delete(g, name, -1);
	return rc;
}

void inc_bench_netns_delete(struct inc_bench_guard *g, const char *name, int fd)
{
	const char *del[] = {"ip", "netns", "del", name, NULL};

	if (fd >= 0)
		close(fd);
	if (inc_bench_run_cmd(del, 0) == 0)
		inc_bench_guard_remove_netns(g, name);
}

int inc_bench_netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}

struct ns_job {
	int fd;
	const char *path;
	const char *value;
	const char *ifname;
	uint64_t rx, tx;
	int rc;
};

static void *ns_write_thread(void *arg)
{
	struct ns_job *j = arg;
	int f;

	j->rc = inc_bench_netns_enter(j->fd);
	if (j->rc < 0)
		return NULL;
	/* /proc/sys/net shows the namespace of the thread that opens it. */
	f = open(j->path, O_WRONLY | O_CLOEXEC);
	if (f < 0) {
		j->rc = -errno;
		return NULL;
	}
	size_t len = strlen(j->value);

	j->rc = write(f, j->value, len) == (ssize_t)len ? 0 : -errno;
	close(f);
	return NULL;
}

static void *ns_dev_thread(void *arg)
{
	struct ns_job *j = arg;
	char line[512];
	FILE *fp;

	j->rc = inc_bench_netns_enter(j->fd);
	if (j->rc < 0)
		return NULL;
	fp = fopen("/proc/thread-self/net/dev", "re");
	if (fp == NULL) {
		j->rc = -errno;
		return NULL;
	}
	j->rc = -ENODEV;
	size_t nlen = strlen(j->ifname);

	while (fgets(line, sizeof line, fp) != NULL) {
		const char *s = line;
		unsigned long long v[16];

		while (*s == ' ')
			s++;
		if (strncmp(s, j->ifname, nlen) != 0 || s[nlen] != ':')
			continue;
		if (sscanf(s + nlen + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10) {
			j->rx = v[1];
			j->tx = v[9];
			j->rc = 0;
		}
		break;
	}
	fclose(fp);
	return NULL;
}

static int ns_run(void *(*fn)(void *), struct ns_job *j)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, fn, j);

	if (rc != 0)
		return -rc;
	pthread_join(t, NULL);
	return j->rc;
}

int inc_bench_netns_write(int fd, const char *path, const char *value)
{
	struct ns_job j = {.fd = fd, .path = path, .value = value};

	return ns_run(ns_write_thread, &j);
}

int inc_bench_netns_dev_packets(int fd, const char *ifname, uint64_t *rx, uint64_t *tx)
{
	struct ns_job j = {.fd = fd, .ifname = ifname};
	int rc = ns_run(ns_dev_thread, &j);

	if (rc == 0) {
		*rx = j.rx;
		*tx = j.tx;
	}
	return rc;
}

int inc_bench_self_exe(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}
