# SPDX-License-Identifier: MIT
"""python_ipc_tests, run here: the Python side of scripts/study-python-ipc.

The seed (python_ipc_tests, on an E5-1620) timed 50,000 round trips of a
small message (12 B "Hello World!"; 7 B "Send Me" for the streams test)
between an echo server and one client, per row:
  streams   asyncio streams (start_server/open_connection), localhost
  tcp, uds  asyncio Protocol classes over localhost TCP or a Unix socket,
            with the stdlib loop or uvloop
  coro      a coroutine awaiting another, no I/O
  call      a plain function call, no asyncio
  deque     two threads pinging through collections.deque, polling
  queue     two threads pinging through queue.Queue, blocking
and reported time / messages: one message is one round trip. The
issue's "pipe" row is the streams test (it runs over localhost TCP);
an asyncio pipe pair (os.pipe, connect_read_pipe) is measured as well,
since ipckern has a pipe.

Here the two ends of every socket row are two processes on the pinned
pair (client on A, server on B), as ipckern's --mode process ping-pong
is; and then, as the seed ran them, both in one loop on one thread on
CPU A, which never waits for another CPU ("one_loop" in the JSON). The
thread rows pin each thread to its CPU.
"""

import asyncio
import collections
import os
import queue
import socket
import threading
import time

import ikpy

MSG = b"Hello World!"
STREAMS_MSG = b"Send Me"


# --- the socket and pipe rows: a forked echo server, a pinned client ---

class _Echo(asyncio.Protocol):
    """Server side: write back whatever arrives; end with the peer."""

    def __init__(self, done, out=None):
        self.done, self.out = done, out

    def connection_made(self, transport):
        if self.out is None:
            self.out = transport

    def data_received(self, data):
        self.out.write(data)

    def eof_received(self):
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(None)


def _serve(kind, how, lsock=None, fds=None, theirs=()):
    """The server process: one connection (or pipe pair), echoed until
    the client closes it. theirs: the client's pipe ends, closed here
    first, or the client's close would never read as end of file."""
    for fd in theirs:
        os.close(fd)
    loop = ikpy.new_loop(kind)
    asyncio.set_event_loop(loop)

    async def streams(conn):
        reader, writer = await asyncio.open_connection(sock=conn)
        while True:
            data = await reader.read(100)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    async def main():
        done = loop.create_future()
        if how == "pipe":
            rfd, wfd = fds
            wt, _ = await loop.connect_write_pipe(
                asyncio.Protocol, os.fdopen(wfd, "wb", buffering=0))
            await loop.connect_read_pipe(
                lambda: _Echo(done, wt), os.fdopen(rfd, "rb", buffering=0))
            await done
            wt.close()
            return
        # a client that never comes must not keep us forever
        conn, _ = await asyncio.wait_for(loop.sock_accept(lsock), 30)
        lsock.close()
        if how == "streams":
            await streams(conn)
            return
        tr, _ = await loop.connect_accepted_socket(lambda: _Echo(done), conn)
        await done
        tr.close()

    try:
        loop.run_until_complete(main())
    finally:
        ikpy.close_loop(loop)


class _Pinger(asyncio.Protocol):
    """Client side: n round trips of msg, back to back; a reply is
    complete when len(msg) bytes came back (a stream may cut or join)."""

    def __init__(self, msg):
        self.msg, self.got, self.left, self.fut, self.out = msg, 0, 0, None, None

    def connection_made(self, transport):
        if self.out is None:
            self.out = transport

    def data_received(self, data):
        self.got += len(data)
        while self.got >= len(self.msg) and self.left:
            self.got -= len(self.msg)
            self.left -= 1
            if self.left:
                self.out.write(self.msg)
            else:
                self.fut.set_result(None)

    def connection_lost(self, exc):
        if self.fut and not self.fut.done():
            self.fut.set_exception(ConnectionError("server went away"))

    def trips(self, n):
        self.left, self.fut = n, asyncio.get_running_loop().create_future()
        self.out.write(self.msg)
        return self.fut


def run_socket(how, kind, n, warmup, repeats, cpu_a, cpu_b):
    """us per round trip of each timed repeat, over tcp, uds, pipe or
    asyncio streams, client loop on cpu_a, server process on cpu_b."""
    with ikpy.PrivateDir() as d:
        lsock, fds, addr = None, None, None
        if how == "uds":
            addr = os.path.join(d, "echo.sock")
            lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            lsock.bind(addr)
            lsock.listen(1)
        elif how in ("tcp", "streams"):
            lsock = socket.create_server(("127.0.0.1", 0))
            addr = lsock.getsockname()
        else:
            c2s, s2c = os.pipe(), os.pipe()
            fds = (c2s[0], s2c[1])
        if lsock:
            lsock.setblocking(False)
        theirs = () if lsock else (s2c[0], c2s[1])
        child = ikpy.Child(cpu_b,
                           lambda: _serve(kind, how, lsock, fds, theirs))
        try:
            if lsock:
                lsock.close()
            else:
                os.close(c2s[0])
                os.close(s2c[1])
            loop = ikpy.new_loop(kind)
            try:
                per = loop.run_until_complete(_client(
                    loop, how, addr, None if lsock else (s2c[0], c2s[1]),
                    n, warmup, repeats,
                    lambda: time.process_time() + child.cpu_s()))
            finally:
                ikpy.close_loop(loop)
            if child.reap() != 0:
                raise RuntimeError("the echo server failed")
            return per
        finally:
            child.kill()


def run_one_loop(how, kind, n, warmup, repeats):
    """The seed's own shape: server and client in one loop, one thread
    (this one, on CPU A), so no round trip waits for another CPU."""
    with ikpy.PrivateDir() as d:
        loop = ikpy.new_loop(kind)
        try:
            return loop.run_until_complete(
                _one_loop(loop, how, d, n, warmup, repeats))
        finally:
            ikpy.close_loop(loop)


async def _one_loop(loop, how, d, n, warmup, repeats):
    args = (n, warmup, repeats, time.process_time)
    if how == "pipe":
        c2s, s2c = os.pipe(), os.pipe()
        done = loop.create_future()
        wt, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(s2c[1], "wb", buffering=0))
        await loop.connect_read_pipe(
            lambda: _Echo(done, wt), os.fdopen(c2s[0], "rb", buffering=0))
        per = await _client(loop, how, None, (s2c[0], c2s[1]), *args)
        await done
        wt.close()
        return per
    if how == "streams":
        async def handle(reader, writer):
            while data := await reader.read(100):
                writer.write(data)
                await writer.drain()
            writer.close()
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    elif how == "uds":
        srv = await loop.create_unix_server(
            lambda: _Echo(loop.create_future()), os.path.join(d, "echo.sock"))
    else:
        srv = await loop.create_server(
            lambda: _Echo(loop.create_future()), "127.0.0.1", 0)
    addr = srv.sockets[0].getsockname()
    try:
        return await _client(loop, how, addr, None, *args)
    finally:
        srv.close()


async def _client(loop, how, addr, fds, n, warmup, repeats, cpu):
    clk = ikpy.Clock(cpu)
    if how == "streams":
        reader, writer = await asyncio.open_connection(*addr)
        for i in range(repeats + 1):
            k = warmup if i == 0 else n
            clk.start()
            for _ in range(k):
                writer.write(STREAMS_MSG)
                await reader.readexactly(len(STREAMS_MSG))
            if i:
                clk.stop(n)
        writer.close()
        await writer.wait_closed()
        return clk.reps
    if how == "pipe":
        rfd, wfd = fds
        wt, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(wfd, "wb", buffering=0))
        p = _Pinger(MSG)
        p.out = wt
        rt, _ = await loop.connect_read_pipe(
            lambda: p, os.fdopen(rfd, "rb", buffering=0))
        closers = (wt, rt)
    else:
        if how == "uds":
            tr, p = await loop.create_unix_connection(lambda: _Pinger(MSG),
                                                      addr)
        else:
            tr, p = await loop.create_connection(lambda: _Pinger(MSG), *addr)
        closers = (tr,)
    for i in range(repeats + 1):
        clk.start()
        await p.trips(warmup if i == 0 else n)
        if i:
            clk.stop(n)
    for c in closers:
        c.close()
    await asyncio.sleep(0)
    return clk.reps


# --- no I/O: a coroutine awaiting another, a plain function call ---

async def _server_coro(v):
    return v


async def _coro_rows(n, warmup, repeats, cpu=time.process_time):
    clk = ikpy.Clock(cpu)
    for i in range(repeats + 1):
        k = warmup if i == 0 else n
        clk.start()
        for _ in range(k):
            await _server_coro(MSG)
        if i:
            clk.stop(n)
    return clk.reps


def run_coro(kind, n, warmup, repeats):
    loop = ikpy.new_loop(kind)
    try:
        return loop.run_until_complete(_coro_rows(n, warmup, repeats))
    finally:
        ikpy.close_loop(loop)


def _server_fn(v):
    return v


def run_call(n, warmup, repeats, cpu=time.process_time):
    clk = ikpy.Clock(cpu)
    for i in range(repeats + 1):
        k = warmup if i == 0 else n
        f = _server_fn
        clk.start()
        for _ in range(k):
            f(MSG)
        if i:
            clk.stop(n)
    return clk.reps


# --- two threads pinging: deque polled (sleep(0) when empty), Queue ---

def run_threads(how, n, warmup, repeats, cpu_b, cpu=time.process_time):
    """us per round trip; this thread is the client (pinned to A by
    main), the server thread pins itself to cpu_b. The seed's deque
    client appended again on every empty poll, so its server faced a
    growing backlog; here each ping waits for its reply."""
    if how == "deque":
        req, rep = collections.deque(), collections.deque()

        def serve():
            ikpy.pin(cpu_b)
            while True:
                try:
                    m = req.popleft()
                except IndexError:
                    time.sleep(0)
                    continue
                if m is None:
                    return
                rep.append(m)

        def ping(m):
            req.append(m)
            while True:
                try:
                    return rep.popleft()
                except IndexError:
                    time.sleep(0)
    else:
        req, rep = queue.Queue(), queue.Queue()

        def serve():
            ikpy.pin(cpu_b)
            while (m := req.get()) is not None:
                rep.put(m)

        def ping(m):
            req.put(m)
            return rep.get()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    clk = ikpy.Clock(cpu)
    try:
        for i in range(repeats + 1):
            k = warmup if i == 0 else n
            clk.start()
            for _ in range(k):
                ping(MSG)
            if i:
                clk.stop(n)
    finally:
        if how == "deque":
            req.append(None)
        else:
            req.put(None)
        t.join()
    return clk.reps


# (row, loop, what it runs, the seed's test): the seed's table order
ROWS = [
    ("streams", "asyncio", "asyncio streams, localhost TCP, 7 B", "pipetest01"),
    ("pipe", "asyncio", "asyncio Protocol over two os.pipe()s, 12 B", None),
    ("tcp", "asyncio", "asyncio Protocol, localhost TCP, 12 B", "pipetest02"),
    ("uds", "asyncio", "asyncio Protocol, Unix socket, 12 B", "pipetest03"),
    ("uds", "uvloop", "uvloop Protocol, Unix socket, 12 B", "pipetest04"),
    ("tcp", "uvloop", "uvloop Protocol, localhost TCP, 12 B", "pipetest05"),
    ("coro", "asyncio", "await a coroutine, no I/O", "pipetest06"),
    ("coro", "uvloop", "await a coroutine under uvloop", "pipetest07"),
    ("call", None, "plain function call", "pipetest08"),
    ("deque", None, "two threads, collections.deque, polled", "thread_ping_dequeue_test"),
    ("queue", None, "two threads, queue.Queue", "thread_ping_queue_test"),
]


def _summary(per):
    return {"us_per_msg": ikpy.median([w for w, _ in per]),
            "cpu_us_per_msg": ikpy.median([c for _, c in per]),
            "repeats_us": [w for w, _ in per],
            "repeats_cpu_us": [c for _, c in per]}


def main():
    p = ikpy.parser(__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=50000,
                   help="timed round trips per repeat (default 50000)")
    p.add_argument("--warmup", type=int, default=5000,
                   help="untimed round trips first (default 5000)")
    p.add_argument("--no-one-loop", dest="one_loop", action="store_false",
                   help="skip the seed's shape (both ends of a socket row"
                   " in one loop on CPU A)")
    a = p.parse_args()
    cpu_a, cpu_b = ikpy.cpus(a.cpus)
    ikpy.pin(cpu_a)
    results = []
    for row, kind, what, seed in ROWS:
        r = {"row": row, "loop": kind, "what": what, "seed": seed,
             "messages": a.messages, "unit": "us per round trip"}
        missing = ikpy.loop_missing(kind)
        if missing:
            r.update(status="skipped", note=missing)
            results.append(r)
            continue
        args = (a.messages, a.warmup, a.repeats)
        try:
            if row in ("streams", "pipe", "tcp", "uds"):
                per = run_socket(row, kind, *args, cpu_a, cpu_b)
            elif row == "coro":
                per = run_coro(kind, *args)
            elif row == "call":
                per = run_call(*args)
            else:
                per = run_threads(row, *args, cpu_b)
            r.update(status="ok", **_summary(per))
            if row in ("streams", "pipe", "tcp", "uds") and a.one_loop:
                r["one_loop"] = _summary(run_one_loop(row, kind, *args))
        except (OSError, RuntimeError, asyncio.TimeoutError) as e:
            r.update(status="error", note=str(e))
        results.append(r)
    ikpy.emit(a.out, (cpu_a, cpu_b),
              {"messages": a.messages, "warmup": a.warmup,
               "repeats": a.repeats}, results)
    return 0 if all(r["status"] != "error" for r in results) else 3


if __name__ == "__main__":
    raise SystemExit(ikpy.run(main))
