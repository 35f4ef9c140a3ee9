"""Text rendering of forecasts for the terminal (JSON output uses the export records instead)."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from typing import Iterable, Iterator

from predictions import (
    Resolution, TrackedForecast, TrackedQuestion, clip, display_width, escape_terminal, escape_terminal_lines, pad,
    plural, probability_text, wrap,
)  # fmt: skip


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def terminal_width(wide: bool = False) -> int | None:
    """The columns to fit output into on a terminal (its width, or COLUMNS where set); None,
    cutting nothing, for --wide and whenever stdout is a pipe or a file, whatever COLUMNS says:
    programs export it to their children (pytest does), and a script must get whole lines."""
    if wide or not stdout_is_terminal():
        return None
    import shutil  # only on a terminal: it imports zlib, bz2 and lzma, which `list | ...` never needs

    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _width() -> int:
    """Where long fields wrap in `show` (wrapping cuts nothing): the terminal's width, else 100."""
    return max(60, min(terminal_width() or 100, 120))


WIDTH_SAMPLE = 1000  # rows read ahead to size the columns; the rest stream through


def forecast_lines(
    rows: Iterable[TrackedForecast], today: dt.date, empty: str = "No forecasts match.", width: int | None = None
) -> Iterator[str]:
    """One line per forecast (id, status, deadline, probability, source, claim), streamed.

    The columns are sized by the first WIDTH_SAMPLE rows, so a million forecasts are never held at
    once; a longer id further down pushes its own line's columns over. With a `width` (a terminal)
    the source and claim are clipped to fit it; without one nothing is cut.
    """
    rows = iter(rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    if not sample:
        yield empty
        return
    id_width = max(len("ID"), *(display_width(t.id) for t in sample))  # at least as wide as the header
    p_width = max(4, *(len(probability_text(t.forecast.probability)) for t in sample))
    source_width = max(len("SOURCE"), *(display_width(escape_terminal(t.forecast.source)) for t in sample))
    claim_width = None
    if width is not None:  # the claim keeps at least 20 cells, the source at least 6 (up to 24)
        source_width = max(6, min(24, source_width, width - id_width - p_width - 32 - 20))
        claim_width = max(20, width - id_width - source_width - p_width - 32)
    yield f"{'ID':<{id_width}}  {'STATUS':<13} {'DEADLINE':<10}  {'P':>{p_width}}  {pad('SOURCE', source_width)}  CLAIM"
    for tracked in itertools.chain(sample, rows):
        f, q = tracked.forecast, tracked.question
        status = tracked.status if tracked.current is None else tracked.current.outcome
        if tracked.status == "due":
            status = f"due {(today - q.deadline).days}d"
        # Values from the file, escaped before they are measured: an escape sequence or a bidi
        # override (which an earlier version, or raw SQL, let in) is shown, never obeyed.
        source, claim = escape_terminal(f.source), escape_terminal(" ".join(tracked.claim.split()))
        if width is not None:
            source, claim = clip(source, source_width), clip(claim, claim_width)
        yield (
            f"{pad(f.id, id_width)}  {status:<13} {q.deadline.isoformat()}  {probability_text(f.probability):>{p_width}}  "
            f"{pad(source, source_width)}  {claim}"
        )


def question_lines(
    rows: Iterable[TrackedQuestion], today: dt.date, empty: str = "No questions match.", width: int | None = None
) -> Iterator[str]:
    """One line per question (id, status, deadline, forecasts, sources, wording), streamed; with
    a `width` (a terminal) the wording is clipped to fit it, without one nothing is cut."""
    rows = iter(rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    if not sample:
        yield empty
        return
    id_width = max(len("QUESTION"), *(display_width(t.id) for t in sample))
    yield f"{'QUESTION':<{id_width}}  {'STATUS':<13} {'DEADLINE':<10}  {'FC':>3}  {'SRC':>3}  QUESTION / CLAIM"
    for tracked in itertools.chain(sample, rows):
        q = tracked.question
        status = tracked.status if tracked.current is None else tracked.current.outcome
        if tracked.status == "due":
            status = f"due {(today - q.deadline).days}d"
        title = escape_terminal(" ".join(tracked.title.split()))
        if width is not None:
            title = clip(title, max(20, width - id_width - 40))
        yield (
            f"{pad(q.id, id_width)}  {status:<13} {q.deadline.isoformat()}  {len(tracked.forecasts):>3}  "
            f"{len(tracked.sources):>3}  {title}"
        )


def _field(label: str, value: str | None, width: int) -> list[str]:
    if value is None:
        return []
    wrapped = []
    for paragraph in str(value).splitlines() or [""]:
        wrapped.extend(wrap(paragraph, width - 14) or [""])
    return [f"{label + ':':<13} {wrapped[0]}"] + [f"{'':<13} {line}" for line in wrapped[1:]]


def forecast_story(tracked: TrackedForecast, today: dt.date, question: TrackedQuestion | None = None) -> str:
    """The whole story of one forecast: what was said, how it will be judged, what happened, and
    the other forecasts on its question."""
    f, q, width = tracked.forecast, tracked.question, _width()
    if tracked.status == "due":
        status = f"due: deadline passed {plural((today - q.deadline).days, 'day')} ago, not yet resolved"
    elif tracked.status == "open":
        status = f"open: {plural((q.deadline - today).days, 'day')} to the deadline"
    else:
        status = f"resolved {tracked.current.outcome}"
    lines = [f"{f.id}  [{status}]", ""]
    source = f.source + (f" ({f.source_kind})" if f.source_kind else "")
    lines += _field("Source", source, width)
    if f.document:
        d = f.document
        parts = [f'"{d.title}"' if d.title else None, d.outlet, d.author,
                 (d.published_text or (d.published_on.isoformat() if d.published_on else None)),
                 "date estimated" if d.published_on_estimated else None, d.url, d.file]  # fmt: skip
        lines += _field("Document", ", ".join(p for p in parts if p), width)
        if d.note:
            lines += _field("Date note", d.note, width)
    lines += _field("Claim", f.claim, width)
    lines += _field("Quote", f'"{f.quote}"' if f.quote else None, width)
    lines += _field("Question", f"{q.id}" + (f": {q.question}" if q.question else ""), width)
    lines += _field("Criteria", q.resolution_criteria, width)
    lines += _field("Made on", f.made_on.isoformat(), width)
    deadline = q.deadline.isoformat()
    if q.deadline_text:
        deadline += f' ("{q.deadline_text}")'
    if q.deadline_assumed:
        deadline += " (editorial deadline: assumed, not the source's words)"
    lines += _field("Deadline", deadline, width)
    basis = f.probability_basis + (f', "{f.phrase}"' if f.phrase else "")
    lines += _field("Probability", f"{probability_text(f.probability)} ({basis})", width)
    lines += _field("Tags", ", ".join(q.tags) if q.tags else None, width)
    lines += _field("Note", f.note, width)
    lines += _field("Recorded", f.recorded_at, width)
    others = [o for o in question.forecasts if o.id != f.id] if question else []
    if others:
        lines.append("")
        lines.append(f"Other forecasts on question {q.id}:")
        for other in others:
            basis = f', "{other.phrase}"' if other.phrase else ""
            lines += _field(f"  {other.made_on}", f"{other.id}  {other.source}: {probability_text(other.probability)}{basis}", width)
    if tracked.history:
        lines.append("")
        lines.extend(history_lines(tracked.history, width))
    return escape_terminal_lines("\n".join(lines))


def history_lines(history: tuple[Resolution, ...], width: int | None = None) -> list[str]:
    width = width or _width()
    lines = []
    for number, r in enumerate(history, start=1):
        kind = "Correction" if r.correction_reason else "Resolution"
        head = f"{kind} {number}: {r.outcome} on {r.resolved_on} (recorded {r.recorded_at}"
        head += f" by {r.recorded_by})" if r.recorded_by else ")"
        lines.append(head)
        lines += _field("  Evidence", r.evidence, width)
        lines += _field("  Reason", r.correction_reason, width)
        lines += _field("  Early no", r.early_reason, width)
        lines += _field("  Note", r.note, width)
    return [escape_terminal(line) for line in lines]
