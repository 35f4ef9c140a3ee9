"""Renderers for score tables and the periodic report: text, Markdown, HTML, JSON.

Every piece of text that comes from the ledger (sources, claims, ids) is untrusted: the HTML
renderer escapes all of it with html.escape, and Markdown escapes table-breaking characters.
"""

from __future__ import annotations

import base64
import html
import json
import re
import unicodedata
from typing import Any, Callable

from .aggregate import GroupScore, ScoreTable
from .charts import PLOT_HINT, bin_label, reliability_svg, reliability_text, resolved_yes
from .report import Listing, Report

FORMATS = ("text", "md", "html", "json")


# --- text in columns: measured in terminal cells, not characters ---------------------------------


def display_width(text: str) -> int:
    """The terminal cells `text` takes: wide and fullwidth (CJK) characters two, combining marks none."""
    return sum(_cells(char) for char in text)


def _cells(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):  # combining marks; zero-width joiners, direction marks
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(text: str, width: int) -> str:
    """`text` on one line in at most `width` cells, cut with '…' if it is longer."""
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    kept, used = [], 1  # the '…'
    for char in text:
        used += _cells(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + "…"


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` cells, on the right ('<') or the left ('>')."""
    fill = " " * max(0, width - display_width(text))
    return text + fill if align == "<" else fill + text


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken at spaces, or inside a word wider than a line."""
    lines, line = [], ""
    for word in text.split():
        if line and display_width(line) + 1 + display_width(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word wider than the line (CJK text has no spaces) is cut where it fills it
            if line and display_width(line) + _cells(char) > width:
                lines.append(line)
                line = ""
            line += char
    return lines + [line] if line else lines


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(group: GroupScore) -> str:
    ci = group.scores.brier_ci
    return "–" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"


SCORE_COLUMNS: tuple[tuple[str, Callable[[GroupScore], str]], ...] = (
    ("rank", lambda g: str(g.rank) if g.rank else "–"),
    ("n", lambda g: str(g.scores.n)),
    ("yes", lambda g: str(g.scores.yes)),
    ("Brier", lambda g: _num(g.scores.brier)),
    ("95% CI", _ci),
    ("log", lambda g: _num(g.scores.log_score)),
    ("skill", lambda g: _num(g.scores.brier_skill, 2)),
    ("reliab.", lambda g: _num(g.scores.reliability)),
    ("resol.", lambda g: _num(g.scores.resolution)),
    ("uncert.", lambda g: _num(g.scores.uncertainty)),
    ("excl.", lambda g: str(g.ambiguous + g.annulled)),
)
SCORE_LEGEND = (
    "Lower is better: Brier (0-1), log, reliab. Higher is better: skill (against the base rate), resol. "
    "uncert. depends on the outcomes alone; excl. counts ambiguous and annulled. "
    "– where a score is undefined (skill when every outcome in the group was the same). See docs/scoring.md."
)


def _score_rows(table: ScoreTable, include_overall: bool = True) -> list[GroupScore]:
    rows = list(table.groups)
    if include_overall and table.overall is not None:
        rows.append(table.overall)
    return rows


def score_table_text(table: ScoreTable, include_overall: bool = True, show_unranked: bool = True) -> str:
    """The table for a terminal; `show_unranked=False` hides groups below min_n (and says how many)."""
    rows = _score_rows(table, include_overall)
    if not show_unranked:
        rows = [g for g in rows if g.rank is not None or g is table.overall]
    if not rows:
        return "No forecasts resolved yes or no in this window: nothing to score."
    label = table.by
    name_width = min(32, max(display_width(label), *(display_width(g.group) for g in rows)))
    header = [pad(label, name_width)] + [f"{title:>8}" if title != "95% CI" else f"{title:>11}" for title, _ in SCORE_COLUMNS]
    lines = ["  ".join(header)]
    for g in rows:
        cells = [pad(clip(g.group, name_width), name_width)]
        for title, cell in SCORE_COLUMNS:
            cells.append(f"{cell(g):>11}" if title == "95% CI" else f"{cell(g):>8}")
        lines.append("  ".join(cells))
    if table.unranked and show_unranked:
        lines.append(f"(unranked: fewer than {table.min_n} forecasts resolved yes/no)")
    elif table.unranked:
        count = len(table.unranked)
        lines.append(f"({count} group{'s' if count > 1 else ''} with fewer than {table.min_n} forecasts "
                     "resolved yes/no hidden; lower --min-n to see them)")  # fmt: skip
    return "\n".join(lines)


def score_table_json(table: ScoreTable, show_unranked: bool = True) -> list[dict[str, Any]]:
    return [g.to_json() for g in (table.groups if show_unranked else table.ranked)]


# --- the report ---------------------------------------------------------------------------------


def render(report: Report, fmt: str) -> str:
    if fmt == "text":
        return _text(report)
    if fmt == "md":
        return _markdown(report)
    if fmt == "html":
        return _html(report)
    if fmt == "json":
        return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown report format {fmt!r}")


def _calibration_summary(report: Report) -> str:
    c = report.calibration
    if c is None:
        return "No forecasts resolved yes or no yet."
    s = c.scores
    z = "–" if s.spiegelhalter_z is None else f"{s.spiegelhalter_z:.2f} (p = {s.spiegelhalter_p:.3f})"
    return (
        f"{s.n} forecasts scored ({s.yes} resolved yes), Brier {_num(s.brier)} "
        f"(95% CI {_ci(c)}), log score {_num(s.log_score)}, expected calibration error {_num(s.ece)}, "
        f"Spiegelhalter z {z}"
    )


def _listing_text(listing: Listing, empty: str) -> list[str]:
    """One line per forecast, in columns: id, probability, outcome or deadline, "source:", claim."""
    if not listing.total:
        return [f"  {empty}"]
    rows = [
        (line.id, f"p={line.probability:.2f}",
         f"{line.outcome} on {line.resolved_on}" if line.outcome else f"deadline {line.deadline}",
         clip(line.source, 24) + ":", clip(line.claim, 60))
        for line in listing.lines
    ]  # fmt: skip
    widths = [max(display_width(row[column]) for row in rows) for column in range(4)]
    lines = [
        f"  {pad(fid, widths[0])}  {p}  {pad(when, widths[2])}  {pad(source, widths[3])} {claim}"
        for fid, p, when, source, claim in rows
    ]
    if listing.total > len(listing.lines):
        lines.append(f"  … and {listing.total - len(listing.lines)} more")
    return lines


def _movement_text(report: Report, name: Callable[[str], str] = lambda group: clip(group, 32)) -> list[str]:
    """One line per source whose score moved; `name` renders the source for the format (escaped)."""
    if not report.movement:
        return ["  No source had new forecasts scored in this period."]
    lines = []
    for m in report.movement:
        if m.change is None:
            lines.append(f"  {name(m.group)}: first scored, Brier {m.brier_now:.3f} (n={m.n_now})")
        else:
            direction = "better" if m.change < 0 else "worse" if m.change > 0 else "unchanged"
            lines.append(
                f"  {name(m.group)}: Brier {m.brier_before:.3f} → {m.brier_now:.3f} "
                f"({m.change:+.3f}, {direction}; n {m.n_before} → {m.n_now})"
            )
    return lines


def _incomplete(report: Report) -> str:
    return (f"This {report.period.kind} is not over yet: it ends {report.period.end}, and this report shows it "
            f"as of {report.generated_on}, so its figures will change.")  # fmt: skip


def _remaining_title(report: Report) -> str:
    p = report.period
    return f"Deadlines still to come by the end of {p.label} (from {report.remaining_from} to {p.end})"


def _left_out(report: Report) -> str:
    return "Scores leave out forecasts tagged " + ", ".join(report.exclude_tags) + " (they are still listed)."


def _text(report: Report) -> str:
    p = report.period
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "none"
    out = [
        f"Calibration report for {p.label} ({p.start} to {p.end})",
        f"Ledger {report.ledger}, chain head {report.chain_head}, generated {report.generated_on}",
        *([] if report.complete else [_incomplete(report)]),
        *([_left_out(report)] if report.exclude_tags else []),
        "",
        f"Resolved in {p.label}: {counts}",
        *_listing_text(report.resolved, "Nothing was resolved in this period."),
        "",
        f"Scores for forecasts resolved in {p.label}, by source:",
        score_table_text(report.period_scores),
        "",
        f"Leaderboard: everything resolved up to {report.scored_until} (ranked with at least {report.leaderboard.min_n} scored):",
        score_table_text(report.leaderboard),
        "",
        f"Calibration of everything resolved up to {report.scored_until}: " + _calibration_summary(report),
        "",
        reliability_text(report.calibration.scores.bins if report.calibration else ()),
        "",
        f"Score changes since the end of {p.shifted(-1).label}:",
        *_movement_text(report),
        "",
        f"Due for resolution now (deadline passed, unresolved as of {report.generated_on}):",
        *_listing_text(report.due, "Nothing is due."),
        "",
        *([] if report.remaining is None else
          [_remaining_title(report) + ":", *_listing_text(report.remaining, "No deadlines."), ""]),
        f"Deadlines in {report.next_period.label}:",
        *_listing_text(report.upcoming, "No deadlines."),
    ]
    return "\n".join(out) + "\n"


# Markdown ---------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    text = " ".join(str(text).split())
    for char in "\\|*_`[]<>#~$":  # ~ and $: strikethrough and maths in GitHub-style renderers
        text = text.replace(char, "\\" + char)
    return text


def _md_code(text: str, in_table: bool = False) -> str:
    """A code span: its content is literal, so nothing is backslash-escaped; it is fenced with more
    backticks than the longest run inside (CommonMark 6.1). In a table cell `|` must still be
    escaped: GFM splits cells before it reads code spans, and shows `\\|` there as `|`."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    # A space each side keeps a backtick at either end off the fence, and is stripped on display.
    space = " " if text[:1] == "`" or text[-1:] == "`" or (text[:1] == text[-1:] == " " and text.strip()) else ""
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{space}{text}{space}{fence}"


def _md_score_table(table: ScoreTable, include_overall: bool = True) -> list[str]:
    rows = _score_rows(table, include_overall)
    if not rows:
        return ["_Nothing scored._"]
    titles = [table.by] + [title for title, _ in SCORE_COLUMNS]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for g in rows:
        lines.append("| " + " | ".join([_md_escape(g.group)] + [cell(g) for _, cell in SCORE_COLUMNS]) + " |")
    return lines


def _md_listing(listing: Listing, empty: str) -> list[str]:
    if not listing.total:
        return [f"_{empty}_"]
    lines = ["| id | source | claim | p | deadline | outcome |", "|---|---|---|---|---|---|"]
    for line in listing.lines:
        outcome = f"{line.outcome} ({line.resolved_on})" if line.outcome else "–"
        lines.append(
            f"| {_md_code(line.id, in_table=True)} | {_md_escape(line.source)} | {_md_escape(line.claim)} | "
            f"{line.probability:.2f} | {line.deadline} | {outcome} |"
        )
    if listing.total > len(listing.lines):
        lines.append(f"\n… and {listing.total - len(listing.lines)} more.")
    return lines


def _md_calibration(report: Report) -> list[str]:
    c = report.calibration
    if c is None:
        return ["_No forecasts resolved yes or no yet._"]
    lines = [
        "| bin | n | resolved yes | mean forecast | observed frequency | 95% Wilson interval |",
        "|---|---|---|---|---|---|",
    ]
    for b in c.scores.bins:
        lines.append(
            f"| {_md_escape(bin_label(b))} | {b.n} | {resolved_yes(b)} | {b.mean_forecast:.3f} | "
            f"{b.observed_frequency:.3f} | {b.wilson_low:.3f}–{b.wilson_high:.3f} |"
        )
    return lines


def _markdown(report: Report) -> str:
    p = report.period
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "none"
    out = [
        f"# Calibration report for {p.label}",
        "",
        f"{p.start} to {p.end}. Ledger {_md_code(report.ledger)}, chain head `{report.chain_head}`, "
        f"generated {report.generated_on}.",
        *([] if report.complete else ["", f"**{_md_escape(_incomplete(report))}**"]),
        *(["", _md_escape(_left_out(report))] if report.exclude_tags else []),
        "",
        f"## Resolved in {p.label}",
        "",
        f"Outcomes: {counts}.",
        "",
        *_md_listing(report.resolved, "Nothing was resolved in this period."),
        "",
        "### Scores for these forecasts, by source",
        "",
        *_md_score_table(report.period_scores),
        "",
        f"## Leaderboard (everything resolved up to {report.scored_until})",
        "",
        f"Ranked only with at least {report.leaderboard.min_n} forecasts resolved yes or no.",
        "",
        *_md_score_table(report.leaderboard),
        "",
        "## Calibration",
        "",
        f"Everything resolved up to {report.scored_until}: " + _calibration_summary(report) + ".",
        "",
        *_md_calibration(report),
        "",
        "```",
        reliability_text(report.calibration.scores.bins if report.calibration else ()),
        "```",
        "",
        f"## Score changes since the end of {p.shifted(-1).label}",
        "",
        *[line.strip() and "- " + line.strip() for line in _movement_text(report, name=_md_escape)],
        "",
        "## Due for resolution now",
        "",
        *_md_listing(report.due, "Nothing is due."),
        "",
        *([] if report.remaining is None else
          [f"## {_remaining_title(report)}", "", *_md_listing(report.remaining, "No deadlines."), ""]),
        f"## Deadlines in {report.next_period.label}",
        "",
        *_md_listing(report.upcoming, "No deadlines."),
    ]
    return "\n".join(out) + "\n"


# HTML -------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right;vertical-align:top}
th.text,td.text{text-align:left}td:not(.text),td code{white-space:nowrap}
code{font-size:.85rem}.muted{color:#666}.chart{max-width:520px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    head = "".join(f'<th class="text">{_e(h)}</th>' if i < text_columns else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))  # fmt: skip
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="text">{cell}</td>' if i < text_columns else f"<td>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_scores(table: ScoreTable, include_overall: bool = True) -> str:
    rows = _score_rows(table, include_overall)
    if not rows:
        return '<p class="muted">Nothing scored.</p>'
    return _html_table(
        [table.by] + [title for title, _ in SCORE_COLUMNS],
        [[_e(g.group)] + [_e(cell(g)) for _, cell in SCORE_COLUMNS] for g in rows],
    )


def _html_listing(listing: Listing, empty: str) -> str:
    if not listing.total:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = [
        [f"<code>{_e(line.id)}</code>", _e(line.source), _e(line.claim), f"{line.probability:.2f}",
         _e(line.deadline), _e(f"{line.outcome} ({line.resolved_on})" if line.outcome else "–")]
        for line in listing.lines
    ]  # fmt: skip
    more = listing.total - len(listing.lines)
    tail = f'<p class="muted">… and {more} more.</p>' if more > 0 else ""
    return _html_table(["id", "source", "claim", "p", "deadline", "outcome"], rows, text_columns=3) + tail


def _html_chart(report: Report) -> str:
    bins = report.calibration.scores.bins if report.calibration else ()
    svg = reliability_svg(bins)
    if svg is None:
        return f'<p class="muted">{_e(PLOT_HINT)}</p><pre>{_e(reliability_text(bins))}</pre>'
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="chart" alt="Reliability diagram" src="data:image/svg+xml;base64,{data}">'


def _html(report: Report) -> str:
    p = report.period
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "none"
    c = report.calibration
    calibration_rows = [
        [_e(bin_label(b)), str(b.n), _e(resolved_yes(b)), f"{b.mean_forecast:.3f}",
         f"{b.observed_frequency:.3f}", f"{b.wilson_low:.3f}–{b.wilson_high:.3f}"]
        for b in (c.scores.bins if c else ())
    ]  # fmt: skip
    movement = "".join(f"<li>{_e(line.strip())}</li>" for line in _movement_text(report, name=str))
    body = f"""
<h1>Calibration report for {_e(p.label)}</h1>
<p class="muted">{_e(p.start)} to {_e(p.end)}. Ledger <code>{_e(report.ledger)}</code>,
chain head <code>{_e(report.chain_head)}</code>, generated {_e(report.generated_on)}.</p>
{"" if report.complete else f'<p><strong>{_e(_incomplete(report))}</strong></p>'}
{f'<p class="muted">{_e(_left_out(report))}</p>' if report.exclude_tags else ""}
<h2>Resolved in {_e(p.label)}</h2>
<p>Outcomes: {_e(counts)}.</p>
{_html_listing(report.resolved, "Nothing was resolved in this period.")}
<h3>Scores for these forecasts, by source</h3>
{_html_scores(report.period_scores)}
<h2>Leaderboard (everything resolved up to {_e(report.scored_until)})</h2>
<p class="muted">Ranked only with at least {report.leaderboard.min_n} forecasts resolved yes or no.</p>
{_html_scores(report.leaderboard)}
<h2>Calibration</h2>
<p>Everything resolved up to {_e(report.scored_until)}: {_e(_calibration_summary(report))}.</p>
{_html_table(["bin", "n", "resolved yes", "mean forecast", "observed frequency", "95% Wilson interval"], calibration_rows)}
{_html_chart(report)}
<h2>Score changes since the end of {_e(p.shifted(-1).label)}</h2>
<ul>{movement}</ul>
<h2>Due for resolution now</h2>
{_html_listing(report.due, "Nothing is due.")}
{"" if report.remaining is None else
 f"<h2>{_e(_remaining_title(report))}</h2>{_html_listing(report.remaining, 'No deadlines.')}"}
<h2>Deadlines in {_e(report.next_period.label)}</h2>
{_html_listing(report.upcoming, "No deadlines.")}
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Calibration report {_e(p.label)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
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
        "generated_on": report.generated_on.isoformat(),
        "complete": report.complete,  # false: the period was not over when the report was made
        "scored_until": report.scored_until.isoformat(),  # the last day resolutions and scores cover
        "exclude_tags": list(report.exclude_tags),
        "min_n": report.leaderboard.min_n,  # groups with fewer scored forecasts have rank null
        "resolved": {**_listing_json(report.resolved), "outcomes": report.outcomes},
        "period_scores": score_table_json(report.period_scores),
        "period_overall": report.period_scores.overall.to_json() if report.period_scores.overall else None,
        "leaderboard": score_table_json(report.leaderboard),
        "overall": report.calibration.to_json() if report.calibration else None,
        "movement": [
            {"group": m.group, "brier_before": m.brier_before, "brier_now": m.brier_now,
             "change": m.change, "n_before": m.n_before, "n_now": m.n_now}
            for m in report.movement
        ],  # fmt: skip
        "due": _listing_json(report.due),
        "upcoming": {**_listing_json(report.upcoming), "period": report.next_period.label},
        # Deadlines from remaining_from to the period's end, while it is not over (null once it is).
        "remaining": None if report.remaining is None else {
            **_listing_json(report.remaining), "from": report.remaining_from.isoformat(), "until": p.end.isoformat()
        },
    }
