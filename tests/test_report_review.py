"""What a review of the report's new sections found (issue 15, review): the score changes point to
the changes to earlier periods; those are one line per question, old state (when the previous
period ended) against the new; forecasts recorded late on resolved questions are listed too.
"""

from __future__ import annotations

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
    text = history.report("2026-04", today="2026-05-01", min_n=1).render("text")
    assert "nothing had been recorded by then" in text and "the ledger is empty" not in text


def test_nothing_resolved_is_said_once(history):  # noqa: F811
    text = _report(history, period="2026-11").render("text")
    assert "Resolved in 2026-11:\n  Nothing was resolved in this period." in text and ": none" not in text


def test_no_source_with_enough_pairs_counts_pairs(history):  # noqa: F811
    text = _report(history, min_n=9).render("text")
    assert "No source has 9 scored (source, question) pairs (resolved yes or no) yet." in text


def test_without_matplotlib_each_chart_hint_names_its_chart(history, monkeypatch):  # noqa: F811
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
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
