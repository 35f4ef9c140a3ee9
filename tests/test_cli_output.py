"""What the commands print: error lines that name the user's files, option checks, and text
tables and reports whose columns line up, with wide (CJK) characters too."""

from __future__ import annotations

import sqlite3
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from predictions_cli.main import cli

from .conftest import TODAY


def on_a_terminal(monkeypatch, columns: int) -> None:
    """As if stdout were a terminal `columns` wide (output to a pipe is never fitted to a width)."""
    from predictions_cli import render

    monkeypatch.setattr(render, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", str(columns))


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
    name = "out.jsonl" if command == ["export"] else "out.txt"  # the format follows the extension
    for target, reason in [(tmp_path / "no" / "such" / name, "No such file or directory"),
                           (tmp_path / "out.db" / name, "Not a directory")]:  # fmt: skip
        result = run(*command, "-o", target, code=1)
        assert result.stderr == f"Error: {target}: {reason}\n"
        assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.db"]


# --- wide characters ---------------------------------------------------------------------------

NIKKEI = "日本経済新聞"
LONG_CLAIM = "日経平均株価は年末までに五万円を超える。これは折り返しが必要になるほど長い主張です。" * 2


def cells(text: str) -> int:
    """Terminal cells, counted here without the code under test: CJK two, combining marks none."""
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) == "Cf" else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)  # fmt: skip


def column(line: str, text: str) -> int:
    """The terminal column at which `text` starts in `line`."""
    return cells(line[: line.index(text)])


@pytest.fixture
def wide(run):
    """Three forecasts: ASCII, CJK (wide) and one with combining accents (e\u0301 shows as é)."""
    add(run, "Widget sales double", id="ascii-one", deadline="2026-12-29")
    add(run, LONG_CLAIM, id="wide-one", source=NIKKEI, deadline="2026-12-30")
    add(run, "Cafe\u0301s open late", id="accent-one", source="Re\u0301sume\u0301 Weekly", deadline="2026-12-31")
    for forecast_id in ("ascii-one", "wide-one", "accent-one"):
        run("resolve", forecast_id, "yes", "--on", "2026-10-05", "--evidence", "e")


def test_list_columns_line_up_with_wide_characters(run, wide, monkeypatch):
    on_a_terminal(monkeypatch, 100)
    header, *rows = run("list").stdout.splitlines()
    assert [row.split()[0] for row in rows] == ["ascii-one", "wide-one", "accent-one"]
    assert [column(row, "2026-12-") for row in rows] == [column(header, "DEADLINE")] * 3
    assert [column(row, source) for row, source in zip(rows, ("Example", NIKKEI, "Re\u0301sume\u0301"))] == [
        column(header, "SOURCE")
    ] * 3
    claims = [column(row, claim) for row, claim in zip(rows, ("Widget", "日経", "Cafe"))]
    assert claims == [column(header, "CLAIM")] * 3
    assert max(cells(line) for line in rows) <= 100


def test_list_columns_line_up_under_headers_wider_than_the_values(run, db):
    add(run, "Short", id="abc", source="S", deadline="2026-12-29")
    add(run, "Zero width", id="abd", source="R S", deadline="2026-12-30")
    # A zero-width space and an RLM, as an earlier version accepted them (new input refuses them):
    # shown escaped, and measured as shown.
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER forecasts_no_edit")
    conn.execute("UPDATE forecasts SET claim = 'Zero\u200bwidth', source = 'R\u200fS' WHERE id = 'abd'")
    conn.close()
    header, *rows = run("list").stdout.splitlines()
    assert rows[1].split()[-2:] == ["R\\u200fS", "Zero\\u200bwidth"]
    assert [column(row, source) for row, source in zip(rows, ("S ", "R\\u200f"))] == [column(header, "SOURCE")] * 2
    assert [column(row, claim) for row, claim in zip(rows, ("Short", "Zero"))] == [column(header, "CLAIM")] * 2


def _block(lines: list[str], first: str) -> list[str]:
    """The line starting with `first` and the lines after it, up to a blank line."""
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_show_wraps_wide_text_within_the_width(run, wide, monkeypatch):
    on_a_terminal(monkeypatch, 80)
    lines = run("show", "wide-one").stdout.splitlines()
    assert max(cells(line) for line in lines) <= 80
    claim = _block(lines, "Claim:")
    claim = claim[: next(i for i, line in enumerate(claim[1:], 1) if not line.startswith(" " * 14))]
    assert len(claim) > 1 and "".join(line[14:] for line in claim) == LONG_CLAIM  # wrapped, nothing lost


@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_text_score_tables_line_up_with_wide_characters(run, wide):
    tables = [_block(run("score", "--by", "source").stdout.splitlines(), "source ")]
    report = run("report", "--for", "2026-10").stdout.splitlines()
    tables += [_block(report, "source ")[:5]]  # the header, three sources and all, less the notes under them
    assert "the leaderboard is the table above." in "\n".join(report)  # all resolved in 2026-10: one table
    for table in tables:
        assert len(table) == 4 or len(table) == 5, table  # the header, three sources (and all)
        assert len({cells(line) for line in table}) == 1, table  # right-aligned figures end together


@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_report_listings_are_in_columns(run, wide):
    add(run, "Gadgets sell out", id="amb", deadline="2026-10-01")
    run("resolve", "amb", "ambiguous", "--on", "2026-10-07", "--evidence", "e")
    lines = run("report", "--for", "2026-10").stdout.splitlines()
    listed = _block(lines, "Resolved in 2026-10")[1:]
    assert [line.split()[0] for line in listed] == ["accent-one", "ascii-one", "wide-one", "amb"]
    assert len({column(line, "p=") for line in listed}) == 1, listed
    names = ("Re\u0301sume\u0301", "Example", NIKKEI, "Example")
    sources = [column(line, source) for line, source in zip(listed, names)]
    assert len(set(sources)) == 1, listed
    claims = [column(line, claim) for line, claim in zip(listed, ("Cafe", "Widget", "日経", "Gadgets"))]
    assert len(set(claims)) == 1, listed
