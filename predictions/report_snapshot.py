"""The rule "as recorded by that day": what a report made as of a past day may read.

A report with a past `today` (`--today D`) says what the ledger said at the end of D (UTC): only
questions, forecasts and resolutions recorded by then, each question with the latest resolution
recorded by then (a correction recorded later is not in it; neither is a resolution recorded later
and dated back), and each forecast's share of its pair's days (`weight`) computed over the
forecasts recorded by then (a later update of the same source shortens an earlier one's share,
so the share is recomputed, not read). A report as of today reads everything.

The rule is applied in one place: `as_recorded_by` puts temporary tables named `questions` and
`forecasts`, and a temporary `scored` view, in front of the ledger's own for the length of the
report. SQLite looks a name up in `temp` before `main`, so every query of the report (its
listings, score tables, relative scores) reads the snapshot without a change to its SQL. Where
nothing was recorded after D the snapshot would be the ledger itself, and none is made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from typing import Iterator

import attrs

from .chain import GENESIS
from .scoring import pair_weights_sql


@attrs.frozen
class Recorded:
    """What a report read: everything recorded before `cutoff` (None: everything), the latest of
    it recorded at `until` (None: the ledger holds nothing)."""

    # The day after D as bare text ("2026-11-02"): every stamp of D or before sorts below it, every
    # stamp of a later day ("2026-11-02T00:00:00Z", "2026-11-02T00:00:00.5Z") above it.
    cutoff: str | None
    until: str | None  # the latest recorded_at among what the report read
    # With a cutoff: the shortest stretch of the chain holding everything the report read, to its
    # last entry recorded before the cutoff (seq, hash; 0 and GENESIS if none was). Entries carry the
    # clock's stamps in order, so this is the head the ledger had at the end of that day.
    entries: int = 0
    head: str | None = None

    @property
    def day(self) -> dt.date | None:
        """The day the report is as recorded by (None: today, everything)."""
        return None if self.cutoff is None else dt.date.fromisoformat(self.cutoff[:10]) - dt.timedelta(days=1)


def recorded_cutoff(today: dt.date, real_today: dt.date | None = None) -> str | None:
    """The first recording time a report as of `today` leaves out, or None for a report as of the
    real day (or later), which reads everything."""
    real = real_today or dt.date.today()  # the day a report defaults to (store._today, the CLI): local
    if today >= real:
        return None
    return (today + dt.timedelta(days=1)).isoformat()


def _latest(conn: sqlite3.Connection, before: str | None) -> str | None:
    """The latest recorded_at in the ledger's own tables (before `before`, if given).

    Timestamps are compared as text: every one is UTC, ISO 8601 with a 'Z' (model.check_timestamp),
    so text order is time order, but for a stamp with fractions of a second against one without
    in the same second."""
    return conn.execute(_LATEST, {"before": before}).fetchone()[0]


def _chain_then(conn: sqlite3.Connection, cutoff: str) -> tuple[int, str]:
    """(seq, hash) of the last chain entry recorded before `cutoff`, or (0, GENESIS).

    Each payload holds its record's recorded_at. The scan runs from the end and stops at the first
    entry recorded before the cutoff, so it reads only what was recorded since. A payload that is
    not JSON (a damaged ledger, reported with --no-verify) is passed over, not a crash."""
    row = conn.execute(
        "SELECT seq, hash FROM main.entries WHERE CASE WHEN json_valid(payload) "
        "THEN json_extract(payload, '$.recorded_at') END < ? ORDER BY seq DESC LIMIT 1",
        [cutoff],
    ).fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


_LATEST = """SELECT max(stamp) FROM (
    SELECT max(recorded_at) AS stamp FROM main.questions WHERE :before IS NULL OR recorded_at < :before
    UNION ALL SELECT max(recorded_at) FROM main.forecasts WHERE :before IS NULL OR recorded_at < :before
    UNION ALL SELECT max(recorded_at) FROM main.resolutions WHERE :before IS NULL OR recorded_at < :before)"""


@contextlib.contextmanager
def as_recorded_by(conn: sqlite3.Connection, cutoff: str | None) -> Iterator[Recorded]:
    """Inside: the report's queries read the ledger as recorded before `cutoff` (module doc).

    Run inside the report's read transaction. A reader's connection is `query_only`; it is let
    write to `temp` (never to the ledger: every statement here names temp) for the snapshot, which
    is dropped on the way out."""
    latest = _latest(conn, None)
    then = {} if cutoff is None else dict(zip(("entries", "head"), _chain_then(conn, cutoff)))
    if cutoff is None or latest is None or latest < cutoff:
        yield Recorded(cutoff, latest, **then)
        return
    query_only = conn.execute("PRAGMA query_only").fetchone()[0]
    conn.execute("PRAGMA query_only = OFF")
    try:
        for statement in _SNAPSHOT:
            conn.execute(statement, {"cutoff": cutoff})
        conn.execute(_scored_view())
        yield Recorded(cutoff, _latest(conn, cutoff), **then)
    finally:
        for statement in _DROP:
            conn.execute(statement)
        if query_only:
            conn.execute("PRAGMA query_only = ON")


_DROP = ("DROP VIEW IF EXISTS temp.scored", "DROP TABLE IF EXISTS temp.forecasts", "DROP TABLE IF EXISTS temp.questions",
         "DROP TABLE IF EXISTS temp.snapshot_weights", "DROP TABLE IF EXISTS temp.touched")  # fmt: skip
# The snapshot: the questions and forecasts recorded before the cutoff (every column, as the
# ledger has them). Only the questions something was recorded on since (`touched`: a resolution,
# or another forecast) can differ from the ledger's projections; for those, they are made again as
# they stood: the outcome and date of the latest resolution recorded by then, how many sources had
# forecast it, and each forecast's share of its pair's days over the forecasts recorded by then,
# ending at that resolution (pair_weights_sql reads `questions`, by then the snapshot's, and main's
# forecasts). The `scored` view is the migrations' own, made again in temp so that it reads these.
_SNAPSHOT = (
    """CREATE TEMP TABLE touched AS SELECT question_id AS id FROM main.resolutions WHERE recorded_at >= :cutoff
       UNION SELECT question_id FROM main.forecasts WHERE recorded_at >= :cutoff""",
    "CREATE UNIQUE INDEX temp.touched_id ON touched(id)",
    "CREATE TEMP TABLE questions AS SELECT * FROM main.questions WHERE recorded_at < :cutoff",
    "CREATE UNIQUE INDEX temp.questions_id ON questions(id)",
    """UPDATE temp.questions SET (outcome, resolved_on) = (
           SELECT r.outcome, r.resolved_on FROM main.resolutions r WHERE r.question_id = questions.id
           AND r.recorded_at < :cutoff ORDER BY r.id DESC LIMIT 1),
       forecasters = max(1, (SELECT count(DISTINCT f.source) FROM main.forecasts f
           WHERE f.question_id = questions.id AND f.recorded_at < :cutoff))
       WHERE id IN (SELECT id FROM temp.touched)""",
    "CREATE TEMP TABLE snapshot_weights AS "
    + pair_weights_sql("f.recorded_at < :cutoff AND f.question_id IN (SELECT id FROM temp.touched)"),
    "CREATE UNIQUE INDEX temp.snapshot_weights_id ON snapshot_weights(id)",
    "CREATE TEMP TABLE forecasts AS SELECT * FROM main.forecasts WHERE recorded_at < :cutoff ORDER BY rowid",
    """UPDATE temp.forecasts SET weight = (SELECT w.weight FROM temp.snapshot_weights w WHERE w.id = forecasts.id)
       WHERE question_id IN (SELECT id FROM temp.touched)""",
    "CREATE UNIQUE INDEX temp.forecasts_id ON forecasts(id)",
    "CREATE INDEX temp.questions_unscored ON questions(outcome) WHERE outcome IN ('ambiguous', 'annulled')",
    "CREATE INDEX temp.questions_shared ON questions(id) WHERE forecasters > 1",
    "CREATE INDEX temp.questions_deadline ON questions(deadline)",
    "CREATE INDEX temp.forecasts_question ON forecasts(question_id, source, made_on)",
)


def _scored_view() -> str:
    """The migrations' `scored` view (as they create it, never the file's own text), made in temp."""
    from .schema_check import _expected_schema  # the schema the migrations make, built once

    sql = _expected_schema()[("view", "scored")][3]
    return sql.replace("CREATE VIEW scored", "CREATE TEMP VIEW scored", 1)
