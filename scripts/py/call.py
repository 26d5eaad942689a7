# SPDX-License-Identifier: MIT
"""The call study in Python: the Python side of scripts/study-call.

As python-async-bench does: an asyncio (or uvloop) event loop hands each
call to one dedicated worker thread through a queue.SimpleQueue and
awaits a future, which the worker completes with call_soon_threadsafe;
and the same through asyncio.to_thread, its default executor one worker
thread. The function is trivial (x + 2, checked). The loop runs on CPU
A, the worker pins itself to CPU B. Reported like the seed: wall, total
CPU (the process), CPU in the loop's thread, CPU in the worker (the
rest), over the timed calls; each the median over the repeats.
"""

import asyncio
import concurrent.futures
import queue
import threading
import time

import ikpy


def _plus2(x):
    return x + 2


def _set(fut, value):
    if not fut.done():
        fut.set_result(value)


class Dedicated:
    """One worker thread fed through a SimpleQueue."""

    def __init__(self, loop, cpu):
        self.loop, self.q = loop, queue.SimpleQueue()
        self.t = threading.Thread(target=self._run, args=(cpu,))
        self.t.start()

    def _run(self, cpu):
        ikpy.pin(cpu)
        while (item := self.q.get()) is not None:
            fut, fn, arg = item
            self.loop.call_soon_threadsafe(_set, fut, fn(arg))

    def call(self, fn, arg):
        fut = self.loop.create_future()
        self.q.put((fut, fn, arg))
        return fut

    def close(self):
        self.q.put(None)
        self.t.join()


class ToThread:
    """asyncio.to_thread over a default executor of one pinned thread."""

    def __init__(self, loop, cpu):
        self.ex = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, initializer=ikpy.pin, initargs=(cpu,))
        loop.set_default_executor(self.ex)

    def call(self, fn, arg):
        return asyncio.to_thread(fn, arg)

    def close(self):
        self.ex.shutdown(wait=True)


def _times():
    return (time.perf_counter(), time.process_time(), time.thread_time())


async def _bench(how, calls, warmup, repeats, cpu_b):
    loop = asyncio.get_running_loop()
    w = (Dedicated if how == "dedicated" else ToThread)(loop, cpu_b)
    reps = []
    try:
        for i in range(repeats + 1):
            k = warmup if i == 0 else calls
            s = _times()
            for x in range(k):
                if await w.call(_plus2, x) != x + 2:
                    raise RuntimeError("a call came back wrong")
            e = _times()
            if i:
                wall, total, caller = (b - a for a, b in zip(s, e))
                reps.append({"wall_s": wall, "cpu_total_s": total,
                             "cpu_loop_s": caller,
                             "cpu_worker_s": total - caller})
    finally:
        w.close()
    return reps


def main():
    p = ikpy.parser(__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=250000,
                   help="timed calls per repeat (default 250000)")
    p.add_argument("--warmup", type=int, default=5000,
                   help="untimed calls first (default 5000)")
    a = p.parse_args()
    cpu_a, cpu_b = ikpy.cpus(a.cpus)
    ikpy.pin(cpu_a)
    results = []
    for kind in ("asyncio", "uvloop"):
        for how in ("dedicated", "to_thread"):
            r = {"loop": kind, "how": how, "calls": a.calls}
            missing = ikpy.loop_missing(kind)
            if missing:
                r.update(status="skipped", note=missing)
                results.append(r)
                continue
            loop = ikpy.new_loop(kind)
            try:
                reps = loop.run_until_complete(
                    _bench(how, a.calls, a.warmup, a.repeats, cpu_b))
                r.update(status="ok", repeats=reps)
                for m in reps[0]:
                    r[m] = ikpy.median([x[m] for x in reps])
            except (OSError, RuntimeError) as e:
                r.update(status="error", note=str(e))
            finally:
                ikpy.close_loop(loop)
            results.append(r)
    ikpy.emit(a.out, (cpu_a, cpu_b),
              {"calls": a.calls, "warmup": a.warmup, "repeats": a.repeats},
              results)
    return 0 if all(r["status"] != "error" for r in results) else 3


if __name__ == "__main__":
    raise SystemExit(ikpy.run(main))
