"""Benchmark: reading a Fatebook CSV export of N forecasts, against importing the same forecasts
from the project's own JSON Lines.

The issue's target is `import --from fatebook` within 1.5x of the JSONL import of the same
forecasts; benchmarks/platform_import.py measures that, end to end. This measures one part of
it: the parser. Each measurement is a whole process, timed from start to exit, with its
peak memory; the baseline is measured in the same run:

  parse    `read_platform("fatebook", FILE)` read to the end (every row checked, questions built)
  import   `predictions --db NEW import data.jsonl` (the same forecasts, one record each)

Usage:  python benchmarks/platform_parse.py [--n 100000] [--per-question 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import measure  # noqa: E402  (how every benchmark measures a command)

HEADER = ("Question title,Multiple choice option,Forecast created by,Forecast (scale = 0-1),Forecast created at,"
          "Question created by,Question created at,Question resolve by,Resolution,Resolved at,"
          "Your Brier score for this question,Your relative Brier score for this question,Question notes,"
          "Question shared with,Question shared publicly,Question comments,Question tags")
PARSE = ("import sys; from predictions.platforms import read_platform; "
         "n = sum(len(q.forecasts) for q in read_platform('fatebook', sys.argv[1])); print(n)")


def fatebook_time(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}:{moment.second}"


def generate(csv_path: Path, jsonl_path: Path, n: int, per_question: int, seed: int = 20261201) -> None:
    """The same forecasts twice: as Fatebook writes them, and as the project's JSONL."""
    rng = random.Random(seed)
    names = ["Alice Example", "Bob Sample", "Carol Third"]
    start = dt.datetime(2022, 1, 1, 9, 0, 0)
    with open(csv_path, "w", encoding="utf-8") as csv_out, open(jsonl_path, "w", encoding="utf-8") as jsonl_out:
        csv_out.write(HEADER)
        for q in range(n // per_question):
            created = start + dt.timedelta(minutes=rng.randrange(1_000_000))
            deadline = created + dt.timedelta(days=rng.randrange(30, 400))
            resolution = rng.choice(["YES", "NO", ""])
            title = f'Will synthetic event {q} happen, "as described", by {deadline:%Y-%m-%d}?'
            notes = f"YES if event {q} is reported by the deadline; NO otherwise."
            for f in range(per_question):
                made = created + dt.timedelta(minutes=1 + f * rng.randrange(1, 5000))
                made = min(made, deadline)
                p = round(rng.random(), 2)
                who = names[f % len(names)]
                resolved = fatebook_time(deadline) if resolution else ""
                cells = ['"' + title.replace('"', '""') + '"', "", f'"{who}"', repr(p), fatebook_time(made),
                         '"Alice Example"', fatebook_time(created), fatebook_time(deadline),
                         f'"{resolution}"' if resolution else "", resolved, "", "", f'"{notes}"', '""', "false",
                         '""', '"synthetic"']
                csv_out.write("\n" + ",".join(cells))
                record = {"id": f"fb-{q:06d}-{f}", "source": who, "claim": title, "resolution_criteria": notes,
                          "made_on": made.date().isoformat(), "deadline": deadline.date().isoformat(),
                          "probability": p, "probability_basis": "stated", "tags": ["synthetic"],
                          "recorded_at": "2026-11-22T00:00:00Z"}
                if resolution:
                    record.update(outcome=resolution.lower(), resolved_on=deadline.date().isoformat(),
                                  evidence=f"Resolved {resolution} on Fatebook")
                jsonl_out.write(json.dumps(record) + "\n")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--per-question", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="parse runs (best time kept); the import runs once")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    predictions = shutil.which("predictions")
    if not predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-platform-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path, jsonl_path, ledger = work / "fatebook.csv", work / "data.jsonl", work / "ledger.db"
    print(f"generating {args.n:,} forecasts in {work} ...", file=sys.stderr)
    generate(csv_path, jsonl_path, args.n, args.per_question)
    read = subprocess.run([sys.executable, "-c", PARSE, str(csv_path)], capture_output=True, text=True, check=True)
    assert int(read.stdout) == args.n // args.per_question * args.per_question, read.stdout
    parse = [measure([sys.executable, "-c", PARSE, str(csv_path)]) for _ in range(args.runs)]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    imported = measure([predictions, "--db", str(ledger), "import", str(jsonl_path)])
    best = min(r[0] for r in parse), max(r[1] for r in parse)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"
    print(f"\nN = {args.n:,} forecasts on {args.n // args.per_question:,} questions; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; commit {commit}\n")
    print("| measurement | time | peak memory | ratio to the JSONL import |")
    print("|---|---|---|---|")
    print(f"| parse the Fatebook CSV (best of {args.runs}) | {best[0]:.2f} s | {best[1]:.0f} MB | {best[0] / imported[0]:.2f} |")
    print(f"| `predictions import data.jsonl` (baseline) | {imported[0]:.2f} s | {imported[1]:.0f} MB | 1.00 |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
