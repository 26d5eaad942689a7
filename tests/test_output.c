/* SPDX-License-Identifier: MIT */
/*
 * Outputs never damage what they are pointed at: a device or FIFO is
 * written in place and stays what it was, a regular file is replaced
 * whole with its mode and owner, nothing temporary is left behind, a
 * failed write says why (ENOSPC, EPIPE), and every bad path is refused
 * before anything is measured.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "reports/reports.h"

static char dir[] = "/tmp/ipckern-out-XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	signal(SIGPIPE, SIG_IGN);
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(output, .init = make_dir, .fini = remove_dir);

static int hello(const void *arg, FILE *f)
{
	fputs(arg, f);
	return ferror(f) ? -EIO : 0;
}

static int failing(const void *arg, FILE *f)
{
	(void)arg;
	fputs("half a report", f);
	return -EIO;
}

static char *in_dir(const char *name)
{
	static char p[4][512];
	static unsigned k;
	char *s = p[k++ % 4];

	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

static unsigned entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void expect_file_made(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void expect_file(const char *path, const char *text)
{
	char buf[256] = {0};
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_expect_geq(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	cr_expect_str_eq(buf, text, "%s", path);
}

Test(output, a_fifo_is_written_in_place_and_stays_a_fifo)
{
	char *p = in_dir("fifo"), buf[64] = {0};
	struct stat st;
	int r;

	cr_assert_eq(mkfifo(p, 0600), 0);
	r = open(p, O_RDONLY | O_NONBLOCK); /* a reader, so open() returns */
	cr_assert_geq(r, 0);
	cr_assert_eq(ik_output_write(p, false, hello, "through\n"), 0);
	cr_expect_eq(read(r, buf, sizeof(buf) - 1), 8);
	cr_expect_str_eq(buf, "through\n");
	close(r);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	cr_expect_eq(entries(), 1, "a temporary file was left");
}

Test(output, a_character_device_is_written_in_place_and_stays_one)
{
	char *p = in_dir("null");
	struct stat st;

	/* a null device of our own in a temp dir: if this ever regressed,
	 * only this node would be replaced, never the machine's /dev/null */
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) < 0)
		cr_skip_test("mknod: %s (needs root)", strerror(errno));
	cr_assert_eq(ik_output_write(p, false, hello, "gone\n"), 0);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "the device was replaced by a file");
	cr_expect_eq(st.st_rdev, makedev(1, 3));
	cr_expect_eq(entries(), 1);
}

Test(output, our_own_fds_are_written_as_they_are)
{
	int fds[2];
	char path[64], buf[64] = {0};

	cr_assert_eq(pipe(fds), 0);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[1]);
	cr_assert_eq(ik_output_write(path, false, hello, "fd\n"), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[1]);
	cr_assert_eq(ik_output_write(path, false, hello, "proc\n"), 0);
	close(fds[1]);
	cr_expect_eq(read(fds[0], buf, sizeof(buf) - 1), 8);
	cr_expect_str_eq(buf, "fd\nproc\n");
	close(fds[0]);
}

Test(output, a_full_disk_and_a_closed_pipe_give_their_own_errno)
{
	int full = open("/dev/full", O_WRONLY), fds[2];
	char path[64];

	if (full >= 0) {
		snprintf(path, sizeof(path), "/dev/fd/%d", full);
		cr_expect_eq(ik_output_write(path, false, hello, "x\n"),
			     -ENOSPC);
		close(full);
	}
	cr_assert_eq(pipe(fds), 0);
	close(fds[0]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[1]);
	cr_expect_eq(ik_output_write(path, false, hello, "x\n"), -EPIPE);
	close(fds[1]);
}

Test(output, a_regular_file_is_replaced_whole_keeping_mode_and_owner)
{
	char *p = in_dir("report.json");
	struct stat st;
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	bool root = geteuid() == 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "old old old old\n", 16), 16);
	close(fd);
	if (root)
		cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_assert_eq(ik_output_write(p, false, hello, "new\n"), 0);
	expect_file(p, "new\n");
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	if (root) {
		cr_expect_eq(st.st_uid, 65534);
		cr_expect_eq(st.st_gid, 65534);
	}
	cr_expect_eq(entries(), 1, "a temporary file was left");
}

Test(output, a_new_file_is_as_readable_as_any_the_user_makes)
{
	char *p = in_dir("new.csv");
	mode_t old = umask(022);
	struct stat st;

	cr_assert_eq(ik_output_write(p, false, hello, "a,b\n"), 0);
	umask(old);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0644);
	expect_file(p, "a,b\n");
}

Test(output, a_symlink_keeps_pointing_at_the_replaced_file)
{
	char *p = in_dir("real"), *l = in_dir("link");
	struct stat st;
	struct ik_output o;
	char why[512];

	cr_assert_eq(ik_output_write(p, false, hello, "1\n"), 0);
	cr_assert_eq(symlink(p, l), 0);
	/* unchecked, a symlink is never written through */
	cr_expect_eq(ik_output_write(l, false, hello, "2\n"), -ELOOP);
	/* the user's own link, checked before the run: followed */
	cr_assert_eq(ik_output_check(&o, "--output", l, false, why, 512), 0);
	cr_assert_eq(ik_output_write(l, false, hello, "2\n"), 0);
	cr_assert_eq(lstat(l, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
	expect_file(p, "2\n");
	cr_expect_eq(entries(), 2);
}

Test(output, a_failed_render_leaves_the_old_file_and_nothing_else)
{
	char *p = in_dir("keep");

	cr_assert_eq(ik_output_write(p, false, hello, "kept\n"), 0);
	cr_expect_eq(ik_output_write(p, false, failing, NULL), -EIO);
	expect_file(p, "kept\n");
	cr_expect_eq(ik_output_write(in_dir("never"), false, failing, NULL),
		     -EIO);
	cr_expect_eq(entries(), 1);
}

Test(output, the_longest_legal_name_works)
{
	char name[256];

	memset(name, 'n', 255);
	name[255] = '\0';
	cr_expect_eq(ik_output_write(in_dir(name), false, hello, "x\n"), 0);
	cr_expect_eq(entries(), 1);
}

Test(output, missing_directories_are_refused_or_made_with_mkdir)
{
	struct ik_output o;
	char why[512], *p = in_dir("a/b/c.json");

	cr_expect_eq(
		ik_output_check(&o, "--output", p, false, why, sizeof(why)),
		-ENOENT);
	cr_expect(strstr(why, "--mkdir") && strstr(why, "/a/b"), "%s", why);
	cr_expect_eq(ik_output_check(&o, "--output", p, true, why, sizeof(why)),
		     0, "%s", why);
	cr_expect_eq(entries(), 0, "a check must not create anything");
	cr_assert_eq(ik_output_write(p, true, hello, "deep\n"), 0);
	expect_file(p, "deep\n");
}

Test(output, directories_sockets_and_long_names_are_refused)
{
	struct ik_output o;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char why[512], name[300];
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_expect_eq(
		ik_output_check(&o, "--output", dir, false, why, sizeof(why)),
		-EISDIR);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", in_dir("sock"));
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_expect_eq(ik_output_check(&o, "--output", a.sun_path, false, why,
				     sizeof(why)),
		     -ENXIO);
	cr_expect(strstr(why, "socket"), "%s", why);
	close(s);
	memset(name, 'n', 256);
	name[256] = '\0';
	cr_expect_eq(ik_output_check(&o, "--output", in_dir(name), false, why,
				     sizeof(why)),
		     -ENAMETOOLONG);
	cr_expect_eq(
		ik_output_check(&o, "--output", "", false, why, sizeof(why)),
		-EINVAL);
}

Test(output, two_names_of_one_file_are_the_same_output)
{
	struct ik_output a, b;
	char why[512], rel[600];

	cr_assert_eq(chdir(dir), 0);
	snprintf(rel, sizeof(rel), "%s/./x", dir);
	cr_assert_eq(ik_output_check(&a, "--output", "x", false, why, 512), 0);
	cr_assert_eq(ik_output_check(&b, "--raw", rel, false, why, 512), 0);
	cr_expect(ik_output_same(&a, &b), "x and %s (not there yet)", rel);
	cr_assert_eq(ik_output_write("x", false, hello, "x\n"), 0);
	cr_assert_eq(link("x", "y"), 0);
	cr_assert_eq(ik_output_check(&a, "--output", "x", false, why, 512), 0);
	cr_assert_eq(ik_output_check(&b, "--raw", "y", false, why, 512), 0);
	cr_expect(ik_output_same(&a, &b), "hard links are one file");
	cr_expect(ik_output_is_file(&a, "y"), "an input under another name");
	cr_assert_eq(ik_output_check(&b, "--raw", "z", false, why, 512), 0);
	cr_expect_not(ik_output_same(&a, &b));
	cr_assert_eq(ik_output_check(&a, "--output", "-", false, why, 512), 0);
	cr_assert_eq(
		ik_output_check(&b, "--raw", "/dev/stdout", false, why, 512),
		0);
	cr_expect(ik_output_same(&a, &b), "- and /dev/stdout");
	cr_assert_eq(
		ik_output_check(&a, "--output", "/dev/null", false, why, 512),
		0);
	cr_assert_eq(ik_output_check(&b, "--raw", "/dev/null", false, why, 512),
		     0);
	cr_expect_not(ik_output_same(&a, &b), "/dev/null twice is harmless");
}

/* The CLI: refused before measuring, one line naming the path */

Test(output, the_cli_refuses_bad_outputs_before_measuring)
{
	char *deep = in_dir("no/such/x.json"), *b = in_dir("b.json");
	int fd = open(b, O_CREAT | O_WRONLY, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "{}\n", 3), 3);
	close(fd);
	BAD("--mkdir", "--output", deep);
	BAD("is a directory", "--raw", dir);
	BAD("the same file", "--output", b, "--raw", b);
	BAD("the same file", "--output", "-", "--summary-md", "/dev/stdout",
	    "--method", "line", "--assert", "line.p50<1s");
	BAD("is also the --baseline input", "--output", b, "--baseline", b);
	BAD("is also the --topology input", "--classes", "--dry-run",
	    "--output", b, "--topology", b);
	cr_expect_eq(entries(), 1, "a refused run must create nothing");
}

Test(output, the_cli_reports_a_full_stdout_with_exit_3, .timeout = 60)
{
	int full = open("/dev/full", O_WRONLY);
	const char *fmts[] = {"table", "csv", "json", "gbench"};
	unsigned i;

	if (full < 0)
		cr_skip_test("no /dev/full here");
	for (i = 0; i < 4; i++) {
		const char *args[] = {"--method", "line",  "--iters", "1000",
				      "--format", fmts[i], NULL};
		struct out o = run_io(NULL, args, -1, full);

		cr_expect_eq(o.code, 3, "%s: exit %d: %s", fmts[i], o.code,
			     o.err);
		cr_expect(strstr(o.err, "No space left on device"), "%s: %s",
			  fmts[i], o.err);
		free(o.stdout_text);
	}
	close(full);
}

Test(output, the_cli_writes_a_device_in_place, .timeout = 60)
{
	char *p = in_dir("null"), *m = in_dir("made/here.csv");
	const char *args[] = {"--method", "line",     "--iters",
			      "1000",	  "--output", p,
			      "--format", "csv",      NULL};
	const char *made[] = {"--method", "line",     "--iters", "1000",
			      "--mkdir",  "--output", m,	 NULL};
	struct stat st;
	struct out o;

	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) < 0)
		cr_skip_test("mknod: %s (needs root)", strerror(errno));
	o = run(args);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	free(o.stdout_text);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "the device was replaced by a file");
	o = run(made);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	free(o.stdout_text);
	cr_expect_eq(stat(m, &st), 0, "--mkdir made no %s", m);
}

Test(output, what_appears_during_the_run_is_never_written_through)
{
	char *p = in_dir("planted.json"), *secret = in_dir("secret"), why[512];
	struct ik_output o;
	struct stat st;
	int r;

	/* checked while absent; another user plants a link, then a FIFO */
	expect_file_made(secret, "keep\n");
	cr_assert_eq(ik_output_check(&o, "--output", p, false, why, 512), 0);
	cr_assert_eq(symlink(secret, p), 0);
	cr_expect_eq(ik_output_write(p, false, hello, "report\n"), -EEXIST);
	expect_file(secret, "keep\n");
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(mkfifo(p, 0666), 0);
	r = open(p, O_RDONLY | O_NONBLOCK);
	cr_expect_eq(ik_output_write(p, false, hello, "report\n"), -EEXIST);
	close(r);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode));
	/* a regular file planted there is replaced by name, not written */
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(link(secret, p), 0);
	cr_expect_eq(ik_output_write(p, false, hello, "report\n"), 0);
	expect_file(secret, "keep\n");
	expect_file(p, "report\n");
}

Test(output, a_fifo_nobody_reads_is_an_error_not_a_hang, .timeout = 10)
{
	char *p = in_dir("lonely");

	cr_assert_eq(mkfifo(p, 0600), 0);
	cr_expect_eq(ik_output_write(p, false, hello, "x\n"), -EPIPE);
}

Test(output, stdout_under_any_name_is_written_through_the_fd)
{
	char *log = in_dir("log"), path[600];
	int fd = open(log, O_CREAT | O_WRONLY | O_APPEND, 0644), saved = dup(1);
	struct ik_output o;
	char why[512];

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "before\n", 7), 7);
	cr_assert_eq(dup2(fd, 1), 1);
	snprintf(path, sizeof(path), "%s/./log", dir);
	cr_assert_eq(ik_output_check(&o, "--output", path, false, why, 512), 0);
	cr_expect_eq(o.fd, 1, "the check knows it is stdout");
	cr_expect_eq(ik_output_write(path, false, hello, "report\n"), 0);
	cr_expect_eq(
		ik_output_write("/dev/../dev/stdout", false, hello, "again\n"),
		0);
	dup2(saved, 1);
	close(saved);
	close(fd);
	expect_file(log, "before\nreport\nagain\n");
}

Test(output, proc_and_sys_are_refused_and_dangling_links_too)
{
	struct ik_output o;
	char why[512], *l = in_dir("dangling");

	cr_expect_eq(ik_output_check(&o, "--output", "/proc/newfile", false,
				     why, 512),
		     -EPERM);
	cr_expect_eq(ik_output_check(&o, "--output", "/proc/version", false,
				     why, 512),
		     -EPERM);
	cr_expect_eq(ik_output_check(&o, "--output", "/sys/kernel/x", false,
				     why, 512),
		     -EPERM);
	cr_assert_eq(symlink(in_dir("nowhere"), l), 0);
	cr_expect_eq(ik_output_check(&o, "--output", l, false, why, 512),
		     -ENOENT);
	cr_expect(strstr(why, "symlink to nothing"), "%s", why);
}

Test(output, missing_directories_spelled_two_ways_are_one_output)
{
	struct ik_output a, b;
	char why[512], x[600], y[600];

	snprintf(x, sizeof(x), "%s/md/a/x.json", dir);
	snprintf(y, sizeof(y), "%s/md/./a//x.json", dir);
	cr_assert_eq(ik_output_check(&a, "--output", x, true, why, 512), 0);
	cr_assert_eq(ik_output_check(&b, "--raw", y, true, why, 512), 0);
	cr_expect(ik_output_same(&a, &b), "%s and %s", a.name, b.name);
}

Test(output, a_path_longer_than_path_max_with_its_temp_name_works)
{
	char deep[4200] = "";
	size_t len;
	int d;

	/* a directory whose absolute name leaves no room for ".ikXXXXXX" */
	cr_assert_eq(chdir(dir), 0);
	for (d = 0; strlen(dir) + (size_t)d * 201 < 4000; d++) {
		char name[201];

		memset(name, 'd', 200);
		name[200] = '\0';
		cr_assert_eq(mkdir(name, 0755), 0);
		cr_assert_eq(chdir(name), 0);
	}
	len = strlen(dir) + (size_t)d * 201;
	(void)deep;
	cr_expect_gt(len + 10, 4000);
	cr_expect_eq(ik_output_write("x", false, hello, "1\n"), 0);
	cr_expect_eq(ik_output_write("x", false, hello, "2\n"), 0);
	expect_file("x", "2\n");
}
