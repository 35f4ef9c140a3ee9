"""The report's view back in time: scores period by period (`trend`), and the resolutions recorded
since the previous period ended that changed an earlier period's figures (`changes_since`).

Both are SQL aggregates over the `scored` view and the resolutions table (GROUP BY the period of
resolution); Python only arranges the few rows that come back. Inside a report they read the
ledger as recorded by the report's day (report_snapshot).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Sequence

import attrs

from .aggregate import GROUPINGS, window_sql
from .errors import ValidationError
from .relative import relative_scores

# How many periods a trend covers, ending at the report's own: a year of months, two years of
# quarters, five years.
TREND_LENGTH = {"month": 12, "quarter": 8, "year": 5}


@attrs.frozen
class TrendPoint:
    period: str  # its label, as Period.label gives it
    n: int  # (source, question) pairs scored, resolved in the period; 0: a gap
    brier: float | None  # None where nothing was scored: a gap, never interpolated
    relative_brier: float | None = None  # on the questions shared with another source; None without any
    shared_questions: int = 0

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class TrendSeries:
    group: str  # a source, or "all"
    n: int  # pairs over the whole trend
    points: tuple[TrendPoint, ...]  # one per period of the trend, gaps included

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "n": self.n, "points": [p.to_json() for p in self.points]}


@attrs.frozen
class Trend:
    """The Brier score of what was resolved in each of the last periods, overall and per source
    (the sources with at least `min_n` scored pairs over the trend, largest first)."""

    kind: str
    periods: tuple[str, ...]  # labels, oldest first, ending at the report's period
    overall: TrendSeries
    sources: tuple[TrendSeries, ...]
    min_n: int

    @property
    def shared(self) -> bool:
        """Whether any point has a relative Brier (some sources share questions)."""
        return any(p.shared_questions for s in (self.overall, *self.sources) for p in s.points)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "periods": list(self.periods), "min_n": self.min_n,
                "overall": self.overall.to_json(), "sources": [s.to_json() for s in self.sources]}  # fmt: skip


def trend_periods(period, length: int) -> list:
    """The `length` periods ending at `period`, oldest first (fewer at the calendar's start)."""
    found = [period]
    for back in range(1, length):
        try:
            found.append(period.shifted(-back))
        except ValidationError:
            break
    return found[::-1]


def build_trend(
    conn: sqlite3.Connection, period, until: dt.date, *, min_n: int, exclude_tags: Sequence[str]
) -> Trend:
    """The trend up to `period` (its last point scored up to `until`, its end or today)."""
    periods = trend_periods(period, TREND_LENGTH[period.kind])
    labels = tuple(p.label for p in periods)
    expression = GROUPINGS[period.kind][0]  # the period label of s.resolved_on
    window, params = window_sql(periods[0].start, until, exclude_tags)
    sums: dict[tuple[str, str], tuple[float, float]] = {}
    for label, source, weight, squared in conn.execute(
        f"SELECT {expression} AS period, +s.source, total(s.weight), "
        "total(s.weight * (s.probability - s.outcome) * (s.probability - s.outcome)) "
        f"FROM scored s WHERE 1 = 1{window} GROUP BY period, s.source",
        params,
    ):
        sums[label, source] = (weight, squared)
    per_source = relative_scores(conn, f"{expression} || char(10) || s.source", "", window, params)
    per_period = relative_scores(conn, expression, "", window, params)

    def point(label: str, weight: float, squared: float, relative) -> TrendPoint:
        n = round(weight)
        shared = {} if relative is None else {"relative_brier": relative.relative_brier,
                                              "shared_questions": relative.shared_questions}  # fmt: skip
        return TrendPoint(label, n, squared / weight if weight > 0 else None, **shared)

    totals: dict[str, list[float]] = {}
    by_source: dict[str, dict[str, tuple[float, float]]] = {}
    for (label, source), (weight, squared) in sums.items():
        total = totals.setdefault(label, [0.0, 0.0])
        total[0] += weight
        total[1] += squared
        by_source.setdefault(source, {})[label] = (weight, squared)
    overall_points = tuple(point(label, *totals.get(label, (0.0, 0.0)), per_period.get(label)) for label in labels)
    overall = TrendSeries("all", sum(p.n for p in overall_points), overall_points)
    sources = []
    for source, cells in by_source.items():
        points = tuple(point(label, *cells.get(label, (0.0, 0.0)), per_source.get(f"{label}\n{source}"))
                       for label in labels)  # fmt: skip
        n = round(sum(weight for weight, _ in cells.values()))
        if n >= min_n:
            sources.append(TrendSeries(source, n, points))
    sources.sort(key=lambda s: (-s.n, s.group))
    return Trend(period.kind, labels, overall, tuple(sources), min_n)


@attrs.frozen
class Change:
    """A resolution recorded after the previous period ended that changed an earlier period's figures."""

    question_id: str
    claim: str  # the question's wording (or its first forecast's claim), for the reader
    kind: str  # "correction" (it replaced an earlier resolution) or "late" (the first, dated back)
    period: str  # the period its resolution date falls in
    old_period: str | None  # the period of the resolution it replaced (None for a late one)
    old_outcome: str | None
    outcome: str
    old_resolved_on: str | None
    resolved_on: str
    reason: str | None  # the correction's reason; for a late resolution its note, if any
    recorded_at: str
    forecasts: int  # forecasts on the question (each of its sources' scores moved)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class ChangesSince:
    since: str  # the first recording time counted: the start of the report's period, 00:00 UTC
    changes: tuple[Change, ...]  # up to the report's LIST_LIMIT: corrections first, each kind as recorded
    total: int
    by_period: tuple[tuple[str, int], ...]  # (period of the resolution date, how many), oldest first
    corrections: int = 0  # of total; the rest are late resolutions

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "total": self.total, "corrections": self.corrections,
                "late": self.total - self.corrections, "by_period": [list(item) for item in self.by_period],
                "changes": [c.to_json() for c in self.changes]}  # fmt: skip


# Each resolution with the one it replaced (the question's resolution recorded just before it);
# `s` so that window_sql's tag clause applies. Only those recorded in [since, cutoff) and bearing on
# a period before the report's: a first resolution dated back before it, or a correction of one
# (from or to such a date) that changed its outcome or date.
_CHANGED = """FROM resolutions s JOIN questions q ON q.id = s.question_id
    LEFT JOIN resolutions p ON p.id = (SELECT x.id FROM resolutions x WHERE x.question_id = s.question_id
                                       AND x.id < s.id ORDER BY x.id DESC LIMIT 1)
    WHERE s.recorded_at >= :since AND (:cutoff IS NULL OR s.recorded_at < :cutoff)
      AND (s.resolved_on < :start OR p.resolved_on < :start)
      AND (p.id IS NULL OR p.outcome IS NOT s.outcome OR p.resolved_on IS NOT s.resolved_on)"""


def changes_since(
    conn: sqlite3.Connection, period, cutoff: str | None, *, exclude_tags: Sequence[str], limit: int
) -> ChangesSince:
    """The changes to figures of periods before `period` recorded from its first day (the
    previous period's end) to `cutoff` (None: up to now)."""
    from .report import Period  # the report imports this module

    tags, tag_params = window_sql(None, None, exclude_tags)
    for i in range(len(tag_params)):  # window_sql's positional marks, as named ones
        tags = tags.replace("?", f":t{i}", 1)
    since = f"{period.start}T00:00:00Z"
    # Text order: every stamp of the period's first day or later is >= the bare date.
    params = {"since": period.start.isoformat(), "cutoff": cutoff, "start": period.start.isoformat(),
              **{f"t{i}": value for i, value in enumerate(tag_params)}}  # fmt: skip
    expression = GROUPINGS[period.kind][0]
    counts: dict[str, int] = {}
    corrections = 0
    for label, late, n in conn.execute(
        f"SELECT {expression} AS grp, p.id IS NULL, count(*) {_CHANGED}{tags} GROUP BY grp, p.id IS NULL ORDER BY grp",
        params,
    ):
        counts[str(label)] = counts.get(str(label), 0) + n
        corrections += 0 if late else n
    by_period = tuple(counts.items())
    total = sum(counts.values())
    rows = conn.execute(
        f"""SELECT s.question_id, coalesce(q.question, (SELECT f.claim FROM forecasts f WHERE f.question_id =
                   s.question_id AND f.claim IS NOT NULL ORDER BY f.rowid LIMIT 1), ''),
                   p.id IS NULL, p.outcome, s.outcome, p.resolved_on, s.resolved_on,
                   coalesce(s.correction_reason, s.note), s.recorded_at,
                   (SELECT count(*) FROM forecasts f WHERE f.question_id = s.question_id)
            {_CHANGED}{tags} ORDER BY p.id IS NULL, s.recorded_at, s.id LIMIT :limit""",
        {**params, "limit": limit},
    )

    def label(day: str | None) -> str | None:
        return None if day is None else Period.containing(period.kind, day).label

    changes = tuple(
        Change(qid, claim, "late" if late else "correction", label(new_on), label(old_on), old, new, old_on, new_on,
               reason, recorded_at, forecasts)
        for qid, claim, late, old, new, old_on, new_on, reason, recorded_at, forecasts in rows
    )  # fmt: skip
    return ChangesSince(since, changes, total, by_period, corrections)
