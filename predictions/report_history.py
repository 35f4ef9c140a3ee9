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
    """What was recorded after the previous period ended that changed an earlier period's figures:
    one per question whose outcome or date is not what it was when that period ended (its
    resolutions recorded since, taken together), or one per forecast recorded late on a question
    resolved before the report's period."""

    question_id: str
    claim: str  # the question's wording (or its first forecast's claim), for the reader
    kind: str  # "correction" (it had a resolution), "late" (it had none: open, now dated back), "forecast"
    period: str  # the period its resolution date falls in (now)
    old_period: str | None  # the period of the resolution it had when the previous period ended
    old_outcome: str | None  # as recorded when the previous period ended (None: open)
    outcome: str  # now, as recorded by the report's day
    old_resolved_on: str | None
    resolved_on: str
    reason: str | None  # the reasons (or notes) of the resolutions recorded since, in order, "; " between
    recorded_at: str  # the last of them (for a forecast: when it was recorded)
    forecasts: int  # forecasts on the question (each of its sources' scores moved)
    entries: int = 1  # resolutions recorded since (1 for a forecast)
    forecast_id: str | None = None  # for kind "forecast": the forecast recorded late, and its source
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class ChangesSince:
    since: str  # the first recording time counted: the start of the report's period, 00:00 UTC
    changes: tuple[Change, ...]  # up to the report's LIST_LIMIT: corrections, late resolutions, late forecasts
    total: int
    by_period: tuple[tuple[str, int], ...]  # (period of the resolution date, how many), oldest first
    corrections: int = 0  # of total
    late_forecasts: int = 0  # of total; the rest are late resolutions
    cancelled: int = 0  # questions corrected since and back to what they were: not changes, not in total

    @property
    def late(self) -> int:
        return self.total - self.corrections - self.late_forecasts

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "total": self.total, "corrections": self.corrections, "late": self.late,
                "late_forecasts": self.late_forecasts, "cancelled": self.cancelled,
                "by_period": [list(item) for item in self.by_period],
                "changes": [c.to_json() for c in self.changes]}  # fmt: skip


# Per question with a resolution recorded in [since, cutoff): the one it had when the previous
# period ended (`o`, recorded before since; none: it was open) and the one it has now (`s`, the
# latest recorded before the cutoff), where either is dated before the report's period. `s` so
# that window_sql's tag clause applies. Ids grow with recording, so the latest is the largest.
_STATES = """WITH touched AS (
        SELECT question_id AS id, count(*) AS entries, max(recorded_at) AS recorded_at FROM resolutions
        WHERE recorded_at >= :since AND (:cutoff IS NULL OR recorded_at < :cutoff) GROUP BY question_id),
    states AS (
        SELECT t.id, t.entries, t.recorded_at,
            (SELECT r.id FROM resolutions r WHERE r.question_id = t.id AND r.recorded_at < :since
             ORDER BY r.id DESC LIMIT 1) AS old_id,
            (SELECT r.id FROM resolutions r WHERE r.question_id = t.id
             AND (:cutoff IS NULL OR r.recorded_at < :cutoff) ORDER BY r.id DESC LIMIT 1) AS new_id
        FROM touched t)
    SELECT st.id AS question_id, st.entries, st.recorded_at, o.id IS NULL AS late, o.outcome AS old_outcome,
           o.resolved_on AS old_resolved_on, s.outcome, s.resolved_on,
           (o.id IS NOT NULL AND o.outcome IS s.outcome AND o.resolved_on IS s.resolved_on) AS same
    FROM states st JOIN resolutions s ON s.id = st.new_id LEFT JOIN resolutions o ON o.id = st.old_id
    WHERE (s.resolved_on < :start OR o.resolved_on < :start)"""
# Forecasts recorded in [since, cutoff) on a question resolved yes or no before the report's period
# (the snapshot's questions: as recorded by the report's day); they change its source's scores there.
_LATE_FORECASTS = """FROM (SELECT f.rowid AS at, f.id, f.question_id, f.source, f.claim, f.note, f.recorded_at,
        q.outcome, q.resolved_on FROM forecasts f JOIN questions q ON q.id = f.question_id
    WHERE f.recorded_at >= :since AND (:cutoff IS NULL OR f.recorded_at < :cutoff)
      AND q.outcome IN ('yes', 'no') AND q.resolved_on < :start) s WHERE 1 = 1"""
_CLAIM = """coalesce((SELECT q.question FROM questions q WHERE q.id = s.question_id), (SELECT f.claim FROM forecasts f
    WHERE f.question_id = s.question_id AND f.claim IS NOT NULL ORDER BY f.rowid LIMIT 1), '')"""
_FORECASTS_ON = "(SELECT count(*) FROM forecasts f WHERE f.question_id = s.question_id)"


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
    expression = GROUPINGS[period.kind][0]  # the period label of s.resolved_on
    states = f"SELECT * FROM ({_STATES}) s WHERE 1 = 1{tags}"
    counts: dict[str, int] = {}
    corrections = late_forecasts = cancelled = 0
    for label, kind, n in conn.execute(
        f"""SELECT {expression} AS grp, CASE WHEN same THEN 'same' WHEN late THEN 'late' ELSE 'correction' END,
                   count(*) FROM ({states}) s GROUP BY 1, 2
            UNION ALL SELECT {expression}, 'forecast', count(*) {_LATE_FORECASTS}{tags} GROUP BY 1 ORDER BY 1""",
        params,
    ):
        if kind == "same":  # corrected since, and back to what a reader saw: nothing changed
            cancelled += n
            continue
        counts[str(label)] = counts.get(str(label), 0) + n
        corrections += n if kind == "correction" else 0
        late_forecasts += n if kind == "forecast" else 0
    rows = conn.execute(
        f"""SELECT s.question_id, {_CLAIM}, s.late, s.old_outcome, s.outcome,
                   s.old_resolved_on, s.resolved_on,
                   (SELECT group_concat(why, '; ') FROM (SELECT coalesce(r.correction_reason, r.note) AS why
                    FROM resolutions r WHERE r.question_id = s.question_id AND r.recorded_at >= :since
                    AND (:cutoff IS NULL OR r.recorded_at < :cutoff) ORDER BY r.id)),
                   s.recorded_at, {_FORECASTS_ON}, s.entries
            FROM ({states}) s WHERE NOT s.same ORDER BY s.late, s.recorded_at, s.question_id LIMIT :limit""",
        {**params, "limit": limit},
    ).fetchall()
    forecast_rows = conn.execute(
        f"""SELECT s.question_id, coalesce(s.claim, {_CLAIM}), s.outcome, s.resolved_on,
                   s.note, s.recorded_at, {_FORECASTS_ON}, s.id, s.source
            {_LATE_FORECASTS}{tags} ORDER BY s.recorded_at, s.at LIMIT :limit""",
        {**params, "limit": max(0, limit - len(rows))},
    ).fetchall()

    def label(day: str | None) -> str | None:
        return None if day is None else Period.containing(period.kind, day).label

    changes = [
        Change(qid, claim, "late" if late else "correction", label(new_on), label(old_on), old, new, old_on, new_on,
               reason, recorded_at, forecasts, entries)
        for qid, claim, late, old, new, old_on, new_on, reason, recorded_at, forecasts, entries in rows
    ]  # fmt: skip
    changes += [
        Change(qid, claim, "forecast", label(on), label(on), outcome, outcome, on, on, note, recorded_at, forecasts,
               1, fid, source)
        for qid, claim, outcome, on, note, recorded_at, forecasts, fid, source in forecast_rows
    ]  # fmt: skip
    return ChangesSince(since, tuple(changes), sum(counts.values()), tuple(sorted(counts.items())), corrections,
                        late_forecasts, cancelled)  # fmt: skip
