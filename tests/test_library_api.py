"""The library is the front door: everything `score` and `report` print comes from one public call,
the report vouches only for a chain that verifies, and the CLI reaches no further than the public API."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
import sqlite3
import typing
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

import predictions
from predictions import (
    GroupScore,
    Ledger,
    LedgerError,
    Period,
    Report,
    ScoreTable,
    ValidationError,
    VerificationError,
)
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields
from .test_report import _settle, scored_ledger  # noqa: F401  (a fixture)

D = dt.date
CLI_DIR = Path(__file__).resolve().parents[1] / "cli"


def _cli(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *map(str, args)])


# --- scores -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, kwargs",
    [
        ([], {}),
        (["--by", "tag"], {"by": "tag"}),
        (["--by", "month"], {"by": "month"}),
        (["--min-n", "3"], {"min_n": 3}),
        (["--since", "2026-09-01", "--until", "2026-10-09"], {"since": "2026-09-01", "until": D(2026, 10, 9)}),
        (["--exclude-tag", "y"], {"exclude_tags": ["y"]}),
    ],
)
def test_ledger_score_is_exactly_what_score_prints(scored_ledger, db_path, options, kwargs):
    table = scored_ledger.score(today=TODAY, **kwargs)
    as_json = _cli(db_path, "score", *options, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert table.to_json() == json.loads(as_json.stdout)
    as_text = _cli(db_path, "score", *options)
    assert table.to_text() + "\n" == as_text.stdout


def test_a_score_table_is_the_sequence_of_its_rows(scored_ledger):
    table = scored_ledger.score(min_n=3)
    assert isinstance(table, ScoreTable) and len(table) == 1 and table[0].group == "A"
    assert [g.group for g in table] == ["A"] and [g.group for g in table.hidden] == ["B"]
    assert table.overall.group == "all" and table.overall.n == 5
    assert [g.group for g in scored_ledger.score()] == ["A", "B"]  # min_n=1: every group


def test_every_key_of_a_groups_json_is_an_attribute(scored_ledger):
    group = scored_ledger.score()[0]
    data = group.to_json()
    for key, value in data.items():
        attribute = getattr(group, key)
        plain = attrs.asdict(attribute) if attrs.has(type(attribute)) else attribute
        if isinstance(plain, tuple):
            plain = [attrs.asdict(v) if attrs.has(type(v)) else v for v in plain]
        assert plain == value, key
    assert {"group", "n", "brier", "log_score", "brier_skill", "reliability", "resolution",
            "uncertainty", "brier_ci", "rank", "excluded", "bins"} <= set(data)  # fmt: skip
    assert set(attrs.fields_dict(GroupScore)) == set(data)  # and every attribute is in the JSON


def test_score_takes_dates_as_text_and_refuses_bad_ones(scored_ledger):
    assert scored_ledger.score(since="2026-09-01", until="2026-09-30").to_json() == scored_ledger.score(
        since=D(2026, 9, 1), until=D(2026, 9, 30)).to_json()  # fmt: skip
    with pytest.raises(ValidationError, match="^field since: 'soon' is not a date"):
        scored_ledger.score(since="soon")
    with pytest.raises(ValidationError, match=r"^field until: 2026-01-01 is before the start of the window"):
        scored_ledger.score(since="2026-12-01", until="2026-01-01")
    with pytest.raises(ValidationError, match="^field by: 'colour' is not one of"):
        scored_ledger.score(by="colour")
    with pytest.raises(ValidationError, match="^field min_n:"):
        scored_ledger.score(min_n=0)


def test_score_as_of_a_day_leaves_out_later_resolutions(scored_ledger):
    assert [g.group for g in scored_ledger.score(today="2026-09-30")] == ["B"]  # A resolved in October
    assert scored_ledger.score(today="2026-09-30", until="2026-12-31").overall.n == 2


def test_unknown_excluded_tags_are_named(scored_ledger):
    table = scored_ledger.score(exclude_tags=["x", "typo"])
    assert table.unknown_tags == ("typo",) and table.exclude_tags == ("typo", "x")
    assert scored_ledger.score(exclude_tags="x").exclude_tags == ("x",)  # one tag, not its letters
    assert scored_ledger.report("2026-10", today=TODAY, exclude_tags="past-at-publication").exclude_tags == (
        "past-at-publication",)  # fmt: skip


# --- ties (issue 13) ----------------------------------------------------------------------------


def test_equal_briers_share_a_rank_and_the_next_rank_counts_them(ledger):
    # Three sources at Brier 0.0025 (0.95, yes), the middle one with two forecasts; then one worse.
    for source, copies in (("C", 1), ("B", 2), ("A", 1)):
        for copy in range(copies):
            _settle(ledger, 0.95, "yes", source=source, copy=copy)
    _settle(ledger, 0.9, "yes", source="D")
    table = ledger.score()
    assert [(g.group, g.rank) for g in table] == [("B", 1), ("A", 1), ("C", 1), ("D", 4)]  # larger, then by name
    assert [line.split()[1] for line in table.to_text().splitlines()[1:5]] == ["1", "1", "1", "4"]


def test_ranks_tie_despite_summation_order(ledger):
    # The same probabilities in another order: equal scores whose float sums may differ in the last bit.
    pairs = [(0.1, "no"), (0.2, "yes"), (0.7, "no"), (0.35, "yes"), (0.9, "yes"), (0.15, "no"), (0.33, "no")]
    for source, order in (("A", pairs), ("B", pairs[::-1])):
        for i, (p, outcome) in enumerate(order):
            _settle(ledger, p, outcome, source=source, copy=i)
    a, b = ledger.score()
    assert a.brier == pytest.approx(b.brier, rel=1e-12) and a.rank == b.rank == 1


# --- reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_report_renders_equal_the_cli_output(scored_ledger, db_path, fmt):
    report = scored_ledger.report("2026-10", today=TODAY, min_n=2)
    result = _cli(db_path, "report", "--for", "2026-10", "--format", fmt, "--min-n", "2")
    assert result.exit_code == 0, result.output
    assert report.render(fmt) == result.stdout
    if fmt == "json":
        assert report.to_json() == json.loads(result.stdout)


def test_report_defaults_and_period_forms(scored_ledger):
    assert scored_ledger.report(today="2026-11-22").period.label == "2026-10"
    assert scored_ledger.report(kind="quarter", today=TODAY).period.label == "2026-Q3"
    by_period = scored_ledger.report(Period.parse("2026-Q4"), today=TODAY)
    assert by_period.to_json() == scored_ledger.report("2026-Q4", today=TODAY).to_json()
    assert isinstance(by_period, Report) and not by_period.complete
    with pytest.raises(ValidationError, match="^field period: 'last month' is not a period"):
        scored_ledger.report("last month", today=TODAY)
    with pytest.raises(ValidationError, match="^field period: 2026-12 has not started yet"):
        scored_ledger.report("2026-12", today=TODAY)
    with pytest.raises(ValidationError, match="^field kind:"):
        scored_ledger.report(kind="week", today=TODAY)
    with pytest.raises(ValidationError, match="^field format: 'pdf' is not one of text, md, html, json$"):
        scored_ledger.report("2026-10", today=TODAY).render("pdf")
    assert scored_ledger.report("2026-10", today=TODAY).leaderboard.min_n == 5  # the report's default


def test_a_verified_report_names_the_head_it_verified(scored_ledger):
    report = scored_ledger.report("2026-10", today=TODAY)
    head = scored_ledger.verify().head
    assert report.verified and report.chain_head == head == scored_ledger.head().hash
    data = report.to_json()
    assert data["verified"] is True and data["chain_head"] == head
    for fmt in ("text", "md", "html"):
        assert "verified before this report was made" in report.render(fmt)
        assert "Not verified" not in report.render(fmt)


def _tamper_probability(db_path: Path, forecast_id: str) -> None:
    """Edit one probability behind the tool's back, as the issue's new user did."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        triggers = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        conn.execute("BEGIN")
        for (name,) in names:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("UPDATE forecasts SET probability = 0.99 WHERE id = ?", [forecast_id])
        for (sql,) in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_a_tampered_ledger_gets_no_report(ledger, db_path, tmp_path):
    forecast = _settle(ledger, 0.3, "no")
    _tamper_probability(db_path, forecast.id)
    with pytest.raises(VerificationError) as caught:
        ledger.report("2026-10", today=TODAY)
    assert isinstance(caught.value, LedgerError) and not caught.value.verification.ok
    first = str(caught.value.verification.problems[0])
    assert str(caught.value) == f"the ledger failed verification, so no report was made: {first}"
    assert f"forecast {forecast.id}" in first and "probability" in first
    for fmt in ("text", "json"):
        target = tmp_path / f"report.{fmt}"
        result = _cli(db_path, "report", "--for", "2026-10", "--format", fmt, "-o", target)
        assert result.exit_code == 1 and result.stdout == "" and not target.exists()
        assert result.stderr == f"Error: {caught.value}\n"


def test_an_unverified_report_says_so_in_every_format(ledger, db_path):
    forecast = _settle(ledger, 0.3, "no")
    _tamper_probability(db_path, forecast.id)
    report = ledger.report("2026-10", today=TODAY, verify=False)
    assert not report.verified and report.to_json()["verified"] is False
    assert report.chain_head == ledger.head().hash
    for fmt in ("text", "md", "html"):
        rendered = report.render(fmt)
        assert "Not verified: the hash chain was not checked before this report was made" in rendered
        assert "verified before this report was made" not in rendered
    result = _cli(db_path, "report", "--for", "2026-10", "--no-verify", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == report.to_json()


def test_the_report_is_made_from_the_snapshot_it_verified(scored_ledger, db_path, monkeypatch):
    """A write landing between verification and the report's queries is in neither."""
    from predictions import report as report_module

    original = report_module.build_report

    def build_after_a_write(conn, **kwargs):
        with Ledger(db_path) as other:  # another process adds a forecast mid-report
            other.add(**forecast_fields(claim="written during the report", deadline=D(2026, 10, 20)))
        return original(conn, **kwargs)

    monkeypatch.setattr("predictions.report.build_report", build_after_a_write)
    before = scored_ledger.head().hash
    report = scored_ledger.report("2026-10", today=TODAY)
    assert report.chain_head == before != scored_ledger.head().hash
    assert all(line.claim != "written during the report" for line in report.due.lines)


# --- the public API -----------------------------------------------------------------------------


def _public_methods():
    for cls in (Ledger, ScoreTable, GroupScore, Report, Period, predictions.TrackedForecast):
        for name, member in inspect.getmembers(cls):
            if not name.startswith("_") and (inspect.isfunction(member) or inspect.ismethod(member)):
                yield f"{cls.__name__}.{name}", member, cls


def _hints(member, localns=None) -> dict:
    """The member's type hints. Its module's names first, then the public ones: store imports the
    score and report types only for its annotations (it loads their modules where they are used)."""
    public = {name: getattr(predictions, name) for name in predictions.__all__}
    return typing.get_type_hints(member, globalns={**public, **vars(inspect.getmodule(member))}, localns=localns)


def _classes_in(hint) -> set[type]:
    found = set()
    if isinstance(hint, type) and hint.__module__.startswith("predictions"):
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _classes_in(arg)
    return found


def test_every_type_a_public_method_takes_or_returns_is_exported():
    exported = {getattr(predictions, name) for name in predictions.__all__ if isinstance(getattr(predictions, name), type)}
    missing = {}
    for qualified, member, cls in _public_methods():
        hints = _hints(member, localns={cls.__name__: cls})
        for hint in hints.values():
            for found in _classes_in(hint) - exported:
                missing.setdefault(found.__name__, qualified)
    for name in ("ScoreTable", "GroupScore", "Report", "Period", "Head", "Verification", "ImportSummary",
                 "read_records", "write_records", "VerificationError"):  # fmt: skip
        assert name in predictions.__all__, name
    assert not missing, missing


def _public_functions():
    for name in predictions.__all__:
        value = getattr(predictions, name)
        if inspect.isfunction(value):
            yield name, value, None


def test_every_public_date_parameter_takes_text():
    """The date parameters of the public methods and functions are annotated to take a date or
    YYYY-MM-DD text (and the ledger's own methods are checked doing so in test_library_use)."""
    undated = []
    for qualified, member, cls in [*_public_methods(), *_public_functions()]:
        hints = _hints(member)
        for name in inspect.signature(member).parameters:
            hint = hints.get(name)
            options = typing.get_args(hint) or (hint,)
            if dt.date in options and str not in options:
                undated.append(f"{qualified}({name})")
    assert undated == []


def test_period_methods_take_dates_as_text():
    assert Period.containing("quarter", "2026-11-22") == Period.containing("quarter", D(2026, 11, 22))
    assert Period.latest_complete("month", "2026-11-22").label == "2026-10"
    with pytest.raises(ValidationError, match="^field today: 'soon' is not a date"):
        Period.latest_complete("month", "soon")


# --- the CLI reaches only the public API ---------------------------------------------------------


def _violations(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "predictions":
            if node.module != "predictions":
                found.append(f"{filename}:{node.lineno}: imports from {node.module}")
            found += [f"{filename}:{node.lineno}: {a.name} is not public" for a in node.names
                      if a.name not in predictions.__all__]  # fmt: skip
        elif isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: imports {a.name}" for a in node.names
                      if a.name.split(".")[0] == "predictions" and a.name != "predictions"]  # fmt: skip
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"{filename}:{node.lineno}: uses .conn")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "predictions":
            if node.attr not in predictions.__all__:
                found.append(f"{filename}:{node.lineno}: predictions.{node.attr} is not public")
    return found


def test_the_cli_imports_only_public_names_and_touches_no_connection():
    modules = sorted(CLI_DIR.glob("*.py"))
    assert len(modules) >= 8  # the rule is checked on the real folder
    problems = [p for path in modules for p in _violations(path.read_text(encoding="utf-8"), path.name)]
    assert problems == []


@pytest.mark.parametrize(
    "source, problem",
    [
        ("from predictions.store import Ledger", "imports from predictions.store"),
        ("from predictions import _GROUPINGS", "_GROUPINGS is not public"),
        ("import predictions.aggregate", "imports predictions.aggregate"),
        ("def f(ledger):\n    return ledger.conn.execute('SELECT 1')", "uses .conn"),
        ("import predictions\npredictions.aggregate.score_table", "predictions.aggregate is not public"),
    ],
)
def test_the_import_rule_catches_each_way_in(source, problem):
    assert any(problem in found for found in _violations(source, "x.py"))
    assert _violations("from predictions import Ledger\nfrom .options import today", "x.py") == []


# --- through the installed command ---------------------------------------------------------------


def test_the_installed_command_refuses_to_report_a_tampered_ledger(ledger, db_path, tmp_path):
    from .test_cli_subprocess import SCRIPT, predictions as run_installed

    if not SCRIPT.exists():
        pytest.skip("the predictions script is not installed beside python")
    forecast = _settle(ledger, 0.3, "no")
    ledger.close()
    target = tmp_path / "october.html"
    made = run_installed("report", "--for", "2026-10", "--format", "json", db=db_path)
    assert json.loads(made.stdout)["verified"] is True
    _tamper_probability(db_path, forecast.id)
    refused = run_installed("report", "--for", "2026-10", "--format", "html", "-o", target, db=db_path, check=False)
    assert refused.returncode == 1 and refused.stdout == "" and not target.exists()
    assert refused.stderr.startswith("Error: the ledger failed verification, so no report was made: entry 1 ")
    assert len(refused.stderr.splitlines()) == 1
    unverified = run_installed("report", "--for", "2026-10", "--no-verify", "-o", target, db=db_path)
    assert "Not verified: the hash chain was not checked" in target.read_text(encoding="utf-8")
    assert unverified.stderr == f"Wrote the 2026-10 report to {target}\n"


def test_verify_refuses_a_published_hash_that_is_not_one(scored_ledger):
    # The rule lives in the library (the CLI only names its option): 64 hex digits, any case.
    for bad in ("abc", "g" * 64, "", 64):
        with pytest.raises(ValidationError, match="^field contains: a chain hash is 64 hexadecimal digits"):
            scored_ledger.verify(contains=bad)
    head = scored_ledger.head().hash
    assert scored_ledger.verify(contains=f"  {head.upper()} ").contains_found is True


# --- listings stream ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 3])
def test_list_json_streams_exactly_the_array_it_used_to_build(ledger, db_path, count):
    for i in range(count):
        ledger.add(**forecast_fields(claim=f"claim {i} — ünïcode \"quoted\"\nnext line", tags=["a", "b"]))
    expected = json.dumps([t.to_record() for t in ledger.forecasts(today=TODAY)], ensure_ascii=False, indent=2)
    for command in (["list", "--json"], ["due", "--json"]):
        result = _cli(db_path, *command)
        assert result.exit_code == 0, result.output
        if command[0] == "list":
            assert result.stdout == expected + "\n"
        else:
            assert json.loads(result.stdout) == [r for r in json.loads(expected) if r["status"] == "due"]


def test_list_sizes_its_columns_from_the_first_rows_and_lists_every_row(ledger, db_path, monkeypatch):
    from predictions_cli import render

    for i in range(5):  # sources of 1, 6, 11, 16 and 21 letters, soonest deadline first
        ledger.add(**forecast_fields(claim=f"claim {i}", deadline=D(2026, 12, 20 + i), source="S" * (5 * i + 1)))
    whole = _cli(db_path, "list").stdout.splitlines()
    assert "S" * 21 in whole[-1]  # every source fits the column sized by all the rows
    monkeypatch.setattr(render, "WIDTH_SAMPLE", 2)  # as if the ledger held many more than the sample
    sampled = _cli(db_path, "list").stdout.splitlines()
    assert [line.split()[0] for line in sampled] == [line.split()[0] for line in whole]  # every row, in order
    assert sampled[-1].endswith("S" * 21 + "  claim 4")  # to a pipe nothing is cut: the line is pushed over
    monkeypatch.setattr(render, "stdout_is_terminal", lambda: True)  # on a terminal 100 wide, sources are
    monkeypatch.setenv("COLUMNS", "100")  # clipped to the sampled column
    fitted = _cli(db_path, "list").stdout.splitlines()
    assert fitted[-1].endswith("SSSSS…  claim 4")  # sized by the first two rows (6 cells): clipped
    assert len({line.index("claim") for line in fitted[1:]}) == 1  # and still in columns
