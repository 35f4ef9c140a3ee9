"""Benchmark: the deadline and hedge parsers grow linearly with their input, even hostile input.

parse_deadline and probability_from_phrase refuse more than 300 characters before any work, so
the public functions take the same time on 100 MB as on 301 characters. To show that the
patterns themselves are linear, this times what runs after that check (deadlines'
`deadline_from_wording`, hedges' `normalise_phrase` and the scale lookup) on inputs of n, 2n, 4n,
8n, 16n characters built to make backtracking patterns slow, and prints each time as a ratio to
the previous one: linear is 2.0. The baseline, in the same run, is the implementation before
issue 9 (read from git at commit f025248), at sizes small enough to finish.

Usage:  python benchmarks/parsers.py [--n 50000] [--baseline-n 1000]
Prints Markdown tables for docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
import types
from pathlib import Path

from predictions import deadlines, hedges

MADE = dt.date(2026, 5, 15)
BEFORE = "f025248"  # main before the parsers were made linear

DEADLINE_INPUTS = {
    "within + 'to'×k": lambda n: "within " + "to" * (n // 2),  # cubic before: 32 KB took minutes
    "within + 'to'×k + months": lambda n: "within " + "to" * (n // 2) + " months",
    "within 1 + ' to 1'×k": lambda n: "within 1" + " to 1" * (n // 5),
    "within + 'a '×k + days": lambda n: "within " + "a " * (n // 2) + "days",
    "digits + days": lambda n: "within " + "1" * n + " days",
    "by + 'the '×k + end of 2027": lambda n: "by " + "the " * (n // 4) + "end of 2027",
    "spaces + within 18 months": lambda n: " " * n + "within 18 months",
    "mid + '-'×k + 2027": lambda n: "mid" + "-" * n + "2027",
    "letters": lambda n: "a" * n,
}
PHRASE_INPUTS = {
    "spaces + x": lambda n: " " * n + "x",
    "x + spaces + x": lambda n: "x" + " " * n + "x",  # quadratic before: 100 KB took 38 s
    "x + '.,'×k + x": lambda n: "x" + ".," * (n // 2) + "x",
    "'(' ×k + likely + ')' ×k": lambda n: "(" * (n // 2) + "likely" + ")" * (n // 2),
    "'likely '×k": lambda n: "likely " * (n // 7),
    "'- '×k": lambda n: "- " * (n // 2),
}


def best_time(function, text: str, repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            function(text)
        except ValueError:  # every hostile input is refused; the time to refuse is what is measured
            pass
        best = min(best, time.perf_counter() - started)
    return best


def growth(function, inputs: dict, n: int, steps: int = 5) -> list[tuple[str, float, list[float]]]:
    rows = []
    for name, make in inputs.items():
        times = [best_time(function, make(n * 2**i)) for i in range(steps)]
        rows.append((name, times[0], [later / earlier for earlier, later in zip(times, times[1:])]))
    return rows


def old_module(path: str, name: str):
    """The module as it was at BEFORE, or None outside a git checkout."""
    try:
        source = subprocess.run(["git", "show", f"{BEFORE}:{path}"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).parent).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType(name)
    exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 (our own file, from our own history)
    return module


def table(title: str, n: int, rows) -> None:
    steps = len(rows[0][2])
    print(f"\n{title} (n = {n:,} characters; each ratio is the time at 2× the size over the time before)\n")
    sizes = ["n"] + [f"{2**i}n" for i in range(1, steps + 1)]
    print("| input | time at n | " + " | ".join(f"{sizes[i + 1]} / {sizes[i]}" for i in range(steps)) + " |")
    print("|---|---|" + "---|" * steps)
    for name, first, ratios in rows:
        print(f"| {name} | {first * 1e3:.2f} ms | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--baseline-n", type=int, default=1000)
    args = parser.parse_args()

    deadline = lambda text: deadlines.deadline_from_wording(text, MADE)  # noqa: E731
    phrase = lambda text: hedges.HEDGE_SCALE.get(hedges.normalise_phrase(text))  # noqa: E731
    table("parse_deadline after its length check", args.n, growth(deadline, DEADLINE_INPUTS, args.n))
    table("probability_from_phrase after its length check", args.n, growth(phrase, PHRASE_INPUTS, args.n))

    huge = "within " + "to" * 50_000_000  # 100 MB
    print("\nThe public functions on 100 MB (refused by length, first):\n")
    print("| call | time |\n|---|---|")
    print(f"| parse_deadline | {best_time(lambda t: deadlines.parse_deadline(t, MADE), huge) * 1e6:.1f} µs |")
    print(f"| probability_from_phrase | {best_time(hedges.probability_from_phrase, ' ' * 100_000_000) * 1e6:.1f} µs |")

    old_deadlines = old_module("predictions/deadlines.py", "old_deadlines")
    old_hedges = old_module("predictions/hedges.py", "old_hedges")
    if old_deadlines is None or old_hedges is None:
        print(f"\n(no baseline: commit {BEFORE} is not in this checkout)", file=sys.stderr)
        return
    old_deadline = lambda text: old_deadlines.parse_deadline(text, MADE)  # noqa: E731
    worst = {k: DEADLINE_INPUTS[k] for k in ("within + 'to'×k",)}
    table(f"Baseline: parse_deadline at {BEFORE}", args.baseline_n, growth(old_deadline, worst, args.baseline_n, 4))
    old_phrase = lambda text: old_hedges.HEDGE_SCALE.get(old_hedges.normalise_phrase(text))  # noqa: E731
    table(f"Baseline: probability_from_phrase at {BEFORE}", args.baseline_n * 2,
          growth(old_phrase, {"x + spaces + x": PHRASE_INPUTS["x + spaces + x"]}, args.baseline_n * 2, 4))


if __name__ == "__main__":
    main()
