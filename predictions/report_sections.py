"""What the periodic report says, section by section, independent of its format.

`SECTIONS` lists the report's sections in order; each turns a `Report` into blocks (a heading,
a paragraph, a score table, a listing of forecasts, the calibration, the score changes), and
`report_formats` renders every kind of block in text, Markdown and HTML. Adding a section is one
function and one entry in `SECTIONS`.
"""

from __future__ import annotations

from typing import Callable, Iterable, Union

import attrs

from .aggregate import GroupScore, ScoreTable
from .report import TAG_MEANINGS, Listing, Movement, Report
from .report_history import ChangesSince, Trend
from .textwidth import count_text, p_value_text, plural


@attrs.frozen
class Code:
    """Inline text shown literally (a path, a hash): a code span in Markdown and HTML."""

    text: str


@attrs.frozen
class Heading:
    text: str
    level: int = 2  # 1: the report's title; 3: a part of the section before it


@attrs.frozen
class Para:
    parts: tuple[Union[str, Code], ...]
    style: str | None = None  # "strong" (a warning) or "muted" (a side note)


@attrs.frozen
class Scores:
    table: ScoreTable


@attrs.frozen
class Forecasts:
    listing: Listing
    empty: str  # said instead when there are none


@attrs.frozen
class Calibration:
    overall: GroupScore | None  # its bins: a table and a chart (a text chart in text)


@attrs.frozen
class Changes:
    movement: tuple[Movement, ...]
    earlier: int = 0  # changes to earlier periods recorded since the previous one ended (ChangeList)
    previous: str = ""  # that period's label


@attrs.frozen
class SourceCalibration:
    """Each source's calibration table; HTML draws them as small multiples (report_views)."""

    groups: tuple[GroupScore, ...]  # largest first


@attrs.frozen
class TrendTable:
    trend: Trend


@attrs.frozen
class ChangeList:
    changes: ChangesSince


Block = Union[Heading, Para, Scores, Forecasts, Calibration, Changes, SourceCalibration, TrendTable, ChangeList]

# How to read a score table: under `predictions score`, and in the report under its first table.
_LEGEND = (
    "Lower is better: Brier (0-1), log, reliab. Higher is better: skill (against the base rate), resol. "
    "uncert. depends on the outcomes alone; excl. counts ambiguous and annulled{relative}. "
    "– where a score is undefined (skill when every outcome in the group was the same). "
    "Equal Brier scores share a rank. See docs/scoring.md."
)
_LEGEND_RELATIVE = "; rel. is the Brier minus the other sources' median on the questions they share, lower is better"


def score_legend(rows: Iterable[GroupScore]) -> str:
    """The legend, naming the rel. column only where the table has one (a row shares a question)."""
    return _LEGEND.format(relative=_LEGEND_RELATIVE if any(g.shared_questions for g in rows) else "")


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ci_text(group: GroupScore) -> str:
    ci = group.brier_ci
    return "–" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"


def calibration_summary(report: Report) -> str:
    c = report.calibration
    if c is None:
        return "No forecasts resolved yes or no yet."
    z = "–" if c.spiegelhalter_z is None else f"{c.spiegelhalter_z:.2f} ({p_value_text(c.spiegelhalter_p)})"
    return (
        f"{plural(c.n, 'forecast')} scored ({count_text(c.yes)} resolved yes), Brier {_num(c.brier)} "
        f"(95% CI {ci_text(c)}), log score {_num(c.log_score)}, expected calibration error {_num(c.ece)}, "
        f"Spiegelhalter z {z}."
    )


CHANGES_HEADING = "Changes to earlier periods recorded since {previous} ended"


def movement_lines(movement: tuple[Movement, ...], name: Callable[[str], str], earlier: int = 0,
                   previous: str = "") -> list[str]:  # fmt: skip
    """One line per source whose score moved; `name` renders the source for the format. With
    `earlier` changes to earlier periods, a line saying so, pointing to their section."""
    lines = []
    if earlier:
        lines.append(
            f"{plural(earlier, 'change')} recorded since {previous} ended changed earlier periods' figures: the "
            f"figures before are as they stand now, not as a report read then showed them (see "
            f"\"{CHANGES_HEADING.format(previous=previous)}\" below).")  # fmt: skip
    if not movement:
        return lines + ["No source had new forecasts scored in this period."]
    for m in movement:
        if m.change is None:
            lines.append(f"{name(m.group)}: first scored, Brier {m.brier_now:.3f} (n={m.n_now})")
        else:
            direction = "better" if m.change < 0 else "worse" if m.change > 0 else "unchanged"
            lines.append(
                f"{name(m.group)}: Brier {m.brier_before:.3f} → {m.brier_now:.3f} "
                f"({m.change:+.3f}, {direction}; n {m.n_before} → {m.n_now})"
            )
    return lines


def title(report: Report) -> str:
    """The HTML page's title: the period and the ledger's label (or file name), one line."""
    return f"Calibration report {report.period.label}: {report.ledger}"


# --- the sections, in order ---------------------------------------------------------------------


def _header(report: Report) -> list[Block]:
    p = report.period
    blocks: list[Block] = [Heading(f"Calibration report for {p.label} ({p.start} to {p.end})", 1)]
    if report.verified:
        checked = ", verified before this report was made"
    else:
        checked = ""
    blocks.append(Para(("Ledger ", Code(report.ledger), ", chain head ", Code(report.chain_head),
                        f"{checked}, generated {report.generated_on}.")))  # fmt: skip
    if not report.verified:
        blocks.append(Para((
            "Not verified: the hash chain was not checked before this report was made, so nothing here "
            "vouches that the ledger holds what it recorded.",), "strong"))  # fmt: skip
    if not report.complete:
        blocks.append(Para((
            f"This {p.kind} is not over yet: it ends {p.end}, and this report shows it as of "
            f"{report.generated_on}, so its figures will change.",), "strong"))  # fmt: skip
    if report.exclude_tags:
        blocks.append(Para((_left_out(report),), "muted"))
    for tag, n in report.hindsight:
        total = report.leaderboard.overall.n if report.leaderboard.overall else n
        blocks.append(Para((
            f"{n} of the {plural(total, 'scored forecast')} {'is' if n == 1 else 'are'} tagged {tag}: "
            f"{TAG_MEANINGS[tag]}. --exclude-tag {tag} leaves them out of the scores.",), "muted"))  # fmt: skip
    blocks.append(Para((recorded_text(report),), "muted"))
    return blocks


def recorded_text(report: Report) -> str:
    """What the report read: everything recorded so far, or as recorded by a past day."""
    until = report.recorded_until
    if report.recorded_by is None:
        if until is None:
            return "It includes everything recorded so far: nothing (the ledger is empty)."
        return f"It includes everything recorded so far: the latest entry it reads was recorded {until}."
    if until is None:
        return (f"It shows the ledger as recorded by the end of {report.recorded_by} (UTC): nothing had been "
                "recorded by then; what was recorded later is not in it.")  # fmt: skip
    return (f"It shows the ledger as recorded by the end of {report.recorded_by} (UTC): questions, forecasts, "
            f"resolutions and corrections recorded later are not in it; the latest entry it reads was "
            f"recorded {until}; the chain then ended at entry {report.recorded_entries}, head "
            f"{report.recorded_head}.")  # fmt: skip


def _left_out(report: Report) -> str:
    """Which tags the scores leave out, what each means where the seeds define it, and how many."""
    meanings = "".join(f"; {tag}: {TAG_MEANINGS[tag]}" for tag in report.exclude_tags if tag in TAG_MEANINGS)
    n = report.left_out
    return (f"Scores leave out the {plural(n, 'forecast')} tagged {' or '.join(report.exclude_tags)} "
            f"({'it is' if n == 1 else 'they are'} still listed){meanings}.")  # fmt: skip


def _ranks_withheld(report: Report) -> list[Block]:
    """Why a rank is '–', in one line, when some source has one."""
    table = report.leaderboard
    if not table.unranked:
        return []
    many = len(table.unranked)
    who = "no source has" if many == len(table.groups) else f"{plural(many, 'source')} {'has' if many == 1 else 'have'} fewer"
    return [Para((
        f"Ranks (–) are withheld below {plural(table.min_n, 'forecast')} resolved yes or no (--min-n "
        f"{table.min_n}), so that a few lucky calls cannot top the table: {who} that many yet.",))]  # fmt: skip


def _resolved(report: Report) -> list[Block]:
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items()))
    # With nothing resolved the line under the heading says so: the heading does not say it too.
    return [Heading(f"Resolved in {report.period.label}" + (f": {counts}" if counts else "")),
            Forecasts(report.resolved, "Nothing was resolved in this period.")]  # fmt: skip


def _period_scores(report: Report) -> list[Block]:
    return [Heading(f"Scores for forecasts resolved in {report.period.label}, by source", 3),
            Scores(report.period_scores), Para((score_legend(report.period_scores),), "muted")]  # fmt: skip


def _leaderboard(report: Report) -> list[Block]:
    heading = Heading(f"Leaderboard: everything resolved up to {report.scored_until} "
                      f"(ranked with at least {report.leaderboard.min_n} scored)")  # fmt: skip
    if report.leaderboard_repeats_period:  # a second copy of the same table would say nothing new
        return [heading, Para((
            f"Everything scored up to {report.scored_until} was resolved in {report.period.label}: "
            "the leaderboard is the table above.",)), *_ranks_withheld(report)]  # fmt: skip
    return [heading, Scores(report.leaderboard), *_ranks_withheld(report)]


def _calibration(report: Report) -> list[Block]:
    return [Heading(f"Calibration of everything resolved up to {report.scored_until}"),
            Para((calibration_summary(report),)), Calibration(report.calibration)]  # fmt: skip


def _calibration_by_source(report: Report) -> list[Block]:
    groups = report.calibration_by_source
    min_n = report.leaderboard.min_n
    heading = Heading(f"Calibration by source, up to {report.scored_until} "
                      f"(sources with at least {plural(min_n, 'scored forecast')}, largest first)", 3)  # fmt: skip
    if not groups:
        return [heading, Para((f"No source has {plural(min_n, 'scored (source, question) pair')} (resolved yes or "
                                "no) yet.",), "muted")]  # fmt: skip
    return [heading, Para((
        "The same bins as above, per source: where the observed frequency sits below the mean forecast "
        "in the high bins (above it in the low ones) the source is over-confident; an interval that "
        "holds the mean forecast is consistent with calibration. ECE is the expected calibration error "
        "(0 is perfect).",), "muted"), SourceCalibration(groups)]  # fmt: skip


def _trend(report: Report) -> list[Block]:
    trend = report.trend
    if trend is None:
        return []
    kinds = {"month": "months", "quarter": "quarters", "year": "years"}
    return [Heading(f"Brier score by {trend.kind} of resolution, the last {len(trend.periods)} {kinds[trend.kind]}"),
            Para((
                f"Each point scores the forecasts resolved in that {trend.kind} alone (lower is better), "
                f"with n the (source, question) pairs it rests on; – where nothing was scored (a gap, never "
                f"filled in). Sources with at least {plural(trend.min_n, 'scored forecast')} over these "
                f"{kinds[trend.kind]} are shown, largest first."
                + (" rel. is the Brier minus the other sources' median on the questions they share." if trend.shared else ""),),
                "muted"), TrendTable(trend)]  # fmt: skip


def _changes_since_previous(report: Report) -> list[Block]:
    changes = report.changes
    if changes is None:
        return []
    previous = report.period.shifted(-1)
    return [Heading(CHANGES_HEADING.format(previous=previous.label)),
            Para((
                f"What was recorded from {report.period.start} on that changes a figure of a period before "
                f"{report.period.label}, one line per question: its outcome and date when {previous.label} "
                "ended → now (a correction; a late resolution, dated back, of a question that was open), "
                "with the reasons of the resolutions recorded since; and forecasts recorded late on "
                "questions already resolved. The scores above already count them; a report read before "
                "shows the old figures.",), "muted"),
            ChangeList(changes)]  # fmt: skip


def _changes(report: Report) -> list[Block]:
    previous = report.period.shifted(-1).label
    earlier = report.changes.total if report.changes else 0
    return [Heading(f"Score changes since the end of {previous}"), Changes(report.movement, earlier, previous)]


def _due(report: Report) -> list[Block]:
    return [Heading(f"Due for resolution now (deadline passed, unresolved as of {report.generated_on})"),
            Forecasts(report.due, "Nothing is due.")]  # fmt: skip


def _remaining(report: Report) -> list[Block]:
    if report.remaining is None:  # the period is over: what is left of it is listed as due
        return []
    p = report.period
    return [Heading(f"Deadlines still to come by the end of {p.label} (from {report.remaining_from} to {p.end})"),
            Forecasts(report.remaining, "No deadlines.")]  # fmt: skip


def _upcoming(report: Report) -> list[Block]:
    return [Heading(f"Deadlines in {report.next_period.label}"), Forecasts(report.upcoming, "No deadlines.")]


SECTIONS: tuple[Callable[[Report], list[Block]], ...] = (
    _header, _resolved, _period_scores, _leaderboard, _calibration, _calibration_by_source, _changes, _trend,
    _changes_since_previous, _due, _remaining, _upcoming,
)  # fmt: skip


def sections(report: Report) -> list[list[Block]]:
    """The report's sections as blocks, leaving out those with nothing to say."""
    return [blocks for blocks in (section(report) for section in SECTIONS) if blocks]
