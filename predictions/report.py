"""The periodic calibration report, as data: what a month (quarter, year) settled and how sources stand.

`build_report` reads the ledger and returns a `Report` (`Ledger.report` is the public way in: it
verifies the chain first); `Report.render` gives it as text, Markdown, HTML or JSON. Scores "as of" a period count every forecast resolved (resolved_on) up to
the period's last day, using each forecast's current outcome; a report as of a past day reads the
ledger as recorded by the end of that day (report_snapshot). Its trend and changes since the
previous period are computed in report_history.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Sequence

import attrs

from .aggregate import GroupScore, ScoreTable, score_table, window_sql
from .report_history import ChangesSince, Trend, build_trend, changes_since
from .report_snapshot import as_recorded_by, recorded_cutoff
from .chain import FIRST_CLAIM, GENESIS, Verification
from .errors import ValidationError
from .sqlite_file import shown_path
from .model import parse_date
from .textwidth import log_stamp

PERIOD_KINDS = ("month", "quarter", "year")
LIST_LIMIT = 50  # forecasts listed per section; the rest are counted
LABEL_LIMIT = 200  # characters in a report's --label
# Tags with a meaning a report explains when it leaves them out (--exclude-tag), as docs/seeds.md
# defines them. HINDSIGHT_TAGS: scored but not left out, the report says so and how to leave them out.
TAG_MEANINGS = {
    "past-at-publication": "already settled when published, so they show hindsight, not foresight",
    "near-at-publication": "nearly settled when published, so they show little foresight",
}
HINDSIGHT_TAGS = ("past-at-publication",)


@attrs.frozen
class Period:
    kind: str
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        year = f"{self.start.year:04d}"  # 0999, as --for takes it, not 999
        if self.kind == "year":
            return year
        if self.kind == "quarter":
            return f"{year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{year}-{self.start.month:02d}"

    @property
    def _months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    def shifted(self, periods: int) -> "Period":
        from dateutil.relativedelta import relativedelta  # here: `list` and `show` never load dateutil

        try:
            start = self.start + relativedelta(months=self._months * periods)
        except (ValueError, OverflowError):
            raise ValidationError(
                "period", f"{periods:+d} {self.kind}s from {self.label} is outside years 0001 to 9999"
            ) from None
        return Period(self.kind, start, _last_day(start, self._months))

    def reportable(self, field: str = "period") -> "Period":
        """This period, if a report can cover it: the report needs the periods either side of its own."""
        try:
            self.shifted(-1), self.shifted(1)
        except ValidationError:
            raise ValidationError(
                field, f"{self.label} is too near the calendar's edge for a report, which needs the {self.kind} "
                "before and after it within years 0001 to 9999"
            ) from None  # fmt: skip
        return self

    @classmethod
    def containing(cls, kind: str, day: dt.date | str) -> "Period":
        day = parse_date(day, "day")
        if kind not in PERIOD_KINDS:
            raise ValidationError("period", f"{kind!r} is not one of {', '.join(PERIOD_KINDS)}")
        month = {"month": day.month, "quarter": (day.month - 1) // 3 * 3 + 1, "year": 1}[kind]
        start = dt.date(day.year, month, 1)
        return cls(kind, start, start).shifted(0)

    @classmethod
    def latest_complete(cls, kind: str, today: dt.date | str) -> "Period":
        """The last period of this kind that ended before today, if a report can cover it."""
        today = parse_date(today, "today")
        try:
            latest = cls.containing(kind, today).shifted(-1)
        except ValidationError:
            raise ValidationError("period", f"no {kind} ended before {today}, at the calendar's edge") from None
        return latest.reportable()

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2026' (year), '2026-Q3' (quarter) or '2026-10' (month), one a report can cover."""
        text = (text or "").strip()
        if m := re.fullmatch(r"([0-9]{4})", text):
            kind, year, month = "year", m[1], 1
        elif m := re.fullmatch(r"([0-9]{4})-[Qq]([1-4])", text):
            kind, year, month = "quarter", m[1], 3 * int(m[2]) - 2
        elif (m := re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)) and 1 <= int(m[2]) <= 12:
            kind, year, month = "month", m[1], int(m[2])
        else:
            raise ValidationError(
                "for", f"{text!r} is not a period: use 2026 (year), 2026-Q3 (quarter) or 2026-10 (month)"
            )
        if int(year) == 0:
            raise ValidationError("for", f"{text!r} is not a period: years run from 0001 to 9999")
        return cls.containing(kind, dt.date(int(year), month, 1)).reportable("for")


def report_period(period: "Period | str | None", kind: str, today: dt.date) -> "Period":
    """The period a report covers: a Period, a label ("2026", "2026-Q3", "2026-10"), or for None
    the latest complete period of `kind` (a report of a period not started is refused later)."""
    if isinstance(period, Period):
        return period.reportable()
    if isinstance(period, str):
        try:
            return Period.parse(period)
        except ValidationError as exc:
            raise ValidationError("period", exc.message) from None
    if period is not None:
        raise ValidationError("period", f"must be a period label such as 2026-10, or a Period, not {period!r}")
    if kind not in PERIOD_KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(PERIOD_KINDS)}")
    try:
        return Period.latest_complete(kind, today)
    except ValidationError as exc:  # only a `today` at the calendar's start gets here
        raise ValidationError("today", f"{exc.message}; name a period") from None


def _last_day(start: dt.date, months: int) -> dt.date:
    """The last day of the `months` months from `start` (the calendar ends on 9999-12-31)."""
    month = start.month - 1 + months
    year = start.year + month // 12
    return dt.date(9999, 12, 31) if year > 9999 else dt.date(year, month % 12 + 1, 1) - dt.timedelta(days=1)


@attrs.frozen
class ForecastLine:
    id: str
    source: str
    claim: str
    probability: float
    deadline: str
    outcome: str | None
    resolved_on: str | None


@attrs.frozen
class Listing:
    """Up to LIST_LIMIT forecasts of a section, and how many there are in all."""

    lines: tuple[ForecastLine, ...]
    total: int


@attrs.frozen
class Movement:
    group: str
    brier_before: float | None  # as of the end of the previous period; None if nothing was scored then
    brier_now: float
    n_before: int
    n_now: int

    @property
    def change(self) -> float | None:
        return None if self.brier_before is None else self.brier_now - self.brier_before


@attrs.frozen
class Report:
    """The report on one period, as data; `render(fmt)` gives it as text, md, html or json."""

    ledger: str  # the ledger's label: --label, or its file name (never the absolute path)
    generated_on: dt.date
    chain_head: str  # the ledger's head when the report was computed (read in the same snapshot)
    verified: bool  # whether the chain was verified up to chain_head before the report was computed
    period: Period
    resolved: Listing  # forecasts resolved within the period
    outcomes: dict[str, int]  # outcome -> count, within the period
    period_scores: ScoreTable  # by source, forecasts resolved within the period
    leaderboard: ScoreTable  # by source, everything resolved up to the period's end
    due: Listing  # past deadline and unresolved, as of generated_on
    upcoming: Listing  # deadlines within the next period
    next_period: Period
    movement: tuple[Movement, ...]
    # Unresolved, deadline from generated_on to the period's end: in no other listing while the
    # period is not over (due stops before today, upcoming starts after the period). None once over.
    remaining: Listing | None = None
    chain_entries: int = 0  # entries in the chain up to chain_head
    left_out: int = 0  # forecasts resolved yes/no by scored_until that exclude_tags kept out of the scores
    # (tag, n) for each of HINDSIGHT_TAGS not left out: n of the leaderboard's scored forecasts carry it
    hindsight: tuple[tuple[str, int], ...] = ()
    trend: "Trend | None" = None  # Brier per period, the last 12 months / 8 quarters / 5 years
    changes: "ChangesSince | None" = None  # what was recorded since the previous period ended, changing earlier ones
    # What the report read (report_snapshot): everything recorded by the end of recorded_by (None:
    # a report as of today, everything), the latest of it recorded at recorded_until.
    recorded_by: dt.date | None = None
    recorded_until: str | None = None
    # With recorded_by: the chain as it stood at the end of that day, its last entry then (number
    # and hash). chain_head stays the head verified now; the two are equal if nothing came after.
    recorded_entries: int | None = None
    recorded_head: str | None = None

    def render(self, fmt: str = "text", width: int | None = None) -> str:
        """The report as text, md (Markdown), html (one self-contained page) or json; text fitted
        to `width` terminal cells if given (a terminal), else with nothing cut (a file, a pipe)."""
        from .report_formats import render  # the renderers import this module

        return render(self, fmt, width)

    def to_json(self) -> dict[str, Any]:
        """The report as the JSON object `render("json")` prints."""
        from .report_formats import report_json

        return report_json(self)

    @property
    def scored_until(self) -> dt.date:
        return _scored_until(self.period, self.generated_on)

    @property
    def remaining_from(self) -> dt.date:
        return _remaining_from(self.period, self.generated_on)

    @property
    def complete(self) -> bool:
        return _complete(self.period, self.generated_on)

    @property
    def calibration(self) -> GroupScore | None:
        return self.leaderboard.overall

    @property
    def calibration_by_source(self) -> tuple[GroupScore, ...]:
        """The leaderboard's sources with at least min_n scored pairs, largest first: each one's
        calibration bins, ECE and intervals are the ones its leaderboard row was scored from."""
        ranked = [g for g in self.leaderboard.groups if g.n >= self.leaderboard.min_n]
        return tuple(sorted(ranked, key=lambda g: (-g.n, g.group)))

    @property
    def exclude_tags(self) -> tuple[str, ...]:
        return self.leaderboard.exclude_tags

    @property
    def leaderboard_repeats_period(self) -> bool:
        """Whether everything scored so far was resolved in the period: the two tables are one."""
        return (self.period_scores.groups, self.period_scores.overall) == (self.leaderboard.groups, self.leaderboard.overall)

    def log_line(self, at: dt.datetime, output: str | None = None) -> str:
        """One line for a cron log: the UTC time, the ledger, the period, what was verified (the
        chain's entries and head) and where the report went."""
        stamp = log_stamp(at)
        entries = f"{self.chain_entries} chain {'entry' if self.chain_entries == 1 else 'entries'}"
        checked = f"verified {entries}, head {self.chain_head}" if self.verified else (
            f"NOT verified (--no-verify), {entries}, head {self.chain_head}")  # fmt: skip
        where = f"; wrote {output}" if output else ""
        return f"{stamp} report {self.period.label} of {self.ledger}: {checked}{where}"


def report_label(label: str | None, path: str | os.PathLike) -> str:
    """What a report calls its ledger: `label`, or the file's name (an absolute path in a published
    report says where the owner keeps their files, which is nobody's business)."""
    if label is None:  # a name that is not UTF-8 (or holds a control character) is shown escaped
        return shown_path(Path(os.fsdecode(os.fspath(path))).name)
    if not isinstance(label, str):
        raise ValidationError("label", f"must be text, not {type(label).__name__}")
    # One line: a line break or control character would forge lines of a text report or cron log
    if not label.replace(" ", "").isprintable():
        raise ValidationError("label", f"{label[:40]!r} holds a line break, control or invisible character: a label is one line")
    text = " ".join(label.split())
    if not text:
        raise ValidationError("label", "is empty: give the ledger's name, or leave the option out for its file name")
    if len(text) > LABEL_LIMIT:
        raise ValidationError("label", f"is {len(text)} characters long; at most {LABEL_LIMIT}")
    if not text.isprintable():
        raise ValidationError("label", f"{text[:40]!r} holds a control or invisible character")
    return text


def _complete(period: Period, today: dt.date) -> bool:
    """Whether the period was over (its last day past) on `today`."""
    return period.end < today


def _scored_until(period: Period, today: dt.date) -> dt.date:
    """The last day the report's resolutions and scores cover: the period's end, or today while it is not over."""
    return min(period.end, today)


def _remaining_from(period: Period, today: dt.date) -> dt.date:
    """The first day of the deadlines still to come: today, or the period's first day if it has not begun."""
    return max(today, period.start)


# Each forecast with its question's deadline and outcome (a forecast without its own claim shows its question).
_LINES = f"""(SELECT f.id, f.source, coalesce(f.claim, q.question, {FIRST_CLAIM}, '') AS claim, f.probability,
                q.deadline, q.outcome, q.resolved_on FROM forecasts f JOIN questions q ON q.id = f.question_id) AS lines"""
_LINE_SQL = f"SELECT id, source, claim, probability, deadline, outcome, resolved_on FROM {_LINES}"
# Unresolved as of a day: a report made as of a past day (--today) counts what was resolved later as open.
_OPEN_AS_OF = "(outcome IS NULL OR resolved_on > ?)"
_OPEN_LINE_SQL = f"SELECT id, source, claim, probability, deadline, NULL, NULL FROM {_LINES}"


def _listing(conn: sqlite3.Connection, where: str, params: list[Any], order: str, *, open_lines: bool = False) -> Listing:
    """Up to LIST_LIMIT forecasts and their count; `open_lines` shows them without their later outcome."""
    total = conn.execute(f"SELECT count(*) FROM {_LINES} WHERE {where}", params).fetchone()[0]
    line_sql = _OPEN_LINE_SQL if open_lines else _LINE_SQL
    rows = conn.execute(f"{line_sql} WHERE {where} ORDER BY {order} LIMIT {LIST_LIMIT}", params)
    return Listing(tuple(ForecastLine(*row) for row in rows), total)


def _open_on(conn: sqlite3.Connection, today: dt.date, deadlines: str, params: list[Any]) -> Listing:
    """Forecasts unresolved on `today` whose deadline matches `deadlines`, soonest first."""
    where = f"{_OPEN_AS_OF} AND {deadlines}"
    return _listing(conn, where, [today.isoformat(), *params], "deadline, id", open_lines=True)


def build_report(
    conn: sqlite3.Connection,
    *,
    ledger: str,
    verified: Verification | None,
    period: Period,
    today: dt.date,
    min_n: int = 5,
    exclude_tags: Sequence[str] = (),
    real_today: dt.date | None = None,
) -> Report:
    """The report for `period`; forecasts tagged with any of `exclude_tags` are listed but not scored.

    Run inside one read transaction: with `verified` (a passed verification made in it) the report
    names the head that was verified, else the head it reads. A period that has not started is refused.
    With a `today` before the real day (`real_today`, default the clock's), it reads the ledger as recorded
    by the end of that day, UTC (report_snapshot).
    """
    if period.start > today:  # nothing in it can be resolved yet; open forecasts are listed elsewhere
        raise ValidationError("period", f"{period.label} has not started yet (it starts {period.start}, today is {today})")
    if verified is not None:
        chain_head, chain_entries = verified.head, verified.entries
    else:
        row = conn.execute("SELECT hash, seq FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        chain_head, chain_entries = row if row else (GENESIS, 0)
    with as_recorded_by(conn, recorded_cutoff(today, real_today)) as recorded:
        return _build(conn, ledger, verified is not None, chain_head, chain_entries, period, today, min_n,
                      exclude_tags, recorded)  # fmt: skip


def _build(conn, ledger, verified, chain_head, chain_entries, period, today, min_n, exclude_tags, recorded) -> Report:
    # While the period is not over, nothing after `today` counts: a report made as of a past day
    # (--today) says what was known then.
    until = _scored_until(period, today)
    start, end = period.start.isoformat(), until.isoformat()
    following = period.shifted(1)
    previous = period.shifted(-1)
    resolved = _listing(conn, "resolved_on BETWEEN ? AND ?", [start, end], "resolved_on, id")
    outcomes = dict(
        conn.execute(
            f"SELECT outcome, count(*) FROM {_LINES} WHERE resolved_on BETWEEN ? AND ? GROUP BY outcome",
            [start, end],
        ).fetchall()
    )
    between = "deadline BETWEEN ? AND ?"
    due = _open_on(conn, today, "deadline < ?", [today.isoformat()])
    # From today if the next period has begun: what is past is listed as due.
    upcoming = _open_on(conn, today, between, [max(today, following.start).isoformat(), following.end.isoformat()])
    remaining = None
    if not _complete(period, today):  # the rest of its deadlines are neither due nor upcoming
        remaining = _open_on(conn, today, between, [_remaining_from(period, today).isoformat(), period.end.isoformat()])
    # The same --min-n ranks the period's table: two lucky calls in a month should not top it.
    left_out = {"exclude_tags": exclude_tags}
    period_scores = score_table(conn, by="source", since=period.start, until=until, min_n=min_n, **left_out)
    leaderboard = score_table(conn, by="source", until=until, min_n=min_n, **left_out)
    before = score_table(conn, by="source", until=previous.end, min_n=1, **left_out)
    exclude = leaderboard.exclude_tags
    return Report(
        ledger=ledger,
        generated_on=today,
        chain_head=chain_head,
        verified=verified,
        period=period,
        resolved=resolved,
        outcomes=outcomes,
        period_scores=period_scores,
        leaderboard=leaderboard,
        due=due,
        upcoming=upcoming,
        next_period=following,
        movement=_movement(before, leaderboard),
        remaining=remaining,
        chain_entries=chain_entries,
        left_out=_count_scored(conn, until, (), exclude) if exclude else 0,
        hindsight=tuple((tag, n) for tag in HINDSIGHT_TAGS if tag not in exclude
                        if (n := _count_scored(conn, until, exclude, (tag,)))),  # fmt: skip
        trend=build_trend(conn, period, until, min_n=min_n, exclude_tags=exclude),
        changes=changes_since(conn, period, recorded.cutoff, exclude_tags=exclude, limit=LIST_LIMIT),
        recorded_by=recorded.day,
        recorded_until=recorded.until,
        recorded_entries=None if recorded.cutoff is None else recorded.entries,
        recorded_head=recorded.head,
    )


def _count_scored(conn: sqlite3.Connection, until: dt.date, exclude_tags: Sequence[str], tagged: Sequence[str]) -> int:
    """Forecasts resolved yes/no by `until`, less those with any of exclude_tags; with `tagged`,
    only those carrying one of its tags."""
    window, params = window_sql(None, until, exclude_tags)
    having = ""
    if tagged:
        marks = ", ".join("?" * len(tagged))
        having = f" AND s.question_id IN (SELECT question_id FROM question_tags WHERE tag IN ({marks}))"
        params = [*params, *tagged]
    return conn.execute(f"SELECT count(*) FROM scored s WHERE 1 = 1{window}{having}", params).fetchone()[0]


def _movement(before: ScoreTable, now: ScoreTable) -> tuple[Movement, ...]:
    earlier = {g.group: g for g in before.groups}
    moves = []
    for group in now.groups:
        old = earlier.get(group.group)
        if old is not None and old.n == group.n:
            continue  # nothing new was resolved for this source
        moves.append(
            Movement(group.group, old.brier if old else None, group.brier, old.n if old else 0, group.n)
        )
    return tuple(sorted(moves, key=lambda m: (m.change is None, -(abs(m.change or 0)), m.group)))
