"""Benchmark: import and scoring of N synthetic resolved forecasts over 500 sources.

Each measurement is a whole process, timed from start to exit, with its peak memory read from
the kernel (os.wait4's ru_maxrss). Baselines are measured in the same run, on the same file:

  import   `predictions import data.jsonl`  vs  `sqlite-utils insert bare.db forecasts data.jsonl --nl`
  score    `predictions score --by source --json`  vs  the bare GROUP BY over the `scored` view
           in Python's sqlite3 (count and mean squared error per source)

Usage:  python benchmarks/import_and_score.py [--n 1000000] [--sources 500] [--workdir DIR] [--reuse]
Prints a Markdown table for docs/performance.md. --reuse keeps the data and ledgers already in
--workdir and measures only the scoring (for iterating on it; record figures from a full run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_SCORE = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "rows = c.execute('SELECT source, count(*), avg((probability - outcome) * (probability - outcome)) "
    "FROM scored GROUP BY source').fetchall(); print(len(rows))"
)


def generate(
    path: Path, n: int, sources: int, seed: int = 20261122, unresolved: float = 0.0, *, prefix: str = "bench"
) -> None:
    """Resolved forecasts whose outcomes follow each source's own (mis)calibration; a share
    `unresolved` of them (none by default) left without an outcome, past their deadline; ids are
    `prefix`-NNNNNNN (a second file for the same ledger needs another prefix)."""
    rng = random.Random(seed)
    bias = [rng.uniform(-0.25, 0.25) for _ in range(sources)]
    start = dt.date(2020, 1, 1)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            s = rng.randrange(sources)
            p = round(rng.random(), 3)
            truth = min(1.0, max(0.0, p + bias[s]))
            made_on = start + dt.timedelta(days=rng.randrange(1500))
            deadline = made_on + dt.timedelta(days=rng.randrange(30, 700))
            record = {
                "id": f"{prefix}-{i:07d}",
                "source": f"Source {s:03d}",
                "claim": f"Synthetic claim number {i}",
                "resolution_criteria": "YES if the synthetic event happens by the deadline.",
                "made_on": made_on.isoformat(),
                "deadline": deadline.isoformat(),
                "probability": p,
                "probability_basis": "assigned",
                "outcome": "yes" if rng.random() < truth else "no",
                "resolved_on": deadline.isoformat(),  # resolved at the deadline: valid for yes and no
                "evidence": "synthetic",
                "recorded_at": "2026-11-22T00:00:00Z",
            }
            if unresolved and rng.random() < unresolved:
                for key in ("outcome", "resolved_on", "evidence"):
                    del record[key]
            out.write(json.dumps(record) + "\n")


def measure_cpu(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak resident MB, CPU seconds) of one process run to completion; a failure
    stops the run. CPU time (user + system) moves much less than wall time with the machine's load.
    Every benchmark measures its commands with this (or `measure`), so all figures mean the same."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"benchmark command failed ({code}): {' '.join(command)}\n{process.stderr.read().decode()}")
    process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # ru_maxrss is in KiB on Linux


def measure(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one process run to completion."""
    return measure_cpu(command, env=env)[:2]


def best_of(runs: int, command: list[str], prepare=None) -> tuple[float, float]:
    results = []
    for _ in range(runs):
        if prepare:
            prepare()
        results.append(measure(command))
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3, help="score runs per command (best time is kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="skip generating and importing (needs --workdir)")
    args = parser.parse_args()
    if args.reuse and args.workdir is None:
        parser.error("--reuse needs --workdir")

    predictions = shutil.which("predictions")
    sqlite_utils = shutil.which("sqlite-utils")
    if not predictions or not sqlite_utils:
        sys.exit("needs the `predictions` and `sqlite-utils` commands on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data, ledger, bare = work / "data.jsonl", work / "ledger.db", work / "bare.db"

    if not args.reuse:
        print(f"generating {args.n:,} forecasts over {args.sources} sources in {work} ...", file=sys.stderr)
        generate(data, args.n, args.sources)

    def fresh(*paths):
        def remove():
            for path in paths:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return remove

    ours_import = base_import = None
    if not args.reuse:
        print("import ...", file=sys.stderr)
        ours_import = best_of(1, [predictions, "--db", str(ledger), "import", str(data)], fresh(ledger))
        base_import = best_of(1, [sqlite_utils, "insert", str(bare), "forecasts", str(data), "--nl"], fresh(bare))
    print("score ...", file=sys.stderr)
    # Interleaved, so that both see the same page cache; best time and highest peak are kept.
    ours_runs, base_runs = [], []
    for _ in range(args.runs):
        ours_runs.append(measure([predictions, "--db", str(ledger), "score", "--by", "source", "--json"]))
        base_runs.append(measure([sys.executable, "-c", BARE_SCORE, str(ledger)]))
    ours_score = min(r[0] for r in ours_runs), max(r[1] for r in ours_runs)
    base_score = min(r[0] for r in base_runs), max(r[1] for r in base_runs)
    with sqlite3.connect(ledger) as conn:
        count = conn.execute("SELECT count(*) FROM scored").fetchone()[0]
    assert count == args.n, f"expected {args.n} scored rows, found {count}"

    size_mb = ledger.stat().st_size / 1e6
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
    print(f"\nN = {args.n:,} forecasts, {args.sources} sources; ledger {size_mb:.0f} MB; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
          f"{platform.machine()} {platform.system()}; commit {commit}\n")
    print("| measurement | predictions | baseline | ratio (ours / baseline) | peak memory, ours | peak memory, baseline |")
    print("|---|---|---|---|---|---|")
    for name, ours, base, what in (
        ("import", ours_import, base_import, "sqlite-utils insert"),
        ("score --by source --json", ours_score, base_score, "bare GROUP BY in sqlite3"),
    ):
        if ours is None:
            continue
        print(f"| {name} (vs {what}) | {ours[0]:.2f} s | {base[0]:.2f} s | {ours[0] / base[0]:.2f} | "
              f"{ours[1]:.0f} MB | {base[1]:.0f} MB |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
