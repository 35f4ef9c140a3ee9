"""Benchmark: the import with and without the validating thread (importing.PIPELINE), in process.

Imports the same synthetic file (import_and_score.generate) into a new ledger (and, with
--existing, into a ledger already holding another such file) once per variant, interleaved,
`--runs` times. The baseline is the import before the thread: one thread (importing.PIPELINE
off), writer.MULTIROW rows a statement. The others: for each number of rows a statement of
--rows, one thread, and the thread with each GIL switch interval of --intervals
(pipeline.SWITCH_INTERVAL while it runs; 5 ms is Python's default, so unchanged).
For each: the wall times, their median's and best's ratio to the baseline's (on a loaded machine
the best is the nearest to a quiet one), the wall time less the time the writing thread waited,
runnable, for a CPU (Linux's /proc/thread-self/schedstat: what other processes' load added to
its critical path; for the thread variants still pessimistic, since the validating thread's own
waits for a CPU can hold the GIL the writing thread waits for), the process's CPU time, and the
writing thread's own CPU time (time.thread_time). Medians; every variant must write the same
chain head.

--processes measures whole processes instead: `predictions import` with the thread and without
it, and `sqlite-utils insert` of the same file, interleaved, each round's ratios (wall and CPU
from the kernel, as benchmarks/goals.py measures them).

Usage:  python benchmarks/import_pipeline.py [--n 100000] [--runs 2] [--intervals 5,0.5] [--rows 250,2000]
                                             [--existing] [--processes] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))
from predictions import Ledger, importing, pipeline, writer  # noqa: E402
from predictions.io import read_records  # noqa: E402

STAMP = "2026-11-22T00:00:00Z"


def _queued() -> float:
    """Seconds this thread has waited, runnable, for a CPU (Linux's schedstat; 0 where there is none)."""
    try:
        with open("/proc/thread-self/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _import(records: Path, db: Path) -> tuple[float, float, float, float, str]:
    """(wall, CPU of the process, CPU of this thread, this thread's wall less its waits for a CPU,
    the chain head) of one import."""
    wall, cpu, own, queued = time.perf_counter(), time.process_time(), time.thread_time(), _queued()
    with Ledger(db) as ledger:
        head = ledger.import_records(read_records(records), recorded_at=STAMP).head
    wall = time.perf_counter() - wall
    return wall, time.process_time() - cpu, time.thread_time() - own, wall - (_queued() - queued), head


# `predictions` as a whole process, with the thread on or off (the same start-up for both)
_COMMAND = (
    "import sys\nfrom predictions import importing\nimporting.PIPELINE = {on}\n"
    "from predictions_cli.main import cli\nsys.argv[0] = 'predictions'\nsys.exit(cli())"
)


def _processes(records: Path, work: Path, n: int, runs: int) -> None:
    """--processes: `predictions import` with the thread, without it, and `sqlite-utils insert`
    of the same file, as whole processes, interleaved (benchmarks/goals.py's first goal, with the
    one-thread import in the same rounds)."""
    from import_and_score import measure_cpu

    commands = {
        "predictions import, the thread": [sys.executable, "-c", _COMMAND.format(on=True)],
        "predictions import, one thread": [sys.executable, "-c", _COMMAND.format(on=False)],
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in (*commands, "sqlite-utils insert")}
    sqlite_utils = shutil.which("sqlite-utils") or sys.exit("needs `sqlite-utils` on PATH")
    for _ in range(runs):
        for name in results:
            db = work / "process.db"
            for leftover in work.glob("process.db*"):
                leftover.unlink()
            if name in commands:
                command = [*commands[name], "--db", str(db), "import", str(records)]
            else:
                command = [sqlite_utils, "insert", str(db), "forecasts", str(records), "--nl"]
            results[name].append(measure_cpu(command))
    floor = results["sqlite-utils insert"]
    print(f"\n| {n:,} records, whole processes, {runs} rounds | wall s | CPU s | "
          "wall ratio to sqlite-utils, each round | wall ratio to one thread, each round | peak MB |")
    print("|---|---|---|---|---|---|")
    for name, values in results.items():
        walls = " / ".join(f"{wall:.2f}" for wall, _, _ in values)
        cpus = " / ".join(f"{cpu:.2f}" for _, _, cpu in values)
        to_floor = " / ".join(f"{v[0] / f[0]:.2f}" for v, f in zip(values, floor))
        to_one = " / ".join(f"{v[0] / o[0]:.2f}" for v, o in zip(values, results["predictions import, one thread"]))
        print(f"| {name} | {walls} | {cpus} | {to_floor} | {to_one} | {max(v[1] for v in values):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--intervals", default="5,0.5", help="switch intervals in ms to try with the thread")
    parser.add_argument("--rows", default=str(writer.MULTIROW), help="rows a statement to try (writer.MULTIROW)")
    parser.add_argument("--existing", action="store_true", help="also import into a ledger of N")
    parser.add_argument("--processes", action="store_true",
                        help="instead: whole processes, with and without the thread, against sqlite-utils insert")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    variants: dict[str, tuple[bool, float, int]] = {
        f"one thread, {writer.MULTIROW} rows a statement (baseline)": (False, pipeline.SWITCH_INTERVAL, writer.MULTIROW),
    }
    for rows in (int(r) for r in args.rows.split(",")):
        if rows != writer.MULTIROW:
            variants[f"one thread, {rows} rows a statement"] = (False, pipeline.SWITCH_INTERVAL, rows)
        for ms in args.intervals.split(","):
            variants[f"validating thread, {ms} ms switch interval, {rows} rows a statement"] = (True, float(ms) / 1000, rows)
    baseline = next(iter(variants))
    work = Path(tempfile.mkdtemp(dir=args.workdir))
    try:
        records, other = work / "a.jsonl", work / "b.jsonl"
        generate(records, args.n, sources=500)
        if args.processes:
            return _processes(records, work, args.n, args.runs)
        targets = {"new ledger": None}
        if args.existing:
            generate(other, args.n, sources=500, prefix="b")
            base = work / "base.db"
            with Ledger(base) as ledger:
                ledger.import_records(read_records(other), recorded_at=STAMP)
            targets[f"ledger of {args.n:,}"] = base
        saved = importing.PIPELINE, pipeline.SWITCH_INTERVAL, writer.MULTIROW
        for target, base in targets.items():
            wall: dict[str, list[float]] = {name: [] for name in variants}
            cpu: dict[str, list[float]] = {name: [] for name in variants}
            own: dict[str, list[float]] = {name: [] for name in variants}
            unqueued: dict[str, list[float]] = {name: [] for name in variants}
            heads = set()
            for run in range(args.runs):
                for k, (name, setting) in enumerate(variants.items()):
                    db = work / f"{run}-{k}.db"
                    if base is not None:
                        shutil.copyfile(base, db)
                    importing.PIPELINE, pipeline.SWITCH_INTERVAL, writer.MULTIROW = setting
                    try:
                        seconds, cpu_seconds, own_seconds, unqueued_seconds, head = _import(records, db)
                    finally:
                        importing.PIPELINE, pipeline.SWITCH_INTERVAL, writer.MULTIROW = saved
                        db.unlink()
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
                    own[name].append(own_seconds)
                    unqueued[name].append(unqueued_seconds)
                    heads.add(head)
            assert len(heads) == 1, "a variant wrote another chain"
            w0, c0 = statistics.median(wall[baseline]), statistics.median(cpu[baseline])
            b0, u0 = min(wall[baseline]), statistics.median(unqueued[baseline])
            print(f"\n| import of {args.n:,} records into a {target}, {args.runs} runs | wall s | median ratio "
                  "| best ratio | wall less queueing s | ratio | CPU s | ratio | writing thread's CPU s | ratio |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for name in variants:
                w, c, o, u = (statistics.median(values[name]) for values in (wall, cpu, own, unqueued))
                spread = " / ".join(f"{x:.2f}" for x in wall[name])
                print(f"| {name} | {spread} | {w / w0:.3f} | {min(wall[name]) / b0:.3f} | {u:.2f} | {u / u0:.3f} "
                      f"| {c:.2f} | {c / c0:.3f} | {o:.2f} | {o / c0:.3f} |")
            print(f"\nthe same chain head in every run: {heads.pop()}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
