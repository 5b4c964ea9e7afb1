/*
 * psi.c: memory pressure (PSI) from /proc/pressure/memory or a cgroup v2
 * group's memory.pressure.
 *
 * The cgroup2 file system is found in /proc/self/mountinfo rather than
 * assumed at /sys/fs/cgroup: hybrid hosts mount it at
 * /sys/fs/cgroup/unified, and containers elsewhere still.
 */
#include "psi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PSI_TEXT_MAX 512        /* two lines of about 60 bytes */
#define MOUNTINFO "/proc/self/mountinfo"

/* "avg10=0.12 avg60=0.05 avg300=0.01 total=123456" after the kind. */
static bool parse_line(const char *s, struct psi_line *l)
{
	int used = 0;

	if (sscanf(s, " avg10=%lf avg60=%lf avg300=%lf total=%lld%n", &l->avg10, &l->avg60,
		   &l->avg300, &l->total, &used) != 4 || used == 0)
		return false;
	if (l->avg10 < 0 || l->avg60 < 0 || l->avg300 < 0 || l->avg10 > 100 ||
	    l->avg60 > 100 || l->avg300 > 100 || l->total < 0)
		return false;
	s += used;
	l->have = *s == '\0' || *s == '\n';
	return l->have;
}

bool psi_parse(const char *text, struct psi *p)
{
	memset(p, 0, sizeof *p);
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, "some ", 5) == 0)
			parse_line(line + 4, &p->some);
		else if (strncmp(line, "full ", 5) == 0)
			parse_line(line + 4, &p->full);
		line = nl ? nl + 1 : NULL;
	}
	if (!p->some.have)
		p->full.have = false;
	return p->some.have;
}

/* A pressure file is tiny; read it in one go, retrying a short read. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t used = 0;
	int e;

	if (fd < 0)
		return -1;
	while (used + 1 < size) {
		ssize_t got = read(fd, buf + used, size - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				break;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		used += (size_t)got;
	}
	buf[used] = '\0';
	if (close(fd) < 0)
		return -1;
	return (ssize_t)used;
}

int psi_read(const char *path, struct psi *p, struct kr_err *err)
{
	char buf[PSI_TEXT_MAX];

	memset(p, 0, sizeof *p);
	if (read_text(path, buf, sizeof buf) < 0) {
		/* psi=0 on the kernel command line leaves the file but refuses reads. */
		if (errno == ENOENT || errno == EOPNOTSUPP)
			return kr_fail(err, KR_CONFIG, "%s: %s (%s)", path, strerror(errno),
				       strncmp(path, "/proc/", 6) == 0 ?
				       "a kernel without pressure stall information: CONFIG_PSI, boot with psi=1" :
				       "no such cgroup v2 group, or a kernel without pressure stall information");
		return kr_fail(err, KR_OSERR, "%s: %s", path, strerror(errno));
	}
	if (!psi_parse(buf, p))
		return kr_fail(err, KR_DATAERR, "%s: no \"some avg10=... avg60=... avg300=... total=...\" line",
			       path);
	return 0;
}

static bool octal3(const char *s)
{
	return s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7';
}

/* Mountinfo escapes space, tab, newline and backslash as \ooo octal. */
static bool unescape(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && octal3(s + i + 1)) {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/*
 * "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - cgroup2 cgroup2 rw":
 * the mount point is the fifth field; the type follows the " - ".
 */
bool psi_cgroup2_mount(const char *line, char *out, size_t size)
{
	const char *dash = strstr(line, " - "), *p = line, *end;

	if (dash == NULL || strncmp(dash + 3, "cgroup2 ", 8) != 0)
		return false;
	for (int field = 1; field < 5; field++) {
		p = strchr(p, ' ');
		if (p == NULL || p > dash)
			return false;
		p++;
	}
	end = strchr(p, ' ');
	if (end == NULL || end > dash)
		return false;
	return unescape(p, (size_t)(end - p), out, size);
}

static bool find_cgroup2(char *out, size_t size)
{
	FILE *f = fopen(MOUNTINFO, "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && getline(&line, &cap, f) != -1)
		found = psi_cgroup2_mount(line, out, size);
	free(line);
	fclose(f);
	return found;
}

/* No ".." component: the group stays inside the cgroup2 mount. */
static bool group_ok(const char *g)
{
	for (const char *p = g; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

int psi_cgroup_path(const char *group, char *out, size_t size, struct kr_err *err)
{
	char mount[1024];

	while (*group == '/')
		group++;
	if (!group_ok(group))
		return kr_fail(err, KR_USAGE, "--pressure-cgroup %s: a group below the cgroup2 mount, without \"..\"",
			       group);
	if (!find_cgroup2(mount, sizeof mount))
		return kr_fail(err, KR_CONFIG, "%s: no cgroup2 file system mounted, needed by --pressure-cgroup",
			       MOUNTINFO);
	if ((size_t)snprintf(out, size, "%s%s%s/memory.pressure", mount, group[0] ? "/" : "",
			     group) >= size)
		return kr_fail(err, KR_USAGE, "--pressure-cgroup %s: path too long", group);
	return 0;
}

double psi_some(const struct psi *p, int window)
{
	if (!p->some.have)
		return -1;
	return window == 10 ? p->some.avg10 : window == 300 ? p->some.avg300 : p->some.avg60;
}
