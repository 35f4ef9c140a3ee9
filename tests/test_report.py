"""Scores from the ledger (SQL aggregation), the periodic report, and the score/report commands.

Expected values are computed by hand in the comments, or by an independent bare SQL query over
the `scored` view, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import math
import os
import sqlite3
import stat

import attrs
import pytest
from click.testing import CliRunner

from predictions import Excluded, ValidationError
from predictions.aggregate import score_table
from predictions.report import LIST_LIMIT, Period
from predictions.report_formats import render
from predictions_cli.main import cli

from .conftest import forecast_fields

D = dt.date
# What these tests record is stamped on TODAY, the day they report as of (conftest.recorded_on_today).
pytestmark = pytest.mark.usefixtures("recorded_on_today")


def _settle(ledger, probability, outcome, *, source="A", on=D(2026, 10, 10), tags=(), phrase=None, **extra):
    fields = forecast_fields(
        source=source, probability=probability, made_on=D(2026, 1, 1), deadline=D(2026, 10, 31),
        claim=f"{source} claim {probability} {outcome} {on} {tags} {phrase} {extra}", tags=tags,
    )  # fmt: skip
    if phrase:
        fields["phrase"] = phrase
        fields["probability_basis"] = "verbal"
    forecast = ledger.add(**fields)
    if outcome is not None:
        early = "it became impossible" if outcome == "no" and on < D(2026, 10, 31) else None
        ledger.resolve(forecast.id, outcome, on=on, evidence="test", early_reason=early, today=D(2026, 11, 22))
    return forecast


@pytest.fixture
def scored_ledger(ledger):
    # Source A: 0.9 yes, 0.8 yes, 0.3 no  -> Brier (0.01 + 0.04 + 0.09) / 3 = 0.046666...
    _settle(ledger, 0.9, "yes", tags=("x", "y"))
    _settle(ledger, 0.8, "yes", tags=("x",))
    _settle(ledger, 0.3, "no")
    # Source B: 0.5 yes, 0.5 no -> Brier 0.25; one ambiguous and one annulled, never scored
    _settle(ledger, 0.5, "yes", source="B", on=D(2026, 9, 5))
    _settle(ledger, 0.5, "no", source="B", on=D(2026, 9, 6))
    _settle(ledger, 0.99, "ambiguous", source="B")
    _settle(ledger, 0.01, "annulled", source="B")
    # Open forecast: not scored
    _settle(ledger, 0.6, None, source="C")
    return ledger


def test_brier_by_source_matches_hand_computation(scored_ledger):
    table = score_table(scored_ledger.conn, by="source")
    by_group = {g.group: g for g in table.groups}
    assert set(by_group) == {"A", "B"}  # the open forecast of C is not scored
    assert by_group["A"].brier == pytest.approx(0.14 / 3)
    assert by_group["B"].brier == pytest.approx(0.25)
    assert [g.group for g in table.ranked] == ["A", "B"]
    assert by_group["B"].excluded == Excluded(ambiguous=1, annulled=1)
    assert by_group["B"].n == 2
    # Overall: (0.01 + 0.04 + 0.09 + 0.25 + 0.25) / 5 = 0.128
    assert table.overall.brier == pytest.approx(0.128)
    assert table.overall.excluded == Excluded(ambiguous=1, annulled=1)


def test_log_score_matches_hand_computation(scored_ledger):
    a = {g.group: g for g in score_table(scored_ledger.conn, by="source").groups}["A"]
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.7)) / 3
    assert a.log_score == pytest.approx(expected)


def test_scores_agree_with_bare_sql_over_the_scored_view(scored_ledger):
    bare = dict(
        scored_ledger.conn.execute(
            "SELECT source, avg((probability - outcome) * (probability - outcome)) FROM scored GROUP BY source"
        ).fetchall()
    )
    ours = {g.group: g.brier for g in score_table(scored_ledger.conn, by="source").groups}
    assert ours == pytest.approx(bare)


def test_tags_count_a_forecast_in_each_of_its_groups_but_once_overall(scored_ledger):
    table = score_table(scored_ledger.conn, by="tag")
    by_group = {g.group: g for g in table.groups}
    assert by_group["x"].n == 2 and by_group["y"].n == 1 and by_group["(untagged)"].n == 3
    assert by_group["x"].brier == pytest.approx((0.01 + 0.04) / 2)
    assert table.overall.n == 5


def test_since_and_until_filter_on_resolution_date(scored_ledger):
    table = score_table(scored_ledger.conn, by="source", since=D(2026, 9, 1), until=D(2026, 9, 30))
    assert [g.group for g in table.groups] == ["B"]
    assert table.groups[0].n == 2


def test_min_n_leaves_small_groups_unranked(scored_ledger):
    table = score_table(scored_ledger.conn, by="source", min_n=3)
    assert [(g.group, g.rank) for g in table.groups] == [("A", 1), ("B", None)]


def test_grouping_by_phrase_keeps_the_hedge(ledger):
    _settle(ledger, 0.75, "yes", phrase="likely")
    _settle(ledger, 0.4, "no")
    groups = {g.group for g in score_table(ledger.conn, by="phrase").groups}
    assert groups == {"likely", "(assigned)"}


def test_empty_ledger_scores_nothing(ledger):
    table = score_table(ledger.conn)
    assert table.groups == () and table.overall is None


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, start, end",
    [
        ("2026-10", "month", D(2026, 10, 1), D(2026, 10, 31)),
        ("2026-02", "month", D(2026, 2, 1), D(2026, 2, 28)),
        ("2026-Q3", "quarter", D(2026, 7, 1), D(2026, 9, 30)),
        ("2026-q1", "quarter", D(2026, 1, 1), D(2026, 3, 31)),
        ("2026", "year", D(2026, 1, 1), D(2026, 12, 31)),
    ],
)
def test_period_parse(text, kind, start, end):
    period = Period.parse(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "26", "October", "2026-10-01", "٢٠٢٦", "２０２６-１１"])
def test_period_parse_refuses_nonsense(text):
    with pytest.raises(ValueError, match="not a period"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["0000", "0001", "0001-Q1", "0001-01", "9999", "9999-Q4", "9999-12"])
def test_period_parse_refuses_periods_a_report_cannot_cover(text):
    # A report needs the period before (score changes) and after (deadlines) its own.
    with pytest.raises(ValueError, match="0001 to 9999"):
        Period.parse(text)


def test_periods_near_the_calendar_edge_keep_four_digit_years():
    period = Period.parse("0999")
    assert (period.label, period.shifted(-1).label, period.shifted(1).label) == ("0999", "0998", "1000")
    assert Period.parse("0001-02").shifted(-1).label == "0001-01"
    assert Period.parse("9999-11").shifted(1).end == D(9999, 12, 31)
    assert Period.latest_complete("month", D(1, 3, 1)).label == "0001-02"
    for today in (D(1, 1, 15), D(1, 2, 15)):  # no month before it, or none with a month before that
        with pytest.raises(ValueError, match="0001"):
            Period.latest_complete("month", today)


def test_latest_complete_period():
    today = D(2026, 11, 22)
    assert Period.latest_complete("month", today).label == "2026-10"
    assert Period.latest_complete("quarter", today).label == "2026-Q3"
    assert Period.latest_complete("year", today).label == "2025"
    assert Period.latest_complete("month", D(2026, 1, 1)).label == "2025-12"


# --- the report ---------------------------------------------------------------------------------


def _report(ledger, label="2026-10", min_n=1):
    return ledger.report(label, today=D(2026, 11, 22), min_n=min_n)


def test_report_sections(scored_ledger):
    _settle(scored_ledger, 0.2, None, source="D")  # deadline 2026-10-31 passed: due
    report = _report(scored_ledger)
    assert report.resolved.total == 5  # three of A, the ambiguous and annulled of B, in October
    assert report.outcomes == {"yes": 2, "no": 1, "ambiguous": 1, "annulled": 1}
    assert [g.group for g in report.period_scores.groups] == ["A"]
    assert {g.group for g in report.leaderboard.groups} == {"A", "B"}
    assert report.due.total == 2  # C and D: deadline 2026-10-31, unresolved on 2026-11-22
    # B was scored in September and had nothing new; A is new in October.
    assert [(m.group, m.brier_before) for m in report.movement] == [("A", None)]
    assert report.calibration.n == 5


def test_report_movement_between_periods(ledger):
    _settle(ledger, 0.9, "no", on=D(2026, 10, 31))  # Brier 0.81
    _settle(ledger, 0.9, "yes", on=D(2026, 9, 1))  # Brier 0.01
    move = _report(ledger).movement[0]
    assert move.brier_before == pytest.approx(0.01)
    assert move.brier_now == pytest.approx(0.41)
    assert move.change == pytest.approx(0.40)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_every_format_renders_the_sources_and_head(scored_ledger, fmt):
    report = _report(scored_ledger)
    output = render(report, fmt)
    assert report.chain_head in output
    assert "2026-10" in output
    if fmt == "json":
        data = json.loads(output)
        assert data["period"]["label"] == "2026-10"
        assert {g["group"] for g in data["leaderboard"]} == {"A", "B"}
        assert data["overall"]["n"] == 5


def test_html_escapes_ledger_text(ledger):
    hostile = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"
    _settle(ledger, 0.7, "yes", source=hostile)
    output = render(_report(ledger), "html")
    assert "<script>alert" not in output
    assert "<img src=x" not in output
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in output


def test_html_without_matplotlib_says_how_to_get_the_chart(scored_ledger, without_matplotlib):
    output = render(_report(scored_ledger), "html")
    assert "pip install &#x27;predictions[plot]&#x27;" in output
    assert "data:image/svg+xml" not in output


def test_html_embeds_the_reliability_diagram(scored_ledger):
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    output = render(_report(scored_ledger), "html")
    assert 'src="data:image/svg+xml;base64,' in output


def test_text_report_draws_the_calibration_bins(scored_ledger):
    output = render(_report(scored_ledger), "text")
    # Bins are closed on the right: B's two 0.5 forecasts (one yes) sit in (0.4, 0.5], A's 0.9 in (0.8, 0.9].
    # Wilson for 1 of 2: centre 0.5, half 1.96 √(0.125 + 1.96²/16) / (1 + 1.96²/2) = 0.4055 -> 0.09–0.91.
    lines = output.splitlines()
    row = lines.index(next(line for line in lines if line.startswith("(0.4, 0.5]")))
    assert lines[row + 1].endswith("1 of 2 resolved yes (95% CI 0.09–0.91)")
    assert any(line.startswith("(0.8, 0.9]") for line in lines)
    assert not any(line.startswith("(0.9, 1.0]") for line in lines)  # empty bins are left out, never folded
    # A's 0.3 forecast is an edge: (0.2, 0.3], not (0.3, 0.4].
    row = lines.index(next(line for line in lines if line.startswith("(0.2, 0.3]")))
    assert lines[row + 1].endswith("0 of 1 resolved yes (95% CI 0.00–0.79)")


def test_calibration_table_in_markdown_and_html(scored_ledger):
    report = _report(scored_ledger)
    md = render(report, "md")
    # Brackets are escaped so that Markdown never reads a bin as a link.
    assert r"| (0.4, 0.5\] | 2 | 1 of 2 resolved yes | 0.500 | 0.500 | 0.095–0.905 |" in md
    assert r"| (0.8, 0.9\] | 1 | 1 of 1 resolved yes | 0.900 | 1.000 |" in md
    page = render(report, "html")
    assert "<td>1 of 2 resolved yes</td>" in page and "(0.4, 0.5]" in page


@pytest.mark.parametrize(
    "path, span",
    [
        ("/tmp/x_y/ex*1*.db", "`/tmp/x_y/ex*1*.db`"),  # literal inside backticks: no backslashes
        ("/tmp/a`b/ex.db", "``/tmp/a`b/ex.db``"),  # a backtick inside needs a longer fence
        ("/tmp/a``b/x`", "``` /tmp/a``b/x` ```"),  # ... and a space where one ends the text
    ],
)
def test_markdown_code_spans_are_not_backslash_escaped(scored_ledger, path, span):
    report = attrs.evolve(scored_ledger.report("2026-10", today=D(2026, 11, 22)), ledger=path)
    md = render(report, "md")
    assert f"Ledger {span}, chain head `{report.chain_head}`" in md
    assert all(f"| `{line.id}` |" in md for line in report.resolved.lines)


def test_bins_with_no_yes_or_all_yes_still_chart(ledger):
    # 0 of 3 and 3 of 3: the Wilson interval ends exactly at 0 and 1, and the chart's error bars
    # are never negative (matplotlib refuses a negative yerr, which broke the HTML report).
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    for i in range(3):
        _settle(ledger, 0.05, "no", copy=i)
        _settle(ledger, 0.95, "yes", copy=i)
    report = _report(ledger)
    bins = report.calibration.bins
    assert [(b.wilson_low, b.wilson_high) for b in bins][0][0] == 0.0
    assert bins[-1].wilson_high == 1.0
    assert 'src="data:image/svg+xml;base64,' in render(report, "html")


def test_period_table_ranks_only_sources_with_min_n(scored_ledger):
    report = _report(scored_ledger, min_n=5)
    assert [(g.group, g.rank) for g in report.period_scores.groups] == [("A", None)]
    report = _report(scored_ledger, min_n=3)
    assert [(g.group, g.rank) for g in report.period_scores.groups] == [("A", 1)]


def test_report_lists_deadlines_of_the_next_period(scored_ledger):
    upcoming = forecast_fields(source="E", probability=0.4, made_on=D(2026, 1, 1), deadline=D(2026, 11, 30),
                               claim="due at the end of November")  # fmt: skip
    scored_ledger.add(**upcoming)
    later = forecast_fields(source="E", probability=0.4, made_on=D(2026, 1, 1), deadline=D(2026, 12, 1),
                            claim="due in December")  # fmt: skip
    scored_ledger.add(**later)
    report = _report(scored_ledger)
    assert report.next_period.label == "2026-11"
    assert [line.claim for line in report.upcoming.lines] == ["due at the end of November"]
    text = render(report, "text")
    assert "Deadlines in 2026-11:" in text and "due at the end of November" in text
    data = json.loads(render(report, "json"))
    assert data["upcoming"]["period"] == "2026-11" and data["upcoming"]["total"] == 1


def test_a_period_not_over_says_so_and_keeps_the_rest_of_its_deadlines_in_view(scored_ledger):
    for deadline in (D(2026, 11, 22), D(2026, 12, 20), D(2027, 1, 5)):  # today, later this quarter, next quarter
        scored_ledger.add(**forecast_fields(source="E", made_on=D(2026, 1, 1), deadline=deadline,
                                            claim=f"deadline {deadline}"))  # fmt: skip
    report = _report(scored_ledger, "2026-Q4")  # made on 2026-11-22
    assert not report.complete
    assert [line.claim for line in report.remaining.lines] == ["deadline 2026-11-22", "deadline 2026-12-20"]
    assert [line.claim for line in report.upcoming.lines] == ["deadline 2027-01-05"]
    notice = "This quarter is not over yet: it ends 2026-12-31, and this report shows it as of 2026-11-22"
    title = "Deadlines still to come by the end of 2026-Q4 (from 2026-11-22 to 2026-12-31)"
    text = render(report, "text")
    assert text.splitlines()[2].startswith(notice) and f"{title}:" in text and "deadline 2026-12-20" in text
    for fmt in ("md", "html"):
        assert notice in render(report, fmt) and title in render(report, fmt)
    data = json.loads(render(report, "json"))
    assert data["complete"] is False
    assert data["remaining"]["total"] == 2 and data["remaining"]["until"] == "2026-12-31"
    with pytest.raises(ValidationError, match="^field period: 2027-Q1 has not started yet"):
        _report(scored_ledger, "2027-Q1")  # the library refuses to look ahead, as the CLI does
    over = _report(scored_ledger, "2026-10")
    assert over.complete and over.remaining is None
    assert "not over" not in render(over, "text") and "still to come" not in render(over, "md")
    data = json.loads(render(over, "json"))
    assert data["complete"] is True and data["remaining"] is None


def test_report_json_records_the_min_n_that_left_groups_unranked(scored_ledger, db_path):
    data = json.loads(_cli(db_path, "report", "--for", "2026-10", "--format", "json", "--min-n", "4").stdout)
    assert data["min_n"] == 4
    assert [(g["group"], g["rank"]) for g in data["leaderboard"]] == [("A", None), ("B", None)]
    assert json.loads(_cli(db_path, "report", "--for", "2026-10", "--format", "json").stdout)["min_n"] == 5


def test_report_json_carries_the_calibration_table(scored_ledger):
    data = json.loads(render(_report(scored_ledger), "json"))
    bins = {b["index"]: b for b in data["overall"]["bins"]}
    assert bins[4]["n"] == 2 and bins[4]["yes"] == 1
    assert bins[4]["wilson_low"] == pytest.approx(0.0945, abs=1e-4)
    assert data["overall"]["brier"] == pytest.approx(0.128)
    assert data["overall"]["excluded"] == {"ambiguous": 1, "annulled": 1}
    assert set(data) >= {"period", "resolved", "period_scores", "leaderboard", "overall", "movement", "due", "upcoming"}


def test_long_listings_are_cut_and_counted(ledger):
    for i in range(LIST_LIMIT + 3):
        _settle(ledger, 0.5, "yes", source=f"S{i:02d}")
    report = _report(ledger)
    assert report.resolved.total == LIST_LIMIT + 3 and len(report.resolved.lines) == LIST_LIMIT
    assert "… and 3 more" in render(report, "text")
    assert "… and 3 more." in render(report, "md")


# --- the commands -------------------------------------------------------------------------------

SCORE_KEYS = {"group", "n", "brier", "log_score", "brier_skill", "reliability", "resolution", "uncertainty", "brier_ci"}


def _cli(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "--today", "2026-11-22", *args])


def test_score_json_has_the_contract_keys(scored_ledger, db_path):
    result = _cli(db_path, "score", "--by", "source", "--json")
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)
    assert [g["group"] for g in groups] == ["A", "B"]
    for group in groups:
        assert SCORE_KEYS <= set(group)
    assert groups[1]["brier"] == pytest.approx(0.25)
    assert groups[1]["excluded"] == {"ambiguous": 1, "annulled": 1}
    assert groups[0]["brier_two_category"] == pytest.approx(2 * 0.14 / 3)


def test_score_text_ranks_sources(scored_ledger, db_path):
    result = _cli(db_path, "score", "--min-n", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("A ") and lines[2].startswith("(1 group")  # B (n=2) is hidden; no all row
    assert "(1 group with fewer than 3 forecasts resolved yes/no hidden; lower --min-n to see them)" in result.stdout
    lines = _cli(db_path, "score").stdout.splitlines()  # no --min-n: every group, ranked
    assert lines[1].startswith("A ") and lines[2].startswith("B ")


def test_score_refuses_bad_options(scored_ledger, db_path):
    assert _cli(db_path, "score", "--by", "colour").exit_code == 2
    assert _cli(db_path, "score", "--min-n", "0").exit_code == 2
    assert _cli(db_path, "score", "--since", "2026-13-01").exit_code == 2


def test_score_refuses_a_reversed_date_range(scored_ledger, db_path):
    for as_json in ([], ["--json"]):
        result = _cli(db_path, "score", "--since", "2026-12-01", "--until", "2026-01-01", *as_json)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.splitlines()[-1] == (
            "Error: Invalid value for '--until': 2026-01-01 is before the start of the window (2026-12-01)"
        )
    result = _cli(db_path, "score", "--since", "2026-10-10", "--until", "2026-10-10", "--json")  # one day is a range
    assert [(g["group"], g["n"]) for g in json.loads(result.stdout)] == [("A", 3)]


def test_report_command_writes_each_format(scored_ledger, db_path, tmp_path):
    for fmt in ("text", "md", "html", "json"):
        target = tmp_path / f"report.{fmt}"
        result = _cli(db_path, "report", "--for", "2026-10", "--format", fmt, "-o", str(target))
        assert result.exit_code == 0, result.output
        assert "2026-10" in target.read_text(encoding="utf-8")


def test_report_defaults_to_the_latest_complete_month(scored_ledger, db_path):
    result = _cli(db_path, "report", "--format", "json")
    assert json.loads(result.stdout)["period"]["label"] == "2026-10"
    result = _cli(db_path, "report", "--period", "quarter", "--format", "json")
    assert json.loads(result.stdout)["period"]["label"] == "2026-Q3"


def test_report_errors_are_one_line(scored_ledger, db_path):
    result = _cli(db_path, "report", "--for", "last-month")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: Invalid value for '--for': 'last-month' is not a period: "
        "use 2026 (year), 2026-Q3 (quarter) or 2026-10 (month)"
    )
    result = _cli(db_path, "report", "--period", "month", "--for", "2026")
    assert result.exit_code == 2
    assert "is a year, not a month" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--for", "2026-Q5"], "'2026-Q5' is not a period"),
        (["--for", ""], "'' is not a period"),
        (["--for", "0000"], "'0000' is not a period: years run from 0001 to 9999"),
        (["--for", "0001"], "0001 is too near the calendar's edge for a report"),
        (["--for", "9999-12"], "9999-12 is too near the calendar's edge for a report"),
        (["--period", "month", "--for", "2026-Q4"], "2026-Q4 is a quarter, not a month"),
        (["--for", "2027"], "2027 has not started yet (it starts 2027-01-01, today is 2026-11-22)"),
        (["--for", "2026-12"], "2026-12 has not started yet (it starts 2026-12-01, today is 2026-11-22)"),
    ],
)
def test_every_bad_for_is_a_usage_error_naming_it(scored_ledger, db_path, tmp_path, args, message):
    target = tmp_path / "report.txt"
    result = _cli(db_path, "report", *args, "-o", str(target))
    assert result.exit_code == 2 and result.stdout == "" and not target.exists()
    assert result.stderr.splitlines()[-1].startswith(f"Error: Invalid value for '--for': {message}")
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_report_at_the_calendar_start_names_today(scored_ledger, db_path):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--today", "0001-01-15", "report"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--today': no month ended before 0001-01-15, at the calendar's edge; "
        "name a period with --for"
    )


def test_report_for_an_early_year_prints_four_digits(scored_ledger, db_path):
    result = _cli(db_path, "report", "--for", "0999")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Calibration report for 0999 (0999-01-01 to 0999-12-31)")
    assert "Score changes since the end of 0998:" in result.stdout and "Deadlines in 1000:" in result.stdout


def test_report_on_a_missing_ledger_is_refused_without_creating_it(tmp_path):
    missing = tmp_path / "nothing.db"
    result = _cli(missing, "report")
    assert result.exit_code == 1
    assert "no ledger at" in result.stderr
    assert not missing.exists()


def test_scored_view_has_integer_outcomes(scored_ledger):
    rows = scored_ledger.conn.execute("SELECT typeof(outcome), count(*) FROM scored GROUP BY 1").fetchall()
    assert rows == [("integer", 5)]
    with pytest.raises(sqlite3.OperationalError):
        scored_ledger.conn.execute("INSERT INTO scored (id) VALUES ('x')")


def test_score_json_min_n_hides_small_groups(scored_ledger, db_path):
    groups = json.loads(_cli(db_path, "score", "--min-n", "3", "--json").stdout)
    assert [(g["group"], g["rank"], g["n"]) for g in groups] == [("A", 1, 3)]
    assert json.loads(_cli(db_path, "score", "--min-n", "4", "--json").stdout) == []
    groups = json.loads(_cli(db_path, "score", "--min-n", "2", "--json").stdout)
    assert [(g["group"], g["rank"]) for g in groups] == [("A", 1), ("B", 2)]


def test_score_since_until_on_the_command_line(scored_ledger, db_path):
    groups = json.loads(_cli(db_path, "score", "--since", "2026-09-01", "--until", "2026-09-30", "--json").stdout)
    assert [(g["group"], g["n"]) for g in groups] == [("B", 2)]
    groups = json.loads(_cli(db_path, "score", "--since", "2026-10-01", "--json").stdout)
    assert [(g["group"], g["n"]) for g in groups] == [("A", 3)]
    result = _cli(db_path, "score", "--since", "2027-01-01")
    assert result.exit_code == 0 and "nothing to score" in result.stdout


def test_score_by_phrase_on_the_command_line(ledger, db_path):
    _settle(ledger, 0.75, "yes", phrase="likely")
    _settle(ledger, 0.75, "no", phrase="likely")
    _settle(ledger, 0.2, "no")
    groups = {g["group"]: g for g in json.loads(_cli(db_path, "score", "--by", "phrase", "--json").stdout)}
    assert set(groups) == {"likely", "(assigned)"}
    assert groups["likely"]["brier"] == pytest.approx((0.0625 + 0.5625) / 2)  # 0.3125
    assert groups["(assigned)"]["brier"] == pytest.approx(0.04)
    assert set(groups["likely"]) >= SCORE_KEYS


@pytest.mark.parametrize("by", ["source", "author", "tag", "phrase", "basis", "month", "quarter", "year"])
def test_every_grouping_scores_every_forecast(scored_ledger, db_path, by):
    groups = json.loads(_cli(db_path, "score", "--by", by, "--json").stdout)
    assert groups and all(SCORE_KEYS <= set(g) for g in groups)
    if by != "tag":  # a forecast with two tags is in two tag groups
        assert sum(g["n"] for g in groups) == 5


# --- leaving tagged forecasts out of the scores ---------------------------------------------------


def test_exclude_tags_leaves_those_forecasts_out_of_every_score(scored_ledger):
    table = score_table(scored_ledger.conn, by="source", exclude_tags=["x"])
    a = {g.group: g for g in table.groups}["A"]
    assert (a.n, a.brier) == (1, pytest.approx(0.09))  # only A's 0.3 that resolved no is left
    assert table.overall.n == 3  # A's 0.3 and B's two 0.5s
    assert table.exclude_tags == ("x",)
    by_tag = {g.group for g in score_table(scored_ledger.conn, by="tag", exclude_tags=["y"]).groups}
    assert by_tag == {"x", "(untagged)"}  # the forecast tagged x and y is gone from both groups


def test_exclude_tags_also_drops_unscored_counts(ledger):
    _settle(ledger, 0.4, "ambiguous", tags=("hindsight",))
    _settle(ledger, 0.6, "yes")
    table = score_table(ledger.conn, by="source", exclude_tags=("hindsight",))
    assert table.groups[0].excluded.ambiguous == 0 and table.overall.excluded.ambiguous == 0


def test_score_and_report_take_exclude_tag(scored_ledger, db_path):
    result = _cli(db_path, "score", "--exclude-tag", "x", "--exclude-tag", "y", "--json")
    assert result.exit_code == 0, result.output
    assert {g["group"]: g["n"] for g in json.loads(result.stdout)} == {"A": 1, "B": 2}
    result = _cli(db_path, "report", "--for", "2026-10", "--format", "json", "--exclude-tag", "x")
    data = json.loads(result.stdout)
    assert data["exclude_tags"] == ["x"]
    assert data["resolved"]["total"] == 5  # still listed, only left out of the scores
    assert data["overall"]["n"] == 3
    text = _cli(db_path, "report", "--for", "2026-10", "--exclude-tag", "x").stdout
    assert "Scores leave out the 2 forecasts tagged x (they are still listed)." in text  # counted: 3 scored remain


def test_written_reports_are_readable_like_any_new_file(scored_ledger, db_path, tmp_path):
    # A report is meant to be published: not left private by the temporary file it is written through.
    old = os.umask(0o022)
    try:
        target = tmp_path / "report.html"
        assert _cli(db_path, "report", "--for", "2026-10", "--format", "html", "-o", str(target)).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o600)  # an existing file keeps the mode its owner gave it
        assert _cli(db_path, "report", "--for", "2026-10", "-o", str(target)).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_excluding_a_tag_no_forecast_has_says_so(scored_ledger, db_path):
    result = _cli(db_path, "score", "--exclude-tag", "x", "--exclude-tag", "typo")
    assert result.exit_code == 0
    assert result.stderr == "Note: no forecast has the tag 'typo'; --exclude-tag typo leaves nothing out\n"
    assert _cli(db_path, "report", "--for", "2026-10", "--exclude-tag", "x").stderr == ""


# --- from a visual review of the rendered reports -----------------------------------------------


def test_markdown_escapes_source_names_everywhere_including_score_changes(ledger):
    hostile = "<img src=x onerror=alert(9)> | *big* ~gone~ $x$"
    _settle(ledger, 0.7, "yes", source=hostile)
    markdown = render(_report(ledger), "md")
    changes = markdown[markdown.index("## Score changes"):]
    assert not re.search(r"(?<!\\)<img", markdown)  # every < is escaped
    assert "\\<img src=x onerror=alert(9)\\> \\| \\*big\\* \\~gone\\~ \\$x\\$" in changes  # in full, not clipped
    html_out = render(_report(ledger), "html")
    assert "<img src=x" not in html_out and "&lt;img src=x onerror=alert(9)&gt; | *big* ~gone~ $x$" in html_out  # in full


def test_the_periods_own_table_has_an_all_row(scored_ledger):
    _settle(scored_ledger, 0.6, "no", source="E")
    report = _report(scored_ledger)
    text = render(report, "text")
    table = text[text.index("Scores for forecasts resolved in 2026-10"):text.index("Leaderboard")]
    assert any(line.startswith("all ") for line in table.splitlines())
    data = json.loads(render(report, "json"))
    assert data["period_overall"]["n"] == 4 and data["period_overall"]["group"] == "all"
    assert [g["group"] for g in data["period_scores"]] == ["A", "E"]  # the list itself is unchanged


def test_next_periods_deadlines_already_past_are_listed_as_due_not_upcoming(ledger):
    for deadline in (D(2026, 11, 15), D(2026, 11, 25)):  # the next period (2026-11) has begun on 2026-11-22
        ledger.add(**forecast_fields(made_on=D(2026, 1, 1), deadline=deadline, claim=f"deadline {deadline}"))
    report = _report(ledger, "2026-10")
    assert [line.claim for line in report.due.lines] == ["deadline 2026-11-15"]
    assert [line.claim for line in report.upcoming.lines] == ["deadline 2026-11-25"]


def test_a_period_not_over_is_scored_up_to_today_not_its_last_day(scored_ledger):
    report = _report(scored_ledger, "2026-Q4")
    assert report.scored_until == D(2026, 11, 22)
    for fmt in ("text", "md", "html"):
        output = render(report, fmt)
        assert "resolved up to 2026-11-22" in output and "resolved up to 2026-12-31" not in output
    assert _report(scored_ledger, "2026-10").scored_until == D(2026, 10, 31)


def test_a_report_as_of_a_past_day_leaves_out_what_was_resolved_after_it(ledger):
    _settle(ledger, 0.8, "no", on=D(2026, 11, 20))  # after the deadline (2026-10-31)
    as_of = ledger.report("2026-Q4", today=D(2026, 11, 10), min_n=1)
    assert as_of.resolved.total == 0 and as_of.outcomes == {}
    assert as_of.leaderboard.groups == () and as_of.period_scores.groups == ()
    assert "resolved up to 2026-11-10" in render(as_of, "text")
    assert json.loads(render(as_of, "json"))["scored_until"] == "2026-11-10"
    later = _report(ledger, "2026-Q4")  # as of 2026-11-22
    assert later.resolved.total == 1 and [g.group for g in later.leaderboard.groups] == ["A"]


def test_a_report_as_of_a_past_day_lists_later_resolved_forecasts_as_open(ledger, recorded_on_today):
    for deadline, on in ((D(2026, 10, 10), D(2026, 10, 12)), (D(2026, 10, 28), D(2026, 10, 20))):
        recorded_on_today.on("2026-01-02")  # recorded long before the report's day, resolved after it
        f = ledger.add(**forecast_fields(made_on=D(2026, 1, 1), deadline=deadline, claim=f"deadline {deadline}"))
        recorded_on_today.on(on)
        ledger.resolve(f.id, "no", on=on, evidence="e", early_reason="gone" if on < deadline else None, today=D(2026, 11, 22))
    as_of = ledger.report("2026-10", today=D(2026, 10, 11), min_n=1)
    assert [(line.claim, line.outcome) for line in as_of.due.lines] == [("deadline 2026-10-10", None)]
    assert [(line.claim, line.outcome) for line in as_of.remaining.lines] == [("deadline 2026-10-28", None)]
    now = _report(ledger, "2026-10")
    assert now.due.total == 0 and now.remaining is None and now.resolved.total == 2


def test_periods_are_listed_in_time_order_with_their_ranks(scored_ledger):
    table = score_table(scored_ledger.conn, by="month")
    assert [(g.group, g.rank) for g in table.groups] == [("2026-09", 2), ("2026-10", 1)]  # October scored better
    assert [g.group for g in score_table(scored_ledger.conn, by="source").groups] == ["A", "B"]  # others by Brier
