"""Benchmark: `predictions import --from fatebook` of a generated N-forecast Fatebook CSV, end to
end, against `predictions import` of the same forecasts as the project's JSONL, in the same run.

The issue's target: the platform import within 1.5x of the JSONL import. The JSONL holds exactly
the records the platform import writes (`platforms.records.to_records` of the parsed CSV, with
the same recorded_at), so both commands write the same rows and the ratio is the cost of reading
the platform's format and applying the re-import rules. Each measurement is a whole process, from
start to exit, into a new ledger, with its peak memory; the two alternate, `--runs` times each,
and the best time of each is kept. A last row times a second import of the same CSV into the
loaded ledger (every forecast already there: all skipped), against the same baseline.

Usage:  python benchmarks/platform_import.py [--n 100000] [--per-question 5] [--runs 2] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from platform_parse import generate, measure  # noqa: E402 (the same synthetic Fatebook CSV)

RECORDED_AT = "2026-11-22T00:00:00.000000Z"


def write_own_jsonl(csv_path: Path, jsonl_path: Path) -> int:
    """The records the platform import writes, as the project's own JSONL."""
    from predictions.platforms import read_platform
    from predictions.platforms.records import to_records

    count = 0
    with open(jsonl_path, "w", encoding="utf-8") as out:
        for _, record in to_records(read_platform("fatebook", csv_path)):
            out.write(json.dumps({**record, "recorded_at": RECORDED_AT}) + "\n")
            count += 1
    return count


def fresh(ledger: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--per-question", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2, help="runs of each import (best time kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    predictions = shutil.which("predictions")
    if not predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-platform-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path, jsonl_path, ledger = work / "fatebook.csv", work / "data.jsonl", work / "ledger.db"
    print(f"generating {args.n:,} forecasts in {work} ...", file=sys.stderr)
    generate(csv_path, work / "unused.jsonl", args.n, args.per_question)
    count = write_own_jsonl(csv_path, jsonl_path)
    platform_runs, jsonl_runs = [], []
    for _ in range(args.runs):
        jsonl_runs.append(measure([predictions, "--db", str(fresh(ledger)), "import", str(jsonl_path)]))
        platform_runs.append(measure([predictions, "--db", str(fresh(ledger)), "import", "--from", "fatebook", str(csv_path)]))
    again = measure([predictions, "--db", str(ledger), "import", "--from", "fatebook", str(csv_path)])
    with_counts = subprocess.run([predictions, "--db", str(ledger), "import", "--from", "fatebook", str(csv_path), "--json"],
                                 capture_output=True, text=True, check=True)  # fmt: skip
    summary = json.loads(with_counts.stdout)
    assert (summary["forecasts"], summary["skipped_existing"]) == (0, count), summary
    baseline = min(r[0] for r in jsonl_runs)
    best_platform = min(r[0] for r in platform_runs)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"
    print(f"\nN = {count:,} forecasts on {args.n // args.per_question:,} questions; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; commit {commit}; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| measurement | time (best of %d) | peak memory | ratio to the JSONL import |" % args.runs)
    print("|---|---|---|---|")
    print(f"| `predictions import data.jsonl` (baseline) | {baseline:.2f} s | {max(r[1] for r in jsonl_runs):.0f} MB | 1.00 |")
    print(f"| `predictions import --from fatebook fatebook.csv` | {best_platform:.2f} s | "
          f"{max(r[1] for r in platform_runs):.0f} MB | {best_platform / baseline:.2f} |")
    print(f"| the same CSV again (all {count:,} skipped; one run) | {again[0]:.2f} s | {again[1]:.0f} MB | "
          f"{again[0] / baseline:.2f} |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
