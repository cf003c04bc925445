/* Minimal streaming JSON writer (see bench_json.h). */
#include "bench_json.h"

#include <inttypes.h>
#include <math.h>

static void write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void member(struct inc_bench_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = 0;
	fputc('\n', j->f);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	if (key != NULL) {
		write_string(j->f, key);
		fputs(": ", j->f);
	}
}

void inc_bench_json_init(struct inc_bench_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = 1;
}

static void open_container(struct inc_bench_json *j, const char *key, char open)
{
	if (j->depth > 0 || !j->first[0])
		member(j, key);
	j->first[0] = 0;
	fputc(open, j->f);
	if (j->depth + 1 < INC_BENCH_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = 1;
}

void inc_bench_json_object(struct inc_bench_json *j, const char *key)
{
	open_container(j, key, '{');
}

void inc_bench_json_array(struct inc_bench_json *j, const char *key)
{
	open_container(j, key, '[');
}

void inc_bench_json_end(struct inc_bench_json *j, char close)
{
	int empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		fputc('\n', j->f);
		for (unsigned i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(close, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void inc_bench_json_str(struct inc_bench_json *j, const char *key, const char *value)
{
	member(j, key);
	write_string(j->f, value);
}

void inc_bench_json_u64(struct inc_bench_json *j, const char *key, uint64_t value)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void inc_bench_json_num(struct inc_bench_json *j, const char *key, double value)
{
	member(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.6g", value);
	else
		fputs("null", j->f);
}

void inc_bench_json_bool(struct inc_bench_json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->f);
}
