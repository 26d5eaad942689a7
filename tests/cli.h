/* SPDX-License-Identifier: MIT */
/*
 * Running the ipckern binary as a user would, for the CLI suites: its
 * exit code, stderr and stdout, and the "exit 2 with one line naming the
 * bad value" check every refusal must pass.
 */
#ifndef IK_TEST_CLI_H
#define IK_TEST_CLI_H

#include <criterion/criterion.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#ifndef IK_BIN
#error "IK_BIN: path of the ipckern binary, set by tests/CMakeLists.txt"
#endif

struct out {
	int code;
	char err[4096];
	char *stdout_text;
};

/* When set, the child gets SIGALRM after this many seconds: a run that
 * would block forever ends instead (exit 128 + 14), and the test fails. */
static unsigned child_alarm_s;

/*
 * Run ipckern with argv (NULL-terminated), env extra "K=V" or NULL, on
 * only_cpu (or -1), its stdout to out_fd (or -1: captured).
 */
static inline struct out run_io(const char *env, const char *const *args,
				int only_cpu, int out_fd)
{
	int ep[2], op[2];
	struct out o = {0};
	size_t cap = 1 << 16, len = 0;
	ssize_t n;
	int st;
	pid_t pid;

	cr_assert_eq(pipe(ep), 0);
	cr_assert_eq(pipe(op), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *argv[64];

		t_argv(argv, 64, IK_BIN, args);
		dup2(ep[1], 2);
		dup2(out_fd >= 0 ? out_fd : op[1], 1);
		if (env)
			putenv((char *)env);
		if (only_cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(only_cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		if (child_alarm_s)
			alarm(child_alarm_s); /* kept across execv */
		execv(IK_BIN, (char *const *)argv);
		_exit(127);
	}
	close(ep[1]);
	close(op[1]);
	o.stdout_text = malloc(cap);
	while ((n = read(op[0], o.stdout_text + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096)
			o.stdout_text = realloc(o.stdout_text, cap *= 2);
	}
	o.stdout_text[len] = 0;
	len = 0;
	while ((n = read(ep[0], o.err + len, sizeof(o.err) - len - 1)) > 0)
		len += (size_t)n;
	o.err[len] = 0;
	close(ep[0]);
	close(op[0]);
	waitpid(pid, &st, 0);
	o.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return o;
}

static inline struct out run_env(const char *env, const char *const *args,
				 int only_cpu)
{
	return run_io(env, args, only_cpu, -1);
}

static inline struct out run(const char *const *args)
{
	return run_env(NULL, args, -1);
}

static inline int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* exit 2, one line on stderr that names the bad value */
static inline void expect_usage_error(const char *const *args,
				      const char *names)
{
	struct out o = run(args);

	cr_expect_eq(o.code, 2, "%s: exit %d, stderr: %s", args[1], o.code,
		     o.err);
	t_expect_one_line_naming("stderr", o.err, true, names);
	free(o.stdout_text);
}

#define BAD(names, ...)                                                        \
	expect_usage_error((const char *const[]){__VA_ARGS__, NULL}, names)

#endif
