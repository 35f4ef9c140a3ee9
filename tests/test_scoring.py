"""The scoring maths, checked against published worked examples and independent computations.

Expected values come from the literature (cited at each test), from arithmetic written out in the
comments, or from a naive row-by-row reference written here, never from the code under test.
Properties (hypothesis) cover what no single example can: range, propriety, the exact Murphy
identity, order independence, and the agreement of the SQL path, the pure-Python path and the
naive reference.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import statistics
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from predictions import Ledger
from predictions.aggregate import group_bin_sums, score_table
from predictions.scoring import (
    Sums,
    bin_index,
    bin_sums,
    brier_score,
    log_score,
    scores,
    scores_from_bins,
    wilson_interval,
)

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
Z = statistics.NormalDist().inv_cdf(0.975)  # 1.959963984540054, computed independently of scoring.Z_95


# --- the naive reference ---------------------------------------------------------------------------

# numpy.linspace(0, 1, 11) is arange(11) * step with step = (1 - 0) / 10 (numpy's function_base.py),
# so its inner edges are the doubles i * 0.1: 0.30000000000000004, 0.6000000000000001, ...
NUMPY_EDGES = [i * (1.0 / 10) for i in range(1, 10)]


def numpy_bin(p: float) -> int:
    """numpy.searchsorted(np.linspace(0, 1, 11)[1:-1], p), side='left' (scikit-learn's calibration_curve)."""
    return bisect.bisect_left(NUMPY_EDGES, p)


def reference_bin(p: float) -> int:
    """Right-closed tenths in exact arithmetic: a value that is an edge up to float rounding is that edge."""
    x = Fraction(p) * 10
    k = round(x)
    if abs(x - k) < Fraction(1, 10**10):
        return max(k - 1, 0)
    return numpy_bin(p)


def reference_scores(ps, os):
    """Every score, row by row, straight from its definition."""
    n = len(ps)
    errors = [(p - o) ** 2 for p, o in zip(ps, os)]
    brier = sum(errors) / n
    log = -sum(math.log(min(max(p, 1e-15), 1 - 1e-15) if o else 1 - min(max(p, 1e-15), 1 - 1e-15))
               for p, o in zip(ps, os)) / n  # fmt: skip
    base = sum(os) / n
    by_bin: dict[int, list[tuple[float, int]]] = {}
    for p, o in zip(ps, os):
        by_bin.setdefault(reference_bin(p), []).append((p, o))
    reliability = resolution = variance = covariance = ece = 0.0
    for rows in by_bin.values():
        k = len(rows)
        f = sum(p for p, _ in rows) / k
        obs = sum(o for _, o in rows) / k
        reliability += k * (f - obs) ** 2
        resolution += k * (obs - base) ** 2
        variance += sum((p - f) ** 2 for p, _ in rows)
        covariance += 2 * sum((p - f) * (o - obs) for p, o in rows)
        ece += k * abs(obs - f)
    return {
        "n": n,
        "brier": brier,
        "log_score": log,
        "reliability": reliability / n,
        "resolution": resolution / n,
        "uncertainty": base * (1 - base),
        "within_bin_variance": variance / n,
        "within_bin_covariance": covariance / n,
        "ece": ece / n,
        "bins": {b: (len(rows), sum(o for _, o in rows)) for b, rows in by_bin.items()},
    }


def assert_matches_reference(s, ref, abs_tol=1e-9):
    for key in ("brier", "log_score", "reliability", "resolution", "uncertainty",
                "within_bin_variance", "within_bin_covariance", "ece"):  # fmt: skip
        assert getattr(s, key) == pytest.approx(ref[key], abs=abs_tol, rel=1e-9), key
    assert s.n == ref["n"]
    assert {b.index: (b.n, b.yes) for b in s.bins} == ref["bins"]


# --- published worked examples -------------------------------------------------------------------


def test_sklearn_brier_score_loss_docstring_example():
    # scikit-learn, sklearn.metrics.brier_score_loss, Examples:
    #   y_true = [0, 1, 1, 0]; y_prob = [0.1, 0.9, 0.8, 0.3]; brier_score_loss(y_true, y_prob) -> 0.037...
    # By hand: (0.01 + 0.01 + 0.04 + 0.09) / 4 = 0.0375.
    assert brier_score([0.1, 0.9, 0.8, 0.3], [0, 1, 1, 0]) == pytest.approx(0.0375, abs=1e-15)
    assert scores([0.1, 0.9, 0.8, 0.3], [0, 1, 1, 0]).brier == pytest.approx(0.0375, abs=1e-15)


def test_sklearn_log_loss_docstring_example():
    # scikit-learn, sklearn.metrics.log_loss, Examples:
    #   log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) -> 0.21616...
    # Columns are the labels in sorted order (ham, spam), so P(spam) = .9, .1, .2, .65 and spam = 1.
    p_spam, spam = [0.9, 0.1, 0.2, 0.65], [1, 0, 0, 1]
    assert log_score(p_spam, spam) == pytest.approx(0.21616, abs=5e-6)
    assert log_score(p_spam, spam) == pytest.approx(-(2 * math.log(0.9) + math.log(0.8) + math.log(0.65)) / 4)
    assert scores(p_spam, spam).log_score == pytest.approx(0.216161874680, abs=1e-12)


def test_single_non_event():
    # 27.1% on something that did not happen: (0.271 - 0)^2 = 0.073441; in Brier's original two
    # categories, (0.271 - 0)^2 + (0.729 - 1)^2 = 0.146882.
    assert brier_score([0.271], [0]) == pytest.approx(0.073441, abs=1e-15)
    assert brier_score([0.271], [0], two_category=True) == pytest.approx(0.146882, abs=1e-15)
    assert scores([0.271], [0]).brier_two_category == pytest.approx(0.271**2 + (0.729 - 1) ** 2)
    # 48.1% on a non-event: -ln(1 - 0.481) = -ln 0.519 = 0.6558514...
    assert log_score([0.481], [0]) == pytest.approx(0.6558514, abs=1e-7)
    assert scores([0.481], [0]).log_score == pytest.approx(-math.log(0.519), abs=1e-15)


def test_log_score_clips_certainty_at_1e_15():
    # The clip of scikit-learn's log_loss (eps = 1e-15 before 1.2): max(eps, min(1 - eps, p)).
    assert log_score([0.0], [1]) == pytest.approx(-math.log(1e-15))  # 34.538776...
    # For a no at p = 1 the clipped p is 1 - 1e-15, and 1 - (1 - 1e-15) is 9.992e-16 in floating
    # point (as in scikit-learn, which also clips p and then takes 1 - p): -ln of that is 34.5396.
    assert log_score([1.0], [0]) == pytest.approx(-math.log(1 - (1 - 1e-15)), rel=1e-12)
    assert log_score([1.0], [0]) == pytest.approx(34.5396, abs=1e-4)
    assert 0 < log_score([1.0], [1]) < 2e-15
    assert 0 < log_score([0.0], [0]) < 2e-15


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
        # methods", Statistics in Medicine 17 (1998), Table I, method 3 (Wilson score, no correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(k, n, low, high):
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_from_its_formula_and_edges():
    # Wilson (1927): centre (p + z²/2n) / (1 + z²/n), half-width z √(p(1-p)/n + z²/4n²) / (1 + z²/n).
    k, n = 7, 10
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n)) / (1 + Z**2 / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)
    for n in range(1, 400):  # the ends are exact at 0 of n and n of n, and always hold k/n
        assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0
        for k in {0, 1, n // 2, n - 1, n}:
            low, high = wilson_interval(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_spiegelhalter_z_hand_computed():
    # Spiegelhalter (1986): Z = Σ(o - p)(1 - 2p) / √Σ (1 - 2p)² p (1 - p).
    # p = 0.2 (no), 0.7 (yes): numerator (-0.2)(0.6) + (0.3)(-0.4) = -0.24;
    # variance (0.6)²(0.2)(0.8) + (-0.4)²(0.7)(0.3) = 0.0576 + 0.0336 = 0.0912; Z = -0.24 / √0.0912.
    s = scores([0.2, 0.7], [0, 1])
    z = -0.24 / math.sqrt(0.0912)
    assert s.spiegelhalter_z == pytest.approx(z, abs=1e-12)
    assert s.spiegelhalter_z == pytest.approx(-0.794719414, abs=1e-9)
    assert s.spiegelhalter_p == pytest.approx(2 * (1 - statistics.NormalDist().cdf(abs(z))), abs=1e-12)
    # Overconfident: 0.9 on five things that all failed. Numerator 5(-0.9)(-0.8) = 3.6;
    # variance 5(0.64)(0.09) = 0.288; Z = 3.6 / √0.288 = 6.708...: calibration is rejected.
    s = scores([0.9] * 5, [0] * 5)
    assert s.spiegelhalter_z == pytest.approx(3.6 / math.sqrt(0.288), abs=1e-12)
    assert s.spiegelhalter_p < 1e-10
    # Only 0, 0.5 and 1: every (1 - 2p)² p (1 - p) is 0, and the test has nothing to say.
    assert scores([0.5, 0.5, 1.0, 0.0], [1, 0, 1, 0]).spiegelhalter_z is None


def test_murphy_decomposition_worked_example():
    # Five forecasts of 0.2 (one came true) and five of 0.8 (four came true): each bin's mean
    # forecast equals its observed frequency, so reliability = 0; ō = 0.5, uncertainty = 0.25;
    # resolution = (5 (0.2 - 0.5)² + 5 (0.8 - 0.5)²) / 10 = 0.09; Brier = 0.25 - 0.09 = 0.16,
    # which is also (4·0.04 + 0.64 + 0.64 + 4·0.04) / 10 directly.
    s = scores([0.2] * 5 + [0.8] * 5, [1, 0, 0, 0, 0] + [1, 1, 1, 1, 0])
    assert s.brier == pytest.approx(0.16, abs=1e-15)
    assert s.reliability == pytest.approx(0.0, abs=1e-15)
    assert s.resolution == pytest.approx(0.09, abs=1e-15)
    assert s.uncertainty == pytest.approx(0.25, abs=1e-15)
    assert s.within_bin_variance == pytest.approx(0.0, abs=1e-15)
    assert s.within_bin_covariance == pytest.approx(0.0, abs=1e-15)
    assert s.ece == pytest.approx(0.0, abs=1e-15)
    assert s.brier_skill == pytest.approx(1 - 0.16 / 0.25)  # 0.36
    assert s.brier_skill_vs_half == pytest.approx(0.36)
    assert [(b.index, b.n, b.yes) for b in s.bins] == [(1, 5, 1), (7, 5, 4)]


def test_decomposition_with_forecasts_spread_inside_a_bin():
    # Stephenson, Coelho & Jolliffe (2008): with different forecasts in one bin two extra terms are
    # needed. 0.12 (yes) and 0.18 (no), both in (0.1, 0.2]: f̄ = 0.15, ō = 0.5.
    #   Brier       ((0.12 - 1)² + 0.18²) / 2 = (0.7744 + 0.0324) / 2 = 0.4034
    #   reliability 2 (0.15 - 0.5)² / 2 = 0.1225; resolution 0 (one bin); uncertainty 0.25
    #   variance    ((0.12 - 0.15)² + (0.18 - 0.15)²) / 2 = 0.0009
    #   covariance  2 ((0.12 - 0.15)(1 - 0.5) + (0.18 - 0.15)(0 - 0.5)) / 2 = -0.03
    #   0.1225 - 0 + 0.25 + 0.0009 - (-0.03) = 0.4034
    s = scores([0.12, 0.18], [1, 0])
    assert (s.brier, s.reliability, s.resolution, s.uncertainty, s.within_bin_variance,
            s.within_bin_covariance) == pytest.approx((0.4034, 0.1225, 0.0, 0.25, 0.0009, -0.03), abs=1e-14)  # fmt: skip
    assert s.ece == pytest.approx(0.35, abs=1e-14)  # |0.5 - 0.15|
    assert s.bins[0].mean_forecast == pytest.approx(0.15) and s.bins[0].observed_frequency == 0.5


def test_brier_interval_is_the_analytic_normal_interval():
    # Squared errors 0.01, 0.09, 0.25: mean 0.35/3; half-width 1.96 · stdev / √3, cut at 0.
    ps, os = [0.1, 0.3, 0.5], [0, 0, 1]
    errors = [(p - o) ** 2 for p, o in zip(ps, os)]
    mean = statistics.fmean(errors)
    half = Z * statistics.stdev(errors) / math.sqrt(3)
    assert scores(ps, os).brier_ci == pytest.approx((max(0.0, mean - half), mean + half), abs=1e-12)
    assert scores(ps, os).brier_ci == pytest.approx((0.0, 0.254948), abs=1e-6)
    assert scores([0.3], [1]).brier_ci is None  # no spread from a single forecast
    assert scores([0.3, 0.3], [1, 1]).brier_ci == pytest.approx((0.49, 0.49))  # no spread at all


def test_brier_skill_against_base_rate_and_half():
    # Base rate 0.25; always saying 0.25 would score 0.25·0.75 = 0.1875.
    ps, os = [0.1, 0.2, 0.3, 0.6], [0, 0, 0, 1]
    brier = (0.01 + 0.04 + 0.09 + 0.16) / 4  # 0.075
    s = scores(ps, os)
    assert s.base_rate == 0.25
    assert s.brier_skill == pytest.approx(1 - brier / 0.1875)  # 0.6
    assert s.brier_skill_vs_half == pytest.approx(1 - brier / 0.25)  # 0.7
    assert scores([0.3, 0.4], [1, 1]).brier_skill is None  # base rate 1: no uncertainty to beat


def test_bad_input_is_refused():
    for ps, os in [([], []), ([0.5], []), ([1.5], [1]), ([-0.1], [0]), ([0.5], [2]), ([float("nan")], [1]), ([True], [1])]:
        with pytest.raises(ValueError):
            scores(ps, os)
    with pytest.raises(ValueError):
        scores_from_bins({})


# --- the binning rule -----------------------------------------------------------------------------


def _edge_values(k: int) -> list[float]:
    """The edge k/10 as a decimal, and as the float sums and products people compute it by."""
    values = {
        float(Decimal(k) / 10),  # the nearest double to k/10: 0.3 is 0.29999999999999998889...
        k / 10,
        k * 0.1,  # 3 * 0.1 is 0.30000000000000004
        sum([0.1] * k),  # 0.1 + 0.1 + 0.1 is 0.30000000000000004; eight 0.1s are 0.7999999999999999
        1 - (10 - k) / 10,  # 1 - 0.7 is 0.30000000000000004
        (k - 1) / 10 + 0.1,  # 0.2 + 0.1
        float(Decimal(k) / 100) * 10,
        int(k) * 10 / 100,  # "30%" read as 30 / 100
    }
    values.update(a / 10 + b / 10 for a in range(k + 1) for b in [k - a])  # 0.1 + 0.2, 0.2 + 0.1, ...
    return sorted(values)


@pytest.mark.parametrize("k", range(1, 10))
def test_every_edge_belongs_to_the_lower_bin(k):
    for p in _edge_values(k):
        assert bin_index(p) == k - 1, (k, p)
        assert numpy_bin(p) == k - 1, (k, p)  # and numpy/scikit-learn agree
    # Just either side of the edge, at the third decimal and at the 12th.
    for eps in (1e-3, 1e-9):
        assert bin_index(k / 10 - eps) == numpy_bin(k / 10 - eps) == k - 1
        assert bin_index(k / 10 + eps) == numpy_bin(k / 10 + eps) == k


def test_famous_float_sums():
    assert 0.1 + 0.2 == 0.30000000000000004
    assert bin_index(0.1 + 0.2) == bin_index(0.3) == 2  # (0.2, 0.3]
    assert bin_index(1 - 0.7) == 2
    assert bin_index(0.7) == bin_index(0.1 * 7) == bin_index(0.4 + 0.3) == 6  # (0.6, 0.7]
    assert bin_index(1.1 - 0.9) == 1  # 0.20000000000000007 is the edge 0.2 too
    assert bin_index(0.0) == 0 and bin_index(0.1) == 0 and bin_index(1.0) == 9 and bin_index(5e-324) == 0


def test_where_the_rule_and_numpy_differ_it_is_within_float_noise_of_an_edge():
    # numpy compares with the doubles i * 0.1 exactly; we also treat values within 2.3e-11 above an
    # edge as the edge. The only disagreements are such values: e.g. the next double after 3 * 0.1.
    above = math.nextafter(3 * 0.1, 1.0)
    assert numpy_bin(above) == 3 and bin_index(above) == 2
    assert bin_index(0.3 + 1e-10) == numpy_bin(0.3 + 1e-10) == 3


@FAST
@given(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
def test_bin_rule_matches_numpy_away_from_edges(p):
    near_edge = any(0 <= p - e <= 1e-10 for e in NUMPY_EDGES + [k / 10 for k in range(1, 10)])
    if not near_edge:
        assert bin_index(p) == numpy_bin(p)
    assert bin_index(p) == reference_bin(p)
    assert 0 <= bin_index(p) <= 9


# --- properties -------------------------------------------------------------------------------------

EDGES = [k / 10 for k in range(11)] + [0.1 + 0.2, 1 - 0.7, 0.1 * 7, 0.05, 0.95]
probability = st.one_of(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), st.sampled_from(EDGES))
forecasts = st.lists(st.tuples(probability, st.integers(0, 1)), min_size=1, max_size=40)


@FAST
@given(forecasts)
def test_scores_match_the_naive_reference(rows):
    ps, os = [p for p, _ in rows], [o for _, o in rows]
    s = scores(ps, os)
    assert_matches_reference(s, reference_scores(ps, os))
    assert 0.0 <= s.brier <= 1.0
    assert s.brier_two_category == pytest.approx(2 * s.brier)
    assert s.log_score >= 0.0


@FAST
@given(forecasts)
def test_decomposition_identity_is_exact(rows):
    s = scores(*zip(*rows))
    rebuilt = s.reliability - s.resolution + s.uncertainty + s.within_bin_variance - s.within_bin_covariance
    assert rebuilt == pytest.approx(s.brier, abs=1e-12)
    assert s.reliability >= 0 and s.resolution >= 0 and s.within_bin_variance >= 0
    assert sum(b.n for b in s.bins) == s.n and sum(b.yes for b in s.bins) == s.yes


def test_within_bin_variance_is_never_negative_from_rounding():
    # Three equal forecasts: Σp² - n·f̄² is -1.2e-18 in floating point, not 0 (a review saw -2.8e-17)
    for rows in (([0.1] * 3, [1, 0, 1]), ([0.7] * 6, [1, 0, 1, 1, 0, 1])):
        assert scores(*rows).within_bin_variance >= 0


@FAST
@given(st.lists(st.integers(0, 1), min_size=1, max_size=40))
def test_perfect_forecasts_score_zero(outcomes):
    s = scores([float(o) for o in outcomes], outcomes)
    assert s.brier == 0.0 and s.reliability == 0.0 and s.ece == 0.0
    assert s.log_score < 1e-14
    rebuilt = s.reliability - s.resolution + s.uncertainty + s.within_bin_variance - s.within_bin_covariance
    assert rebuilt == pytest.approx(0.0, abs=1e-15)


@FAST
@given(forecasts, st.randoms(use_true_random=False))
def test_order_of_rows_does_not_matter(rows, rng):
    shuffled = list(rows)
    rng.shuffle(shuffled)
    a, b = scores(*zip(*rows)), scores(*zip(*shuffled))
    for key in ("brier", "log_score", "reliability", "resolution", "uncertainty", "within_bin_variance",
                "within_bin_covariance", "ece"):  # fmt: skip
        assert getattr(a, key) == pytest.approx(getattr(b, key), abs=1e-12)
    assert [(x.index, x.n, x.yes) for x in a.bins] == [(x.index, x.n, x.yes) for x in b.bins]


def _expected_brier(q: float, p: float) -> float:
    """Expected score of forecasting p when the event's true probability is q, through brier_score."""
    return q * brier_score([p], [1]) + (1 - q) * brier_score([p], [0])


def test_brier_is_strictly_proper_on_a_grid():
    grid = [i / 100 for i in range(101)]
    for q in grid:
        expected = {p: _expected_brier(q, p) for p in grid}
        best = min(expected.values())
        assert [p for p, e in expected.items() if e == best] == [q]  # the unique minimum is the truth
        # q(1-p)² + (1-q)p² = (p - q)² + q(1 - q): the excess over the minimum is exactly (p - q)².
        for p in grid:
            assert expected[p] - expected[q] == pytest.approx((p - q) ** 2, abs=1e-12)


@FAST
@given(st.floats(0, 1), st.floats(0, 1))
def test_brier_is_strictly_proper(q, p):
    assume(abs(p - q) > 1e-6)
    assert _expected_brier(q, p) > _expected_brier(q, q)


@FAST
@given(forecasts, forecasts)
def test_sums_add_up(a, b):
    # Scoring two lists together equals adding their per-bin sums: what the SQL GROUP BY relies on.
    together = bin_sums(*zip(*(a + b)))
    parts = bin_sums(*zip(*a))
    for index, s in bin_sums(*zip(*b)).items():
        parts[index] = parts.get(index, Sums()) + s
    assert set(together) == set(parts)
    for index in together:
        assert together[index].n == parts[index].n
        assert together[index].p2 == pytest.approx(parts[index].p2)


# --- the SQL path: a real ledger ------------------------------------------------------------------

_counter = itertools.count()


def _ledger_with(tmp_path_factory, groups: dict[str, list[tuple[float, int]]], extra=()):
    path = tmp_path_factory.mktemp("sql") / "ledger.db"
    records = []
    for source, rows in groups.items():
        for p, o in rows:
            i = next(_counter)
            records.append((f"row {i}", {
                "id": f"f-{i:07d}", "source": source, "claim": f"claim {i}", "resolution_criteria": "r",
                "made_on": "2026-01-01", "deadline": "2026-10-31", "probability": p,
                "probability_basis": "assigned", "outcome": "yes" if o else "no",
                "resolved_on": "2026-10-31", "evidence": "test",
            }))  # fmt: skip
    for i, (source, p, outcome) in enumerate(extra):
        records.append((f"extra {i}", {
            "id": f"x-{next(_counter):07d}", "source": source, "claim": f"extra {i}", "resolution_criteria": "r",
            "made_on": "2026-01-01", "deadline": "2026-10-31", "probability": p, "probability_basis": "assigned",
            **({"outcome": outcome, "resolved_on": "2026-10-31", "evidence": "test"} if outcome else {}),
        }))  # fmt: skip
    ledger = Ledger(path)
    ledger.import_records(records, today=dt.date(2026, 11, 22))
    return ledger


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["A", "B", "C"]), forecasts, min_size=1, max_size=3))
def test_sql_path_equals_python_path_equals_reference(tmp_path_factory, groups):
    with _ledger_with(tmp_path_factory, groups, extra=[("A", 0.5, "ambiguous"), ("D", 0.4, None)]) as ledger:
        sums = group_bin_sums(ledger.conn, "source")
        table = score_table(ledger.conn, by="source")
    assert set(sums) == set(groups)
    for source, rows in groups.items():
        ps, os = [p for p, _ in rows], [o for _, o in rows]
        python = scores(ps, os)
        sql = scores_from_bins(sums[source])
        assert set(sums[source]) == {b.index for b in python.bins}  # the same bins, edges included
        assert_matches_reference(sql, reference_scores(ps, os))
        assert_matches_reference(python, reference_scores(ps, os))
    everything = [row for rows in groups.values() for row in rows]
    assert_matches_reference(table.overall, reference_scores(*zip(*everything)))
    ranked = [g.brier for g in table.ranked]
    assert ranked == sorted(ranked)


def test_sql_path_at_every_edge(tmp_path_factory):
    # Every way of writing every edge, stored in SQLite and binned by SQL, lands in the lower bin.
    rows = [(p, i % 2) for k in range(1, 10) for i, p in enumerate(_edge_values(k))]
    with _ledger_with(tmp_path_factory, {"A": rows}) as ledger:
        sums = group_bin_sums(ledger.conn, "source")["A"]
    expected: dict[int, int] = {}
    for p, _ in rows:
        expected[round(p * 10) - 1] = expected.get(round(p * 10) - 1, 0) + 1
    assert {index: s.n for index, s in sums.items()} == expected


def test_large_random_group_matches_reference(tmp_path_factory):
    rng = random.Random(5)
    rows = [(round(rng.random(), rng.choice([1, 2, 3, 17])), int(rng.random() < 0.4)) for _ in range(3000)]
    with _ledger_with(tmp_path_factory, {"A": rows}) as ledger:
        sql = scores_from_bins(group_bin_sums(ledger.conn, "source")["A"])
    assert_matches_reference(sql, reference_scores(*zip(*rows)))
