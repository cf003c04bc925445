/*
 * The backends built into inc_bench. To add one: define its
 * `const struct inc_bench_backend` in backend_<name>.c, declare it here,
 * list it in inc_bench_backends[] and add the file to CMakeLists.txt.
 * The order here is the default order of --backends.
 */
#include <string.h>

#include "bench.h"

#ifdef INC_BENCH_HAVE_INCEPTION
extern const struct inc_bench_backend inc_bench_backend_inception;
#endif
extern const struct inc_bench_backend inc_bench_backend_linux_lo;
extern const struct inc_bench_backend inc_bench_backend_linux_veth;
extern const struct inc_bench_backend inc_bench_backend_lwip;

const struct inc_bench_backend *const inc_bench_backends[] = {
#ifdef INC_BENCH_HAVE_INCEPTION
	&inc_bench_backend_inception,
#endif
	&inc_bench_backend_linux_lo,
	&inc_bench_backend_linux_veth,
	&inc_bench_backend_lwip,
	NULL,
};

const struct inc_bench_backend *inc_bench_backend_find(const char *name)
{
	for (const struct inc_bench_backend *const *b = inc_bench_backends; *b != NULL; b++) {
		if (strcmp((*b)->name, name) == 0)
			return *b;
	}
	return NULL;
}

void inc_bench_counters_add(struct inc_bench_counters *out, const char *name, uint64_t value)
{
	if (out->n >= INC_BENCH_MAX_COUNTERS)
		return;
	size_t len = strlen(name);

	if (len >= sizeof out->c[0].name)
		len = sizeof out->c[0].name - 1;
	memcpy(out->c[out->n].name, name, len);
	out->c[out->n].name[len] = '\0';
	out->c[out->n].value = value;
	out->n++;
}

uint64_t inc_bench_counters_get(const struct inc_bench_counters *c, const char *name)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (strcmp(c->c[i].name, name) == 0)
			return c->c[i].value;
	}
	return 0;
}
