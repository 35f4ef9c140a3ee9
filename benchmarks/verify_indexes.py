"""Benchmark: `verify` on N synthetic forecasts with every index, with indexes dropped, and the
share of SQLite's own integrity check in it (issue 9, classes 3 and 8).

Each measurement is a whole process (wall time, peak RSS from os.wait4), on copies of one ledger
made in the same run, so the ratios compare like with like:

  verify, every index                    the baseline
  verify, resolutions_forecast dropped   was quadratic (>300 s at 200k); now about 1x
  verify, every secondary index dropped  likewise
  PRAGMA integrity_check / quick_check   alone, in Python's sqlite3: what step 2 of verify costs
  export, every index / index dropped    the latter stops at once with one line

Usage:  python benchmarks/verify_indexes.py [--n 200000] [--workdir DIR] [--reuse]
Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure  # noqa: E402

SECONDARY = ("forecast_tags_tag", "forecasts_deadline", "forecasts_document", "forecasts_source",
             "forecasts_unscored", "resolutions_forecast")  # fmt: skip
PRAGMA = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()[:1])"


def run(command: list[str], expect: int = 0) -> tuple[float, float]:
    """measure(), allowing the exit code a damaged ledger gives."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != expect:
        sys.exit(f"{' '.join(command)} exited {code}, not {expect}:\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the ledger already in --workdir")
    args = parser.parse_args()
    predictions = shutil.which("predictions")
    if not predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-verify-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data, ledger = work / "data.jsonl", work / "ledger.db"
    if not (args.reuse and ledger.exists()):
        print(f"generating and importing {args.n:,} forecasts in {work} ...", file=sys.stderr)
        generate(data, args.n, 500)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger}{suffix}").unlink(missing_ok=True)
        measure([predictions, "--db", str(ledger), "import", str(data)])
    with sqlite3.connect(ledger) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def copy(name: str, drop: tuple[str, ...]) -> Path:
        target = work / name
        shutil.copyfile(ledger, target)
        conn = sqlite3.connect(target)
        for index in drop:
            conn.execute(f"DROP INDEX {index}")
        conn.commit()
        conn.close()
        return target

    one, every = copy("no-history-index.db", ("resolutions_forecast",)), copy("no-indexes.db", SECONDARY)
    rows = []
    print("verify ...", file=sys.stderr)
    base = run([predictions, "--db", str(ledger), "verify"])
    rows.append(("verify, every index", base, base))
    rows.append(("verify, resolutions_forecast dropped", run([predictions, "--db", str(one), "verify"], 1), base))
    rows.append(("verify, all six secondary indexes dropped", run([predictions, "--db", str(every), "verify"], 1), base))
    for pragma in ("PRAGMA integrity_check(20)", "PRAGMA quick_check(20)"):
        rows.append((f"`{pragma}` alone", run([sys.executable, "-c", PRAGMA, str(ledger), pragma]), base))
    print("export ...", file=sys.stderr)
    export = run([predictions, "--db", str(ledger), "export", "-o", str(work / "out.jsonl")])
    rows.append(("export, every index", export, export))
    rows.append(("export, resolutions_forecast dropped (refuses at once)",
                 run([predictions, "--db", str(one), "export", "-o", str(work / "out2.jsonl")], 1), export))  # fmt: skip

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
    print(f"\nN = {args.n:,} forecasts (each resolved), ledger {ledger.stat().st_size / 1e6:.0f} MB; Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; commit {commit}; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| measurement | time | ratio (to the first row of its group) | peak memory |")
    print("|---|---|---|---|")
    for name, (seconds, mb), (base_seconds, _) in rows:
        print(f"| {name} | {seconds:.2f} s | {seconds / base_seconds:.2f} | {mb:.0f} MB |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
