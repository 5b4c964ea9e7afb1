/*
 * main.c: kahua-sim, a Kahua simulator for tests and the demo.
 *
 *   kahua-sim -S SITE [-H [HOST:]PORT] [--worker-delay MS]
 *             [--fault NAME[=ARG]]... [--foreground]
 *
 * argv[1] chooses the role: "kahua-server.scm" is a worker and
 * "kahua-httpd.scm" the HTTP front (both started by the supervisor);
 * anything else is the supervisor.  See test/sim/README.
 */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: kahua-sim -S SITE [-H [HOST:]PORT] [--worker-delay MS]\n"
	"                 [--request-ms MS] [--kahua-version 1.0|1.1]\n"
	"                 [--fault NAME[=ARG]]... [--fault-seed N] [--foreground]\n"
	"faults: hang hang-restart garbage huge close half-reply lose-worker\n"
	"        ignore-term die-at-start slow-start=MS http-500 http-delay=MS\n"
	"        restart-race=P kill-race dispatch-delay=MS\n";

static int fail(char *err, size_t errsz, const char *spec, const char *why)
{
	snprintf(err, errsz, "--fault %s: %s", spec, why);
	return -1;
}

static int fault_ms(const char *spec, const char *arg, long *ms, char *err,
		    size_t errsz)
{
	if (arg == NULL || !parse_long(arg, 0, 3600000, ms))
		return fail(err, errsz, spec, "needs =MS, milliseconds from 0 to 3600000");
	return 0;
}

static int fault_probability(const char *spec, const char *arg, double *p, char *err,
			     size_t errsz)
{
	static const char need[] = "needs =P, a probability from 0 to 1";
	char *end;

	if (arg == NULL || arg[0] == '\0')
		return fail(err, errsz, spec, need);
	errno = 0;
	*p = strtod(arg, &end);
	if (*end != '\0' || errno != 0 || !(*p >= 0 && *p <= 1))
		return fail(err, errsz, spec, need);
	return 0;
}

int fault_parse(struct faults *f, const char *spec, char *err, size_t errsz)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {
		{ "hang", offsetof(struct faults, hang) },
		{ "hang-restart", offsetof(struct faults, hang_restart) },
		{ "garbage", offsetof(struct faults, garbage) },
		{ "huge", offsetof(struct faults, huge) },
		{ "close", offsetof(struct faults, close) },
		{ "half-reply", offsetof(struct faults, half_reply) },
		{ "lose-worker", offsetof(struct faults, lose_worker) },
		{ "ignore-term", offsetof(struct faults, ignore_term) },
		{ "die-at-start", offsetof(struct faults, die_at_start) },
		{ "http-500", offsetof(struct faults, http_500) },
		{ "kill-race", offsetof(struct faults, kill_race) },
	};
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
	const char *arg = eq ? eq + 1 : NULL;

	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (strlen(flags[i].name) != n || strncmp(spec, flags[i].name, n) != 0)
			continue;
		if (arg != NULL)
			return fail(err, errsz, spec, "takes no argument");
		*(bool *)((char *)f + flags[i].off) = true;
		return 0;
	}
	if (n == 10 && strncmp(spec, "slow-start", n) == 0)
		return fault_ms(spec, arg, &f->slow_start_ms, err, errsz);
	if (n == 10 && strncmp(spec, "http-delay", n) == 0)
		return fault_ms(spec, arg, &f->http_delay_ms, err, errsz);
	if (n == 14 && strncmp(spec, "dispatch-delay", n) == 0)
		return fault_ms(spec, arg, &f->dispatch_delay_ms, err, errsz);
	if (n == 12 && strncmp(spec, "restart-race", n) == 0)
		return fault_probability(spec, arg, &f->restart_race, err, errsz);
	return fail(err, errsz, spec, "unknown fault");
}

static _Noreturn void usage_error(const char *what, const char *why)
{
	fprintf(stderr, "kahua-sim: %s: %s (see kahua-sim --help)\n", what, why);
	exit(1);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "site", required_argument, NULL, 'S' },
		{ "http", required_argument, NULL, 'H' },
		{ "worker-delay", required_argument, NULL, 'd' },
		{ "request-ms", required_argument, NULL, 'r' },
		{ "fault", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "fault-seed", required_argument, NULL, 's' },
		{ "kahua-version", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	int c;

	memset(o, 0, sizeof *o);
	o->worker_delay_ms = 550;
	o->request_ms = SIM_REQUEST_MS;
	o->faults.slow_start_ms = -1;
	o->faults.http_delay_ms = -1;
	o->faults.dispatch_delay_ms = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":S:H:h", longs, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->site = optarg;
			break;
		case 'H':
			o->http = optarg;
			break;
		case 'd':
			if (!parse_long(optarg, 0, 3600000, &o->worker_delay_ms))
				usage_error("--worker-delay", "not milliseconds from 0 to 3600000");
			break;
		case 'r':
			if (!parse_long(optarg, 0, 3600000, &o->request_ms))
				usage_error("--request-ms", "not milliseconds from 0 to 3600000");
			break;
		case 'f':
			if (fault_parse(&o->faults, optarg, err, sizeof err) != 0)
				usage_error("fault", err);
			break;
		case 'F':
			break;          /* always in the foreground */
		case 's': {
			long seed;

			if (!parse_long(optarg, 1, 2147483647, &seed))
				usage_error("--fault-seed", "not a number from 1 to 2147483647");
			o->seed = (unsigned long long)seed;
			break;
		}
		case 'k':
			/* The workers, started from this process, read it too. */
			if ((strcmp(optarg, "1.0") != 0 && strcmp(optarg, "1.1") != 0) ||
			    setenv(SIM_VERSION_ENV, optarg, 1) != 0)
				usage_error("--kahua-version", "not 1.0 or 1.1");
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case ':':
			usage_error(argv[optind - 1], "needs a value");
		default:
			usage_error(argv[optind - 1], "unknown option");
		}
	}
	if (optind < argc)
		usage_error(argv[optind], "unexpected argument");
	if (o->site == NULL)
		usage_error("-S", "no site bundle given");
}

int main(int argc, char **argv)
{
	struct options o;

	if (argc > 1 && strcmp(argv[1], SIM_WORKER_SCRIPT) == 0)
		worker_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], SIM_HTTPD_SCRIPT) == 0)
		httpd_main(argc, argv);
	parse_options(argc, argv, &o);
	spvr_main(&o);
}
