"""Scoring rules for binary forecasts: pure functions, and the sums they are computed from.

Every score here follows from a few sums per calibration bin (`Sums`): the count n, Σo, Σp, Σp²,
Σp·o, Σp³, Σp⁴, Σ(p − o)⁴ and Σ ln(probability given to what happened), with o ∈ {0, 1}. The
database computes those sums in one `GROUP BY` (`SUMS_SQL`, `BIN_SQL`); `scores_from_bins` does
the arithmetic. `scores()` does the same from Python lists, for library users and tests.

References (docs/scoring.md explains each score and how to read it):
  Brier, "Verification of forecasts expressed in terms of probability", Monthly Weather Review
    78(1), 1950 -- the original score sums over both categories (range 0-2).
  Murphy, "A new vector partition of the probability score", J. Applied Meteorology 12, 1973 --
    reliability, resolution, uncertainty; Stephenson, Coelho & Jolliffe, "Two extra components in
    the Brier score decomposition", Weather and Forecasting 23, 2008 -- the within-bin terms that
    make the decomposition exact when forecasts inside a bin differ.
  Spiegelhalter, "Probabilistic prediction in patient management and clinical trials",
    Statistics in Medicine 5, 1986 -- the z test of calibration.
  Wilson, "Probable inference, the law of succession, and statistical inference", JASA 22, 1927.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Iterable, Mapping, Sequence

import attrs

N_BINS = 10
LOG_CLIP = 1e-15  # probabilities are clipped to [1e-15, 1 - 1e-15] for the log score
Z_95 = 1.959963984540054  # the two-sided 95% point of the standard normal
# p·10 within this much above a whole number k counts as the edge k/10 (and so in the lower bin):
# 0.1 + 0.2 is 0.30000000000000004 in floating point, and 1.1 - 0.9 is 0.20000000000000007, but
# both mean an edge. 2**-32 (about 2.3e-10) is far above float rounding error (about 1e-15) and far
# below any difference a forecaster means. It is a power of two, so the SQL below uses exactly the
# same double.
_EDGE_TOLERANCE = 2.0**-32


def bin_index(probability: float) -> int:
    """The calibration bin of a probability: [0, 0.1] is 0, (0.1, 0.2] is 1, ..., (0.9, 1] is 9.

    Bins are closed on the right, as scikit-learn's calibration_curve (numpy.searchsorted over
    linspace(0, 1, 11)[1:-1]) and R's cut(right = TRUE, include.lowest = TRUE) bin: 0.3 is in
    (0.2, 0.3], however it was computed. bin = int(10·p − tolerance): int() truncates toward zero,
    so p = 0 lands in bin 0 too. Only a p within 2.3e-11 above an edge is put in the lower bin
    where numpy would put it in the upper one (docs/scoring.md, "Binning").
    """
    return int(probability * N_BINS - _EDGE_TOLERANCE)


# The same rule in SQL over a row alias `s` with a `probability` column: the same IEEE operations
# (multiply, subtract, truncate toward zero) on the same doubles, so SQL and Python always agree.
BIN_SQL = f"CAST(s.probability * {N_BINS} - (1.0 / {int(1 / _EDGE_TOLERANCE)}) AS INTEGER)"
_CLIPPED = f"min(max(s.probability, {LOG_CLIP!r}), {1 - LOG_CLIP!r})"
# Weighted sums: each row is a forecast carrying its share `weight` of its (source, question)
# pair (pair_weights_sql), so n is the number of pairs and every sum a weighted one; a lone
# forecast has weight 1.0 and its sums are exactly the unweighted ones. The last column counts
# the forecasts themselves.
SUMS_SQL = (
    "total(s.weight), total(s.weight * s.outcome), total(s.weight * s.probability), "
    "total(s.weight * s.probability * s.probability), total(s.weight * s.probability * s.outcome), "
    "total(s.weight * s.probability * s.probability * s.probability), "
    "total(s.weight * s.probability * s.probability * s.probability * s.probability), "
    "total(s.weight * (s.probability - s.outcome) * (s.probability - s.outcome) "
    "* (s.probability - s.outcome) * (s.probability - s.outcome)), "
    f"total(s.weight * CASE WHEN s.outcome = 1 THEN ln({_CLIPPED}) ELSE ln(1 - {_CLIPPED}) END), "
    "count(*)"
)


# The time-averaged Brier score of a (source, question) pair with updates (issue 11; Fatebook and
# Metaculus average over time too): over the days from the source's first forecast on the
# question to the end (the resolution's date, or the deadline if earlier), both included, each day
# is scored with the source's latest forecast made on or before it. So each forecast carries the
# share of the pair's days it was in force (a lone forecast: 1); a forecast made after the end, or
# replaced on the day it was made, carries 0. Every score is then a weighted mean over forecasts,
# which is exactly the mean over pairs of the time-averaged scores. Dates are whole days, so the
# julianday differences are exact. The forecasts of a pair are ordered by made_on, then by when
# they were recorded (rowid): the later of two forecasts made on one day is the one in force.
_PAIR_END = "julianday(CASE WHEN q.resolved_on < q.deadline THEN q.resolved_on ELSE q.deadline END)"
_PAIR_WEIGHTS = f"""SELECT id, CASE WHEN pair_days > 0
           THEN max(0.0, min(coalesce(next_day, end_day + 1), end_day + 1) - day) / pair_days
           ELSE 0.0 END AS weight
    FROM (SELECT f.id, julianday(f.made_on) AS day, julianday(lead(f.made_on) OVER pair) AS next_day,
                 {_PAIR_END} AS end_day,
                 {_PAIR_END} + 1 - julianday(first_value(f.made_on) OVER pair) AS pair_days
          FROM forecasts f JOIN questions q ON q.id = f.question_id{{where}}
          WINDOW pair AS (PARTITION BY f.question_id, f.source ORDER BY f.made_on, f.rowid))"""


def pair_weights_sql(where: str = "") -> str:
    """SELECT id, weight for every forecast (or those of the questions `where` picks: a literal
    clause over `f` and `q`, e.g. "f.question_id IN (SELECT id FROM temp.touched)")."""
    return _PAIR_WEIGHTS.format(where=f" WHERE {where}" if where else "")


def ensure_sql_functions(conn: sqlite3.Connection) -> None:
    """Register ln() where SQLite was built without its math functions."""
    try:
        conn.execute("SELECT ln(1)")
    except sqlite3.OperationalError:
        conn.create_function("ln", 1, math.log, deterministic=True)


@attrs.frozen
class Sums:
    """Sufficient statistics of one group of (p, o) pairs, each sum weighted by the rows' weights
    (n is the total weight: the number of (source, question) pairs)."""

    n: float = 0
    yes: float = 0.0  # Σo
    p: float = 0.0  # Σp
    p2: float = 0.0  # Σp²
    po: float = 0.0  # Σp·o
    p3: float = 0.0  # Σp³
    p4: float = 0.0  # Σp⁴
    err4: float = 0.0  # Σ(p − o)⁴
    log: float = 0.0  # Σ ln(clipped probability of the outcome that happened)
    forecasts: int = 0  # how many forecasts (rows) the sums are over

    def __add__(self, other: "Sums") -> "Sums":
        # Spelled out: attrs.astuple() made this the slowest step after the SQL (10 µs a call).
        return Sums(
            self.n + other.n, self.yes + other.yes, self.p + other.p, self.p2 + other.p2,
            self.po + other.po, self.p3 + other.p3, self.p4 + other.p4, self.err4 + other.err4,
            self.log + other.log, self.forecasts + other.forecasts,
        )  # fmt: skip

    @classmethod
    def of(cls, p: float, o: int) -> "Sums":
        clipped = min(max(p, LOG_CLIP), 1 - LOG_CLIP)
        return cls(1, o, p, p * p, p * o, p**3, p**4, (p - o) ** 4,
                   math.log(clipped if o else 1 - clipped), 1)  # fmt: skip

    def weighted(self, w: float) -> "Sums":
        """These sums with every term weighted by w (the forecast count is kept)."""
        return Sums(self.n * w, self.yes * w, self.p * w, self.p2 * w, self.po * w, self.p3 * w,
                    self.p4 * w, self.err4 * w, self.log * w, self.forecasts)  # fmt: skip


@attrs.frozen
class CalibrationBin:
    index: int
    lower: float
    upper: float
    n: int | float  # weight: pairs, whole unless a pair's forecasts fall in different bins
    yes: int | float
    mean_forecast: float
    observed_frequency: float
    wilson_low: float
    wilson_high: float


@attrs.frozen
class Scores:
    n: int  # (source, question) pairs scored
    yes: int | float
    brier: float
    brier_ci: tuple[float, float] | None  # analytic 95% interval; None below two forecasts
    brier_two_category: float
    log_score: float
    base_rate: float
    brier_skill: float | None  # against always forecasting the base rate; None when it is 0 or 1
    brier_skill_vs_half: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin_variance: float
    within_bin_covariance: float
    ece: float
    spiegelhalter_z: float | None
    spiegelhalter_p: float | None
    bins: tuple[CalibrationBin, ...]
    forecasts: int = 0  # the forecasts scored (a pair's updates each count)


def count(weight: float) -> int | float:
    """A total weight as a count: whole (an int) when it is one up to rounding, else the weight."""
    whole = round(weight)
    return whole if abs(weight - whole) < 1e-9 else weight


def wilson_interval(k: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (weighted: k and n may be fractional)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    phat = k / n
    denominator = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denominator
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denominator
    # The interval always holds k/n; at k = 0 (k = n) its lower (upper) end is exactly 0 (1),
    # which floating point misses by ~1e-17 (and a chart's error bar must not be negative).
    low = 0.0 if k == 0 else min(phat, max(0.0, centre - half))
    high = 1.0 if k == n else max(phat, min(1.0, centre + half))
    return low, high


def scores_from_bins(bins: Mapping[int, Sums]) -> Scores:
    """Every score of a group from its per-bin sums. Raises ValueError when the group is empty."""
    total = sum(bins.values(), Sums())
    n = total.n
    if n <= 0:
        raise ValueError("no forecasts to score")
    brier = max(0.0, (total.p2 - 2 * total.po + total.yes) / n)
    base = total.yes / n
    uncertainty = base * (1 - base)
    reliability = resolution = variance = covariance = ece = 0.0
    calibration = []
    for index in sorted(bins):
        b = bins[index]
        if b.n == 0:
            continue
        f, o = b.p / b.n, b.yes / b.n
        reliability += b.n * (f - o) ** 2
        resolution += b.n * (o - base) ** 2
        variance += max(0.0, b.p2 - b.n * f * f)  # a variance: rounding in the sums can dip below 0
        covariance += 2 * (b.po - b.n * f * o)
        ece += b.n * abs(o - f)
        yes = count(b.yes)
        low, high = wilson_interval(min(yes, b.n), b.n)
        calibration.append(CalibrationBin(index, index / N_BINS, (index + 1) / N_BINS, count(b.n), yes, f, o, low, high))
    z, p_value = _spiegelhalter(total)
    return Scores(
        n=round(n),
        yes=count(total.yes),
        brier=brier,
        brier_ci=_brier_interval(total, brier),
        brier_two_category=2 * brier,
        log_score=-total.log / n,
        base_rate=base,
        brier_skill=1 - brier / uncertainty if uncertainty > 0 else None,
        brier_skill_vs_half=1 - brier / 0.25,
        reliability=reliability / n,
        resolution=resolution / n,
        uncertainty=uncertainty,
        within_bin_variance=variance / n,
        within_bin_covariance=covariance / n,
        ece=ece / n,
        spiegelhalter_z=z,
        spiegelhalter_p=p_value,
        bins=tuple(calibration),
        forecasts=total.forecasts,
    )


def _brier_interval(total: Sums, brier: float) -> tuple[float, float] | None:
    """Mean ± 1.96 standard errors of the per-forecast squared errors (normal approximation)."""
    n = total.n
    if n < 2:
        return None
    variance = max(0.0, (total.err4 - n * brier * brier) / (n - 1))
    half = Z_95 * math.sqrt(variance / n)
    return max(0.0, brier - half), min(1.0, brier + half)


def _spiegelhalter(total: Sums) -> tuple[float | None, float | None]:
    """Z = Σ(o − p)(1 − 2p) / sqrt(Σ(1 − 2p)² p(1 − p)); under perfect calibration Z ~ N(0, 1)."""
    numerator = total.yes - total.p - 2 * total.po + 2 * total.p2
    variance = total.p - 5 * total.p2 + 8 * total.p3 - 4 * total.p4
    if variance <= 1e-12 * max(1, total.n):  # every p is 0, 0.5 or 1: the test has nothing to say
        return None, None
    z = numerator / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


# --- from Python values ---------------------------------------------------------------------


def _pairs(probabilities: Sequence[float], outcomes: Sequence[int]) -> Iterable[tuple[float, int]]:
    if len(probabilities) != len(outcomes):
        raise ValueError(f"{len(probabilities)} probabilities but {len(outcomes)} outcomes")
    if not probabilities:
        raise ValueError("no forecasts to score")
    for p, o in zip(probabilities, outcomes):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"a probability must be a number in [0, 1], not {p!r}")
        if o not in (0, 1):
            raise ValueError(f"an outcome must be 0 or 1, not {o!r}")
        yield float(p), int(o)


def brier_score(probabilities: Sequence[float], outcomes: Sequence[int], *, two_category: bool = False) -> float:
    """Mean of (p − o)², 0 (perfect) to 1; with two_category=True Brier's original 0-2 form."""
    pairs = list(_pairs(probabilities, outcomes))
    score = sum((p - o) ** 2 for p, o in pairs) / len(pairs)
    return 2 * score if two_category else score


def log_score(probabilities: Sequence[float], outcomes: Sequence[int]) -> float:
    """Mean of −ln(probability given to what happened), natural log, p clipped to [1e-15, 1 − 1e-15]."""
    pairs = list(_pairs(probabilities, outcomes))
    return -sum(Sums.of(p, o).log for p, o in pairs) / len(pairs)


def bin_sums(probabilities: Sequence[float], outcomes: Sequence[int]) -> dict[int, Sums]:
    """Per-bin sums of (p, o) pairs: what the database's GROUP BY gives for a group."""
    bins: dict[int, Sums] = {}
    for p, o in _pairs(probabilities, outcomes):
        index = bin_index(p)
        bins[index] = bins.get(index, Sums()) + Sums.of(p, o)
    return bins


def scores(probabilities: Sequence[float], outcomes: Sequence[int]) -> Scores:
    """Every score for one group of forecasts given as lists."""
    return scores_from_bins(bin_sums(probabilities, outcomes))
