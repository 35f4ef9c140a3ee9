"""The report's calibration by source, trend, changes since the previous period, and the rule
"as recorded by that day" (issue 15).

Figures are computed by hand in the comments. The ledger is built with the recording clock set
(conftest.Clock): what was recorded when is part of what these sections report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import Ledger
from predictions.aggregate import score_table
from predictions.model import stored_values
from predictions.report import Period, build_report
from predictions.report_history import build_trend
from predictions.report_snapshot import recorded_cutoff
from predictions_cli.main import cli

from .conftest import Clock, forecast_fields

WILSON_1_OF_1 = 0.20654931437723745  # z = 1.959964: (1 + z²/2 - z·sqrt(z²/4)) / (1 + z²) for k = n = 1


def _question(ledger, clock, qid, source, p, *, deadline="2026-08-31"):
    clock.on("2026-06-01")
    return ledger.add(**forecast_fields(id=qid, source=source, probability=p, made_on="2026-06-01",
                                        deadline=deadline, claim=f"claim of {qid}"))  # fmt: skip


def _resolve(ledger, clock, qid, outcome, on, recorded, **extra):
    clock.on(recorded)
    early = "settled early" if outcome == "no" and on < ledger.get(qid).question.deadline.isoformat() else None
    return ledger.resolve(qid, outcome, on=on, evidence="e", early_reason=early, today="2026-11-22", **extra)


@pytest.fixture
def history(ledger, recorded_on_today):
    """A and B, resolved over four months; a correction and a late resolution recorded in November.

    q-a1 A 0.8 yes 06-30 (0.04)   q-b1 B 0.6 yes 06-30 (0.16)
    q-a2 A 0.3 no 08-15 (0.09), corrected on 11-05 to yes (0.49)
    q-b2 B 0.9 no 08-15 (0.81)    q-b3 B 0.2 no 07-31, recorded late on 11-10 (0.04)
    q-s  A 0.7 and B 0.4, yes 10-10 (A 0.09, B 0.36; relative A -0.27, B +0.27)
    """
    clock = recorded_on_today
    for qid, source, p, deadline in [("q-a1", "A", 0.8, "2026-06-30"), ("q-b1", "B", 0.6, "2026-06-30"),
                                     ("q-a2", "A", 0.3, "2026-08-31"), ("q-b2", "B", 0.9, "2026-08-31"),
                                     ("q-b3", "B", 0.2, "2026-07-31"), ("q-s", "A", 0.7, "2026-10-31")]:  # fmt: skip
        _question(ledger, clock, qid, source, p, deadline=deadline)
    ledger.add(source="B", probability=0.4, made_on="2026-06-01", question="q-s")
    _resolve(ledger, clock, "q-a1", "yes", "2026-06-30", "2026-07-01")
    _resolve(ledger, clock, "q-b1", "yes", "2026-06-30", "2026-07-01")
    _resolve(ledger, clock, "q-a2", "no", "2026-08-15", "2026-08-16")
    _resolve(ledger, clock, "q-b2", "no", "2026-08-15", "2026-08-16")
    _resolve(ledger, clock, "q-s", "yes", "2026-10-10", "2026-10-11")
    _resolve(ledger, clock, "q-a2", "yes", "2026-08-15", "2026-11-05", correction="misread the series")
    _resolve(ledger, clock, "q-b3", "no", "2026-07-31", "2026-11-10")
    return ledger


def _report(ledger, today="2026-11-22", period="2026-10", min_n=3):
    return ledger.report(period, today=today, min_n=min_n)


def _points(series):
    return {p.period: (p.n, None if p.brier is None else round(p.brier, 6)) for p in series.points if p.n}


def test_calibration_by_source_is_each_sources_own_calibration_table(history):
    report = _report(history)
    b, a = report.calibration_by_source  # B has 4 scored, A 3: the largest first
    assert (b.group, b.n, a.group, a.n) == ("B", 4, "A", 3)
    # A: 0.8, 0.3 (corrected to yes) and 0.7, all yes: one in each of bins 7, 2 and 6
    assert [(x.index, x.n, x.yes) for x in a.bins] == [(2, 1, 1), (6, 1, 1), (7, 1, 1)]
    assert a.ece == pytest.approx((0.2 + 0.7 + 0.3) / 3)
    assert a.bins[0].wilson_low == pytest.approx(WILSON_1_OF_1) and a.bins[0].wilson_high == 1.0
    # B: 0.6 yes, 0.9 no, 0.2 no, 0.4 yes: ECE (0.4 + 0.9 + 0.2 + 0.6) / 4
    assert b.ece == pytest.approx(0.525)
    assert [(x.index, x.yes) for x in b.bins] == [(1, 0), (3, 1), (5, 1), (8, 0)]
    data = report.to_json()["calibration_by_source"]
    assert [(d["source"], d["n"]) for d in data] == [("B", 4), ("A", 3)]
    assert data[1]["bins"][0]["wilson_low"] == pytest.approx(WILSON_1_OF_1) and data[1]["ece"] == pytest.approx(0.4)


def test_calibration_by_source_leaves_out_sources_below_min_n(history):
    assert [g.group for g in _report(history, min_n=4).calibration_by_source] == ["B"]
    assert _report(history, min_n=5).calibration_by_source == ()
    assert "No source has 5 scored (source, question) pairs (resolved yes or no) yet." in _report(history, min_n=5).render("text")


def test_trend_scores_each_month_alone_with_gaps(history):
    trend = _report(history).trend
    assert trend.periods == tuple(f"2025-{m}" for m in ("11", "12")) + tuple(f"2026-{m:02d}" for m in range(1, 11))
    # June: A 0.04, B 0.16; July: B's late 0.04; August: A 0.49 (corrected), B 0.81; October: A 0.09, B 0.36
    assert _points(trend.overall) == {"2026-06": (2, 0.1), "2026-07": (1, 0.04), "2026-08": (2, 0.65),
                                      "2026-10": (2, 0.225)}  # fmt: skip
    september = trend.overall.points[trend.periods.index("2026-09")]
    assert (september.n, september.brier) == (0, None)  # a gap, not an interpolation
    b, a = trend.sources
    assert (b.group, b.n, a.group, a.n) == ("B", 4, "A", 3)
    assert _points(a) == {"2026-06": (1, 0.04), "2026-08": (1, 0.49), "2026-10": (1, 0.09)}
    assert _points(b) == {"2026-06": (1, 0.16), "2026-07": (1, 0.04), "2026-08": (1, 0.81), "2026-10": (1, 0.36)}
    october = trend.periods.index("2026-10")
    assert a.points[october].relative_brier == pytest.approx(-0.27) and a.points[october].shared_questions == 1
    assert b.points[october].relative_brier == pytest.approx(0.27)
    assert a.points[0].relative_brier is None and trend.shared


def test_trend_follows_the_reports_period_kind(history):
    quarters = _report(history, period="2026-Q4").trend
    assert quarters.periods == ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
    # Q2: June (0.04, 0.16); Q3: July and August (0.04, 0.49, 0.81); Q4: October (0.09, 0.36)
    assert _points(quarters.overall) == {"2026-Q2": (2, 0.1), "2026-Q3": (3, 0.446667), "2026-Q4": (2, 0.225)}
    years = _report(history, period="2026").trend
    assert years.periods == ("2022", "2023", "2024", "2025", "2026") and _points(years.overall) == {"2026": (7, 0.284286)}


def test_changes_since_the_previous_period_list_corrections_and_late_resolutions(history):
    changes = _report(history).changes
    assert changes.total == 2 and changes.by_period == (("2026-07", 1), ("2026-08", 1))
    correction, late = changes.changes  # in the order they were recorded
    assert (correction.question_id, correction.kind, correction.period) == ("q-a2", "correction", "2026-08")
    assert (correction.old_outcome, correction.outcome, correction.reason) == ("no", "yes", "misread the series")
    assert correction.old_resolved_on == correction.resolved_on == "2026-08-15"
    assert correction.recorded_at.startswith("2026-11-05T")
    assert (late.question_id, late.kind, late.period, late.old_outcome, late.outcome) == ("q-b3", "late", "2026-07", None, "no")
    # q-s was resolved (and recorded) within October itself: a figure of this period, not an earlier one
    assert "q-s" not in {c.question_id for c in changes.changes}
    data = _report(history).to_json()["changes_since_previous"]
    assert data["total"] == 2 and data["since"] == "2026-10-01T00:00:00Z"
    assert (data["corrections"], data["late"]) == (1, 1)
    assert data["changes"][0] | {"recorded_at": None} == {
        "question_id": "q-a2", "claim": "claim of q-a2", "kind": "correction", "period": "2026-08",
        "old_period": "2026-08", "old_outcome": "no", "outcome": "yes", "old_resolved_on": "2026-08-15",
        "resolved_on": "2026-08-15", "reason": "misread the series", "recorded_at": None, "forecasts": 1,
        "entries": 1, "forecast_id": None, "source": None,
    }  # fmt: skip


def test_a_report_for_a_later_period_no_longer_lists_what_an_earlier_one_did(history):
    # November's window starts 2026-11-01: both changes were recorded after that, so both are listed again
    assert _report(history, period="2026-11").changes.total == 2
    # September's report, made on 2026-10-20: nothing recorded from 2026-09-01 to then changed August or before
    assert _report(history, today="2026-10-20", period="2026-09").changes.total == 0


def test_a_report_as_of_a_past_day_excludes_what_was_recorded_later(history):
    before = _report(history, today="2026-11-01")  # before the correction (11-05) and the late resolution (11-10)
    assert before.recorded_by == dt.date(2026, 11, 1) and before.recorded_until.startswith("2026-10-11T")
    assert before.changes.total == 0
    # August as it was seen then: A 0.09 (the first resolution), B 0.81; July had nothing resolved yet
    assert _points(before.trend.overall) == {"2026-06": (2, 0.1), "2026-08": (2, 0.45), "2026-10": (2, 0.225)}
    a = {g.group: g for g in before.leaderboard}["A"]
    assert a.brier == pytest.approx((0.04 + 0.09 + 0.09) / 3)
    assert [line.id for line in before.due.lines] == ["q-b3"]  # past its deadline, and not resolved then
    data = before.to_json()
    assert data["recorded_by"] == "2026-11-01" and data["recorded_until"] == before.recorded_until
    # The head it names is the chain's last entry recorded by then; the header's is the head verified now
    seq, digest, stamp = history.conn.execute(
        "SELECT seq, hash, json_extract(payload, '$.recorded_at') FROM entries WHERE seq = ?", [before.recorded_entries]
    ).fetchone()
    later_stamps = [r[0] for r in history.conn.execute(
        "SELECT json_extract(payload, '$.recorded_at') FROM entries WHERE seq > ?", [seq])]  # fmt: skip
    assert stamp < "2026-11-02" and later_stamps and min(later_stamps) >= "2026-11-02"
    assert (data["recorded_entries"], data["recorded_head"]) == (seq, digest) and digest != before.chain_head
    assert f"the chain then ended at entry {seq}, head {digest}." in before.render("text")
    later = _report(history)  # as of 2026-11-22: everything was recorded by then
    assert {g.group: g for g in later.leaderboard}["A"].brier == pytest.approx((0.04 + 0.49 + 0.09) / 3)
    assert later.due.total == 0 and later.recorded_until.startswith("2026-11-10T")


def test_a_report_as_of_today_reads_everything_and_says_so(history):
    report = history.report("2026-10", min_n=3)  # the real day
    assert report.recorded_by is None and report.changes.total == 2
    assert report.to_json()["recorded_by"] is None
    assert (report.to_json()["recorded_entries"], report.to_json()["recorded_head"]) == (None, None)
    assert "It includes everything recorded so far" in report.render("text")
    assert recorded_cutoff(dt.date(2026, 11, 1), real_today=dt.date(2026, 11, 1)) is None
    cutoff = recorded_cutoff(dt.date(2026, 11, 1), real_today=dt.date(2026, 11, 2))
    # Text order: every stamp of 11-01 is before the cutoff, every stamp of 11-02 after it
    assert "2026-11-01T23:59:59.999999Z" < cutoff < "2026-11-02T00:00:00.000001Z" < "2026-11-02T00:00:00Z"


def test_an_update_recorded_later_does_not_reweigh_a_past_days_report(ledger, recorded_on_today):
    _question(ledger, recorded_on_today, "q-up", "A", 0.7, deadline="2026-10-31")
    _resolve(ledger, recorded_on_today, "q-up", "yes", "2026-10-10", "2026-10-11")
    recorded_on_today.on("2026-11-15")  # a back-filled update, made 09-01
    ledger.add(source="A", probability=0.95, made_on="2026-09-01", question="q-up")
    then = _report(ledger, today="2026-11-14", min_n=1).leaderboard.overall
    assert (then.brier, then.forecasts) == (pytest.approx(0.09), 1)
    assert then.bins[0].n == 1  # the whole pair's weight: the update that later shortened it did not exist yet
    # Now the pair's 132 days (06-01 to 10-10) split 92 at 0.7 and 40 at 0.95
    now = _report(ledger, min_n=1).leaderboard.overall
    assert now.brier == pytest.approx((92 * 0.09 + 40 * 0.0025) / 132) and now.forecasts == 2
    assert ledger.verify().ok  # the snapshot was temporary: the ledger's own weights are untouched


def test_the_snapshot_is_gone_after_the_report(history):
    _report(history, today="2026-11-01")
    temp = history.conn.execute("SELECT name FROM temp.sqlite_master").fetchall()
    assert temp == [] and history.conn.execute("PRAGMA query_only").fetchone()[0] == 0


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_every_format_shows_the_three_sections(history, fmt):
    out = _report(history).render(fmt)
    if fmt == "html":  # a trend cell's n is on a line of its own under the score
        out = out.replace('<br><span class="muted">', " ")
    for text in ("Calibration by source", "ECE 0.525", "ECE 0.400", "Brier score by month of resolution",
                 "0.650 (2)", "0.225 (2)", "-0.270 (1)", "Changes to earlier periods recorded since 2026-09 ended",
                 "misread the series", "2026-11-05T", "q-b3", "latest entry it reads was recorded 2026-11-10T"):  # fmt: skip
        assert text in out, (fmt, text)
    past = _report(history, today="2026-11-01").render(fmt)
    assert "as recorded by the end of 2026-11-01 (UTC)" in past and "misread" not in past


def test_json_has_the_contract_keys(history):
    data = json.loads(_report(history).render("json"))
    for key in ("calibration_by_source", "trend", "changes_since_previous", "recorded_until", "recorded_by"):
        assert key in data
    assert data["trend"]["kind"] == "month" and len(data["trend"]["periods"]) == 12
    gap = data["trend"]["overall"]["points"][data["trend"]["periods"].index("2026-09")]
    assert gap == {"period": "2026-09", "n": 0, "brier": None, "relative_brier": None, "shared_questions": 0}
    assert [s["group"] for s in data["trend"]["sources"]] == ["B", "A"]


def test_html_without_matplotlib_keeps_every_figure_in_tables(history, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    page = _report(history).render("html")
    assert "pip install &#x27;predictions[plot]&#x27;" in page or "pip install 'predictions[plot]'" in page
    assert "<img" not in page
    assert "ECE 0.525" in page and '0.650<br><span class="muted">(2)' in page and "misread the series" in page


def test_html_draws_a_small_multiple_per_source_up_to_twelve(ledger, recorded_on_today):
    for i in range(14):
        for j in range(2):
            _question(ledger, recorded_on_today, f"m-{i}-{j}", f"Source {i:02d}", 0.6 + 0.01 * j)
            _resolve(ledger, recorded_on_today, f"m-{i}-{j}", "yes", "2026-08-31", "2026-09-01")
    page = _report(ledger, period="2026-08", min_n=2).render("html")
    assert page.count('class="multiple"') == 12
    assert "Not drawn (2 smaller sources, in the tables below): Source 12, Source 13." in page
    assert page.count("<details>") == 14 and page.count('class="trend"') == 1


HOSTILE = ['<script>alert("x")</script>', "Tom's \"quoted\" & <b>bold</b>", "\u202eevil\u200f", "L" * 300]


@pytest.mark.parametrize("fmt", ["html", "md", "text"])
def test_hostile_source_names_are_escaped_in_the_new_sections(ledger, recorded_on_today, fmt):
    with stored_values():  # as an earlier version could record them (bidi marks are refused now)
        for i, name in enumerate(HOSTILE):
            _question(ledger, recorded_on_today, f"h-{i}", name, 0.7)
            ledger.add(id=f"o-{i}", source="Other", probability=0.2, made_on="2026-06-01", question=f"h-{i}")
            _resolve(ledger, recorded_on_today, f"h-{i}", "yes", "2026-08-31", "2026-09-01")
        _resolve(ledger, recorded_on_today, "h-0", "no", "2026-08-31", "2026-10-02", correction='<img src=x onerror="1">')
    report = _report(ledger, period="2026-10", min_n=1)
    assert [g.group for g in report.calibration_by_source][0] == "Other"
    out = report.render(fmt)
    assert "\u202e" not in out and "\u200f" not in out  # shown escaped, never reordering the text around
    if fmt in ("html", "md"):  # markup: nothing from the ledger may become a tag
        for name in HOSTILE[:2]:
            assert name not in out
        assert '<img src=x onerror="1">' not in out
    if fmt == "html":
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
        assert "&lt;img src=x onerror=&quot;1&quot;&gt;" in out
        assert "<script" not in out and "onerror=" not in out.replace("onerror=&quot;", "")
    if fmt == "text":
        assert "L" * 300 in out  # a file gets every name whole


def test_a_long_name_does_not_widen_the_text_trend_table(ledger, recorded_on_today):
    for i in range(3):
        _question(ledger, recorded_on_today, f"w-{i}", "W" * 200, 0.6)
        _resolve(ledger, recorded_on_today, f"w-{i}", "yes", "2026-08-31", "2026-09-01")
    text = _report(ledger, period="2026-09", min_n=1).render("text", width=80)
    table = text[text.index("Brier score by month"):text.index("Changes to earlier")]
    assert all(len(line) <= 80 for line in table.splitlines()), table


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 20), st.integers(1, 10), st.booleans()),
                min_size=1, max_size=12))  # fmt: skip
def test_trend_agrees_with_score_by_month_and_source(tmp_path_factory, rows):
    """Two ways to the same figures: the trend's GROUP BY (period, source), and score_table."""
    path = tmp_path_factory.mktemp("trend") / "ledger.db"
    with Ledger(path) as ledger:
        for i, (source, tenths, month, yes) in enumerate(rows):
            day = f"2026-{month:02d}-28"
            ledger.add(**forecast_fields(id=f"t-{i}", source=source, probability=tenths / 20, made_on="2026-01-01",
                                         deadline=day))  # fmt: skip
            ledger.resolve(f"t-{i}", "yes" if yes else "no", on=day, evidence="e", today="2026-11-22")
        period = Period.parse("2026-10")
        trend = build_trend(ledger.conn, period, period.end, min_n=1, exclude_tags=())
        by_month = {g.group: g for g in score_table(ledger.conn, by="month")}
        for point in trend.overall.points:
            expected = by_month.get(point.period)
            assert (point.n, point.brier) == ((expected.n, pytest.approx(expected.brier)) if expected else (0, None))
        for series in trend.sources:
            for point in series.points:
                month = Period.parse(point.period)
                rows_ = {g.group: g for g in score_table(ledger.conn, by="source", since=month.start, until=month.end)}
                expected = rows_.get(series.group)
                assert (point.n, point.brier) == ((expected.n, pytest.approx(expected.brier)) if expected else (0, None))


def _cli(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])


def test_the_report_command_prints_the_sections(history, db_path):
    result = _cli(db_path, "--today", "2026-11-22", "report", "--for", "2026-10", "--min-n", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changes_since_previous"]["total"] == 2 and data["recorded_by"] == "2026-11-22"
    past = _cli(db_path, "--today", "2026-11-01", "report", "--for", "2026-10", "--min-n", "3")
    assert past.exit_code == 0 and "Nothing recorded since then changed an earlier period." in past.stdout


SCRIPT = Path(sys.executable).with_name("predictions")


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
def test_the_installed_command_reports_as_recorded_by_a_past_day(history, db_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}

    def run(*args):
        result = subprocess.run([str(SCRIPT), "--db", str(db_path), *args], capture_output=True, text=True,
                                encoding="utf-8", env=env, stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    past = run("--today", "2026-11-01", "report", "--for", "2026-10", "--format", "json")
    now = run("report", "--for", "2026-10", "--format", "json")  # the real day: everything
    assert (past["recorded_by"], past["changes_since_previous"]["total"]) == ("2026-11-01", 0)
    assert (now["recorded_by"], now["changes_since_previous"]["total"]) == (None, 2)
    assert past["overall"]["brier"] != now["overall"]["brier"]


def test_build_report_reads_the_clock_only_for_the_real_day(history):
    period = Period.parse("2026-10")
    with history._snapshot():
        as_then = build_report(history.conn, ledger="x", verified=None, period=period, today=dt.date(2026, 11, 1),
                               real_today=dt.date(2026, 11, 1))  # fmt: skip
    assert as_then.recorded_by is None and as_then.changes.total == 2  # "today" is the real day: everything


def test_left_out_tags_leave_the_trend_and_the_changes_too(ledger, recorded_on_today):
    recorded_on_today.on("2026-06-01")
    for qid, tags in (("x-kept", ()), ("x-left", ("hindsight",))):
        ledger.add(**forecast_fields(id=qid, source="A", probability=0.9, made_on="2026-06-01", deadline="2026-08-31",
                                     tags=tags))  # fmt: skip
        _resolve(ledger, recorded_on_today, qid, "yes", "2026-08-31", "2026-09-01")
        _resolve(ledger, recorded_on_today, qid, "no", "2026-08-31", "2026-10-05", correction="wrong")
    report = ledger.report("2026-10", today="2026-11-22", min_n=1, exclude_tags=["hindsight"])
    assert [c.question_id for c in report.changes.changes] == ["x-kept"] and report.changes.total == 1
    assert _points(report.trend.overall) == {"2026-08": (1, 0.81)}  # x-kept alone: 0.9 for a no


@pytest.fixture
def wide_names(ledger, recorded_on_today):
    """Two sources with long names (one of wide characters), a correction with a long reason."""
    names = ["The Extremely Long Name Of A Regional Newspaper Group " * 2, "日本経済新聞" * 6]
    for i in range(6):
        _question(ledger, recorded_on_today, f"n-{i}", names[i % 2], 0.3 + 0.1 * i)
        _resolve(ledger, recorded_on_today, f"n-{i}", "yes", "2026-08-31", "2026-09-01")
    _resolve(ledger, recorded_on_today, "n-0", "no", "2026-08-31", "2026-10-03", correction="a long reason " * 12)
    return ledger.report("2026-10", today="2026-11-22", min_n=1)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(width=st.integers(min_value=64, max_value=200))
def test_the_new_sections_fit_the_terminal_they_are_given(wide_names, width):
    from predictions.textwidth import display_width

    text = wide_names.render("text", width=width)
    start, end = text.index("Calibration by source"), text.index("Due for resolution")
    assert max(display_width(line) for line in text[start:end].splitlines()) <= width
    assert "a long reason" in text and "[2]" in text


def test_the_day_ends_at_midnight_utc(ledger, recorded_on_today):
    _question(ledger, recorded_on_today, "edge", "A", 0.8)
    recorded_on_today.now = dt.datetime(2026, 11, 1, 23, 59, 59, 999998, tzinfo=dt.timezone.utc)  # 23:59:59.999999
    ledger.resolve("edge", "yes", on="2026-08-31", evidence="e", today="2026-11-22")
    recorded_on_today.now = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)  # a microsecond after midnight
    ledger.resolve("edge", "no", on="2026-08-31", evidence="e", correction="wrong", today="2026-11-22")
    report = _report(ledger, today="2026-11-01", period="2026-09", min_n=1)
    assert report.leaderboard.overall.yes == 1 and report.recorded_until == "2026-11-01T23:59:59.999999Z"
    assert _report(ledger, today="2026-11-02", period="2026-09", min_n=1).leaderboard.overall.yes == 0


def test_corrections_come_first_and_many_periods_are_summed(ledger, recorded_on_today):
    for month in range(1, 15):  # fourteen late resolutions, one a month from 2025-01 to 2026-02
        day = dt.date(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 28).isoformat()
        recorded_on_today.on("2025-01-01")
        ledger.add(**forecast_fields(id=f"late-{month}", source="A", probability=0.5, made_on="2025-01-01", deadline=day))
        # late-1's resolution was recorded before October: its correction is one; the other 13 are late
        _resolve(ledger, recorded_on_today, f"late-{month}", "yes", day, "2026-09-30" if month == 1 else "2026-10-02")
    _resolve(ledger, recorded_on_today, "late-1", "no", "2025-01-28", "2026-10-03", correction="misread")
    changes = _report(ledger, period="2026-10", min_n=1).changes
    assert (changes.total, changes.corrections) == (14, 1) and len(changes.by_period) == 14
    assert changes.changes[0].kind == "correction" and {c.kind for c in changes.changes[1:]} == {"late"}
    text = _report(ledger, period="2026-10", min_n=1).render("text")
    assert "14 changes to earlier periods (1 correction, 13 late resolutions; by period: 2 changes in 2 earlier periods, 2025-03: 1," in text


EVENTS = st.lists(
    st.tuples(
        st.sampled_from("AB"), st.integers(1, 9), st.integers(1, 20),  # source, p in tenths, first recorded (Sep day)
        st.lists(st.tuples(st.booleans(), st.integers(1, 9), st.integers(0, 60), st.integers(0, 10)),
                 max_size=2),  # more forecasts: an update (or the other source's), p, made after June 1, recorded after the first
        st.one_of(st.none(), st.tuples(st.booleans(), st.integers(0, 10))),  # resolution: yes?, days after
        st.one_of(st.none(), st.integers(0, 10)),  # a correction, days after the resolution
    ),
    min_size=1, max_size=6,
)  # fmt: skip


def _events(questions):
    """(recorded day, order, action) for every write the questions make, in recording order."""
    events = []
    for q, (source, tenths, first, others, resolution, correction) in enumerate(questions):
        start = dt.date(2026, 9, first)
        events.append((start, 0, ("add", q, source, tenths, "2026-06-01", None)))
        for j, (update, p, made, later) in enumerate(others):
            other = source if update else "B" if source == "A" else "A"
            made_on = (dt.date(2026, 6, 1) + dt.timedelta(days=made)).isoformat()
            events.append((start + dt.timedelta(days=later), 1, ("add", q, other, p, made_on, j)))
        if resolution is not None:
            yes, after = resolution
            resolved = start + dt.timedelta(days=after)
            events.append((resolved, 2, ("resolve", q, "yes" if yes else "no", None)))
            if correction is not None:
                events.append((resolved + dt.timedelta(days=correction), 3, ("resolve", q, "no" if yes else "yes", "fix")))
    return sorted(events, key=lambda e: (e[0], e[1]))


def _replay(path, events, clock):
    with Ledger(path) as ledger:
        for day, _, action in events:
            clock.on(day)
            if action[0] == "add":
                _, q, source, tenths, made_on, j = action
                fields = {"source": source, "probability": tenths / 10, "made_on": made_on}
                if j is None:
                    ledger.add(**forecast_fields(id=f"q-{q}", deadline="2026-08-31", claim=f"q {q}", **fields))
                else:
                    ledger.add(id=f"f-{q}-{j}", question=f"q-{q}", **fields)
            else:
                _, q, outcome, correction = action
                ledger.resolve(f"q-{q}", outcome, on="2026-08-31", evidence="e", correction=correction, today="2026-11-22")
        return ledger.report("2026-08", today="2026-09-10", min_n=1).to_json()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(EVENTS)
def test_a_past_days_report_is_the_report_of_what_had_been_recorded(tmp_path_factory, monkeypatch, questions):
    """Two ways to a report as of 09-10: the whole ledger read through the snapshot, and a ledger
    holding only what was recorded by 09-10 (read directly: nothing in it is later)."""
    clock = Clock(dt.date(2026, 9, 1))
    monkeypatch.setattr("predictions.store.utc_now", clock)
    events = _events(questions)
    folder = tmp_path_factory.mktemp("replay")
    whole = _replay(folder / "whole.db", events, clock)
    then = _replay(folder / "then.db", [e for e in events if e[0] <= dt.date(2026, 9, 10)], clock)
    for key in ("leaderboard", "overall", "period_scores", "trend", "calibration_by_source", "resolved", "due",
                "recorded_until", "recorded_by"):  # fmt: skip
        assert whole[key] == then[key], key
    # The chain as it stood on 09-10 is the whole chain of the ledger that holds only what was recorded by then
    assert (whole["recorded_entries"], whole["recorded_head"]) == (then["recorded_entries"], then["recorded_head"])
    assert then["recorded_head"] == then["chain_head"]
