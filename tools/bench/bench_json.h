/*
 * A minimal streaming JSON writer (objects, arrays, strings, numbers,
 * booleans) for the benchmark's report. Thread: one writer per thread.
 */
#ifndef INC_BENCH_JSON_H
#define INC_BENCH_JSON_H

#include <stdint.h>
#include <stdio.h>

#define INC_BENCH_JSON_MAX_DEPTH 16

struct inc_bench_json {
	FILE *f;
	unsigned depth;
	int first[INC_BENCH_JSON_MAX_DEPTH];  /* no member written yet at this depth */
};

/** Start writing to f (the caller opens and closes it). */
void inc_bench_json_init(struct inc_bench_json *j, FILE *f);

/** Open an object or array; key is NULL inside an array or at top level. */
void inc_bench_json_object(struct inc_bench_json *j, const char *key);
void inc_bench_json_array(struct inc_bench_json *j, const char *key);
/** Close the innermost object (close = '}') or array (close = ']'). */
void inc_bench_json_end(struct inc_bench_json *j, char close);

void inc_bench_json_str(struct inc_bench_json *j, const char *key, const char *value);
void inc_bench_json_u64(struct inc_bench_json *j, const char *key, uint64_t value);
/** Non-finite values are written as null. */
void inc_bench_json_num(struct inc_bench_json *j, const char *key, double value);
void inc_bench_json_bool(struct inc_bench_json *j, const char *key, int value);

#endif
