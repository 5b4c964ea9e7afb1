/*
 * fmt.c: figures as people read them, for tables, plans and messages.
 */
#include "fmt.h"

#include <stdio.h>

void fmt_bytes(long long bytes, char *out, size_t size)
{
	static const char units[] = "KMGT";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 0) {
		snprintf(out, size, "-");
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, size, "%lldB", bytes);
	else
		snprintf(out, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void fmt_age(long long s, char *out, size_t size)
{
	if (s < 0)
		snprintf(out, size, "-");
	else if (s < 120)
		snprintf(out, size, "%llds", s);
	else if (s < 2 * 3600)
		snprintf(out, size, "%lldm", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(out, size, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

void fmt_held(long long v, char *out, size_t size)
{
	if (v < 0)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%lld", v);
}
