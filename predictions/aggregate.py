"""Scores where the data is: one SQL scan into per-group, per-bin sums, then arithmetic in Python.

Every binary score follows from a handful of sums per calibration bin (see scoring.Sums), so the
database does a single `GROUP BY group, bin` over the `scored` view and Python combines a few
hundred numbers. No row is ever loaded into a Python object, which keeps a report over a million
forecasts fast and small.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

import attrs

from .errors import ValidationError
from .hedges import canonical_phrase
from .relative import Relative, relative_scores
from .model import normalise_tag, parse_date
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
    "tag": ("coalesce(t.tag, '(untagged)')", "LEFT JOIN question_tags t ON t.question_id = s.question_id"),
    # The stored phrase, verbatim (merged by canonical phrase in Python: see _relabel), or for a
    # forecast without one "\x01" and its basis: no stored phrase holds a control character.
    "phrase": ("coalesce(s.phrase, char(1) || s.probability_basis)", ""),
    "basis": ("s.probability_basis", ""),
    "month": ("substr(s.resolved_on, 1, 7)", ""),
    "quarter": (_QUARTER, ""),
    "year": ("substr(s.resolved_on, 1, 4)", ""),
    "all": ("'all'", ""),
}
SCORE_BY = tuple(GROUPINGS)  # public (predictions.SCORE_BY): what `Ledger.score(by=...)` groups by
# Groupings where each forecast lands in exactly one group: the overall figures are their sum.
# (A forecast with three tags counts in three tag groups.)
PARTITIONS = frozenset(GROUPINGS) - {"tag"}
TIME_GROUPINGS = frozenset({"month", "quarter", "year"})


@attrs.frozen
class Excluded:
    """Resolved, but never scored: ambiguous and annulled outcomes."""

    ambiguous: int = 0
    annulled: int = 0


@attrs.frozen(kw_only=True)
class GroupScore(Scores):
    """Every score of one group (a source, a tag, a month...), its rank, and what was left unscored.

    Its JSON (what `score --json` prints for the group) is derived from its attributes: a field
    added here is in the JSON too.
    """

    group: str
    rank: int | None = None  # None: too few resolved forecasts to rank
    excluded: Excluded = Excluded()
    relative_brier: float | None = None  # vs the others' median on shared questions (relative.py)
    shared_questions: int = 0

    @classmethod
    def of(cls, group: str, scores: Scores, excluded: Excluded = Excluded(), rank: int | None = None,
           relative_brier: float | None = None, shared_questions: int = 0) -> "GroupScore":  # fmt: skip
        return cls(group=group, rank=rank, excluded=excluded, relative_brier=relative_brier,
                   shared_questions=shared_questions, **attrs.asdict(scores, recurse=False))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        values = _json_value(self)
        return {"group": values.pop("group"), "rank": values.pop("rank"), **values}


def _json_value(value: Any) -> Any:
    """attrs values as dicts and tuples as lists, all the way down."""
    if attrs.has(type(value)):
        return {field.name: _json_value(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, (tuple, list)):
        return [_json_value(item) for item in value]
    return value


# Equal Brier scores share a rank. Summing the same squared errors in another order can differ in
# the last bits, so scores within a relative 1e-12 of each other (far below any printed digit) tie.
_TIE_TOLERANCE = 1e-12


@attrs.frozen
class ScoreTable(Sequence[GroupScore]):
    """Scores per group: a sequence of the rows `score` prints, in its order, and `.overall`.

    Rows are ranked by Brier score, lowest first; equal scores share a rank (1, 1, 3) and are
    listed with the larger group first, then by name. Groups with fewer than `min_n` scored
    forecasts are unranked: `score` hides them (`hides_unranked`), a report lists them after the
    ranked ones. Time groupings (month, quarter, year) are listed in time order, each keeping its rank.
    """

    by: str
    since: dt.date | None
    until: dt.date | None
    min_n: int
    exclude_tags: tuple[str, ...]
    groups: tuple[GroupScore, ...]  # every group: ranked first, then the unranked; periods in time order
    overall: GroupScore | None  # every scored forecast together; None when nothing is scored
    hides_unranked: bool = False
    unknown_tags: tuple[str, ...] = ()  # of exclude_tags, those no forecast has (most likely typos)

    @property
    def rows(self) -> tuple[GroupScore, ...]:
        return self.ranked if self.hides_unranked else self.groups

    def __getitem__(self, index):
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    @property
    def ranked(self) -> tuple[GroupScore, ...]:
        return tuple(g for g in self.groups if g.rank is not None)

    @property
    def unranked(self) -> tuple[GroupScore, ...]:
        return tuple(g for g in self.groups if g.rank is None)

    @property
    def hidden(self) -> tuple[GroupScore, ...]:
        """The groups below min_n that the rows leave out."""
        return self.unranked if self.hides_unranked else ()

    def to_json(self) -> list[dict[str, Any]]:
        """Exactly what `predictions score --json` prints: one object per row (no `all` row, as in
        the text: `by="all"` scores everything together)."""
        return [g.to_json() for g in self]

    def to_text(self, width: int | None = None) -> str:
        """Exactly what `predictions score` prints: the table and, under it, how to read it, fitted
        to `width` terminal cells if given (see report_formats.SCORE_DROP_ORDER)."""
        from .report_formats import score_command_text  # the renderers import this module

        return score_command_text(self, width)


def window_sql(since: dt.date | None, until: dt.date | None, exclude_tags: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The WHERE clauses shared by every score query: the resolution window, and tags left out
    (e.g. forecasts already settled when they were published, tagged past-at-publication)."""
    clauses, params = [], []
    exclude_tags = sorted({normalise_tag(tag) for tag in exclude_tags})  # as tags are stored
    if exclude_tags:
        marks = ", ".join("?" * len(exclude_tags))
        clauses.append(f"s.question_id NOT IN (SELECT question_id FROM question_tags WHERE tag IN ({marks}))")
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
    window, params = window_sql(since, until, exclude_tags)
    ensure_sql_functions(conn)
    sql = (
        f"SELECT {expression} AS grp, {BIN_SQL} AS bin, {SUMS_SQL} "
        f"FROM scored s {join} WHERE 1 = 1{window} GROUP BY grp, bin"
    )
    result: dict[str, dict[int, Sums]] = {}
    for group, bin_index, *sums in conn.execute(sql, params):
        result.setdefault(str(group), {})[bin_index] = Sums(*sums)
    if by != "phrase":
        return result
    merged: dict[str, dict[int, Sums]] = {}  # sums of the groups that share a label add up
    for group, bins in result.items():
        into = merged.setdefault(_relabel(group), {})
        for index, s in bins.items():
            into[index] = into[index] + s if index in into else s
    return merged


def unscored_counts(
    conn: sqlite3.Connection, by: str, since: dt.date | None = None, until: dt.date | None = None,
    exclude_tags: Sequence[str] = (),
) -> dict[str, dict[str, int]]:
    """{group: {"ambiguous": n, "annulled": m}}: (source, question) pairs resolved, but never scored."""
    expression, join = _grouping(by)
    window, params = window_sql(since, until, exclude_tags)
    sql = (
        f"SELECT {expression} AS grp, s.outcome, count(DISTINCT s.question_id || char(10) || s.source) "
        f"FROM {_UNSCORED} {join} WHERE 1 = 1{window} GROUP BY grp, s.outcome"
    )
    counts: dict[str, dict[str, int]] = {}
    for group, outcome, n in conn.execute(sql, params):
        label = _relabel(str(group)) if by == "phrase" else str(group)
        counts.setdefault(label, {"ambiguous": 0, "annulled": 0})[outcome] += n
    return counts


def _relabel(group: str) -> str:
    """A phrase group's label: the hedge scale's canonical phrase ("Likely." and "likely" are one
    group, "likely"), or "(assigned)" / "(stated)" for forecasts without a phrase."""
    if group.startswith("\x01"):
        return f"({group[1:]})"
    return canonical_phrase(group)
# The forecasts on questions resolved ambiguous or annulled, with the columns of `scored`.
_UNSCORED = """(SELECT f.id, f.question_id, f.source, f.probability, f.weight, q.outcome, f.made_on, q.deadline,
                       q.resolved_on, f.probability_basis, f.phrase, f.document_id
                FROM questions q INDEXED BY questions_unscored JOIN forecasts f ON f.question_id = q.id
                WHERE q.outcome IN ('ambiguous', 'annulled')) AS s"""


def _grouping(by: str) -> tuple[str, str]:
    try:
        return GROUPINGS[by]
    except KeyError:
        raise ValidationError("by", f"{by!r} is not one of {', '.join(GROUPINGS)}") from None


def score_table(
    conn: sqlite3.Connection,
    *,
    by: str = "source",
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    min_n: int = 1,
    exclude_tags: Sequence[str] = (),
    today: dt.date | str | None = None,
    hides_unranked: bool = False,
) -> ScoreTable:
    """Scores per group over forecasts resolved yes/no within [since, until] (and by `today`),
    ranked by Brier score; groups with fewer than min_n scored forecasts unranked."""
    since = None if since is None else parse_date(since, "since")
    until = None if until is None else parse_date(until, "until")
    if since is not None and until is not None and until < since:  # an empty window is surely a slip
        raise ValidationError("until", f"{until} is before the start of the window ({since})")
    if today is not None:  # what was resolved after `today` is not known yet on it
        today = parse_date(today, "today")
        until = today if until is None else min(until, today)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValidationError("min_n", f"must be a whole number of at least 1, not {min_n!r}")
    if isinstance(exclude_tags, str):  # one tag, not its letters
        exclude_tags = (exclude_tags,)
    exclude_tags = tuple(sorted({normalise_tag(tag) for tag in exclude_tags}))  # as tags are stored
    sums = group_bin_sums(conn, by, since, until, exclude_tags)
    excluded = unscored_counts(conn, by, since, until, exclude_tags)
    relative = _relative(conn, by, since, until, exclude_tags)
    groups = [GroupScore.of(group, scores_from_bins(bins), _excluded(excluded.get(group, {})), **_shared(relative, group))
              for group, bins in sums.items()]  # fmt: skip
    ranked = sorted((g for g in groups if g.n >= min_n), key=lambda g: (g.brier, -g.n, g.group))
    unranked = sorted((g for g in groups if g.n < min_n), key=lambda g: (-g.n, g.group))
    ordered = _ranks(ranked) + unranked
    if by in TIME_GROUPINGS:  # periods read in time order; their ranks still say which scored best
        ordered.sort(key=lambda g: g.group)
    overall = _overall(conn, by, sums, excluded, since, until, exclude_tags)
    unknown = tuple(t for t in exclude_tags if conn.execute(
        "SELECT 1 FROM question_tags WHERE tag = ? LIMIT 1", [t]).fetchone() is None)  # fmt: skip
    return ScoreTable(by, since, until, min_n, exclude_tags, tuple(ordered), overall, hides_unranked, unknown)


def _ranks(ranked: list[GroupScore]) -> list[GroupScore]:
    """Competition ranks over groups sorted best first: equal Brier scores share the better rank."""
    out: list[GroupScore] = []
    for position, group in enumerate(ranked, start=1):
        tied = bool(out) and math.isclose(out[-1].brier, group.brier, rel_tol=_TIE_TOLERANCE, abs_tol=1e-15)
        out.append(attrs.evolve(group, rank=out[-1].rank if tied else position))
    return out


def _excluded(counts: dict[str, int]) -> Excluded:
    return Excluded(counts.get("ambiguous", 0), counts.get("annulled", 0))


def _overall(conn, by, sums, excluded, since, until, exclude_tags) -> GroupScore | None:
    if by in PARTITIONS:  # the groups partition the forecasts: add their bins up, no second scan
        total: dict[int, Sums] = {}
        for bins in sums.values():
            for index, s in bins.items():
                total[index] = total[index] + s if index in total else s
        left_out = Excluded(sum(c.get("ambiguous", 0) for c in excluded.values()),
                            sum(c.get("annulled", 0) for c in excluded.values()))  # fmt: skip
    else:
        total = group_bin_sums(conn, "all", since, until, exclude_tags).get("all", {})
        left_out = _excluded(unscored_counts(conn, "all", since, until, exclude_tags).get("all", {}))
    if not total:
        return None
    return GroupScore.of("all", scores_from_bins(total), left_out, **_shared(_relative(conn, "all", since, until, exclude_tags), "all"))


def _shared(relative: dict[str, Relative], group: str) -> dict[str, Any]:
    found = relative.get(group)
    return {} if found is None else {"relative_brier": found.relative_brier, "shared_questions": found.shared_questions}


def _relative(conn, by, since, until, exclude_tags) -> dict[str, Relative]:
    expression, join = _grouping(by)
    window, params = window_sql(since, until, exclude_tags)
    return relative_scores(conn, expression, join, window, params, _relabel if by == "phrase" else str)
