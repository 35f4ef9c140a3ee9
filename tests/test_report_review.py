"""What a review of the report's new sections found (issue 15, review): the score changes point to
the changes to earlier periods; those are one line per question, old state (when the previous
period ended) against the new; forecasts recorded late on resolved questions are listed too.
"""

from __future__ import annotations

from .conftest import forecast_fields
from .test_report_sections import _question, _report, _resolve, history  # noqa: F401  (a fixture)


def test_score_changes_say_earlier_figures_changed_in_every_format(history):  # noqa: F811
    report = _report(history, period="2026-11")  # nothing resolved in November; two changes recorded in it
    assert report.movement == () and report.changes.total == 2
    pointer = "2 changes recorded since 2026-10 ended changed earlier periods"
    for fmt in ("text", "md", "html"):
        out = report.render(fmt)
        part = out[out.index("Score changes since the end of 2026-10"):]
        assert pointer in part[:part.index("No source had new forecasts scored")], fmt
        assert "Changes to earlier periods recorded since 2026-10 ended" in part
    quiet = _report(history, period="2026-12", today="2026-12-05").render("text")  # nothing recorded in December
    assert "changed earlier periods' figures" not in quiet


def test_a_correction_undone_in_the_same_window_is_no_change(ledger, recorded_on_today):
    clock = recorded_on_today
    _question(ledger, clock, "flip", "A", 0.7)
    _resolve(ledger, clock, "flip", "yes", "2026-08-30", "2026-09-02")
    _resolve(ledger, clock, "flip", "no", "2026-08-30", "2026-11-14", correction="wrong")
    _resolve(ledger, clock, "flip", "yes", "2026-08-30", "2026-11-15", correction="wrong again")
    changes = _report(ledger, period="2026-11", min_n=1).changes
    assert (changes.total, changes.corrections, changes.cancelled, changes.changes) == (0, 0, 1, ())
    text = _report(ledger, period="2026-11", min_n=1).render("text")
    assert "1 question was corrected since and back to the outcome and date a reader saw" in text
    assert _report(ledger, period="2026-11", min_n=1).to_json()["changes_since_previous"]["cancelled"] == 1


def test_a_late_resolution_corrected_later_is_one_change_from_open(ledger, recorded_on_today):
    clock = recorded_on_today
    _question(ledger, clock, "late", "A", 0.7)
    _resolve(ledger, clock, "late", "no", "2026-08-01", "2026-11-12")
    _resolve(ledger, clock, "late", "yes", "2026-08-01", "2026-11-13", correction="oops")
    changes = _report(ledger, period="2026-11", min_n=1).changes
    assert (changes.total, changes.corrections, changes.late) == (1, 0, 1)
    (change,) = changes.changes
    assert (change.kind, change.old_outcome, change.outcome, change.entries, change.reason) == ("late", None, "yes", 2, "oops")
    assert change.recorded_at.startswith("2026-11-13T")
    # As recorded by 11-12 the question had only the late "no"
    before = _report(ledger, period="2026-11", min_n=1, today="2026-11-12").changes.changes
    assert [(c.kind, c.outcome, c.entries) for c in before] == [("late", "no", 1)]


def test_a_corrected_date_back_and_forth_counts_once_by_its_net_change(ledger, recorded_on_today):
    clock = recorded_on_today
    _question(ledger, clock, "moved", "A", 0.7)
    _resolve(ledger, clock, "moved", "yes", "2026-08-20", "2026-08-21")
    _resolve(ledger, clock, "moved", "yes", "2026-07-20", "2026-11-02", correction="date wrong")
    _resolve(ledger, clock, "moved", "no", "2026-07-20", "2026-11-03", correction="outcome wrong")
    (change,) = _report(ledger, period="2026-11", min_n=1).changes.changes
    assert (change.old_outcome, change.old_resolved_on, change.outcome, change.resolved_on) == (
        "yes", "2026-08-20", "no", "2026-07-20")
    assert (change.kind, change.entries, change.reason) == ("correction", 2, "date wrong; outcome wrong")
    assert (change.old_period, change.period) == ("2026-08", "2026-07")


def test_a_forecast_recorded_late_on_a_resolved_question_is_a_change(ledger, recorded_on_today):
    clock = recorded_on_today
    _question(ledger, clock, "q-old", "A", 0.8)
    _resolve(ledger, clock, "q-old", "yes", "2026-08-10", "2026-08-11")
    clock.on("2026-11-20")
    ledger.add(id="f-late", source="B", probability=0.3, made_on="2026-06-01", question="q-old")
    report = _report(ledger, period="2026-11", min_n=1)
    changes = report.changes
    assert (changes.total, changes.late_forecasts, changes.by_period) == (1, 1, (("2026-08", 1),))
    (change,) = changes.changes
    assert (change.kind, change.forecast_id, change.source, change.period, change.outcome) == (
        "forecast", "f-late", "B", "2026-08", "yes")
    text = report.render("text")
    assert "q-old in 2026-08: forecast f-late by B recorded late" in text and "1 late forecast" in text
    assert report.to_json()["changes_since_previous"]["late_forecasts"] == 1
    # Recorded in the report's own period on a question of that period: not a change to an earlier one
    assert _report(ledger, period="2026-08", today="2026-11-22", min_n=1).changes.late_forecasts == 0
    # As recorded by a day before it, it is not there
    assert _report(ledger, period="2026-11", today="2026-11-19", min_n=1).changes.total == 0


def test_a_report_of_a_day_before_anything_was_recorded_says_so(history):  # noqa: F811
    report = history.report("2026-04", today="2026-05-01", min_n=1)
    text = report.render("text")
    assert "nothing had been recorded by then" in text and "the ledger is empty" not in text
    assert (report.recorded_entries, report.recorded_head) == (0, "0" * 64)  # the chain before its first entry


def test_nothing_resolved_is_said_once(history):  # noqa: F811
    text = _report(history, period="2026-11").render("text")
    assert "Resolved in 2026-11:\n  Nothing was resolved in this period." in text and ": none" not in text


def test_no_source_with_enough_pairs_counts_pairs(history):  # noqa: F811
    text = _report(history, min_n=9).render("text")
    assert "No source has 9 scored (source, question) pairs (resolved yes or no) yet." in text


def test_without_matplotlib_each_chart_hint_names_its_chart(history, without_matplotlib):  # noqa: F811
    html = _report(history, min_n=1).render("html")
    assert "Install the plot extra for the trend chart:" in html
    assert "Install the plot extra for the reliability diagram:" in html
    assert "reliability diagram: pip install 'predictions[plot]' (the trend chart)" not in html.replace("&#x27;", "'")


def test_a_label_with_a_line_break_or_control_character_is_refused(history, db_path):  # noqa: F811
    from click.testing import CliRunner

    from predictions_cli.main import cli

    for label in ("bad\nlabel", "bad\tlabel", "bad\x1blabel", "bad\rlabel"):
        result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--for", "2026-10", "--label", label])
        assert result.exit_code == 2 and "'--label'" in result.output and "line break" in result.output, label
        (error,) = [line for line in result.output.splitlines() if line.startswith("Error")]  # one line
        assert repr(label) in error and "Traceback" not in result.output, label
    page = _report(history).render("html")
    assert "<title>Calibration report 2026-10: ledger.db</title>" in page
    labelled = history.report("2026-10", today="2026-11-22", label="My <ledger>").render("html")
    assert "<title>Calibration report 2026-10: My &lt;ledger&gt;</title>" in labelled


def _trend(sources: int, n: int, shared: int):
    from predictions.report_history import Trend, TrendPoint, TrendSeries

    periods = tuple(f"2026-{m:02d}" for m in range(1, 13))

    def series(name, rel):
        points = tuple(TrendPoint(p, n, 0.25, rel if i == 3 else None, shared if i == 3 else 0)
                       for i, p in enumerate(periods))  # fmt: skip
        return TrendSeries(name, n * len(periods), points)

    return Trend("month", periods, series("all", 0.0), tuple(series(f"S{i}", -0.1) for i in range(sources)), 1)


def test_the_rel_trend_table_names_no_column_its_legend_does_not(monkeypatch):
    import re

    from predictions.report_sections import TrendTable
    from predictions.report_views import text_block

    # Brier cells "0.250 (1000)" are wider than rel. cells "-0.100 (1)": the rel. table fitted more columns
    trend = _trend(4, 1000, 1)
    for width in (40, 50, 60, 70, 80, None):
        lines = text_block(TrendTable(trend), width)
        split = lines.index("")  # the rel. table follows a blank line
        named = {m for line in lines[:split] for m in re.findall(r"^  \[(\d)\] ", line)}
        used = set(re.findall(r"\[(\d)\]", "\n".join(lines[split:])))
        assert used <= named, (width, used, named)
        assert all(len(line) <= width for line in lines) if width else True


def _busy(ledger, clock):
    """Long names and claims, shared questions, updates, a correction with a long reason, due and upcoming."""
    long = "Institute for the Very Long Names of Forecasting Organisations"
    sources = [long, "A", "Bee ünïcode 名前 source", "C" * 30, "D"]
    for k in range(12):
        qid = f"busy-{k}"
        month = k % 10 + 1
        deadline = f"2026-{month:02d}-28"
        clock.on("2025-12-01")
        ledger.add(**forecast_fields(id=qid, source=sources[k % 5], probability=(k % 9 + 1) / 10,
                                     made_on="2025-12-01", deadline=deadline, claim=f"claim {k} " + "that goes on " * 8))
        ledger.add(source=sources[(k + 1) % 5], probability=0.5 + k / 100, made_on="2025-12-02", question=qid)
        ledger.add(source=sources[k % 5], probability=0.3 + k / 100, made_on="2026-01-15", question=qid)  # an update
        _resolve(ledger, clock, qid, "yes" if k % 3 else "no", deadline, f"2026-{month:02d}-28")
    _resolve(ledger, clock, "busy-1", "no", "2026-02-28", "2026-11-03",
             correction="the first resolution read the wrong table of the report " * 3)
    clock.on("2026-11-04")
    for k, deadline in enumerate(("2026-11-10", "2026-11-30", "2026-12-15")):
        ledger.add(**forecast_fields(id=f"open-{k}", source=sources[k], probability=0.5, made_on="2026-11-01",
                                     deadline=deadline, claim="an open claim " * 10))


def test_every_line_of_a_busy_report_fits_the_width(ledger, recorded_on_today):
    from predictions.textwidth import display_width

    _busy(ledger, recorded_on_today)
    for period, today in (("2026", "2026-12-01"), ("2026-11", "2026-11-22"), ("2026-10", "2026-11-05")):
        report = ledger.report(period, today=today, min_n=1)
        for width in (40, 60, 80):
            text = report.render("text", width=width)
            wide = [line for line in text.splitlines() if display_width(line) > width]
            assert not wide, (period, width, wide[:3])
        assert max(display_width(line) for line in report.render("text").splitlines()) > 80  # nothing cut without


def test_the_html_trend_legend_is_page_text_in_the_charts_colours(history):  # noqa: F811
    import base64
    import re

    from predictions.charts import TREND_COLOURS

    page = _report(history, min_n=1).render("html")
    part = page[page.index("Brier score by month"):page.index("<h2>Changes to earlier periods")]
    legend = re.search(r'<ul class="legend">(.*?)</ul>', part)[1]  # under the chart, not inside its image
    assert part.index('class="trend"') < part.index('<ul class="legend">')
    keys = re.findall(r'<li><span class="key" style="background:(#[0-9a-f]{6})"></span>([^<]*)</li>', legend)
    assert keys == [(TREND_COLOURS[0], "all"), (TREND_COLOURS[1], "B"), (TREND_COLOURS[2], "A")]
    svg = base64.b64decode(re.search(r'class="trend" alt="[^"]*" src="data:image/svg\+xml;base64,([^"]+)"', part)[1]).decode()
    assert all(colour in svg for colour, _ in keys)  # each line is drawn in its legend's colour
    # Each cell's n sits under its score, so that twelve months fit a desk's page
    assert '0.650<br><span class="muted">(2)</span>' in part


def test_the_installed_command_refuses_a_label_with_a_line_break(history, db_path):  # noqa: F811
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).with_name("predictions")
    def rows():  # what the ledger holds (its file's bytes move with a WAL checkpoint)
        return history.conn.execute("SELECT count(*), max(hash) FROM entries").fetchone()

    before = rows()
    result = subprocess.run([str(command), "--db", str(db_path), "report", "--for", "2026-10", "--label", "bad\nlabel"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert "'--label'" in error and "'bad\\nlabel'" in error and rows() == before
