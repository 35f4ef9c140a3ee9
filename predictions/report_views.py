"""The report's calibration by source, trend and changes, rendered as text, Markdown and HTML.

report_formats hands these three kinds of block here (it renders the rest). Every text from the
ledger (source names, ids, claims, reasons) is escaped for its medium by predictions.escape; charts
draw it through charts.chart_label.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from .aggregate import GroupScore
from .charts import PLOT_HINT, TREND_COLOURS, bin_label, resolved_yes, source_reliability_svg, trend_svg
from .escape import escape_html, escape_markdown, escape_markdown_code, escape_terminal
from .report_history import ChangesSince, Trend, TrendPoint, TrendSeries
from .report_sections import ChangeList, SourceCalibration, TrendTable
from .textwidth import clip, count_text, display_width, pad, plural, wrap

MULTIPLES = 12  # small multiples drawn; the other sources are named under them (all are in the tables)
TEXT_TREND_SOURCES = 4  # source columns of the text trend table (fewer on a narrow terminal)
TABLE_TREND_SOURCES = 12  # in Markdown and HTML
CHART_TREND_SOURCES = 6  # lines beside the overall one in the HTML chart
NAME_CELLS = 24

BIN_HEADERS = ["bin", "resolved yes", "mean forecast", "observed frequency", "95% Wilson interval"]
TEXT_BIN_HEADERS = ["bin", "yes of n", "mean", "observed", "95% Wilson"]


def _bin_cells(b, short: bool = False) -> list[str]:
    return [bin_label(b), f"{count_text(b.yes)} of {count_text(b.n)}" if short else resolved_yes(b), f"{b.mean_forecast:.3f}",
            f"{b.observed_frequency:.3f}", f"{b.wilson_low:.3f}–{b.wilson_high:.3f}"]  # fmt: skip


def _ece(g: GroupScore) -> str:
    return f"n {g.n}, ECE {g.ece:.3f}, Brier {g.brier:.3f}"


def _cell(point: TrendPoint, relative: bool = False) -> str:
    if relative:
        return "–" if point.relative_brier is None else f"{point.relative_brier:+.3f} ({point.shared_questions})"
    return "–" if point.brier is None else f"{point.brier:.3f} ({point.n})"


def _series(trend: Trend, sources: int) -> list[TrendSeries]:
    return [trend.overall, *trend.sources[:sources]]


def _html_cell(point: TrendPoint, relative: bool = False) -> str:
    """A trend cell in HTML: the score, and under it its n (shared questions for rel.)."""
    text = _cell(point, relative)
    if text == "–":
        return text
    score, count = text.split(" ")
    return f'{escape_html(score)}<br><span class="muted">{escape_html(count)}</span>'


def _shared_columns(trend: Trend, shown: list[TrendSeries]) -> list[int]:
    """The periods where some shown series has a relative Brier: the rest of that table is dashes."""
    return [i for i in range(len(trend.periods)) if any(s.points[i].shared_questions for s in shown)]


def _old_text(c) -> str:
    return f"{c.old_outcome} ({c.old_resolved_on})" if c.old_outcome else "open"


def _new_text(c) -> str:
    if c.kind == "forecast":
        return f"forecast {c.forecast_id} by {c.source}, on {c.outcome} ({c.resolved_on})"
    return f"{c.outcome} ({c.resolved_on})"


def _change_line(c) -> str:
    if c.kind == "forecast":
        why = f"; {c.reason}" if c.reason else ""
        return (f"{c.question_id} in {c.period}: forecast {c.forecast_id} by {c.source} recorded late, "
                f"{c.recorded_at}, on a question resolved {c.outcome} on {c.resolved_on}{why}")  # fmt: skip
    old = f"{c.old_outcome} on {c.old_resolved_on}" if c.old_outcome else "open"
    why = f"; {c.kind}: {c.reason}" if c.reason else f"; {c.kind}"
    moved = f" (was {c.old_period})" if c.old_period and c.old_period != c.period else ""
    when = (f" ({c.entries} resolutions, the last recorded {c.recorded_at})" if c.entries > 1
            else f", recorded {c.recorded_at}")  # fmt: skip
    return (f"{c.question_id} in {c.period}{moved}: {old} → {c.outcome} on {c.resolved_on}{when}"
            f"{why} ({plural(c.forecasts, 'forecast')})")  # fmt: skip


PERIODS_NAMED = 12  # periods named in the changes' count line (the JSON has every one)


def _cancelled(changes: ChangesSince) -> str:
    n = changes.cancelled
    if not n:
        return ""
    return (f" {plural(n, 'question')} {'was' if n == 1 else 'were'} corrected since and back to the outcome "
            "and date a reader saw: not a change.")  # fmt: skip


def _counts(changes: ChangesSince) -> str:
    if not changes.total:
        return "Nothing recorded since then changed an earlier period." + _cancelled(changes)
    kinds = f"{plural(changes.corrections, 'correction')}, {plural(changes.late, 'late resolution')}"
    if changes.late_forecasts:
        kinds += f", {plural(changes.late_forecasts, 'late forecast')}"
    named = changes.by_period[-PERIODS_NAMED:]
    parts = ", ".join(f"{period}: {n}" for period, n in named)
    if len(changes.by_period) > len(named):
        earlier = changes.by_period[: -PERIODS_NAMED]
        parts = f"{plural(sum(n for _, n in earlier), 'change')} in {len(earlier)} earlier periods, " + parts
    return f"{plural(changes.total, 'change')} to earlier periods ({kinds}; by period: {parts})." + _cancelled(changes)


# Text -------------------------------------------------------------------------------------------


def _columns_text(rows: list[list[str]], right_from: int = 1) -> list[str]:
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(pad(cell, widths[i], ">" if i >= right_from else "<") for i, cell in enumerate(row)).rstrip()
            for row in rows]  # fmt: skip


def _lines(text: str, width: int | None, indent: str = "  ") -> list[str]:
    """One line, or on a terminal wrapped to `width` under `indent` (continued a little further in)."""
    if width is None:
        return [indent + text]
    wrapped = wrap(text, max(20, width - len(indent) - 2))
    return [indent + wrapped[0], *(indent + "  " + line for line in wrapped[1:])]


def text_block(block, width: int | None) -> list[str]:
    def name(text: str, cells: int = NAME_CELLS) -> str:
        shown = escape_terminal(" ".join(text.split()))
        return shown if width is None else clip(shown, max(12, min(cells, width - 8)))

    if isinstance(block, SourceCalibration):  # a line per source, its bins under it, aligned across sources
        rows = [TEXT_BIN_HEADERS] + [_bin_cells(b, short=True) for g in block.groups for b in g.bins]
        table = iter(_columns_text(rows, right_from=1))
        lines = ["  " + next(table)]
        for g in block.groups:
            figures = _ece(g)
            lines.append(f"  {name(g.group, 40 if width is None else width - 6 - display_width(figures))}: {figures}")
            lines += ["  " + next(table) for _ in g.bins]
        return lines
    if isinstance(block, TrendTable):
        return _trend_text(block.trend, width, name)
    if isinstance(block, ChangeList):
        changes = block.changes
        lines = _lines(_counts(changes), width)
        for c in changes.changes:
            lines += _lines(f"{escape_terminal(_change_line(c))}: {name(c.claim, 60)}", width)
        if changes.total > len(changes.changes):
            lines.append(f"  … and {changes.total - len(changes.changes)} more")
        return lines
    raise TypeError(f"no text for {block!r}")


def _trend_text(trend: Trend, width: int | None, name: Callable[[str], str]) -> list[str]:
    lines: list[str] = []
    most = min(TEXT_TREND_SOURCES, len(trend.sources))
    for relative in (False, True) if trend.shared else (False,):
        # The rel. table has no legend of its own: it shows at most the sources the first one named
        for sources in range(most, -1, -1):
            shown = _series(trend, sources)
            rows = [[trend.kind, "all", *(f"[{i}]" for i in range(1, len(shown)))]]
            rows += [[label, *(_cell(s.points[i], relative) for s in shown)] for i, label in enumerate(trend.periods)
                     if not relative or any(s.points[i].shared_questions for s in shown)]  # fmt: skip
            table = _columns_text(rows)
            if width is None or max(display_width(line) for line in table) <= width or sources == 0:
                break
        if relative:
            lines += ["", *_lines(f"rel. (shared questions in brackets; only the {trend.kind}s with any):", width)]
        lines += table
        if not relative:
            most = sources
            lines += [f"  [{i}] {name(s.group, 60)}" for i, s in enumerate(shown[1:], start=1)]
        left = len(trend.sources) - sources
        if left > 0 and not relative:
            lines += _lines(f"({plural(left, 'more source')} in the JSON report; Markdown and HTML show up to "
                            f"{TABLE_TREND_SOURCES})", width)  # fmt: skip
    return lines


# Markdown ---------------------------------------------------------------------------------------


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers), *("| " + " | ".join(r) + " |" for r in rows)]


def md_block(block) -> list[str]:
    if isinstance(block, SourceCalibration):
        lines: list[str] = []
        for g in block.groups:
            lines += [f"**{escape_markdown(g.group)}**: {_ece(g)}", ""]
            lines += _md_table(BIN_HEADERS, [[escape_markdown(c) for c in _bin_cells(b)] for b in g.bins]) + [""]
        return lines[:-1]
    if isinstance(block, TrendTable):  # a row per series (all, then the sources), a column per period
        trend = block.trend
        shown = _series(trend, TABLE_TREND_SOURCES)
        headers = ["source", *trend.periods]
        lines = _md_table(headers, [[escape_markdown(s.group), *(_cell(p) for p in s.points)] for s in shown])
        if trend.shared:
            columns = _shared_columns(trend, shown)
            lines += ["", f"rel. (shared questions in brackets; only the {trend.kind}s with any):", ""]
            lines += _md_table(["source", *(trend.periods[i] for i in columns)],
                               [[escape_markdown(s.group), *(_cell(s.points[i], True) for i in columns)] for s in shown])
        if len(trend.sources) > TABLE_TREND_SOURCES:
            lines += ["", f"{plural(len(trend.sources) - TABLE_TREND_SOURCES, 'more source')} in the JSON report."]
        return lines
    if isinstance(block, ChangeList):
        changes = block.changes
        lines = [escape_markdown(_counts(changes))]
        if changes.changes:
            rows = [[escape_markdown_code(c.question_id, in_table=True), escape_markdown(c.claim), c.period,
                     escape_markdown(c.old_period or "–"), escape_markdown(_old_text(c)), escape_markdown(_new_text(c)),
                     c.kind, escape_markdown(c.reason or "–"),
                     escape_markdown(c.recorded_at)]
                    for c in changes.changes]  # fmt: skip
            lines += [""] + _md_table(["question", "claim", "period", "was in", "old outcome", "new outcome", "kind",
                                       "reason", "recorded at"], rows)  # fmt: skip
        if changes.total > len(changes.changes):
            lines.append(f"\n… and {changes.total - len(changes.changes)} more.")
        return lines
    raise TypeError(f"no Markdown for {block!r}")


# HTML -------------------------------------------------------------------------------------------

# Small multiples fill the row, three or four across on a desk, one or two on a phone; a long name
# wraps anywhere rather than widening the page.
CSS = """
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:.5rem 1rem;margin:.5rem 0}
.multiples img{width:100%;height:auto;max-width:300px}img.trend{width:100%;max-width:820px;height:auto}
details{margin:.3rem 0 .8rem}summary{cursor:pointer}summary,li,.series{overflow-wrap:anywhere}
.series{max-width:12rem;min-width:7rem}table.periods th{white-space:nowrap}
ul.legend{list-style:none;padding:0;margin:.2rem 0 1rem;display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;font-size:.9rem}
.key{display:inline-block;width:1.4em;height:.3em;vertical-align:middle;margin-right:.4em}
table.periods{font-size:.78rem}table.periods th,table.periods td{padding:.2rem .35rem}
@media (max-width:600px){.multiples{grid-template-columns:repeat(auto-fill,minmax(150px,1fr))}}
"""


def _img(svg: str, alt: str, kind: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{kind}" alt="{escape_html(alt)}" src="data:image/svg+xml;base64,{data}">'


def _html_table(headers: list[str], rows: list[list[str]], text_columns: int = 1, kind: str = "") -> str:
    """A table of escaped cells; the first `text_columns` are text (left-aligned, wrapping)."""
    def cell(tag: str, i: int, value: str) -> str:
        classes = "text series" if kind == "periods" and i == 0 else "text"
        return f'<{tag} class="{classes}">{value}</{tag}>' if i < text_columns else f"<{tag}>{value}</{tag}>"

    head = "".join(cell("th", i, escape_html(h)) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    table = f'<table class="{kind}">' if kind else "<table>"
    return f'<div class="scroll">{table}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def html_block(block) -> str:
    if isinstance(block, SourceCalibration):
        return _html_multiples(block.groups)
    if isinstance(block, TrendTable):
        return _html_trend(block.trend)
    if isinstance(block, ChangeList):
        changes = block.changes
        out = f"<p>{escape_html(_counts(changes))}</p>"
        if changes.changes:
            rows = [[f"<code>{escape_html(c.question_id)}</code>", escape_html(c.claim), escape_html(c.period),
                     escape_html(c.old_period or "–"),
                     escape_html(_old_text(c)), escape_html(_new_text(c)), escape_html(c.kind), escape_html(c.reason or "–"),
                     escape_html(c.recorded_at)] for c in changes.changes]  # fmt: skip
            out += _html_table(["question", "claim", "period", "was in", "old outcome", "new outcome", "kind", "reason",
                                "recorded at"], rows, text_columns=2)  # fmt: skip
        if changes.total > len(changes.changes):
            out += f'<p class="muted">… and {changes.total - len(changes.changes)} more.</p>'
        return out
    raise TypeError(f"no HTML for {block!r}")


def _html_multiples(groups: tuple[GroupScore, ...]) -> str:
    charts = []
    for g in groups[:MULTIPLES]:
        svg = source_reliability_svg(g.group, g.n, g.bins)
        if svg is None:
            charts = []
            break
        charts.append(_img(svg, f"Reliability diagram of {g.group}", "multiple"))
    if charts:
        out = ('<p class="muted">Each chart: observed frequency against mean forecast per bin, on the same axes, '
               "with 95% Wilson intervals, the diagonal of perfect calibration and each bin's n.</p>"
               f'<div class="multiples">{"".join(charts)}</div>')  # fmt: skip
        rest = groups[MULTIPLES:]
        if rest:
            names = ", ".join(escape_html(g.group) for g in rest)
            out += f'<p class="muted">Not drawn ({plural(len(rest), "smaller source")}, in the tables below): {names}.</p>'
    else:
        out = f'<p class="muted">{escape_html(PLOT_HINT.format(chart="reliability diagram of each source"))}; every figure is in the tables.</p>'
    tables = "".join(
        f"<details><summary>{escape_html(g.group)}: {escape_html(_ece(g))}</summary>"
        + _html_table(BIN_HEADERS, [[escape_html(c) for c in _bin_cells(b)] for b in g.bins]) + "</details>"
        for g in groups
    )  # fmt: skip
    return out + tables


def _html_trend(trend: Trend) -> str:
    drawn = _series(trend, CHART_TREND_SOURCES)
    svg = trend_svg(trend.periods, [(s.group, [(p.n, p.brier) for p in s.points]) for s in drawn])
    if svg is None:
        chart = f'<p class="muted">{escape_html(PLOT_HINT.format(chart="trend chart"))}; every figure is in the table.</p>'
    else:
        keys = "".join(f'<li><span class="key" style="background:{TREND_COLOURS[i % len(TREND_COLOURS)]}"></span>'
                       f"{escape_html(s.group)}</li>" for i, s in enumerate(drawn))  # fmt: skip
        chart = _img(svg, f"Brier score by {trend.kind}", "trend") + f'<ul class="legend">{keys}</ul>'

    shown = _series(trend, TABLE_TREND_SOURCES)
    headers = ["source", *trend.periods]

    out = chart + _html_table(headers, [[escape_html(s.group), *(_html_cell(p) for p in s.points)] for s in shown],
                              kind="periods")  # fmt: skip
    if trend.shared:
        columns = _shared_columns(trend, shown)
        out += (f'<p class="muted">rel. (shared questions in brackets; only the {trend.kind}s with any):</p>'
                + _html_table(["source", *(trend.periods[i] for i in columns)],
                              [[escape_html(s.group), *(_html_cell(s.points[i], True) for i in columns)] for s in shown],
                              kind="periods"))  # fmt: skip
    if len(trend.sources) > TABLE_TREND_SOURCES:
        out += f'<p class="muted">{plural(len(trend.sources) - TABLE_TREND_SOURCES, "more source")} in the JSON report.</p>'
    return out


# JSON -------------------------------------------------------------------------------------------


def calibration_json(g: GroupScore) -> dict[str, Any]:
    values = g.to_json()
    keys = ("n", "yes", "brier", "ece", "spiegelhalter_z", "spiegelhalter_p", "bins")
    return {"source": g.group, **{k: values[k] for k in keys}}
