"""Benchmark: `predictions import` of the same N forecasts as JSON Lines, a JSON array and CSV.

The JSONL file is generated as in import_and_score.py and imported; that ledger is exported as
.json and .csv, and each is imported into a new ledger. Each import is a whole process, timed
from start to exit, its peak memory read from the kernel (os.wait4's ru_maxrss). The baseline is
the JSONL import of the same run: JSON and CSV are given as ratios to it. All three ledgers must
end with the same chain head (every record carries its recorded_at), which is checked.

Usage:  python benchmarks/import_formats.py [--n 1000000] [--workdir DIR]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    predictions = shutil.which("predictions")
    if not predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-formats-"))
    work.mkdir(parents=True, exist_ok=True)
    data = {fmt: work / f"data.{fmt}" for fmt in ("jsonl", "json", "csv")}
    ledgers = {fmt: work / f"{fmt}.db" for fmt in data}
    for ledger in ledgers.values():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger}{suffix}").unlink(missing_ok=True)

    print(f"generating {args.n:,} forecasts in {work} ...", file=sys.stderr)
    generate(data["jsonl"], args.n, args.sources)
    results = {}
    print("import jsonl ...", file=sys.stderr)
    results["jsonl"] = measure([predictions, "--db", str(ledgers["jsonl"]), "import", str(data["jsonl"])])
    for fmt in ("json", "csv"):
        print(f"export {fmt} ...", file=sys.stderr)
        measure([predictions, "--db", str(ledgers["jsonl"]), "export", "--format", fmt, "-o", str(data[fmt])])
        print(f"import {fmt} ...", file=sys.stderr)
        results[fmt] = measure([predictions, "--db", str(ledgers[fmt]), "import", str(data[fmt])])

    heads = set()
    for fmt, ledger in ledgers.items():
        with sqlite3.connect(ledger) as conn:
            count = conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]
            heads.add(conn.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()[0])
        assert count == args.n, f"{fmt}: expected {args.n} forecasts, found {count}"
    assert len(heads) == 1, f"the three imports ended with different chain heads: {heads}"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
    print(f"\nN = {args.n:,} forecasts; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; commit {commit}; "
          "the three ledgers end with the same chain head\n")  # fmt: skip
    base = results["jsonl"][0]
    print("| import of | file size | time | ratio (time / JSONL's) | peak memory |")
    print("|---|---|---|---|---|")
    for fmt, (seconds, peak) in results.items():
        print(f"| {fmt} | {data[fmt].stat().st_size / 1e6:.0f} MB | {seconds:.2f} s | {seconds / base:.2f} | {peak:.0f} MB |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
