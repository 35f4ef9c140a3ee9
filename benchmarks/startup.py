"""Start-up alone (issue 12), measured as benchmarks/goals.py measures it, without the 1M runs.

`predictions --db SMALL list` on the same 100 forecasts goals.py builds (seed 1, 10 sources),
against `sqlite-utils --help`, in interleaved rounds; prints the medians of wall and CPU time, their
ratios, and /proc/loadavg before and after (the wall ratio moves with the machine's load; the CPU
ratio much less). `python -c pass` is measured in the same pairs as the interpreter's own floor.

Bytecode matters here: with PYTHONDONTWRITEBYTECODE=1 in the environment and an editable install
(`pip install -e`, as README and CI install), no `__pycache__` is ever written for the package, so
every run compiles its source again, while sqlite-utils, installed by pip, has its bytecode.
`--bytecode` measures twice: as the package is (whatever `__pycache__` it has), then with its
bytecode compiled (`compileall` into `predictions/` and `cli/`, removed afterwards if this made it),
which is what a regular install, or any environment that writes bytecode, runs from its second start.

    PATH=$PWD/.venv/bin:$PATH .venv/bin/python benchmarks/startup.py --pairs 30 --bytecode
    # an earlier commit in the same rounds: git archive C predictions cli | tar -x -C T, T/predictions_cli
    # a link to T/cli, and a script T.py that puts T first on sys.path and runs predictions_cli.main.cli:
    ... benchmarks/startup.py --bytecode --before "python T.py" --before-tree T
    # a regular (non-editable) install in another venv, against that venv's sqlite-utils:
    .venv/bin/python benchmarks/startup.py --predictions V/bin/predictions --sqlite-utils "V/bin/python -m sqlite_utils"
"""

from __future__ import annotations

import argparse
import compileall
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure_cpu as measure  # noqa: E402


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pairs(commands: dict[str, list[str]], small: Path, count: int, label: str) -> None:
    """Each command once per round, interleaved, `count` rounds; medians of wall and CPU time."""
    before = loadavg()
    runs = {name: [] for name in commands}
    for _ in range(count):
        for name, command in commands.items():
            runs[name].append(measure([*command, "--db", str(small), "list"] if name.startswith("list") else command))
    after = loadavg()
    wall = {name: statistics.median(r[0] for r in found) for name, found in runs.items()}
    cpu = {name: statistics.median(r[2] for r in found) for name, found in runs.items()}
    print(f"{label}: {count} rounds; loadavg before {before}, after {after}")
    for name in commands:
        print(f"  {name:22} wall {wall[name] * 1000:6.1f} ms   cpu {cpu[name] * 1000:6.1f} ms")
    for name in commands:
        if name.startswith("list"):
            print(f"  ratio {name} / sqlite-utils --help: wall {wall[name] / wall['sqlite-utils --help']:.2f}x, "
                  f"cpu {cpu[name] / cpu['sqlite-utils --help']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30, help="interleaved rounds (median kept; default 30)")
    parser.add_argument("--predictions", default=shutil.which("predictions"), help="the command to time")
    parser.add_argument("--sqlite-utils", dest="su", default=shutil.which("sqlite-utils"), help="the floor's command")
    parser.add_argument("--bytecode", action="store_true", help="measure again with the package's bytecode compiled")
    parser.add_argument("--before", help="another predictions command (an earlier commit's) timed in the same rounds")
    parser.add_argument("--before-tree", type=Path, help="its source (holding predictions/ and cli/), compiled too with --bytecode")
    args = parser.parse_args()
    if not (args.predictions and args.su):
        sys.exit("needs the `predictions` and `sqlite-utils` commands on PATH (PATH=$PWD/.venv/bin:$PATH)")
    ours, su = shlex.split(args.predictions), shlex.split(args.su)
    commands = {"list": ours, "sqlite-utils --help": [*su, "--help"], "python -c pass": [sys.executable, "-c", "pass"]}
    if args.before:
        commands = {"list (before)": shlex.split(args.before), **commands}
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    with tempfile.TemporaryDirectory(prefix="predictions-startup-") as work:
        data, small = Path(work) / "small.jsonl", Path(work) / "small.db"
        generate(data, 100, 10, seed=1, prefix="small")
        subprocess.run([*ours, "--db", str(small), "import", str(data)], check=True, capture_output=True)
        pairs(commands, small, args.pairs, "as installed")
        if args.bytecode:
            trees = [Path(__file__).resolve().parent.parent] + ([args.before_tree] if args.before_tree else [])
            folders = [tree / name for tree in trees for name in ("predictions", "cli")]
            made = [d for d in folders if not (d / "__pycache__").exists()]
            try:
                for folder in folders:
                    compileall.compile_dir(folder, quiet=1)
                pairs(commands, small, args.pairs, "with the package's bytecode")
            finally:
                for folder in made:
                    for cache in folder.rglob("__pycache__"):
                        shutil.rmtree(cache)


if __name__ == "__main__":
    main()
