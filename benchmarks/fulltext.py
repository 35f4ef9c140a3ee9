"""Benchmark: what the full-text index (migration m005, predictions/fts.py) costs.

Each measurement is a whole process (wall time, and CPU time and peak RSS from os.wait4: on a
shared machine the CPU time is the steadier figure, and the ratio is of it) of the installed code; the
baseline, measured in the same run on the same records, is the same code with the index's upkeep
switched off (fts.index_since, fts.rebuild and verify's fts.problems made no-ops in that process):

  import into an empty ledger      the index built once at the end ('rebuild')   vs  no index
  import into a ledger with rows   the new rows indexed after each batch         vs  no index
  verify                           with the index check                           vs  without it
  m005 upgrade of an m004 ledger   (--upgrade-n, default 1,000,000)               vs  importing those records

The records are benchmarks/import_and_score.generate's, with the text of real forecasts: each
record takes the claim, quote, question and criteria of one of ledger.db.example's forecasts
(cycled, numbered), so the index holds as many words per row as real ledgers do (the synthetic
claims alone are four words).

Usage:  python benchmarks/fulltext.py [--n 100000] [--upgrade-n 1000000] [--rounds 2] [--workdir DIR]
Prints a Markdown table for docs/performance.md. --upgrade-n 0 skips the upgrade measurement.
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
from import_and_score import generate, measure_cpu as measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# A child process: the CLI with the index's upkeep off when NO_INDEX is set.
CHILD = """
import os, sys
from predictions import fts  # imported either way, so both children start alike
if os.environ.get("NO_INDEX"):
    fts.index_since = lambda conn, last: None
    fts.rebuild = lambda conn: None
    fts.problems = lambda conn, intact: iter(())
from predictions_cli.main import cli
sys.exit(cli.main(sys.argv[1:], standalone_mode=True))
"""
M004_SCORED = """CREATE VIEW scored AS
            SELECT f.id, f.question_id, f.source, f.probability, f.weight,
                   CASE q.outcome WHEN 'yes' THEN 1 ELSE 0 END AS outcome,
                   f.made_on, q.deadline, q.resolved_on, f.probability_basis, f.phrase, f.document_id
            FROM forecasts f JOIN questions q ON q.id = f.question_id
            WHERE q.outcome IN ('yes', 'no') AND f.weight > 0"""


def realistic(path: Path, n: int, prefix: str) -> None:
    """generate()'s records with the words of real forecasts."""
    conn = sqlite3.connect(ROOT / "ledger.db.example")
    texts = conn.execute("SELECT f.claim, f.quote, q.question, q.resolution_criteria FROM forecasts f "
                         "JOIN questions q ON q.id = f.question_id ORDER BY f.rowid").fetchall()  # fmt: skip
    conn.close()
    raw = path.with_suffix(".raw.jsonl")
    generate(raw, n, 500, prefix=prefix)
    with open(raw, encoding="utf-8") as source, open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(source):
            record = json.loads(line)
            claim, quote, question, criteria = texts[i % len(texts)]
            record.update(claim=f"{claim} ({i})", quote=quote, question=question, resolution_criteria=criteria)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    raw.unlink()



def cli(db: Path, *args: str, index: bool = True) -> tuple[float, float, float]:
    env = dict(os.environ)
    env.pop("NO_INDEX", None)
    if not index:
        env["NO_INDEX"] = "1"
    return measure([sys.executable, "-c", CHILD, "--db", str(db), *args], env=env)


def remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def to_m004(db: Path) -> None:
    """A ledger of this version without m005: what m004 made (the same tables, rows and chain)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    for index in ("forecasts_fts", "questions_fts"):
        conn.execute(f"DROP TABLE {index}")
    conn.execute("DROP VIEW forecast_status")
    conn.execute("DROP VIEW scored")
    conn.execute(M004_SCORED)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_full_text_and_status'")
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--upgrade-n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each import and verify (the median is kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-fts-"))
    work.mkdir(parents=True, exist_ok=True)
    data, more, db = work / "data.jsonl", work / "more.jsonl", work / "ledger.db"
    print(f"generating {args.n:,} records in {work} ...", file=sys.stderr)
    realistic(data, args.n, "bench")
    realistic(more, args.n, "more")

    rows: list[tuple[str, list, list]] = []
    empty = {True: [], False: []}
    filled = {True: [], False: []}
    verifies = {True: [], False: []}
    for round_ in range(args.rounds):
        for index in (False, True) if round_ % 2 == 0 else (True, False):  # alternated: same page cache
            print(f"round {round_ + 1}: import, index {'on' if index else 'off'} ...", file=sys.stderr)
            remove(db)
            empty[index].append(cli(db, "import", str(data), index=index))
            filled[index].append(cli(db, "import", str(more), index=index))
            if index:  # verify needs an index that is current
                verifies[True].append(cli(db, "verify", index=True))
                verifies[False].append(cli(db, "verify", index=False))
    rows.append((f"import {args.n:,} into an empty ledger", empty[True], empty[False]))
    rows.append((f"import {args.n:,} more into that ledger", filled[True], filled[False]))
    rows.append((f"verify ({2 * args.n:,} forecasts)", verifies[True], verifies[False]))

    if args.upgrade_n:
        big, big_data = work / "big.db", work / "big.jsonl"
        print(f"generating {args.upgrade_n:,} records ...", file=sys.stderr)
        realistic(big_data, args.upgrade_n, "big")
        remove(big)
        print("import without the index (the baseline), then the m005 upgrade ...", file=sys.stderr)
        imported = cli(big, "import", str(big_data), index=False)
        to_m004(big)
        upgraded = cli(big, "upgrade", index=True)
        with sqlite3.connect(big) as conn:  # the upgrade indexed every row
            indexed = conn.execute("SELECT count(*) FROM forecasts_fts_docsize").fetchone()[0]
        assert indexed == args.upgrade_n, indexed
        rows.append((f"m005 upgrade of an m004 ledger of {args.upgrade_n:,} (vs importing them)", [upgraded], [imported]))
        big_data.unlink()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or "unknown"  # fmt: skip
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nPython {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
          f"commit {commit}; {args.rounds} rounds (median); load average at the end {load}\n")
    print("| measurement | CPU, with the index | CPU, without | ratio | wall, with | wall, without | peak memory, with / without |")
    print("|---|---|---|---|---|---|---|")
    for name, on, off in rows:
        c_on, c_off = statistics.median(r[2] for r in on), statistics.median(r[2] for r in off)
        w_on, w_off = statistics.median(r[0] for r in on), statistics.median(r[0] for r in off)
        print(f"| {name} | {c_on:.2f} s | {c_off:.2f} s | {c_on / c_off:.2f} | {w_on:.2f} s | {w_off:.2f} s | "
              f"{max(r[1] for r in on):.0f} / {max(r[1] for r in off):.0f} MB |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
