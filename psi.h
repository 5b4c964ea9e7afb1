/*
 * psi.h: memory Pressure Stall Information, the share of time tasks
 * waited for memory, from /proc/pressure/memory or from a cgroup v2
 * group's memory.pressure (the same format):
 *
 *   some avg10=0.12 avg60=0.05 avg300=0.01 total=123456
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=2345
 *
 * "some": at least one task stalled; "full": all non-idle tasks stalled.
 * Averages are percents over 10, 60 and 300 seconds.
 */
#ifndef KR_PSI_H
#define KR_PSI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PSI_HOST_FILE "/proc/pressure/memory"

struct psi_line {
	bool have;              /* the line was present and well formed */
	double avg10, avg60, avg300;    /* percent */
	long long total;        /* microseconds stalled since boot */
};

struct psi {
	struct psi_line some, full;
};

/* Both lines from the file's text; false when no well-formed "some" line. */
bool psi_parse(const char *text, struct psi *p);

/*
 * Read a pressure file.  -1 with err: KR_CONFIG when the kernel has no
 * such file or refuses it (no PSI: CONFIG_PSI off or booted psi=0; a
 * cgroup that does not exist), KR_OSERR for another read failure,
 * KR_DATAERR for text that is not PSI.
 */
int psi_read(const char *path, struct psi *p, struct kr_err *err);

/*
 * The mount point of one line of /proc/self/mountinfo into out when it
 * mounts a cgroup2 file system; false otherwise (or out is too small).
 */
bool psi_cgroup2_mount(const char *line, char *out, size_t size);

/*
 * The memory.pressure path of group (relative to the cgroup2 mount, a
 * leading "/" allowed, no ".." component) into out.  -1 with err: KR_USAGE
 * for a bad group, KR_CONFIG when no cgroup2 file system is mounted.
 */
int psi_cgroup_path(const char *group, char *out, size_t size, struct kr_err *err);

/* The "some" average over window seconds (10, 60 or 300); -1 unknown. */
double psi_some(const struct psi *p, int window);

#endif
