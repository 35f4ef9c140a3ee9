"""Benchmark: `predictions import --from PLATFORM` of a generated N-forecast export, end to end,
against `predictions import` of the same forecasts as the project's JSONL, in the same run.

The issue's target: the platform import within 1.5x of the JSONL import (issue 16), and every
command under 200 MB peak at 1M forecasts (issue 12). The JSONL holds exactly the records the
platform import writes (`platforms.records.to_records` of the parsed export, with the same
recorded_at), so both commands write the same rows and the ratio is the cost of reading the
platform's format and applying the re-import rules. Each measurement is a whole process, from
start to exit, into a new ledger, with its peak memory (the kernel's ru_maxrss); the two
alternate, `--runs` times each, and the best time of each is kept. With `--again`, a last row
times a second import of the same export into the loaded ledger (every forecast already there:
all skipped), against the same baseline. The exports are benchmarks/platform_files.py's:
`--per-question` forecasts on each of N / per-question questions.

Usage:  python benchmarks/platform_import.py [--platform fatebook|predictionbook|metaculus|manifold|all]
            [--n 100000] [--per-question 5] [--runs 2] [--again] [--predictions CMD] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from platform_files import WRITERS  # noqa: E402 (the synthetic exports)
from platform_parse import measure  # noqa: E402

RECORDED_AT = "2026-11-22T00:00:00.000000Z"


def write_own_jsonl(platform_name: str, paths: list[Path], jsonl_path: Path) -> int:
    """The records the platform import writes, as the project's own JSONL."""
    from predictions.platforms import read_platform
    from predictions.platforms.records import to_records

    count = 0
    with open(jsonl_path, "w", encoding="utf-8") as out:
        for _, record in to_records(read_platform(platform_name, paths)):
            out.write(json.dumps({**record, "recorded_at": RECORDED_AT}) + "\n")
            count += 1
    return count


def fresh(ledger: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    return ledger


def bench(predictions: list[str], name: str, work: Path, args) -> list[str]:
    """The table rows of one platform."""
    print(f"generating {args.n:,} forecasts for {name} in {work} ...", file=sys.stderr)
    jsonl_path, ledger = work / "data.jsonl", work / "ledger.db"
    # In a process of its own: a child's peak counts the pages it was forked with, so this
    # process stays small (a JSON export parsed here would add its size to every measurement).
    prepared = subprocess.run([sys.executable, __file__, "--prepare", name, str(args.n), str(args.per_question),
                               str(work)], check=True, capture_output=True, text=True).stdout.split()
    count, paths = int(prepared[0]), [Path(p) for p in prepared[1:]]
    files = [str(p) for p in paths]
    platform_runs, jsonl_runs = [], []
    for _ in range(args.runs):
        jsonl_runs.append(measure([*predictions, "--db", str(fresh(ledger)), "import", str(jsonl_path)]))
        platform_runs.append(measure([*predictions, "--db", str(fresh(ledger)), "import", "--from", name, *files]))
    baseline = min(r[0] for r in jsonl_runs)
    best = min(r[0] for r in platform_runs)
    shape = f"{count:,} on {max(1, args.n // args.per_question):,} questions"
    rows = [f"| {name} | {shape} | {baseline:.1f} s, {max(r[1] for r in jsonl_runs):.0f} MB | {best:.1f} s, "
            f"{max(r[1] for r in platform_runs):.0f} MB | {best / baseline:.2f} |"]
    if args.again:
        again = measure([*predictions, "--db", str(ledger), "import", "--from", name, *files])
        rows.append(f"| {name}, the same export again (all skipped) | {shape} | | {again[0]:.1f} s, {again[1]:.0f} MB | "
                    f"{again[0] / baseline:.2f} |")
    for path in [*paths, jsonl_path]:
        path.unlink()
    return rows


def prepare(name: str, n: int, per_question: int, work: Path) -> None:
    paths = WRITERS[name](work, n, per_question)
    print(write_own_jsonl(name, paths, work / "data.jsonl"), *paths)


def main() -> None:
    if sys.argv[1:2] == ["--prepare"]:
        name, n, per_question, work = sys.argv[2:6]
        return prepare(name, int(n), int(per_question), Path(work))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=[*WRITERS, "all"], default="fatebook")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--per-question", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2, help="runs of each import (best time kept)")
    parser.add_argument("--again", action="store_true", help="also time a re-import of the same export")
    parser.add_argument("--predictions", default=shutil.which("predictions"),
                        help="the command to measure (default: `predictions` on PATH)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if not args.predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-platform-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    names = list(WRITERS) if args.platform == "all" else [args.platform]
    rows = []
    for name in names:
        rows += bench(args.predictions.split(), name, work, args)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"
    print(f"\nN = {args.n:,} forecasts, {args.per_question} a question; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; commit {commit}; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print(f"this process's own peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (each "
          "measured command starts from a copy of it)")
    print(f"| platform | forecasts | `import data.jsonl` (baseline; best of {args.runs}, peak) | "
          "`import --from PLATFORM` | time ratio |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
