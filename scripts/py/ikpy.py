# SPDX-License-Identifier: MIT
"""What the Python companions of the study scripts share.

The companions (ipc.py, echo.py, call.py) run a seed study's experiment
in Python, beside ipckern's floor for the same primitive, so the study
can print what the interpreter and its event loop add. They follow
ipckern's rules: every peer pinned (os.sched_setaffinity on the calling
thread, so a thread pins only itself), a warm-up that is not timed, the
median of repeats, a JSON document out. Standard library only, plus
uvloop when it can be imported (Debian: python3-uvloop); where it
cannot, its results say so and carry no number.
"""

import argparse
import asyncio
import ctypes
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time

try:
    import uvloop
except ImportError:
    uvloop = None

SCHEMA = "ipckern-py/1"


def pin(cpu):
    """Pin the calling thread (not the process) to one CPU."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def on_signals():
    """SIGTERM and SIGHUP end a companion as Ctrl-C does, through every
    finally on the way (server children reaped, socket dirs removed)."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _interrupt)


def new_loop(kind):
    """A fresh event loop: "asyncio" (the stdlib's) or "uvloop"."""
    if kind == "uvloop":
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def close_loop(loop):
    """Cancel what still runs on loop (an interrupt left it mid-run),
    let it unwind, close the loop."""
    try:
        pending = asyncio.all_tasks(loop)
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(
                asyncio.gather(*pending, return_exceptions=True))
    finally:
        loop.close()


def loop_missing(kind):
    """Why a loop kind cannot run here, or None."""
    if kind == "uvloop" and uvloop is None:
        return "uvloop: not installed"
    return None


def median(xs):
    return statistics.median(xs) if xs else None


def parser(doc, cpus_help="A,B: the pinned pair (ipckern's --pin): A"
           " runs the client or caller, B the server or worker"):
    """The options every companion takes."""
    on_signals()
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--cpus", default=None, help=cpus_help)
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats; the median is reported (default 3)")
    p.add_argument("--out", default="-", help="JSON file (default stdout)")
    return p


def cpus(arg):
    """--cpus A,B -> (A, B); None -> (None, None): unpinned."""
    if not arg:
        return None, None
    a, b = (int(x) for x in arg.split(","))
    return a, b


def emit(path, cpu_pair, params, results):
    """Write the document: what ran where, and one entry per row."""
    doc = {
        "schema": SCHEMA,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "uvloop": getattr(uvloop, "__version__", None),
        "cpus": list(cpu_pair) if cpu_pair[0] is not None else None,
        "params": params,
        "results": results,
    }
    text = json.dumps(doc, indent=1) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Clock:
    """Times the repeats of one row: start() before a repeat, stop(n)
    after its n round trips; reps holds (wall us, CPU us) per round trip
    of each. cpu() returns seconds of CPU of both ends so far."""

    def __init__(self, cpu):
        self.cpu, self.reps = cpu, []

    def start(self):
        self.t0, self.c0 = time.perf_counter_ns(), self.cpu()

    def stop(self, n):
        self.reps.append(((time.perf_counter_ns() - self.t0) / n / 1e3,
                          (self.cpu() - self.c0) / n * 1e6))


class PrivateDir:
    """A mkdtemp directory (unpredictable name, mode 0700) for socket
    files, removed with everything in it on the way out."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="ikpy-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


class Child:
    """A forked server process, pinned, that runs fn() and exits; the
    parent reaps it (SIGTERM, then SIGKILL) on the way out, so no run
    leaves one behind. fn must end when its peer closes."""

    def __init__(self, cpu, fn):
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                # Ctrl-C goes to the whole group: the parent ends us
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                for s in (signal.SIGTERM, signal.SIGHUP):
                    signal.signal(s, signal.SIG_DFL)
                # end with the parent, whatever ends it (PR_SET_PDEATHSIG),
                # unless it already ended before the prctl took hold
                ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
                if os.getppid() != parent:
                    return
                pin(cpu)
                fn()
            except BaseException:  # noqa: BLE001: report, then exit
                import traceback
                traceback.print_exc()
                code = 3
            finally:
                os._exit(code)

    def cpu_s(self):
        """The child's CPU time so far (user + system), s: the first
        field of /proc/PID/schedstat (ns; the child is one thread), or
        without it utime + stime of /proc/PID/stat (clock ticks, so time
        a second or more)."""
        try:
            with open("/proc/%d/schedstat" % self.pid) as f:
                return int(f.read().split()[0]) / 1e9
        except FileNotFoundError:
            pass
        with open("/proc/%d/stat" % self.pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")

    def _reaped(self, status):
        # the pid is free for reuse from here on: never signal it again
        self.pid = None
        return os.waitstatus_to_exitcode(status)

    def reap(self, grace=5.0):
        """Wait for the child to end by itself (its peer closed), else
        end it; returns its exit status."""
        deadline = time.monotonic() + grace
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return self._reaped(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
                return self._reaped(status)
            time.sleep(0.01)

    def stop(self):
        """Ask the child to end (SIGTERM), then reap it."""
        os.kill(self.pid, signal.SIGTERM)
        return self.reap()

    def kill(self):
        """End and reap the child unless that was done already (a
        failure on the way: the finally of whoever forked it)."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self._reaped(os.waitpid(self.pid, 0)[1])


def run(main):
    """main()'s exit code; 130 without a traceback when interrupted
    (Ctrl-C, SIGTERM, SIGHUP), after every finally on the way ran."""
    try:
        return main()
    except KeyboardInterrupt:
        return 130
