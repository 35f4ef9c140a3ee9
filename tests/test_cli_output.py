"""What the commands print: error lines that name the user's files, option checks, and text
tables and reports whose columns line up, with wide (CJK) characters too."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from predictions_cli.main import cli

from .conftest import TODAY


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "out.db"


@pytest.fixture
def run(db):
    """run(*args, code=0) -> Result, with --db and --today set and the exit code checked."""

    def invoke(*args, code=0):
        result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *map(str, args)])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return invoke


def add(run, claim="Widget sales double", **options):
    options = {"source": "Example Outlet", "made-on": "2026-01-15", "deadline": "2026-12-31",
               "probability": "0.6", "criteria": "YES if it happens.", **options}  # fmt: skip
    args = [f"--{name}={value}" for name, value in options.items()]
    return run("add", "--claim", claim, *args).stdout.strip()


# --- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["export"], ["report", "--for", "2026-10"]])
def test_output_errors_name_the_users_path_not_the_temporary_file(run, tmp_path, command):
    add(run)
    for target, reason in [(tmp_path / "no" / "such" / "out.txt", "No such file or directory"),
                           (tmp_path / "out.db" / "out.txt", "Not a directory")]:  # fmt: skip
        result = run(*command, "-o", target, code=1)
        assert result.stderr == f"Error: {target}: {reason}\n"
        assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.db"]
