"""Benchmark: the five speed goals of issue 12, each against its floor, in one run.

Every measurement is a whole process, timed from start to exit, its peak resident memory read
from the kernel (os.wait4's ru_maxrss); each baseline runs in the same run on the same files, so
the ratios hold on a loaded machine where single times do not.

  import, new ledger       `predictions import a.jsonl` into no file   vs  `sqlite-utils insert` of
                           a.jsonl into a new bare table (goal <= 1.25x)
  import, existing ledger  `predictions import b.jsonl` into that ledger of N  vs  `sqlite-utils
                           insert` of b.jsonl into that bare table of N (reported separately)
  score                    `predictions score --by source --json`  vs  the bare weighted GROUP BY
                           over the `scored` view in Python's sqlite3 (goal <= 1.1x)
  verify                   `predictions verify`  vs  its floor: a bare Python loop over the same file
                           reading every entry's payload and recomputing the SHA-256 chain (<= 4x)
  start-up                 `predictions --db SMALL list` on 100 forecasts  vs  `sqlite-utils --help`
                           (goal <= 0.65x; the median of --startup-runs interleaved pairs)
  memory                   every command above under 200 MB peak

Each ratio is of wall times (the goals'); the ratio of CPU times (user + system, from the same
os.wait4) is printed beside it, since on a shared machine it moves much less with the load.

Usage:  python benchmarks/goals.py [--n 1000000] [--repeat 2] [--workdir DIR]
(with `predictions` and `sqlite-utils` on PATH: PATH=$PWD/.venv/bin:$PATH). --repeat measures
everything that many times, interleaved, and prints each ratio's range. Prints a Markdown table
for docs/performance.md; --json prints the figures as JSON instead (the smoke test reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure_cpu as measure  # noqa: E402  (the same synthetic records as every benchmark)

LIMIT_MB = 200
GOALS = {"import into a new ledger": 1.25, "score": 1.1, "verify": 4.0, "start-up": 0.65}

BARE_SCORE = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "rows = c.execute('SELECT source, sum(weight), sum(weight * (probability - outcome) * (probability - outcome)) "
    "FROM scored GROUP BY source').fetchall(); print(len(rows))"
)
# The floor of verify: read every entry's payload in chain order and recompute the chain's hashes
# (chain.chain_hash's definition), comparing each with the stored one. Nothing else is checked.
VERIFY_FLOOR = """
import hashlib, sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
prev = "0" * 64
for payload, stored in conn.execute("SELECT payload, hash FROM entries ORDER BY seq"):
    prev = hashlib.sha256(f"{prev}\\n{payload}".encode("utf-8")).hexdigest()
    if prev != stored:
        sys.exit("chain broken")
print(prev)
"""



def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_once(tools: dict[str, str], work: Path, startup_runs: int) -> dict[str, tuple]:
    """One measurement of every goal: {goal: ((ours s, ours MB), (floor s, floor MB))}."""
    ours, su = tools["predictions"], tools["sqlite-utils"]
    ledger, bare = work / "ledger.db", work / "bare.db"
    a, b, small_data, small = work / "a.jsonl", work / "b.jsonl", work / "small.jsonl", work / "small.db"
    remove_db(ledger)
    remove_db(bare)
    found = {}
    found["import into a new ledger"] = (
        measure([ours, "--db", str(ledger), "import", str(a)]),
        measure([su, "insert", str(bare), "forecasts", str(a), "--nl"]),
    )
    # Scored and verified at N, before the second import doubles the ledger.
    found["score"] = (
        measure([ours, "--db", str(ledger), "score", "--by", "source", "--json"]),
        measure([sys.executable, "-c", BARE_SCORE, str(ledger)]),
    )
    found["verify"] = (
        measure([ours, "--db", str(ledger), "verify"]),
        measure([sys.executable, "-c", VERIFY_FLOOR, str(ledger)]),
    )
    found["import into an existing ledger of N"] = (
        measure([ours, "--db", str(ledger), "import", str(b)]),
        measure([su, "insert", str(bare), "forecasts", str(b), "--nl"]),
    )
    if not small.exists():
        measure([ours, "--db", str(small), "import", str(small_data)])
    pairs = [(measure([ours, "--db", str(small), "list"]), measure([su, "--help"])) for _ in range(startup_runs)]
    found["start-up"] = tuple(
        (statistics.median(p[i][0] for p in pairs), max(p[i][1] for p in pairs), statistics.median(p[i][2] for p in pairs))
        for i in (0, 1)
    )  # fmt: skip
    remove_db(ledger)
    remove_db(bare)
    return found


def summary(runs: list[dict[str, tuple]]) -> dict[str, dict]:
    """Per goal: the ratio of every run, the times of the last run and the highest peaks."""
    table = {}
    for goal in runs[0]:
        ratios = [run[goal][0][0] / run[goal][1][0] for run in runs]
        table[goal] = {
            "ratios": ratios,
            "cpu_ratios": [run[goal][0][2] / max(run[goal][1][2], 1e-9) for run in runs],
            "ours_s": [run[goal][0][0] for run in runs],
            "floor_s": [run[goal][1][0] for run in runs],
            "ours_mb": max(run[goal][0][1] for run in runs),
            "floor_mb": max(run[goal][1][1] for run in runs),
            "goal": GOALS.get(goal),
        }
    return table


FLOORS = {
    "import into a new ledger": "sqlite-utils insert (new table)",
    "import into an existing ledger of N": "sqlite-utils insert (table of N)",
    "score": "bare weighted GROUP BY",
    "verify": "bare SHA-256 chain loop",
    "start-up": "sqlite-utils --help",
}


def markdown(table: dict[str, dict], header: str) -> str:
    lines = [header, "",
             "| goal | predictions | floor | ratio | goal | CPU-time ratio | peak memory, ours / floor |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for goal, row in table.items():
        low, high = min(row["ratios"]), max(row["ratios"])
        ratio = f"{low:.2f}" if len(row["ratios"]) == 1 else f"{low:.2f}–{high:.2f}"
        met = "" if row["goal"] is None else (f"≤ {row['goal']}×: " + ("met" if high <= row["goal"] else "missed"))
        times = lambda values: " / ".join(f"{v:.2f}" if v < 10 else f"{v:.1f}" for v in values) + " s"  # noqa: E731
        memory = f"{row['ours_mb']:.0f} / {row['floor_mb']:.0f} MB" + ("" if row["ours_mb"] < LIMIT_MB else " (over 200)")
        cpu = "–".join(f"{r:.2f}" for r in sorted({min(row["cpu_ratios"]), max(row["cpu_ratios"])}))
        lines.append(f"| {goal} | {times(row['ours_s'])} | {FLOORS[goal]}: {times(row['floor_s'])} | {ratio} | "
                     f"{met} | {cpu} | {memory} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2, help="measure every goal this many times (default 2)")
    parser.add_argument("--startup-runs", type=int, default=15, help="start-up pairs per repeat (median kept)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    tools = {name: shutil.which(name) for name in ("predictions", "sqlite-utils")}
    if not all(tools.values()):
        sys.exit("needs the `predictions` and `sqlite-utils` commands on PATH (PATH=$PWD/.venv/bin:$PATH)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-goals-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.n:,} + {args.n:,} forecasts in {work} ...", file=sys.stderr)
    generate(work / "a.jsonl", args.n, args.sources)
    generate(work / "b.jsonl", args.n, args.sources, seed=20261123, prefix="more")
    generate(work / "small.jsonl", 100, 10, seed=1, prefix="small")
    remove_db(work / "small.db")
    runs = []
    for number in range(args.repeat):
        print(f"run {number + 1} of {args.repeat} ...", file=sys.stderr)
        runs.append(run_once(tools, work, args.startup_runs))
    table = summary(runs)
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(markdown(table, f"N = {args.n:,} forecasts over {args.sources} sources, {args.repeat} runs; commit {commit}; "
                              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
                              f"load average at the end {load}"))  # fmt: skip
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
