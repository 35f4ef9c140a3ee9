"""Scores where the data is: one SQL scan into per-group, per-bin sums, then arithmetic in Python.

Every binary score follows from a handful of sums per calibration bin (see scoring.Sums), so the
database does a single `GROUP BY group, bin` over the `scored` view and Python combines a few
hundred numbers. No row is ever loaded into a Python object, which keeps a report over a million
forecasts fast and small.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Sequence

import attrs

from .errors import ValidationError
from .scoring import BIN_SQL, SUMS_SQL, Scores, Sums, ensure_sql_functions, scores_from_bins

# How each grouping labels a row (`s` is the scored view or the forecasts table: same columns),
# and the join it needs. Values from users never enter this SQL; only these fragments do.
_QUARTER = "substr(s.resolved_on, 1, 4) || '-Q' || ((CAST(substr(s.resolved_on, 6, 2) AS INTEGER) + 2) / 3)"
# The unary plus on s.source keeps SQLite from walking the forecasts_source index to get rows in
# source order: that costs a random table read per row (2.4 s over a million forecasts, against
# 0.6 s for one sequential scan and a sort of the few thousand groups). See docs/performance.md.
GROUPINGS: dict[str, tuple[str, str]] = {
    "source": ("+s.source", ""),
    "author": ("coalesce(d.author, '(no author)')", "LEFT JOIN documents d ON d.id = s.document_id"),
    "tag": ("coalesce(t.tag, '(untagged)')", "LEFT JOIN forecast_tags t ON t.forecast_id = s.id"),
    "phrase": ("coalesce(s.phrase, '(' || s.probability_basis || ')')", ""),
    "basis": ("s.probability_basis", ""),
    "month": ("substr(s.resolved_on, 1, 7)", ""),
    "quarter": (_QUARTER, ""),
    "year": ("substr(s.resolved_on, 1, 4)", ""),
    "all": ("'all'", ""),
}
# Groupings where each forecast lands in exactly one group: the overall figures are their sum.
# (A forecast with three tags counts in three tag groups.)
PARTITIONS = frozenset(GROUPINGS) - {"tag"}
TIME_GROUPINGS = frozenset({"month", "quarter", "year"})


@attrs.frozen
class GroupScore:
    group: str
    scores: Scores
    ambiguous: int = 0
    annulled: int = 0
    rank: int | None = None  # None: too few resolved forecasts to rank

    def to_json(self) -> dict[str, Any]:
        s = self.scores
        return {
            "group": self.group,
            "rank": self.rank,
            "n": s.n,
            "yes": s.yes,
            "brier": s.brier,
            "brier_ci": list(s.brier_ci) if s.brier_ci else None,
            "brier_two_category": s.brier_two_category,
            "log_score": s.log_score,
            "brier_skill": s.brier_skill,
            "brier_skill_vs_half": s.brier_skill_vs_half,
            "base_rate": s.base_rate,
            "reliability": s.reliability,
            "resolution": s.resolution,
            "uncertainty": s.uncertainty,
            "within_bin_variance": s.within_bin_variance,
            "within_bin_covariance": s.within_bin_covariance,
            "ece": s.ece,
            "spiegelhalter_z": s.spiegelhalter_z,
            "spiegelhalter_p": s.spiegelhalter_p,
            "excluded": {"ambiguous": self.ambiguous, "annulled": self.annulled},
            "bins": [attrs.asdict(b) for b in s.bins],
        }


@attrs.frozen
class ScoreTable:
    by: str
    since: dt.date | None
    until: dt.date | None
    min_n: int
    exclude_tags: tuple[str, ...]
    groups: tuple[GroupScore, ...]  # ranked groups first (best Brier first), then the unranked; periods in time order
    overall: GroupScore | None  # every scored forecast together; None when nothing is scored

    @property
    def ranked(self) -> tuple[GroupScore, ...]:
        return tuple(g for g in self.groups if g.rank is not None)

    @property
    def unranked(self) -> tuple[GroupScore, ...]:
        return tuple(g for g in self.groups if g.rank is None)


def _window(since: dt.date | None, until: dt.date | None, exclude_tags: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The WHERE clauses shared by every score query: the resolution window, and tags left out
    (e.g. forecasts already settled when they were published, tagged past-at-publication)."""
    clauses, params = [], []
    if exclude_tags:
        marks = ", ".join("?" * len(exclude_tags))
        clauses.append(f"s.id NOT IN (SELECT forecast_id FROM forecast_tags WHERE tag IN ({marks}))")
        params.extend(exclude_tags)
    if since is not None:
        clauses.append("s.resolved_on >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("s.resolved_on <= ?")
        params.append(until.isoformat())
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def group_bin_sums(
    conn: sqlite3.Connection, by: str, since: dt.date | None = None, until: dt.date | None = None,
    exclude_tags: Sequence[str] = (),
) -> dict[str, dict[int, Sums]]:
    """{group: {bin: Sums}} over forecasts resolved yes/no (resolved_on within [since, until])."""
    expression, join = _grouping(by)
    window, params = _window(since, until, exclude_tags)
    ensure_sql_functions(conn)
    sql = (
        f"SELECT {expression} AS grp, {BIN_SQL} AS bin, {SUMS_SQL} "
        f"FROM scored s {join} WHERE 1 = 1{window} GROUP BY grp, bin"
    )
    result: dict[str, dict[int, Sums]] = {}
    for group, bin_index, *sums in conn.execute(sql, params):
        result.setdefault(str(group), {})[bin_index] = Sums(*sums)
    return result


def unscored_counts(
    conn: sqlite3.Connection, by: str, since: dt.date | None = None, until: dt.date | None = None,
    exclude_tags: Sequence[str] = (),
) -> dict[str, dict[str, int]]:
    """{group: {"ambiguous": n, "annulled": m}}: resolved, but never scored."""
    expression, join = _grouping(by)
    window, params = _window(since, until, exclude_tags)
    sql = (
        f"SELECT {expression} AS grp, s.outcome, count(*) FROM forecasts s {join} "
        f"WHERE s.outcome IN ('ambiguous', 'annulled'){window} GROUP BY grp, s.outcome"
    )
    counts: dict[str, dict[str, int]] = {}
    for group, outcome, n in conn.execute(sql, params):
        counts.setdefault(str(group), {"ambiguous": 0, "annulled": 0})[outcome] = n
    return counts


def _grouping(by: str) -> tuple[str, str]:
    try:
        return GROUPINGS[by]
    except KeyError:
        raise ValidationError("by", f"{by!r} is not one of {', '.join(GROUPINGS)}") from None


def score_table(
    conn: sqlite3.Connection,
    *,
    by: str = "source",
    since: dt.date | None = None,
    until: dt.date | None = None,
    min_n: int = 1,
    exclude_tags: Sequence[str] = (),
) -> ScoreTable:
    """Scores per group, ranked by Brier score; groups with fewer than min_n scored forecasts unranked."""
    if min_n < 1:
        raise ValidationError("min_n", f"must be at least 1, not {min_n}")
    exclude_tags = tuple(sorted(set(exclude_tags)))
    sums = group_bin_sums(conn, by, since, until, exclude_tags)
    excluded = unscored_counts(conn, by, since, until, exclude_tags)
    groups = []
    for group, bins in sums.items():
        counts = excluded.get(group, {})
        groups.append(GroupScore(group, scores_from_bins(bins), counts.get("ambiguous", 0), counts.get("annulled", 0)))
    ranked = sorted((g for g in groups if g.scores.n >= min_n), key=lambda g: (g.scores.brier, -g.scores.n, g.group))
    unranked = sorted((g for g in groups if g.scores.n < min_n), key=lambda g: (-g.scores.n, g.group))
    ordered = [attrs.evolve(g, rank=i) for i, g in enumerate(ranked, start=1)] + unranked
    if by in TIME_GROUPINGS:  # periods read in time order; their ranks still say which scored best
        ordered.sort(key=lambda g: g.group)
    overall = _overall(conn, by, sums, excluded, since, until, exclude_tags)
    return ScoreTable(by, since, until, min_n, exclude_tags, tuple(ordered), overall)


def _overall(conn, by, sums, excluded, since, until, exclude_tags) -> GroupScore | None:
    if by in PARTITIONS:  # the groups partition the forecasts: add their bins up, no second scan
        total: dict[int, Sums] = {}
        for bins in sums.values():
            for index, s in bins.items():
                total[index] = total[index] + s if index in total else s
        ambiguous = sum(c.get("ambiguous", 0) for c in excluded.values())
        annulled = sum(c.get("annulled", 0) for c in excluded.values())
    else:
        total = group_bin_sums(conn, "all", since, until, exclude_tags).get("all", {})
        counts = unscored_counts(conn, "all", since, until, exclude_tags).get("all", {})
        ambiguous, annulled = counts.get("ambiguous", 0), counts.get("annulled", 0)
    if not total:
        return None
    return GroupScore("all", scores_from_bins(total), ambiguous, annulled)
