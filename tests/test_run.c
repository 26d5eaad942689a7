/* SPDX-License-Identifier: MIT */
/*
 * Description: what a run tells its user while and after it runs
 * (issue 18 items 4-6). A signal during a grid keeps the cells that
 * finished, marked partial in every format, with exit 128 + the signal
 * and nothing left behind; a gate never passes on them. --dry-run plans
 * any kernel's grid and creates nothing. A long run on a terminal shows
 * one progress line, and none when stderr is no terminal; -q keeps
 * warnings off stderr but in the report. Every wait here is on output
 * the run writes (a pipe, a pty), never a sleep.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "cli.h"

/* A run in the background, its stderr read through a pipe. */
struct bg {
	pid_t pid;
	int err_fd;
	char err[16384];
	size_t len;
};

/* own_group: in a process group of its own, as a terminal's job is,
 * so that a signal to the group reaches the peers too (Ctrl-C). */
static void bg_start_in(struct bg *b, const char *const *args, bool own_group)
{
	const char *argv[64];
	int ep[2];

	memset(b, 0, sizeof(*b));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cr_assert_eq(pipe(ep), 0);
	b->pid = fork();
	cr_assert_geq(b->pid, 0);
	if (b->pid == 0) {
		if (own_group)
			setpgid(0, 0);
		t_argv(argv, 64, IK_BIN, args);
		dup2(ep[1], 2);
		close(ep[0]);
		execv(IK_BIN, (char *const *)argv);
		_exit(127);
	}
	close(ep[1]);
	b->err_fd = ep[0];
}

static void bg_start(struct bg *b, const char *const *args)
{
	bg_start_in(b, args, false);
}

/* Read stderr until it holds what (true) or ends (false). */
static bool bg_wait_for(struct bg *b, const char *what)
{
	ssize_t n;

	while (!strstr(b->err, what)) {
		n = read(b->err_fd, b->err + b->len,
			 sizeof(b->err) - 1 - b->len);
		if (n <= 0)
			return false;
		b->len += (size_t)n;
		b->err[b->len] = 0;
	}
	return true;
}

/* The rest of stderr, and the exit code (128 + N for a death by N). */
static int bg_end(struct bg *b)
{
	int st;

	bg_wait_for(b, "\x01 never printed");
	close(b->err_fd);
	cr_assert_eq(waitpid(b->pid, &st, 0), b->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void expect_no_leftover_children(void)
{
	int st;

	cr_expect_eq(waitpid(-1, &st, WNOHANG), -1,
		     "a process outlived ipckern");
}

/* The names in /dev/shm, one string, to compare before and after. */
static char *shm_names(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	char *s = calloc(1, 1);
	size_t len = 0;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		s = realloc(s, len + n + 2);
		memcpy(s + len, e->d_name, n);
		s[len + n] = '\n';
		len += n + 1;
		s[len] = 0;
	}
	if (d)
		closedir(d);
	return s;
}

/* A name in /dev/shm that is in after but not before: a leftover. */
static void expect_no_new_shm(const char *before, const char *after)
{
	char *copy = strdup(after), *save = NULL, *tok;

	for (tok = strtok_r(copy, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save)) {
		char line[300];

		snprintf(line, sizeof(line), "%s\n", tok);
		if (strstr(tok, "ik") && !strstr(before, line))
			cr_expect_fail("/dev/shm/%s left behind", tok);
	}
	free(copy);
}

static char *tmp_dir(void)
{
	char *d = strdup("/tmp/ik-run-XXXXXX");

	cr_assert_not_null(mkdtemp(d));
	return d;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(s, 1, (1 << 20) - 1, f);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Six cells of 0.3 s; a signal once the first finished. */
Test(interrupt, sigint_after_a_finished_cell_keeps_it_and_exits_130,
     .timeout = 120)
{
	char *dir = tmp_dir(), out[300], *before = shm_names(), *after;
	json_error_t je;
	json_t *root, *res;
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.json", dir);
	bg_start(&b, (const char *const[]){
			     "--method", "line,pipe,spsc", "--mode",
			     "thread,process", "--duration", "0.3", "-v",
			     "--format", "json", "--output", out, NULL});
	cr_assert(bg_wait_for(&b, "cell 1 of 6:"), "%s", b.err);
	kill(b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	root = json_load_file(out, 0, &je);
	cr_assert_not_null(root, "%s: %s\n%s", out, je.text, b.err);
	cr_expect(json_is_true(json_object_get(root, "partial")));
	cr_expect(strstr(json_string_value(
				 json_object_get(root, "partial_reason")),
			 "interrupted by SIGINT after ") != NULL);
	res = json_object_get(root, "results");
	cr_expect(json_array_size(res) >= 1 && json_array_size(res) < 6,
		  "%zu results", json_array_size(res));
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_array_get(res, 0), "method")),
			 "line");
	json_decref(root);
	expect_no_leftover_children();
	after = shm_names();
	expect_no_new_shm(before, after);
	free(before);
	free(after);
	unlink(out);
	rmdir(dir);
	free(dir);
}

/* SIGTERM: 143, and CSV says it in the partial column of every row: a
 * spreadsheet groups the rows as ever, with no stray last line. */
Test(interrupt, sigterm_marks_the_csv_and_exits_143, .timeout = 120)
{
	char *dir = tmp_dir(), out[300], *csv, *last;
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.csv", dir);
	bg_start(&b, (const char *const[]){
			     "--method", "line,pipe,spsc", "--duration", "0.3",
			     "-v", "--format", "csv", "--output", out, NULL});
	cr_assert(bg_wait_for(&b, "cell 1 of 3:"), "%s", b.err);
	kill(b.pid, SIGTERM);
	code = bg_end(&b);
	cr_expect_eq(code, 143, "exit %d: %s", code, b.err);
	csv = slurp(out);
	cr_expect(strstr(csv, ",partial\n") != NULL, "header: %s", csv);
	cr_expect(strchr(csv, '#') == NULL, "no comment line: %s", csv);
	/* every row after the header ends in the reason */
	for (last = strchr(csv, '\n'); last && last[1];
	     last = strchr(last + 1, '\n')) {
		char *end = strchr(last + 1, '\n');

		cr_assert_not_null(end, "%s", csv);
		cr_expect(
			strstr(last, ",interrupted by SIGTERM after ") &&
				strstr(last, ",interrupted by SIGTERM after ") <
					end,
			"a row without the reason: %.*s", (int)(end - last),
			last + 1);
	}
	free(csv);
	unlink(out);
	rmdir(dir);
	free(dir);
	expect_no_leftover_children();
}

/*
 * A run whose stdout is a pipe of one page that the test reads only when
 * told: once the report is larger than that, the run is still writing
 * (blocked, or about to be) until the test drains it. Returns the read
 * end; the run is in b.
 */
static int bg_start_stalled(struct bg *b, const char *const *args)
{
	const char *argv[64];
	int ep[2], op[2];

	memset(b, 0, sizeof(*b));
	cr_assert_eq(pipe(ep), 0);
	cr_assert_eq(pipe(op), 0);
	cr_assert_geq(fcntl(op[1], F_SETPIPE_SZ, 4096), 4096);
	b->pid = fork();
	cr_assert_geq(b->pid, 0);
	if (b->pid == 0) {
		t_argv(argv, 64, IK_BIN, args);
		dup2(ep[1], 2);
		dup2(op[1], 1);
		close(ep[0]);
		close(op[0]);
		execv(IK_BIN, (char *const *)argv);
		_exit(127);
	}
	close(ep[1]);
	close(op[1]);
	b->err_fd = ep[0];
	return op[0];
}

/* Everything left on fd, counted; then how the run ended (raw status). */
static int bg_drain(struct bg *b, int fd, size_t *got)
{
	char buf[4096];
	ssize_t n;
	int st;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		*got += (size_t)n;
	close(fd);
	bg_wait_for(b, "\x01 never printed");
	close(b->err_fd);
	cr_assert_eq(waitpid(b->pid, &st, 0), b->pid);
	return st;
}

/* A reader that stalls must not keep a run alive that was told to end:
 * once measuring is over, a signal ends the write, by that signal. */
Test(interrupt, a_signal_ends_a_write_that_a_stalled_reader_blocks,
     .timeout = 120)
{
	size_t got = 0;
	struct bg b;
	char c;
	int fd, st;

	fd = bg_start_stalled(
		&b, (const char *const[]){"--method", "spsc", "--iters", "1000",
					  "--warmup", "10", "-q", "--format",
					  "json", NULL});
	/* the first byte: measuring is over, the report (10 KB) is being
	 * written into a pipe that holds 4 KB */
	cr_assert_eq(read(fd, &c, 1), 1);
	kill(b.pid, SIGTERM);
	st = bg_drain(&b, fd, &got);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
		  "status %#x after %zu bytes: %s", st, got, b.err);
}

/* The second signal while measuring ends the run at once, even where
 * the first one's orderly end (writing what finished) is stuck. */
Test(interrupt, a_second_signal_ends_the_run, .timeout = 120)
{
	size_t got = 0;
	struct bg b;
	int fd, st;

	fd = bg_start_stalled(
		&b, (const char *const[]){"--method", "spsc,pipe,futex",
					  "--duration", "0.3", "-v", "--format",
					  "json", NULL});
	cr_assert(bg_wait_for(&b, "cell 1 of "), "%s", b.err);
	/* two different signals, so that neither can merge into the other
	 * while pending; the stalled stdout keeps the run from ending on
	 * the first alone */
	kill(b.pid, SIGINT);
	kill(b.pid, SIGTERM);
	st = bg_drain(&b, fd, &got);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
		  "status %#x after %zu bytes: %s", st, got, b.err);
}

/* Whether pid's pending signals (its own and its process's) no longer
 * hold sig: taken by a handler. Looked at until so, for up to 20 s. */
static bool signal_taken(pid_t pid, int sig)
{
	char path[64], line[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (i = 0; i < 200000; i++) {
		unsigned long long pend = 0, v;
		struct timespec ts = {0, 100000};
		FILE *f = fopen(path, "re");

		if (!f)
			return false;
		while (fgets(line, sizeof(line), f))
			if ((sscanf(line, "SigPnd: %llx", &v) == 1 ||
			     sscanf(line, "ShdPnd: %llx", &v) == 1))
				pend |= v;
		fclose(f);
		if (!(pend & (1ull << (sig - 1))))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* timeout(1) sends its signal to the command and then to its process
 * group: the same SIGINT twice, the second after the first was taken,
 * is one stop, and what was measured is still written. */
Test(interrupt, the_same_signal_twice_at_once_is_one_stop, .timeout = 120)
{
	char *dir = tmp_dir(), out[300];
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.json", dir);
	bg_start(&b, (const char *const[]){"--method", "pipe", "--duration",
					   "30", "-v", "--format", "json",
					   "--output", out, NULL});
	cr_assert(bg_wait_for(&b, "1 measurement planned"), "%s", b.err);
	kill(b.pid, SIGINT);
	cr_assert(signal_taken(b.pid, SIGINT), "%s", b.err);
	kill(b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	cr_expect(strstr(b.err, "interrupted by SIGINT after 0 of 1 cells") !=
			  NULL,
		  "%s", b.err);
	expect_no_leftover_children();
	unlink(out);
	rmdir(dir);
	free(dir);
}

/* --repeat: whole repeats are kept, the unfinished one's cells not. */
Test(interrupt, a_repeat_cut_short_keeps_the_whole_repeats_before_it,
     .timeout = 120)
{
	char *dir = tmp_dir(), out[300], *table;
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.txt", dir);
	bg_start(&b, (const char *const[]){"--method", "line,pipe",
					   "--duration", "0.2", "--repeat", "3",
					   "-v", "--output", out, NULL});
	cr_assert(bg_wait_for(&b, "cell 3 of 6:"), "%s", b.err);
	kill(b.pid, SIGHUP);
	code = bg_end(&b);
	cr_expect_eq(code, 129, "exit %d: %s", code, b.err);
	cr_expect(strstr(b.err, "interrupted by SIGHUP after ") != NULL, "%s",
		  b.err);
	/* counted as the progress line counted: over all the repeats */
	cr_expect(strstr(b.err, " of 6 cells, in repeat ") != NULL, "%s",
		  b.err);
	cr_expect(strstr(b.err, " kept, its ") != NULL, "%s", b.err);
	/* the table's last line says so */
	table = slurp(out);
	cr_expect(strstr(table, "\npartial: interrupted by SIGHUP after ") !=
			  NULL,
		  "%s", table);
	free(table);
	unlink(out);
	rmdir(dir);
	free(dir);
	expect_no_leftover_children();
}

/* A signal while waiting for --repeat-every's next repeat: the reason
 * counts cells as progress did and drops no cells it has not measured. */
Test(interrupt, between_repeats_the_reason_counts_as_progress_does,
     .timeout = 120)
{
	char *dir = tmp_dir(), out[300];
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.json", dir);
	bg_start(&b, (const char *const[]){
			     "--method", "line", "--iters", "1000", "--warmup",
			     "10", "--repeat", "3", "--repeat-every", "600s",
			     "-v", "--format", "json", "--output", out, NULL});
	/* the first repeat is done; the second waits for 600 s */
	cr_assert(bg_wait_for(&b, "cell 1 of 3:"), "%s", b.err);
	kill(b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	cr_expect(strstr(b.err, "interrupted by SIGINT after 1 of 3 cells, "
				"before repeat 2 of 3: repeat 1 kept") != NULL,
		  "%s", b.err);
	cr_expect(strstr(b.err, "0 cells") == NULL, "%s", b.err);
	unlink(out);
	rmdir(dir);
	free(dir);
	expect_no_leftover_children();
}

/* The first repeat cut short: its finished cells, counted over all. */
Test(interrupt, in_the_first_repeat_the_reason_counts_every_repeats_cells,
     .timeout = 120)
{
	char *dir = tmp_dir(), out[300];
	struct bg b;
	int code;

	snprintf(out, sizeof(out), "%s/r.json", dir);
	bg_start(&b, (const char *const[]){"--method", "line,pipe,spsc",
					   "--duration", "0.3", "--repeat", "2",
					   "-v", "--format", "json", "--output",
					   out, NULL});
	cr_assert(bg_wait_for(&b, "cell 1 of 6:"), "%s", b.err);
	kill(b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	cr_expect(strstr(b.err, " of 6 cells, in repeat 1 of 2: its finished "
				"cells kept") != NULL,
		  "%s", b.err);
	unlink(out);
	rmdir(dir);
	free(dir);
	expect_no_leftover_children();
}

/* A gate on partial data: not checked, the signal's code, no baseline. */
Test(interrupt, a_gate_never_passes_on_partial_data, .timeout = 120)
{
	char *dir = tmp_dir(), bl[300];
	struct stat st;
	struct bg b;
	int code;

	snprintf(bl, sizeof(bl), "%s/bl.json", dir);
	bg_start(&b, (const char *const[]){"--method", "line,pipe,spsc",
					   "--duration", "0.3", "-v",
					   "--assert", "line.p50<100s",
					   "--save-baseline", bl, NULL});
	cr_assert(bg_wait_for(&b, "cell 1 of "), "%s", b.err);
	kill(b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	cr_expect(strstr(b.err, "--assert not checked: the data is partial") !=
			  NULL,
		  "%s", b.err);
	cr_expect_neq(stat(bl, &st), 0, "a partial baseline was written");
	rmdir(dir);
	free(dir);
	expect_no_leftover_children();
}

/* --dry-run: every kernel's grid planned, exit 0, nothing created. */
Test(dry_run, every_kernel_plans_its_cells_and_creates_nothing, .timeout = 60)
{
	static const char *const kernels[][4] = {
		{"pingpong", "line,pipe", "--size", "8,64"},
		{"stream", "spsc,tcp", "--size", "64,4096"},
		{"call", "line,pipe", "--work", "0,10us"},
		{"echo", "tcp,uds", "--clients", "1,4"},
		{"connect", "tcp,uds", "--clients", "1,2"},
	};
	char *dir = tmp_dir(), out[300], sub[300];
	struct stat st;
	unsigned k;

	snprintf(sub, sizeof(sub), "%s/new", dir);
	snprintf(out, sizeof(out), "%s/new/deeper/r.json", dir);
	for (k = 0; k < IK_ARRAY_SIZE(kernels); k++) {
		struct out o = run((const char *const[]){
			"--dry-run", "--kernel", kernels[k][0], "--method",
			kernels[k][1], kernels[k][2], kernels[k][3], "--mkdir",
			"--output", out, "--format", "json", NULL});

		cr_expect_eq(o.code, 0, "%s: exit %d: %s", kernels[k][0],
			     o.code, o.err);
		cr_expect(strstr(o.stdout_text, "total: 4 cells x 1 repeat") !=
				  NULL,
			  "%s: %s", kernels[k][0], o.stdout_text);
		cr_expect(strstr(o.stdout_text, "would create it, and the "
						"directory") != NULL,
			  "%s", o.stdout_text);
		cr_expect_neq(stat(sub, &st), 0, "%s: --mkdir made %s",
			      kernels[k][0], sub);
		free(o.stdout_text);
	}
	rmdir(dir);
	free(dir);
}

/* The output checks come first: a dry run of a bad output is refused. */
Test(dry_run, its_outputs_are_checked_as_a_run_would_be)
{
	BAD("--mkdir creates it", "--dry-run", "--output",
	    "/tmp/ik-no-such-dir-for-a-dry-run/x/r.json");
}

/* The environment's warnings: on stderr once, none with -q, in JSON. */
Test(quiet, warnings_go_to_the_report_and_only_without_q, .timeout = 60)
{
	const char *const loud[] = {"--method", "line", "--iters", "200",
				    "--format", "json", NULL};
	const char *const hush[] = {"-q",  "--method", "line", "--iters",
				    "200", "--format", "json", NULL};
	struct out a = run(loud), q = run(hush);
	json_t *ja, *jq;
	const char *w1;

	cr_assert_eq(a.code, 0, "%s", a.err);
	cr_assert_eq(q.code, 0, "%s", q.err);
	cr_expect_eq(strstr(q.err, "warning"), NULL, "-q: %s", q.err);
	ja = json_loads(a.stdout_text, 0, NULL);
	jq = json_loads(q.stdout_text, 0, NULL);
	cr_assert(ja && jq);
	if (!json_array_size(json_object_get(ja, "warnings"))) {
		json_decref(ja);
		json_decref(jq);
		cr_skip_test("this machine gave no environment warning");
	}
	w1 = json_string_value(
		json_array_get(json_object_get(ja, "warnings"), 0));
	/* printed once, in the report either way */
	cr_assert(strstr(a.err, w1) != NULL, "not on stderr: %s", a.err);
	cr_expect_eq(strstr(strstr(a.err, w1) + 1, w1), NULL,
		     "printed twice: %s", a.err);
	/* the same machine: warned of under -q too (the figures in them,
	 * a load average, may move between the two runs) */
	cr_expect(json_array_size(json_object_get(jq, "warnings")) >= 1,
		  "-q dropped the warnings from the report: %s", q.stdout_text);
	json_decref(ja);
	json_decref(jq);
	free(a.stdout_text);
	free(q.stdout_text);
}

/* Run args with stderr on a pty; what the terminal got. */
static char *on_a_terminal(const char *const *args, int *code)
{
	const char *argv[64];
	char *s = calloc(1, 1 << 16);
	size_t len = 0;
	ssize_t n;
	int master, st;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/tmp", O_TMPFILE | O_WRONLY, 0600);

		/* the report to a file, so the terminal holds stderr only */
		dup2(null, 1);
		t_argv(argv, 64, IK_BIN, args);
		execv(IK_BIN, (char *const *)argv);
		_exit(127);
	}
	/* EIO once the child and its pty are gone */
	while ((n = read(master, s + len, (1 << 16) - 1 - len)) > 0)
		len += (size_t)n;
	s[len] = 0;
	close(master);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return s;
}

/* A run estimated over 2 s: the line, redrawn in place and erased. */
Test(progress, a_long_run_on_a_terminal_shows_one_line, .timeout = 60)
{
	const char *const args[] = {"--method", "line,pipe,spsc", "--duration",
				    "0.8", NULL};
	int code;
	char *tty = on_a_terminal(args, &code);

	cr_expect_eq(code, 0, "%s", tty);
	cr_expect(strstr(tty, "\r\033[Kipckern: cell 1 of 3: line 8 B") != NULL,
		  "%s", tty);
	cr_expect(strstr(tty, "cell 3 of 3: spsc") != NULL, "%s", tty);
	cr_expect(strstr(tty, "left") != NULL, "%s", tty);
	/* erased at the end: the last thing on the terminal */
	cr_expect(strlen(tty) >= 4 &&
			  !strcmp(tty + strlen(tty) - 4, "\r\033[K"),
		  "not erased: %s", tty);
	free(tty);
}

Test(progress, none_with_q_or_when_stderr_is_no_terminal, .timeout = 60)
{
	const char *const q[] = {"-q",	       "--method", "line,pipe,spsc",
				 "--duration", "0.8",	   NULL};
	const char *const plain[] = {"--method", "line,pipe,spsc", "--duration",
				     "0.8", NULL};
	int code;
	char *tty = on_a_terminal(q, &code);
	struct out o;

	cr_expect_eq(code, 0, "%s", tty);
	cr_expect_eq(strstr(tty, "cell 1 of"), NULL, "-q: %s", tty);
	free(tty);
	o = run(plain);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_eq(strstr(o.err, "cell 1 of"), NULL, "a pipe: %s", o.err);
	cr_expect_eq(strchr(o.err, '\r'), NULL, "a pipe: %s", o.err);
	free(o.stdout_text);
}

/* A CI command tried as a dry run: its gate and baseline are listed. */
Test(dry_run, a_gate_is_planned_and_its_baseline_not_written, .timeout = 60)
{
	char *dir = tmp_dir(), bl[300];
	struct stat st;
	struct out o;

	snprintf(bl, sizeof(bl), "%s/perf/base.json", dir);
	o = run((const char *const[]){"--dry-run", "--method", "line,spsc",
				      "--assert", "spsc.p50<=8*line.p50",
				      "--save-baseline", bl, "--mkdir", NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "total: 2 cells x 5 repeats") != NULL,
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "gate: 1 --assert check") != NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "--save-baseline") != NULL, "%s",
		  o.stdout_text);
	cr_expect_neq(stat(bl, &st), 0, "a dry run wrote %s", bl);
	free(o.stdout_text);
	cr_expect_eq(rmdir(dir), 0, "a dry run made something in %s", dir);
	free(dir);
}

/* The gate's own warnings (a VM, a baseline compared anyway) obey -q. */
Test(quiet, the_gates_warnings_obey_q_too, .timeout = 120)
{
	char *dir = tmp_dir(), bl[300], out[300];
	struct out o;

	snprintf(bl, sizeof(bl), "%s/bl.json", dir);
	snprintf(out, sizeof(out), "%s/r.txt", dir);
	o = run((const char *const[]){"-q", "--method", "line", "--iters",
				      "200", "--warmup", "10", "--output", out,
				      "--save-baseline", bl, NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect_eq(o.err[0], 0, "-q: %s", o.err);
	free(o.stdout_text);
	/* a gate may fail on noise (exit 1); what matters is stderr */
	o = run((const char *const[]){"-q", "--method", "line", "--iters",
				      "200", "--warmup", "10", "--size", "16",
				      "--allow-mismatch", "--output", out,
				      "--baseline", bl, NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect_eq(strstr(o.err, "warning"), NULL, "-q: %s", o.err);
	free(o.stdout_text);
	o = run((const char *const[]){"--method", "line", "--iters", "200",
				      "--warmup", "10", "--size", "16",
				      "--allow-mismatch", "--output", out,
				      "--baseline", bl, NULL});
	cr_expect(strstr(o.err, "warning: --baseline") != NULL,
		  "without -q: %s", o.err);
	free(o.stdout_text);
	unlink(bl);
	unlink(out);
	rmdir(dir);
	free(dir);
}

/* Ctrl-C on a terminal signals the whole job: the peer processes too. */
Test(interrupt, ctrl_c_to_the_job_keeps_the_finished_cells_too, .timeout = 120)
{
	char *dir = tmp_dir(), out[300];
	json_t *root, *res;
	struct bg b;
	size_t i;
	int code;

	snprintf(out, sizeof(out), "%s/r.json", dir);
	bg_start_in(&b,
		    (const char *const[]){"--method", "pipe,eventfd,tcp",
					  "--mode", "process", "--duration",
					  "0.3", "-v", "--format", "json",
					  "--output", out, NULL},
		    true);
	cr_assert(bg_wait_for(&b, "cell 1 of 3:"), "%s", b.err);
	kill(-b.pid, SIGINT);
	code = bg_end(&b);
	cr_expect_eq(code, 130, "exit %d: %s", code, b.err);
	/* the peers' deaths by SIGINT are the interrupt, not failures */
	cr_expect_eq(strstr(b.err, "killed"), NULL, "%s", b.err);
	root = json_load_file(out, 0, NULL);
	cr_assert_not_null(root, "%s", b.err);
	res = json_object_get(root, "results");
	cr_expect(json_array_size(res) >= 1 && json_array_size(res) < 3);
	for (i = 0; i < json_array_size(res); i++)
		cr_expect_str_eq(json_string_value(json_object_get(
					 json_array_get(res, i), "status")),
				 "ok");
	json_decref(root);
	expect_no_leftover_children();
	unlink(out);
	rmdir(dir);
	free(dir);
}

/* One long cell: the line is redrawn while it runs, not only between
 * cells (by its controller, outside the timed loop). */
Test(progress, one_long_cell_still_moves, .timeout = 60)
{
	const char *const args[] = {"--method", "pipe", "--duration", "3.5",
				    NULL};
	const char *at, *line = "\r\033[Kipckern: cell 1 of 1: pipe";
	int code, n = 0;
	char *tty = on_a_terminal(args, &code);

	cr_expect_eq(code, 0, "%s", tty);
	for (at = tty; (at = strstr(at, line)); at++)
		n++;
	cr_expect_geq(n, 3, "drawn %d times: %s", n, tty);
	free(tty);
}
