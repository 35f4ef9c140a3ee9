"""Start-up: the package and the CLI import lazily, so a command loads only the modules it uses
(issue 12: `predictions list` on a small ledger must start fast). These check what is loaded, not
how long it takes; the time is measured by benchmarks/goals.py."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import predictions
from predictions_cli import main

SCRIPT = Path(sys.executable).with_name("predictions")
TODAY = "2026-11-22"


def test_every_public_name_resolves_to_its_module_object():
    for name in predictions.__all__:
        module, attribute = predictions._WHERE[name]
        assert getattr(predictions, name) is getattr(importlib.import_module(f"predictions.{module}"), attribute), name
    assert set(predictions.__all__) <= set(dir(predictions))
    assert len(set(predictions.__all__)) == len(predictions.__all__)


def test_star_import_and_from_import_give_every_public_name():
    namespace: dict = {}
    exec("from predictions import *", namespace)
    assert set(predictions.__all__) <= set(namespace)
    exec("from predictions import Ledger, SCORE_BY, EXPORT_FORMATS, REPORT_FORMATS", namespace)
    assert namespace["SCORE_BY"] == tuple(importlib.import_module("predictions.aggregate").GROUPINGS)
    assert namespace["EXPORT_FORMATS"] == ("jsonl", "json", "csv")


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        predictions.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from predictions import NoSuchThing", {})
    assert not hasattr(predictions, "_private_thing")


def test_the_command_table_names_every_command_in_its_module():
    """COMMAND_MODULES is what lets `predictions list` skip loading the other command modules; a
    command added to a module's COMMANDS but not to the table would be missing from the CLI."""
    folder = Path(main.__file__).parent
    found = {}
    for path in sorted(folder.glob("*.py")):
        module = importlib.import_module(f"predictions_cli.{path.stem}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = path.stem
    assert found == main.COMMAND_MODULES


def test_the_lazy_command_mapping_behaves_like_a_dict():
    commands = main.LazyCommands({"list": "browse"})
    assert "list" in commands and "nope" not in commands and list(commands) == ["list"] and len(commands) == 1
    assert commands["list"].name == "list" and commands.get("nope") is None
    import click

    extra = click.Command("extra")
    commands["extra"] = extra
    assert list(commands) == ["list", "extra"] and commands["extra"] is extra
    del commands["list"]
    assert list(commands) == ["extra"]
    with pytest.raises(KeyError):
        del commands["list"]


def test_main_help_still_lists_every_command_with_its_summary():
    result = CliRunner().invoke(main.cli, ["--help"], terminal_width=100)
    assert result.exit_code == 0
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == sorted(main.COMMAND_MODULES)
    for line in listed:  # each with the first words of its help
        name = line.split()[0]
        assert line.split(None, 1)[1][:20] in (main.cli.commands[name].help or "").replace("\n", " ")


def test_an_unknown_command_is_still_a_usage_error():
    result = CliRunner().invoke(main.cli, ["lsit"])
    assert result.exit_code == 2 and "No such command 'lsit'" in result.stderr


def _imported(*args: str, db: Path) -> set[str]:
    """The modules the installed command imports (PYTHONPROFILEIMPORTTIME lists them on stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")} | {"PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run([str(SCRIPT), "--db", str(db), "--today", TODAY, *args], capture_output=True, text=True,
                            env=env, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
def test_list_loads_neither_the_other_commands_nor_the_heavy_libraries(tmp_path):
    db = tmp_path / "ledger.db"
    from predictions import Ledger

    with Ledger(db) as ledger:
        ledger.add(source="S", claim="C", resolution_criteria="R", made_on="2026-01-01", deadline="2026-12-31",
                   probability=0.5)  # fmt: skip
    loaded = _imported("list", db=db)
    assert {"predictions_cli.browse", "predictions.store"} <= loaded  # the measurement sees the imports at all
    never = {"sqlite_utils", "matplotlib", "numpy", "dateutil", "tomllib",
             "predictions_cli.record", "predictions_cli.transfer", "predictions_cli.extract",
             "predictions_cli.integrity", "predictions_cli.scores",
             "predictions.extract", "predictions.seeds", "predictions.io", "predictions.report_formats",
             "predictions.charts", "predictions.report", "predictions.aggregate", "predictions.deadlines",
             # the write path and verify's own modules (imported where they are used)
             "predictions.importing", "predictions.writer", "predictions.fast_records", "predictions.fts",
             "predictions.schema_check", "predictions.scoring", "predictions.chain_scan",
             "ctypes", "tempfile",
             # output files (-o), the record checker and its phrase table, and shutil (with zlib, bz2
             # and lzma), which only sizing output to a terminal needs
             "predictions.files", "predictions.records", "predictions.hedges", "shutil", "zlib", "bz2", "lzma"}  # fmt: skip
    assert loaded & never == set()
    assert {"predictions_cli.integrity", "predictions.chain"} <= _imported("head", db=db)


def test_the_command_freezes_what_is_loaded_and_the_test_runner_does_not(tmp_path):
    """`predictions` (its script calls `cli()`) moves what is loaded before the command runs out of
    the collector's sight, so exit does not walk it again; CliRunner, which calls `cli.main`, and
    so the test process, is left alone."""
    db = tmp_path / "ledger.db"
    code = ("import gc, sys; from predictions_cli.main import cli\n"
            "try:\n    cli(['--db', sys.argv[1], '--today', '2026-11-22', 'list'])\n"
            "except SystemExit as exc:\n    print(exc.code, gc.get_freeze_count() > 1000)")  # fmt: skip
    from predictions import Ledger

    with Ledger(db) as ledger:
        ledger.add(source="S", claim="C", resolution_criteria="R", made_on="2026-01-01", deadline="2026-12-31",
                   probability=0.5)  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60)
    assert result.stdout.split()[-2:] == ["0", "True"], result.stderr
    assert "2026-12-31" in result.stdout  # the command ran and printed its list
    import gc

    frozen = gc.get_freeze_count()
    assert CliRunner().invoke(main.cli, ["--db", str(db), "list"]).exit_code == 0
    assert gc.get_freeze_count() == frozen


@pytest.mark.skipif(not (SCRIPT.parent / "sqlite-utils").exists(), reason="sqlite-utils is not installed beside python")
def test_the_startup_benchmark_runs_and_removes_the_bytecode_it_compiled():
    """benchmarks/startup.py (figures in docs/performance.md) cannot rot: one round, shape only."""
    root = Path(__file__).resolve().parent.parent
    had_cache = (root / "predictions" / "__pycache__").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}
    env["PATH"] = f"{SCRIPT.parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run([sys.executable, str(root / "benchmarks" / "startup.py"), "--pairs", "1", "--bytecode"],
                            capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("with the package's bytecode:")
    assert len(blocks) == 2 and "as installed:" in blocks[0]
    for block in blocks:
        assert "ratio list / sqlite-utils --help: wall " in block and " cpu " in block
    assert (root / "predictions" / "__pycache__").exists() == had_cache
