# SPDX-License-Identifier: MIT
"""The echo study in Python: the Python side of scripts/study-echo.

An asyncio (or uvloop) echo server in a process of its own on the
server CPU reads each connection into a preallocated buffer of the
"server buffer" size (asyncio.BufferedProtocol: the loop reads straight
into it, as the seed's threads did) and writes back what it read. Its
clients are coroutines on one loop on the other CPU, each in a closed
loop: send one message, wait for the whole echo, again. Per cell of the
grid (message size x server buffer): a short warm-up, then repeats of
a --duration window; messages/s (all clients counted) and the CPU per
echo of the server (its process, from /proc) and of the clients are
each the median over the windows. The same grid and CPUs as ipckern's
--kernel echo.
"""

import asyncio
import os
import signal
import socket
import time

import ikpy


class _Server(asyncio.BufferedProtocol):
    def __init__(self, size):
        self.mv = memoryview(bytearray(size))

    def connection_made(self, transport):
        self.tr = transport

    def get_buffer(self, hint):
        return self.mv

    def buffer_updated(self, n):
        # a copy: a loop may keep what it could not send yet, and the
        # next read lands in the same buffer
        self.tr.write(bytes(self.mv[:n]))


def _serve(kind, lsock, buffer):
    loop = ikpy.new_loop(kind)
    asyncio.set_event_loop(loop)

    async def main():
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        if lsock.family == socket.AF_UNIX:
            srv = await loop.create_unix_server(lambda: _Server(buffer),
                                                sock=lsock)
        else:
            srv = await loop.create_server(lambda: _Server(buffer),
                                           sock=lsock)
        await stop
        srv.close()

    try:
        loop.run_until_complete(main())
    finally:
        ikpy.close_loop(loop)


async def _clients(method, addr, clients, size, warmup, duration, repeats,
                   srv_cpu):
    msg = os.urandom(size)
    count = [0] * clients
    running = True

    async def one(i):
        if method == "uds":
            reader, writer = await asyncio.open_unix_connection(addr)
        else:
            reader, writer = await asyncio.open_connection(*addr)
        try:
            while running:
                writer.write(msg)
                await reader.readexactly(size)
                count[i] += 1
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(one(i)) for i in range(clients)]
    await asyncio.sleep(warmup)
    reps = []
    for _ in range(repeats):
        c0, t0 = sum(count), time.perf_counter()
        s0, p0 = srv_cpu(), time.process_time()
        await asyncio.sleep(duration)
        c1, t1 = sum(count), time.perf_counter()
        s1, p1 = srv_cpu(), time.process_time()
        n = max(c1 - c0, 1)
        reps.append({"messages_per_sec": (c1 - c0) / (t1 - t0),
                     "cpu_server_per_msg_us": (s1 - s0) / n * 1e6,
                     "cpu_clients_per_msg_us": (p1 - p0) / n * 1e6})
    running = False
    await asyncio.gather(*tasks)
    return reps


def run_cell(kind, method, clients, size, buffer, warmup, duration, repeats,
             cpu_s):
    with ikpy.PrivateDir() as d:
        if method == "uds":
            addr = os.path.join(d, "echo.sock")
            lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            lsock.bind(addr)
        else:
            lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            lsock.bind(("127.0.0.1", 0))
            addr = lsock.getsockname()
        lsock.listen(max(clients, 128))
        lsock.setblocking(False)
        child = ikpy.Child(cpu_s, lambda: _serve(kind, lsock, buffer))
        try:
            lsock.close()
            loop = ikpy.new_loop(kind)
            try:
                reps = loop.run_until_complete(_clients(
                    method, addr, clients, size, warmup, duration, repeats,
                    child.cpu_s))
            finally:
                ikpy.close_loop(loop)
            if child.stop() != 0:
                raise RuntimeError("the echo server failed")
            return reps
        finally:
            child.kill()


def ints(s):
    return [int(x) for x in s.split(",")]


def main():
    p = ikpy.parser(__doc__.splitlines()[0],
                    "S,C: the server's CPU, then the clients' (as ipckern's"
                    " --pin for --kernel echo)")
    p.add_argument("--method", default="tcp", choices=("tcp", "uds"))
    p.add_argument("--clients", type=int, default=5)
    p.add_argument("--sizes", type=ints, default=[1000, 4096, 65536],
                   help="message sizes, B (default 1000,4096,65536)")
    p.add_argument("--buffers", type=ints,
                   default=[4096, 16384, 65536, 262144],
                   help="server read buffers, B (default 4k,16k,64k,256k)")
    p.add_argument("--duration", type=float, default=0.4,
                   help="seconds per timed window (default 0.4)")
    p.add_argument("--warmup", type=float, default=0.1,
                   help="untimed seconds first, per cell (default 0.1)")
    a = p.parse_args()
    cpu_s, cpu_c = ikpy.cpus(a.cpus)  # the server's CPU first, as --pin
    ikpy.pin(cpu_c)
    results = []
    for kind in ("asyncio", "uvloop"):
        for size in a.sizes:
            for buffer in a.buffers:
                r = {"loop": kind, "method": a.method, "clients": a.clients,
                     "size": size, "buffer": buffer}
                missing = ikpy.loop_missing(kind)
                if missing:
                    r.update(status="skipped", note=missing)
                    results.append(r)
                    continue
                try:
                    reps = run_cell(kind, a.method, a.clients, size, buffer,
                                    a.warmup, a.duration, a.repeats, cpu_s)
                    r.update(status="ok", repeats=reps)
                    for m in reps[0]:
                        r[m] = ikpy.median([x[m] for x in reps])
                except (OSError, RuntimeError, EOFError) as e:
                    r.update(status="error", note=str(e))
                results.append(r)
    ikpy.emit(a.out, (cpu_s, cpu_c),
              {"duration": a.duration, "warmup": a.warmup,
               "repeats": a.repeats}, results)
    return 0 if all(r["status"] != "error" for r in results) else 3


if __name__ == "__main__":
    raise SystemExit(ikpy.run(main))
