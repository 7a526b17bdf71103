"""tlog-tiles serving benchmark (issue 16): the time to serve one tile at 10^6 entries.

Builds a ledger of N leaves (default 10^6) in a fresh home: entry 0 through
``custody init``, then opaque leaves of 300 to 700 bytes written through the store's
bulk insert in batches, with every perfect subtree hash and a signed checkpoint, as the
append path writes them (tiles read nothing else). Then, for random tiles, measures:

* ``ledger.tiles.read`` in a read transaction: a full level-0 tile (one range scan of
  256 node rows), a level-1 tile, a full entry bundle (256 leaves);
* ``GET /tile/...`` from a real ``custody serve`` on a loopback port, one keep-alive
  client (the whole request: socket, uvicorn, the route, the read; a minimal raw
  HTTP/1.1 client, :class:`RawClient`, so the client's own CPU stays small), random
  tiles (each read from the store) and one tile again and again (the server's
  in-memory cache of served tiles).

Wall times (median, 95th percentile) and the CPU time the serving process spent per
request (from ``/proc``: on a shared machine, wall time includes waiting for a core).

Target: a tile under 2 ms.

    .venv/bin/python bench/tiles.py               # 10^6 entries, SQLite
    .venv/bin/python bench/tiles.py --n 100000
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/tiles.py
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from ledger import merkle, tiles
from ledger.checkpoint import Checkpoint, sign_note
from ledger.custody import Changes
from ledger.home import Home
from ledger.log import Ledger
from ledger.store import Head, node_id

BATCH = 20_000
CUSTODY = str(Path(sys.executable).with_name("custody"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(http: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http.get("/v1/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("custody serve did not come up")


def grow(ledger: Ledger, total: int) -> None:
    """Append opaque leaves through the bulk insert until the tree holds ``total``."""
    key = ledger.operator_key
    assert key is not None
    rng = random.Random(16)
    while True:
        with ledger.store.write() as w:
            head = w.head()
            if head.size >= total:
                return
            stop = min(total, head.size + BATCH)
            coords = merkle.frontier_coords(head.size)
            known = w.nodes(coords)
            frontier = [known[c] for c in coords]
            leaves = [b"%d:" % s + rng.randbytes(rng.randint(150, 350)).hex().encode()
                      for s in range(head.size, stop)]  # fmt: skip
            hashes = [merkle.leaf_hash(b) for b in leaves]
            done, new_frontier = merkle.completed_nodes(head.size, hashes, frontier)
            nodes = [(node_id(0, s), h) for s, h in enumerate(hashes, head.size)]
            nodes += [(node_id(lv, ix), h) for lv, ix, h in done]
            rows = [
                (s, h, b, f"sha256:{h.hex()}", "bench", f"b/{s}", "origin", "t")
                for s, (h, b) in enumerate(zip(hashes, leaves, strict=True), head.size)
            ]
            root = merkle.root_from_frontier(new_frontier)
            body = Checkpoint(ledger.origin, stop, root, ()).body()
            note = sign_note(body, ledger.origin, key.sign, key.public_key)
            w.append_rows(rows, nodes, [], [], Head(stop, hashes[-1], "t"), Changes(), (stop, note))
        if stop % 200_000 < BATCH:
            print(f"  {stop:,} leaves", flush=True)


class RawClient:
    """A minimal blocking HTTP/1.1 keep-alive client (one socket, GET only, bodies by
    ``Content-Length``): the request costs the client almost nothing, so on a two-core
    machine the wall time is the server's, not httpx's."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def get(self, path: str) -> tuple[int, bytes]:
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path.encode())
        status = int(self.file.readline().split()[1])
        length = 0
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, self.file.read(length)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def distinct(n: int, rng: random.Random) -> Iterator[int]:
    """0..n-1 in random order, again and again: each index once before any repeats (a
    repeat is answered from the server's tile cache, not read)."""
    while True:
        yield from rng.sample(range(n), n)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn: Callable[[], object], runs: int, pid: int | None = None) -> tuple[float, ...]:
    """Median and 95th percentile wall time of ``runs`` calls, and the mean CPU time per
    call of process ``pid`` (default: this one), in ms. On a loaded machine the wall
    times include waiting for a core; the CPU time does not."""
    times = []
    cpu0 = cpu_seconds(pid or os.getpid())
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    cpu = (cpu_seconds(pid or os.getpid()) - cpu0) * 1000 / runs
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="ledger size (leaves)")
    parser.add_argument("--runs", type=int, default=500, help="requests per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="custody-tiles-") as tmp:
        home = Home(Path(tmp) / "home")
        ledger, _ = home.init(origin="bench.example/tiles")
        start = time.perf_counter()
        grow(ledger, args.n)
        print(f"built {args.n:,} leaves in {time.perf_counter() - start:.1f} s")
        full0 = args.n // 256
        full1 = args.n // 65536
        rng = random.Random(1)

        def read(make: Callable[[], tiles.Tile]) -> Callable[[], bytes]:
            def go() -> bytes:
                with ledger.store.read() as r:
                    return tiles.read(r, make())

            return go

        level0 = read(lambda: tiles.Tile(0, rng.randrange(full0)))
        level1 = read(lambda: tiles.Tile(1, rng.randrange(max(full1, 1))))
        bundle = read(lambda: tiles.Tile(None, rng.randrange(full0)))
        results = {
            "store: level-0 tile (8 KiB)": timed(level0, args.runs),
            "store: level-1 tile": timed(level1, args.runs),
            "store: entry bundle (256 leaves)": timed(bundle, args.runs),
        }
        ledger.store.close()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "CUSTODY_HOME"}
        server = subprocess.Popen(
            [CUSTODY, "serve", "--home", str(home.path), "--port", str(port), "--no-access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                wait_up(http)
            raw = RawClient(port)

            def get(path: Callable[[], str]) -> Callable[[], object]:
                def go() -> object:
                    status, body = raw.get(path())
                    assert status == 200, body
                    return body

                return go

            pid = server.pid
            fresh0, fresh_e = distinct(full0, rng), distinct(full0, rng)  # not served before
            results["GET /tile/0/<N> (custody serve, keep-alive)"] = timed(
                get(lambda: "/" + tiles.Tile(0, next(fresh0)).path), args.runs, pid
            )
            results["GET /tile/0/000 again (in-memory hit)"] = timed(
                get(lambda: "/tile/0/000"), args.runs, pid
            )
            results["GET /tile/entries/<N> (custody serve)"] = timed(
                get(lambda: "/" + tiles.Tile(None, next(fresh_e)).path), args.runs, pid
            )
            results["GET /checkpoint (custody serve)"] = timed(
                get(lambda: "/checkpoint"), args.runs, pid
            )
            raw.close()
        finally:
            server.terminate()
            server.wait(30)
    print(f"tiles at {args.n:,} entries, {args.runs} random requests each (ms):")
    print("  (wall: median, p95; cpu: mean CPU time per request of the serving process)")
    for name, (median, p95, cpu) in results.items():
        print(f"  {name:44s} wall {median:7.3f} {p95:7.3f}   cpu {cpu:6.3f}")


if __name__ == "__main__":
    main()
