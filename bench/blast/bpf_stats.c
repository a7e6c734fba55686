/* bench-bpf-stats: BPF run-time statistics held on for a while
 * (bench/blast/run, docs/bench-blast.md).
 *
 *   bench-bpf-stats [--seconds S]
 *
 * Turns the kernel's per-program run_time_ns and run_cnt on through a
 * BPF_ENABLE_STATS fd, prints {"event":"ready"} and holds the fd until
 * SIGINT/SIGTERM or S seconds (default 60). Through an fd rather than
 * the kernel.bpf_stats_enabled sysctl: anyone may reset the sysctl, the
 * fd keeps the statistics on as long as one is open. Read them with
 * `bpftool prog show id ID` (run_time_ns, run_cnt); each run costs
 * ~75 ns more while they are on (docs/bench-blast.md, "balancer µs/msg"). */
#include <unistd.h>

#include "../xdp/bench_tool.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long long seconds = 60;
	double deadline;
	int fd;

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0) {
		if (tool_parse_u64("--seconds", argv[2], 1, BENCH_MAX_SECONDS, &seconds))
			return 2;
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench-bpf-stats [--seconds S]\n"
				"  BPF run-time statistics on until SIGINT/SIGTERM or S seconds (60)\n");
		return 2;
	}
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		fprintf(stderr, "bench-bpf-stats: BPF_ENABLE_STATS: %s\n", strerror(-fd));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("{\"event\":\"ready\"}\n");
	fflush(stdout);
	deadline = tool_now() + (double)seconds;
	while (!stop && tool_now() < deadline)
		usleep(50000);
	close(fd);
	printf("{\"event\":\"end\"}\n");
	return 0;
}
