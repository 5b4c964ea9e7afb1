/*
 * hist_replay: appends the lines of a history file one by one to another
 * through the program's own store (history_store.h), with a size limit,
 * as a year of runs would, and prints what it took:
 *
 *   hist_replay SRC DST MAX_BYTES
 *
 * One line of figures on stdout: lines, final size, largest size seen
 * after any append, thinnings (the file replaced), seconds in all, and
 * seconds of the slowest append (a thinning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "history_store.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long long max, lines = 0, biggest = 0, thinned = 0;
	double t0, slowest = 0;
	ino_t ino = 0;
	struct stat st = { 0 };

	if (argc != 4 || (max = atoll(argv[3])) < 0) {
		fprintf(stderr, "usage: hist_replay SRC DST MAX_BYTES\n");
		return 64;
	}
	if ((in = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 66;
	}
	t0 = now();
	while ((n = getline(&line, &cap, in)) > 0) {
		struct kr_err err = { 0 };
		double t = now();

		if (history_store(argv[2], line, (size_t)n, max, &err) < 0) {
			fprintf(stderr, "hist_replay: line %lld: %s\n", lines + 1, err.msg);
			return 1;
		}
		t = now() - t;
		if (t > slowest)
			slowest = t;
		if (stat(argv[2], &st) < 0) {
			perror(argv[2]);
			return 1;
		}
		if (ino != 0 && st.st_ino != ino)
			thinned++;
		ino = st.st_ino;
		if (st.st_size > biggest)
			biggest = st.st_size;
		lines++;
	}
	printf("lines %lld size %lld biggest %lld thinnings %lld seconds %.2f slowest %.3f\n", lines,
	       (long long)st.st_size, biggest, thinned, now() - t0, slowest);
	free(line);
	fclose(in);
	return 0;
}
