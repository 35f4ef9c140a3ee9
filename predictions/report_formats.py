"""Renderers for score tables and the periodic report: text, Markdown, HTML, JSON.

What the report says is in `report_sections` (one list of sections, as blocks); this module
renders each kind of block in each format. Every piece of text that comes from the ledger
(sources, claims, ids, the ledger's path) is untrusted, and is escaped for its medium by the one
function `predictions.escape` has for it: text (terminal) output, Markdown, HTML and JSON.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from .aggregate import GroupScore, ScoreTable
from .escape import (
    escape_html, escape_json, escape_markdown, escape_markdown_code, escape_terminal, escape_terminal_lines,
)  # fmt: skip
from .charts import PLOT_HINT, bar_width, bin_label, compact_chart, reliability_svg, reliability_text, resolved_yes
from .errors import ValidationError
from .report import Listing, Report
from .report_sections import (
    score_legend, Block, Calibration, ChangeList, Changes, Code, Forecasts, Heading, Para, Scores, SourceCalibration,
    TrendTable, ci_text, movement_lines, sections, title,
)  # fmt: skip
from . import report_views, textwidth

_VIEWS = (SourceCalibration, TrendTable, ChangeList)  # rendered by report_views
from .textwidth import clip, count_text, display_width, pad, plural, probability_text, wrap

FORMATS = ("text", "md", "html", "json")
EXTENSIONS = {".txt": "text", ".md": "md", ".html": "html", ".json": "json"}  # report -o file name -> format


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


SCORE_COLUMNS: tuple[tuple[str, Callable[[GroupScore], str]], ...] = (
    ("rank", lambda g: str(g.rank) if g.rank else "–"),
    ("n", lambda g: str(g.n)),
    ("yes", lambda g: str(g.yes)),
    ("Brier", lambda g: _num(g.brier)),
    ("95% CI", ci_text),
    ("log", lambda g: _num(g.log_score)),
    ("skill", lambda g: _num(g.brier_skill, 2)),
    ("reliab.", lambda g: _num(g.reliability)),
    ("resol.", lambda g: _num(g.resolution)),
    ("uncert.", lambda g: _num(g.uncertainty)),
    ("excl.", lambda g: str(g.excluded.ambiguous + g.excluded.annulled)),
)
# Where sources share questions, the relative Brier (own minus the others' median, on the shared
# questions; lower is better) is shown after the Brier score: the fair comparison of sources.
RELATIVE_COLUMN: tuple[str, Callable[[GroupScore], str]] = (
    "rel.", lambda g: "–" if g.relative_brier is None else f"{g.relative_brier:+.3f}"
)


def score_columns(rows: list[GroupScore]) -> tuple[tuple[str, Callable[[GroupScore], str]], ...]:
    """SCORE_COLUMNS, with the relative Brier after the Brier score when any row shares a question."""
    if not any(g.shared_questions for g in rows):
        return SCORE_COLUMNS
    at = [name for name, _ in SCORE_COLUMNS].index("Brier") + 1
    return (*SCORE_COLUMNS[:at], RELATIVE_COLUMN, *SCORE_COLUMNS[at:])


# On a terminal too narrow for the whole table, group names are first clipped to NAME_CAP cells,
# then columns are left out in this order, least important first (--wide shows them all), then
# names are clipped further, to NAME_MIN cells.
SCORE_DROP_ORDER = ("uncert.", "resol.", "reliab.", "log", "skill", "yes", "excl.", "95% CI")  # rel. is kept: the fair comparison
NAME_CAP, NAME_MIN = 24, 12


def _score_rows(table: ScoreTable, with_all: bool = True) -> list[GroupScore]:
    """The table's rows and, in a report, its `all` row (the report's JSON has it as overall)."""
    overall = [table.overall] if with_all and table.overall is not None and table.by != "all" else []
    return [*table, *overall]


def _nothing_scored(table: ScoreTable) -> str:
    """Why a table is empty, naming the window only where there is one (no "in this window")."""
    since, until = table.since, table.until
    window = (f" from {since} to {until}" if since and until else f" on or after {since}" if since
              else f" by {until}" if until else "")  # fmt: skip
    return f"No forecasts resolved yes or no{window}: nothing to score."


def _wrapped(text: str, width: int | None) -> list[str]:
    return [text] if width is None else wrap(text, width) or [""]


def score_table_text(table: ScoreTable, width: int | None = None, with_all: bool = True) -> str:
    """The table for a terminal; a table that hides groups below min_n says how many it hides.

    With a `width`, columns are left out in SCORE_DROP_ORDER until it fits, then group names are
    clipped, and a line says what was left out; without one (a pipe, a file) nothing is cut.
    """
    rows = _score_rows(table, with_all)
    if not rows:
        return "\n".join(_wrapped(_nothing_scored(table), width))
    columns = [(title, [cell(g) for g in rows]) for title, cell in score_columns(rows)]
    sizes = {title: max(display_width(title), *map(display_width, cells)) for title, cells in columns}
    name_width = max(display_width(table.by), *(display_width(escape_terminal(g.group)) for g in rows))
    left_out: list[str] = []
    if width is not None:
        def total() -> int:
            return name_width + sum(2 + sizes[title] for title, _ in columns if title not in left_out)
        if total() > width:
            name_width = max(min(name_width, NAME_CAP), name_width - (total() - width))
        for title in SCORE_DROP_ORDER:
            if total() <= width:
                break
            if title in sizes:
                left_out.append(title)
        name_width = max(min(name_width, NAME_MIN), name_width - max(0, total() - width))
    shown = [(title, cells) for title, cells in columns if title not in left_out]
    lines = ["  ".join([pad(table.by, name_width)] + [pad(title, sizes[title], ">") for title, _ in shown])]
    for i, g in enumerate(rows):
        name = escape_terminal(" ".join(g.group.split()))  # from the file: shown, and measured, escaped
        name = name if width is None else clip(name, name_width)
        lines.append("  ".join([pad(" ".join(name.split()), name_width)]
                               + [pad(cells[i], sizes[title], ">") for title, cells in shown]))  # fmt: skip
    notes = []
    if table.hidden:
        notes.append(f"({plural(len(table.hidden), 'group')} with fewer than {table.min_n} forecasts "
                     "resolved yes/no hidden; lower --min-n to see them)")  # fmt: skip
    elif table.unranked:
        notes.append(f"(unranked: fewer than {table.min_n} forecasts resolved yes/no)")
    if left_out:
        notes.append(f"({', '.join(left_out)} left out to fit {width} columns; --wide shows every column)")
    return "\n".join(lines + [line for text in notes for line in _wrapped(text, width)])


def score_command_text(table: ScoreTable, width: int | None = None) -> str:
    """What `predictions score` prints: the table and, when it has rows, the legend. Like its JSON
    it has no `all` row (`--by all` is that row): the two say the same."""
    text = escape_terminal_lines(score_table_text(table, width, with_all=False))
    return text + "\n\n" + "\n".join(_wrapped(score_legend(table), width)) if table.groups else text


# --- the report ---------------------------------------------------------------------------------


def render(report: Report, fmt: str, width: int | None = None) -> str:
    """The report in `fmt`; text is fitted to `width` terminal cells if given (the others ignore it)."""
    if fmt == "text":
        text = escape_terminal_lines(_text(report, width))
        return text if width is None else _fit(text, width)
    if fmt == "md":
        return _markdown(report)
    if fmt == "html":
        return _html(report)
    if fmt == "json":
        return escape_json(report_json(report), indent=2) + "\n"
    raise ValidationError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")


# Text -------------------------------------------------------------------------------------------


def _plain(parts) -> str:
    return "".join(part.text if isinstance(part, Code) else part for part in parts)


def _listing_text(listing: Listing, empty: str, width: int | None = None) -> list[str]:
    """One line per forecast, in columns: id, probability, outcome or deadline, "source:", claim.
    With a `width` the source and claim are clipped to fit it; without one nothing is cut."""
    if not listing.total:
        return [f"  {empty}"]
    fit = (lambda text, cells: " ".join(text.split())) if width is None else clip
    rows = [
        (line.id, f"p={probability_text(line.probability)}",
         f"{line.outcome} on {line.resolved_on}" if line.outcome else f"deadline {line.deadline}",
         escape_terminal(" ".join(line.source.split())), escape_terminal(" ".join(line.claim.split())))
        for line in listing.lines
    ]  # fmt: skip
    widths = [max(display_width(row[column]) for row in rows) for column in range(3)]
    # On a terminal the claim keeps at least 20 cells and the source 6 (up to 24, and its colon).
    source_cap = None if width is None else max(6, min(24, width - 9 - sum(widths) - 1 - 20))
    if width is not None and width - 9 - sum(widths) - 7 < 20:  # too narrow for one line each: two (or three)
        return _listing_narrow(rows, widths, width) + _more(listing)
    rows = [(fid, p, when, fit(source, source_cap) + ":", claim) for fid, p, when, source, claim in rows]
    widths.append(max(display_width(row[3]) for row in rows))
    room = None if width is None else max(20, width - 9 - sum(widths))
    lines = [
        f"  {pad(fid, widths[0])}  {pad(p, widths[1])}  {pad(when, widths[2])}  {pad(source, widths[3])} "
        f"{fit(claim, room)}"
        for fid, p, when, source, claim in rows
    ]
    return lines + _more(listing)


def _more(listing: Listing) -> list[str]:
    return [f"  … and {listing.total - len(listing.lines)} more"] if listing.total > len(listing.lines) else []


def _listing_narrow(rows, widths: list[int], width: int) -> list[str]:
    """The listing on a narrow terminal: id, probability and date on a line (the id alone if even
    that is too wide: it is what `resolve` takes, never cut), "source: claim" clipped under it."""
    lines = []
    for fid, p, when, source, claim in rows:
        head = f"  {pad(fid, widths[0])}  {pad(p, widths[1])}  {when}"
        lines += [f"  {fid}", f"      {p}  {when}"] if display_width(head) > width else [head.rstrip()]
        lines.append("      " + clip(f"{source}: {claim}", width - 6))
    return lines


def _text_block(block: Block, width: int | None) -> list[str]:
    if isinstance(block, _VIEWS):
        return report_views.text_block(block, width)
    if isinstance(block, Heading):
        return _wrapped(block.text if block.level == 1 else block.text + ":", width)
    if isinstance(block, Para):
        return _wrapped(_plain(block.parts), width)
    if isinstance(block, Scores):
        return [score_table_text(block.table, width)]
    if isinstance(block, Forecasts):
        return _listing_text(block.listing, block.empty, width)
    if isinstance(block, Calibration):
        bins = block.overall.bins if block.overall else ()
        return ["", *reliability_text(bins, bar_width(width), compact_chart(width)).split("\n")]
    if isinstance(block, Changes):
        name = ((lambda group: escape_terminal(" ".join(group.split()))) if width is None
                else (lambda group: clip(escape_terminal(" ".join(group.split())), 32)))  # fmt: skip
        return ["  " + line for text in movement_lines(block.movement, name, block.earlier, block.previous)
                for line in _wrapped(text, None if width is None else width - 2)]  # fmt: skip
    raise TypeError(f"no text for {block!r}")


def _fit(text: str, width: int) -> str:
    """Every line in at most `width` cells: the sections wrap or clip what they can; a line still
    wider (a diagram's row, a listing's fixed columns on a narrow terminal) is cut, and a last line
    says how many were and how to see them whole."""
    lines, cut = [], 0
    for line in text.rstrip("\n").split("\n"):
        line = line.rstrip()
        if display_width(line) > width:
            line, cut = textwidth.cut(line, width), cut + 1
        lines.append(line)
    if cut:
        lines += ["", *_wrapped(f"({plural(cut, 'line')} cut to fit {width} columns, ending in …; --wide, or -o "
                                "FILE, shows every line whole)", width)]  # fmt: skip
    return "\n".join(lines) + "\n"


def _text(report: Report, width: int | None = None) -> str:
    out = [[line for block in blocks for line in _text_block(block, width)] for blocks in sections(report)]
    return "\n\n".join("\n".join(lines) for lines in out) + "\n"


# Markdown ---------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return escape_markdown(text)


def _md_inline(text: str) -> str:
    """Escaped like _md_escape, but a space at either end is kept: it joins this to the next part."""
    inner = _md_escape(text)
    return (" " if text[:1].isspace() else "") + inner + (" " if text[-1:].isspace() and inner else "")


def _md_code(text: str, in_table: bool = False) -> str:
    return escape_markdown_code(text, in_table=in_table)


def _md_score_table(table: ScoreTable) -> list[str]:
    rows = _score_rows(table)
    if not rows:
        return ["_Nothing scored._"]
    chosen = score_columns(rows)
    titles = [table.by] + [name for name, _ in chosen]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for g in rows:
        lines.append("| " + " | ".join([_md_escape(g.group)] + [cell(g) for _, cell in chosen]) + " |")
    return lines


def _md_listing(listing: Listing, empty: str) -> list[str]:
    if not listing.total:
        return [f"_{empty}_"]
    lines = ["| id | source | claim | p | deadline | outcome |", "|---|---|---|---|---|---|"]
    for line in listing.lines:
        outcome = f"{line.outcome} ({line.resolved_on})" if line.outcome else "–"
        lines.append(
            f"| {_md_code(line.id, in_table=True)} | {_md_escape(line.source)} | {_md_escape(line.claim)} | "
            f"{probability_text(line.probability)} | {line.deadline} | {outcome} |"
        )
    if listing.total > len(listing.lines):
        lines.append(f"\n… and {listing.total - len(listing.lines)} more.")
    return lines


def _md_calibration(overall: GroupScore | None) -> list[str]:
    if overall is None:
        return ["_No forecasts resolved yes or no yet._"]
    lines = [
        "| bin | n | resolved yes | mean forecast | observed frequency | 95% Wilson interval |",
        "|---|---|---|---|---|---|",
    ]
    for b in overall.bins:
        lines.append(
            f"| {_md_escape(bin_label(b))} | {count_text(b.n)} | {resolved_yes(b)} | {b.mean_forecast:.3f} | "
            f"{b.observed_frequency:.3f} | {b.wilson_low:.3f}–{b.wilson_high:.3f} |"
        )
    return [*lines, "", "```", reliability_text(overall.bins), "```"]


def _md_block(block: Block) -> list[str]:
    if isinstance(block, _VIEWS):
        return report_views.md_block(block)
    if isinstance(block, Heading):
        return ["#" * block.level + " " + _md_escape(block.text)]
    if isinstance(block, Para):
        text = "".join(_md_code(part.text) if isinstance(part, Code) else _md_inline(part) for part in block.parts)
        return [f"**{text}**" if block.style == "strong" else text]
    if isinstance(block, Scores):
        return _md_score_table(block.table)
    if isinstance(block, Forecasts):
        return _md_listing(block.listing, block.empty)
    if isinstance(block, Calibration):
        return _md_calibration(block.overall)
    if isinstance(block, Changes):
        return ["- " + line for line in movement_lines(block.movement, _md_escape, block.earlier, block.previous)]
    raise TypeError(f"no Markdown for {block!r}")


def _markdown(report: Report) -> str:
    blocks = [block for section in sections(report) for block in section]
    return "\n\n".join("\n".join(_md_block(block)) for block in blocks) + "\n"


# HTML -------------------------------------------------------------------------------------------

# Tables scroll sideways inside their box on a narrow screen instead of widening the page; the
# chart sits beside the calibration table where there is room, under it on a phone.
_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}
.scroll{overflow-x:auto;margin:.5rem 0 1.5rem}table{border-collapse:collapse;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right;vertical-align:top}
th.text,td.text{text-align:left}td:not(.text),td code{white-space:nowrap}
code{font-size:.85rem;overflow-wrap:anywhere}.muted{color:#666}
.calibration{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}
.calibration .scroll{flex:1 1 28rem;margin:0}.chart{flex:0 1 360px;width:100%;max-width:360px;height:auto}
.calibration td:first-child{white-space:nowrap}.listing td:nth-child(3){min-width:15rem}
@media (max-width:600px){body{margin:1rem auto}h1{font-size:1.45rem}h2{font-size:1.15rem}}
"""


def _e(value: Any) -> str:
    return escape_html(value)


def _html_table(headers: list[str], rows: list[list[str]], text_columns: int = 1, kind: str = "") -> str:
    head = "".join(f'<th class="text">{_e(h)}</th>' if i < text_columns else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))  # fmt: skip
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="text">{cell}</td>' if i < text_columns else f"<td>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    table = f'<table{f" class={chr(34)}{kind}{chr(34)}" if kind else ""}><thead><tr>{head}</tr></thead>'
    return f'<div class="scroll">{table}<tbody>{"".join(body)}</tbody></table></div>'


def _html_scores(table: ScoreTable) -> str:
    rows = _score_rows(table)
    if not rows:
        return '<p class="muted">Nothing scored.</p>'
    chosen = score_columns(rows)
    return _html_table(
        [table.by] + [name for name, _ in chosen],
        [[_e(g.group)] + [_e(cell(g)) for _, cell in chosen] for g in rows],
    )


def _html_listing(listing: Listing, empty: str) -> str:
    if not listing.total:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = [
        [f"<code>{_e(line.id)}</code>", _e(line.source), _e(line.claim), f"{probability_text(line.probability)}",
         _e(line.deadline), _e(f"{line.outcome} ({line.resolved_on})" if line.outcome else "–")]
        for line in listing.lines
    ]  # fmt: skip
    more = listing.total - len(listing.lines)
    tail = f'<p class="muted">… and {more} more.</p>' if more > 0 else ""
    return _html_table(["id", "source", "claim", "p", "deadline", "outcome"], rows, text_columns=3, kind="listing") + tail


def _html_calibration(overall: GroupScore | None) -> str:
    bins = overall.bins if overall else ()
    rows = [
        [_e(bin_label(b)), count_text(b.n), _e(resolved_yes(b)), f"{b.mean_forecast:.3f}",
         f"{b.observed_frequency:.3f}", f"{b.wilson_low:.3f}–{b.wilson_high:.3f}"]
        for b in bins
    ]  # fmt: skip
    table = _html_table(["bin", "n", "resolved yes", "mean forecast", "observed frequency", "95% Wilson interval"], rows)
    svg = reliability_svg(bins)
    if svg is None:
        return table + f'<p class="muted">{_e(PLOT_HINT.format(chart="reliability diagram"))}</p><pre>{_e(reliability_text(bins))}</pre>'
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    chart = f'<img class="chart" alt="Reliability diagram" src="data:image/svg+xml;base64,{data}">'
    return f'<div class="calibration">{table}{chart}</div>'


def _html_block(block: Block) -> str:
    if isinstance(block, _VIEWS):
        return report_views.html_block(block)
    if isinstance(block, Heading):
        return f"<h{block.level}>{_e(block.text)}</h{block.level}>"
    if isinstance(block, Para):
        text = "".join(f"<code>{_e(part.text)}</code>" if isinstance(part, Code) else _e(part) for part in block.parts)
        if block.style == "strong":
            return f"<p><strong>{text}</strong></p>"
        return f'<p class="muted">{text}</p>' if block.style == "muted" else f"<p>{text}</p>"
    if isinstance(block, Scores):
        return _html_scores(block.table)
    if isinstance(block, Forecasts):
        return _html_listing(block.listing, block.empty)
    if isinstance(block, Calibration):
        return _html_calibration(block.overall)
    if isinstance(block, Changes):
        items = "".join(f"<li>{_e(line)}</li>" for line in movement_lines(block.movement, str, block.earlier, block.previous))
        return f"<ul>{items}</ul>"
    raise TypeError(f"no HTML for {block!r}")


def _html(report: Report) -> str:
    body = "\n".join(_html_block(block) for section in sections(report) for block in section)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title(report))}</title><style>{_CSS}{report_views.CSS}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


# JSON -------------------------------------------------------------------------------------------


def _listing_json(listing: Listing) -> dict[str, Any]:
    return {"total": listing.total, "forecasts": [_line_json(line) for line in listing.lines]}


def _line_json(line) -> dict[str, Any]:
    return {
        "id": line.id, "source": line.source, "claim": line.claim, "probability": line.probability,
        "deadline": line.deadline, "outcome": line.outcome, "resolved_on": line.resolved_on,
    }  # fmt: skip


def report_json(report: Report) -> dict[str, Any]:
    p = report.period
    return {
        "period": {"kind": p.kind, "label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat()},
        "ledger": report.ledger,
        "chain_head": report.chain_head,
        # true: the chain was verified up to chain_head, in the same snapshot the report was computed from
        "verified": report.verified,
        "generated_on": report.generated_on.isoformat(),
        "complete": report.complete,  # false: the period was not over when the report was made
        "scored_until": report.scored_until.isoformat(),  # the last day resolutions and scores cover
        # What it read: as recorded by the end of this day, UTC (null: everything, a report as of
        # today), the latest entry recorded at recorded_until (docs/reports.md, "As recorded by").
        "recorded_by": None if report.recorded_by is None else report.recorded_by.isoformat(),
        "recorded_until": report.recorded_until,
        # With recorded_by: the chain's last entry then (its number and hash), the head published that day
        "recorded_entries": report.recorded_entries,
        "recorded_head": report.recorded_head,
        "exclude_tags": list(report.exclude_tags),
        "min_n": report.leaderboard.min_n,  # groups with fewer scored forecasts have rank null
        "resolved": {**_listing_json(report.resolved), "outcomes": report.outcomes},
        # The groups; the `all` row of the text's tables is period_overall (the leaderboard's is overall).
        "period_scores": report.period_scores.to_json(),
        "period_overall": report.period_scores.overall.to_json() if report.period_scores.overall else None,
        "leaderboard": report.leaderboard.to_json(),
        "overall": report.calibration.to_json() if report.calibration else None,
        "movement": [
            {"group": m.group, "brier_before": m.brier_before, "brier_now": m.brier_now,
             "change": m.change, "n_before": m.n_before, "n_now": m.n_now}
            for m in report.movement
        ],  # fmt: skip
        "calibration_by_source": [report_views.calibration_json(g) for g in report.calibration_by_source],
        "trend": None if report.trend is None else report.trend.to_json(),
        "changes_since_previous": None if report.changes is None else report.changes.to_json(),
        "due": _listing_json(report.due),
        "upcoming": {**_listing_json(report.upcoming), "period": report.next_period.label},
        # Deadlines from remaining_from to the period's end, while it is not over (null once it is).
        "remaining": None if report.remaining is None else {
            **_listing_json(report.remaining), "from": report.remaining_from.isoformat(), "until": p.end.isoformat()
        },
    }
