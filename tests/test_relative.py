"""Scores with questions (issue 11): the (source, question) pair is the unit, updates are
time-averaged, and sources are compared on the questions they share (relative Brier).

The expected figures are worked out by hand or with fractions in plain Python here, never with the
project's scoring code."""

from __future__ import annotations

import datetime as dt
import json
import math
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import Ledger
from predictions_cli.main import cli

from .conftest import TODAY

D = dt.date
CRITERIA = "YES if it happens by the deadline; NO otherwise."


def question(ledger, qid, forecasts, outcome=None, on=None, deadline="2026-10-31"):
    """forecasts: [(source, made_on, probability)]; the first makes the question (id `qid`)."""
    (source, made_on, p), *rest = forecasts
    ledger.add(id=qid, source=source, claim=f"{qid} happens", resolution_criteria=CRITERIA, made_on=made_on,
               deadline=deadline, probability=p, today=TODAY)  # fmt: skip
    for index, (source, made_on, p) in enumerate(rest, start=1):
        ledger.add(question=qid, id=f"{qid}-{index}", source=source, made_on=made_on, probability=p, today=TODAY)
    if outcome is not None:
        extra = {"early_reason": "settled early"} if outcome == "no" and str(on) < str(deadline) else {}
        ledger.resolve(qid, outcome, on=on, evidence="what happened", today=TODAY, **extra)


def test_the_issues_worked_example_is_0_101(ledger):
    # 0.8 made 2026-01-01, updated to 0.6 on 2026-03-01, resolved yes on 2026-04-30:
    # 59 days at (0.8 - 1)^2 and 61 days at (0.6 - 1)^2, (59 * 0.04 + 61 * 0.16) / 120 = 0.101
    question(ledger, "fed-cut", [("A", "2026-01-01", 0.8), ("A", "2026-03-01", 0.6)], "yes", "2026-04-30")
    row = ledger.score(by="source")[0]
    assert (row.group, row.n, row.forecasts) == ("A", 1, 2)
    assert row.brier == pytest.approx(0.101, abs=1e-12)
    # the log score is the same time average of -ln p
    assert row.log_score == pytest.approx((59 * -math.log(0.8) + 61 * -math.log(0.6)) / 120, abs=1e-12)


def test_a_forecast_after_the_end_or_replaced_the_same_day_is_kept_but_not_scored(ledger):
    question(ledger, "q-one", [("A", "2026-01-01", 0.2), ("A", "2026-01-01", 0.9), ("A", "2026-05-10", 0.1)],
             "yes", "2026-05-01")  # fmt: skip
    row = ledger.score(by="source")[0]
    assert (row.n, row.forecasts) == (1, 1)  # the 0.2 (replaced that day) and the 0.1 (after the end) weigh 0
    assert row.brier == pytest.approx(0.01, abs=1e-12)
    assert len(ledger.get_question("q-one").forecasts) == 3  # kept and shown


def test_the_deadline_ends_the_average_when_it_comes_before_the_resolution(ledger):
    # a no resolved after the deadline: days up to the deadline count (31 at 0.5, then 30 at 0.9)
    question(ledger, "q-two", [("A", "2026-01-01", 0.5), ("A", "2026-02-01", 0.9)], "no", "2026-04-15",
             deadline="2026-03-02")  # fmt: skip
    row = ledger.score(by="source")[0]
    assert row.brier == pytest.approx((31 * 0.25 + 30 * 0.81) / 61, abs=1e-12)


@pytest.fixture
def shared(ledger):
    """Q1 (yes): A 0.9, B 0.6, C 0.2. Q2 (no): A 0.3, B 0.5. Q3 (yes): A alone, 0.7. Q4 (no): D alone."""
    question(ledger, "que-1", [("A", "2026-01-01", 0.9), ("B", "2026-01-01", 0.6), ("C", "2026-01-01", 0.2)],
             "yes", "2026-06-01")  # fmt: skip
    question(ledger, "que-2", [("A", "2026-01-01", 0.3), ("B", "2026-01-01", 0.5)], "no", "2026-10-31")
    question(ledger, "que-3", [("A", "2026-01-01", 0.7)], "yes", "2026-06-01")
    question(ledger, "que-4", [("D", "2026-01-01", 0.4)], "no", "2026-10-31")
    return ledger


def test_relative_brier_by_hand(shared):
    # Pair Briers: Q1 A 0.01, B 0.16, C 0.64; Q2 A 0.09, B 0.25.
    # Relative = own - median(others): Q1 A 0.01 - 0.40 = -0.39, B 0.16 - 0.325 = -0.165,
    # C 0.64 - 0.085 = 0.555; Q2 A 0.09 - 0.25 = -0.16, B 0.25 - 0.09 = 0.16. Q3, Q4: nobody else.
    rows = {g.group: g for g in shared.score(by="source")}
    assert rows["A"].relative_brier == pytest.approx((-0.39 - 0.16) / 2, abs=1e-12)
    assert rows["B"].relative_brier == pytest.approx((-0.165 + 0.16) / 2, abs=1e-12)
    assert rows["C"].relative_brier == pytest.approx(0.555, abs=1e-12)
    assert rows["D"].relative_brier is None
    assert {g: r.shared_questions for g, r in rows.items()} == {"A": 2, "B": 2, "C": 1, "D": 0}
    assert {g: r.n for g, r in rows.items()} == {"A": 3, "B": 2, "C": 1, "D": 1}


def test_score_json_has_the_relative_keys(tmp_path):
    db = tmp_path / "l.db"
    with Ledger(db) as ledger:
        question(ledger, "que-1", [("A", "2026-01-01", 0.9), ("B", "2026-01-01", 0.6)], "yes", "2026-06-01")
        question(ledger, "que-2", [("A", "2026-01-01", 0.3), ("A", "2026-03-01", 0.4)], "no", "2026-10-31")
    result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), "score", "--json"])
    rows = {row["group"]: row for row in json.loads(result.stdout)}
    assert rows["A"]["relative_brier"] == pytest.approx(0.01 - 0.16, abs=1e-12) and rows["A"]["shared_questions"] == 1
    assert (rows["A"]["n"], rows["A"]["forecasts"]) == (2, 3)
    assert rows["B"]["relative_brier"] == pytest.approx(0.15, abs=1e-12)


def test_with_two_sources_the_difference_is_not_halved(shared):
    # Fatebook's median includes the forecaster: with two sources it is their mean, and the
    # difference halves (0.09 - 0.17 = -0.08). Ours, against the other's median: -0.16.
    question(shared, "que-5", [("E", "2026-01-01", 0.3), ("F", "2026-01-01", 0.5)], "no", "2026-10-31")
    rows = {g.group: g for g in shared.score(by="source")}
    assert rows["E"].relative_brier == pytest.approx(-0.16, abs=1e-12)
    assert rows["F"].relative_brier == pytest.approx(0.16, abs=1e-12)


# --- weighted calibration against an independent computation ---------------------------------------


def _independent(pairs):
    """The weighted scores with fractions: pairs is [(outcome, [(made_on, p)], end)]."""
    rows = []  # (weight, p, o)
    for outcome, forecasts, end in pairs:
        forecasts = sorted(forecasts, key=lambda f: f[0])  # made on distinct days here
        first = forecasts[0][0]
        total = (end - first).days + 1
        for index, (made_on, p) in enumerate(forecasts):
            until = forecasts[index + 1][0] if index + 1 < len(forecasts) else end + dt.timedelta(days=1)
            days = max(0, (min(until, end + dt.timedelta(days=1)) - made_on).days)
            rows.append((Fraction(days, total), Fraction(p).limit_denominator(1000), outcome))
    n = sum(w for w, _, _ in rows)
    bins = {}
    for w, p, o in rows:
        index = min(int(p * 10), 9)  # probabilities here are never on an edge
        bins.setdefault(index, []).append((w, p, o))
    brier = sum(w * (p - o) ** 2 for w, p, o in rows) / n
    base = sum(w * o for w, _, o in rows) / n
    reliability = resolution = 0
    calibration = {}
    for index, members in bins.items():
        nb = sum(w for w, _, _ in members)
        if nb == 0:
            continue
        f = sum(w * p for w, p, _ in members) / nb
        obs = sum(w * o for w, _, o in members) / nb
        reliability += nb * (f - obs) ** 2
        resolution += nb * (obs - base) ** 2
        calibration[index] = (nb, f, obs)
    return {"n": n, "brier": brier, "reliability": reliability / n, "resolution": resolution / n,
            "uncertainty": base * (1 - base), "bins": calibration}  # fmt: skip


_P = st.sampled_from([0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.tuples(st.integers(0, 120), _P), min_size=1, max_size=4,
                                                  unique_by=lambda f: f[0]),
                          st.integers(0, 150)), min_size=1, max_size=6))  # fmt: skip
def test_weighted_calibration_matches_an_independent_computation(tmp_path_factory, spec):
    start = D(2026, 1, 1)
    pairs = []
    with Ledger(tmp_path_factory.mktemp("w") / "l.db") as ledger:
        for number, (yes, forecasts, resolved_after) in enumerate(spec):
            days = sorted(forecasts)
            made = [(start + dt.timedelta(days=d), p) for d, p in days]
            on = made[0][0] + dt.timedelta(days=resolved_after)
            qid = f"que-{number}"
            question(ledger, qid, [("A", m, p) for m, p in made], "yes" if yes else "no", on)
            pairs.append((1 if yes else 0, made, min(on, D(2026, 10, 31))))
        scores = ledger.score(by="source").overall
    expected = _independent(pairs)
    assert scores.n == expected["n"] == len(spec)  # n counts pairs, however many updates
    for key in ("brier", "reliability", "resolution", "uncertainty"):
        assert getattr(scores, key) == pytest.approx(float(expected[key]), abs=1e-12), key
    got_bins = {b.index: (b.n, b.mean_forecast, b.observed_frequency) for b in scores.bins}
    assert got_bins.keys() == expected["bins"].keys()
    for index, (n, f, o) in expected["bins"].items():
        assert got_bins[index] == pytest.approx((float(n), float(f), float(o)), abs=1e-12)
    rebuilt = (scores.reliability - scores.resolution + scores.uncertainty + scores.within_bin_variance
               - scores.within_bin_covariance)  # fmt: skip
    assert rebuilt == pytest.approx(scores.brier, abs=1e-12)  # the decomposition identity, weighted


@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_the_report_leaderboard_shows_relative_scores_where_sources_overlap(shared, tmp_path):
    table = shared.score(by="source")
    text = table.to_text()
    header = text.splitlines()[0].split()
    assert header[header.index("Brier") + 1] == "rel."
    line = next(line for line in text.splitlines() if line.startswith("A "))
    assert "-0.275" in line
    report = shared.report("2026", today=TODAY, min_n=1)
    for fmt in ("text", "md", "html"):
        assert "rel." in report.render(fmt), fmt
    assert "-0.275" in report.render("md")


def test_no_relative_column_when_no_question_is_shared(ledger):
    question(ledger, "que-1", [("A", "2026-01-01", 0.9)], "yes", "2026-06-01")
    question(ledger, "que-2", [("B", "2026-01-01", 0.4)], "no", "2026-10-31")
    assert "rel." not in ledger.score(by="source").to_text().splitlines()[0]
