"""verify's time, in process, step by step and whole, on one or two connections, against its floor.

    python benchmarks/verify_steps.py LEDGER [--repeat 3]

For an existing ledger (make one with `predictions import`, e.g. of import_and_score.generate's
records): the floor (the bare SHA-256 chain loop of goals.py) and each part of verify alone, as
CPU seconds (best of --repeat) and as a multiple of the floor measured in the same run; then the
whole `Ledger.verify()` sequentially (no second connection) and on two connections, wall and CPU
(the CPU of every thread), interleaved. The whole verify's wall time is what two CPUs can cut.
Last, the timeline of one verify on two connections: which thread ran each part, when (wall
seconds from the start) and its CPU seconds (that thread's).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

from predictions import Ledger, chain_scan, store, verify_parallel


def floor(db: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    prev = "0" * 64
    for payload, stored in conn.execute("SELECT payload, hash FROM entries ORDER BY seq"):
        prev = hashlib.sha256(f"{prev}\n{payload}".encode("utf-8")).hexdigest()
        if prev != stored:
            raise SystemExit("chain broken")
    conn.close()


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def part(db: Path, name: str) -> None:
    with Ledger(db, read_only=True) as ledger:
        conn = ledger.conn
        conn.execute("BEGIN")
        if name == "one pass":
            assert chain_scan.rows_agree(conn, None) is not None
        else:
            for _ in verify_parallel.JOBS[name](conn):
                pass
        conn.execute("ROLLBACK")


def whole(db: Path, two: bool) -> None:
    with Ledger(db, read_only=True) as ledger:
        original = store.reopener
        if not two:
            store.reopener = lambda conn: None
        try:
            assert ledger.verify().ok
        finally:
            store.reopener = original


def timeline(db: Path) -> list[tuple[str, str, float, float, float]]:
    """(part, thread, start, end, CPU) of each part of one verify on two connections."""
    spans, origin = [], time.perf_counter()
    jobs, one_pass = dict(verify_parallel.JOBS), chain_scan.rows_agree

    def span(name, run):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return run()
        finally:
            spans.append((name, threading.current_thread().name, start - origin, time.perf_counter() - origin,
                          time.thread_time() - cpu))  # fmt: skip

    for name, job in jobs.items():
        verify_parallel.JOBS[name] = lambda conn, name=name, job=job: span(name, lambda: list(job(conn)))
    chain_scan.rows_agree = lambda conn, contains: span("one pass", lambda: one_pass(conn, contains))
    try:
        origin = time.perf_counter()
        whole(db, True)
        spans.append(("whole verify", "MainThread", 0.0, time.perf_counter() - origin, float("nan")))
    finally:
        verify_parallel.JOBS.update(jobs)
        chain_scan.rows_agree = one_pass
    return sorted(spans, key=lambda s: s[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = args.ledger
    names = ["one pass", *verify_parallel.JOBS]
    parts: dict[str, list[float]] = {name: [] for name in ["floor", *names]}
    wholes: dict[str, list[tuple[float, float]]] = {"one connection": [], "two connections": []}
    for _ in range(args.repeat):
        parts["floor"].append(timed(lambda: floor(db))[1])
        for name in names:
            parts[name].append(timed(lambda: part(db, name))[1])
        wholes["one connection"].append(timed(lambda: whole(db, False)))
        wholes["two connections"].append(timed(lambda: whole(db, True)))
    base = min(parts["floor"])
    print(f"{db}: best of {args.repeat}, CPU s (x floor)")
    print("| part | CPU s | x floor |\n|---|---|---|")
    for name, values in parts.items():
        print(f"| {name} | {min(values):.3f} | {min(values) / base:.2f} |")
    print("\n| verify | wall s | CPU s | wall x floor |\n|---|---|---|---|")
    for name, values in wholes.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"| {name} | {min(walls):.2f}-{max(walls):.2f} | {min(cpus):.2f}-{max(cpus):.2f} | "
              f"{min(walls) / base:.2f}-{max(walls) / base:.2f} |")  # fmt: skip
    print("\n| part | thread | from s | to s | CPU s |\n|---|---|---|---|---|")
    for name, thread, start, end, cpu in timeline(db):
        print(f"| {name} | {thread} | {start:.2f} | {end:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
