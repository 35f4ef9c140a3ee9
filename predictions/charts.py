"""Reliability diagrams: a compact text chart for terminals, an SVG from matplotlib for HTML.

matplotlib is optional (`pip install 'predictions[plot]'`); without it `reliability_svg` returns
None and the HTML report says how to get the chart.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from typing import Sequence

from .scoring import CalibrationBin
from .textwidth import count_text

PLOT_HINT = "Install the plot extra for the {chart}: pip install 'predictions[plot]'"


def bin_label(b: CalibrationBin) -> str:
    """'[0.0, 0.1]' for the first bin, '(0.1, 0.2]' after: bins are closed on the right."""
    return f"{'[' if b.index == 0 else '('}{b.lower:.1f}, {b.upper:.1f}]"


def resolved_yes(b: CalibrationBin) -> str:
    return f"{count_text(b.yes)} of {count_text(b.n)} resolved yes"


def reliability_text(bins: Sequence[CalibrationBin], width: int = 30, compact: bool = False) -> str:
    """Two lines per non-empty bin: the mean forecast (▒) and the observed frequency (█) as bars,
    with "k of n resolved yes" and the 95% Wilson interval of the observed frequency (when
    `compact`, for a narrow terminal, those on a third line).

    A calibrated source has both bars the same length in every row.
    """
    if not bins:
        return "(no resolved forecasts to chart)"
    legend = "mean ▒ / observed █" if compact else "mean forecast ▒ / observed frequency █"
    lines = [f"{'bin':<11} {legend}"]
    for b in bins:
        ci = f"{b.wilson_low:.2f}–{b.wilson_high:.2f}"
        counts = f"{resolved_yes(b)} (95% CI {ci})"
        lines.append(f"{bin_label(b):<11} {_bar(b.mean_forecast, width, '▒')} {b.mean_forecast:4.2f}")
        observed = f"{'':<11} {_bar(b.observed_frequency, width, '█')} {b.observed_frequency:4.2f}"
        short = f"{count_text(b.yes)} of {count_text(b.n)} yes, 95% CI {ci}"
        lines += [observed, f"    {short}"] if compact else [f"{observed}  {counts}"]
    return "\n".join(lines)


def bar_width(width: int | None) -> int:
    """The bars' length in a text chart fitted to `width` cells: 30, less on a narrow terminal
    (the rest of a row, labels and counts, takes about 62 cells; compact, 17)."""
    if width is None:
        return 30
    return max(10, min(30, width - 62)) if not compact_chart(width) else max(3, min(30, width - 17))


def compact_chart(width: int | None) -> bool:
    """Whether a text chart fitted to `width` cells puts its counts on lines of their own."""
    return width is not None and width < 92


def _bar(value: float, width: int, char: str) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return (char * filled).ljust(width)


def adjacent_runs(bins: Sequence[CalibrationBin]) -> list[list[CalibrationBin]]:
    """The bins in runs of neighbours (indices 2, 3, 4 and 7, 8 are two runs): a line joins only
    neighbouring bins, so it never reads as an interpolation across an empty bin."""
    runs: list[list[CalibrationBin]] = []
    for b in sorted(bins, key=lambda b: b.index):
        if runs and b.index == runs[-1][-1].index + 1:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def reliability_svg(bins: Sequence[CalibrationBin], title: str = "Reliability diagram") -> str | None:
    """The diagram as SVG text, or None without matplotlib.

    Top: observed frequency against mean forecast per bin, with 95% Wilson intervals and the
    diagonal of perfect calibration. Below, on the same x axis: how many forecasts each bin holds,
    so a point resting on six forecasts is not read like one resting on six hundred.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "predictions"  # the same ids in every run: reproducible reports
        from matplotlib import pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    figure, (axes, counts) = plt.subplots(
        2, 1, figsize=(5.2, 5.6), dpi=100, sharex=True, gridspec_kw={"height_ratios": [4, 1], "hspace": 0.08}
    )
    try:
        axes.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfect calibration")
        for edge in range(1, 10):
            for ax in (axes, counts):
                ax.axvline(edge / 10, color="#e4e4e4", linewidth=0.6, zorder=0)
        if bins:
            x = [b.mean_forecast for b in bins]
            y = [b.observed_frequency for b in bins]
            # Wilson intervals always hold the observed frequency; max() only guards float noise.
            low = [max(0.0, b.observed_frequency - b.wilson_low) for b in bins]
            high = [max(0.0, b.wilson_high - b.observed_frequency) for b in bins]
            axes.errorbar(x, y, yerr=[low, high], fmt="o", color="#1f5fa8", ecolor="#7fa6d6", capsize=3,
                          markersize=5, label="observed frequency, 95% Wilson interval")  # fmt: skip
            for run in adjacent_runs(bins):  # a line only between neighbouring bins: a gap where one is empty
                axes.plot([b.mean_forecast for b in run], [b.observed_frequency for b in run], color="#1f5fa8",
                          linewidth=1.2)  # fmt: skip
            counts.bar([(b.lower + b.upper) / 2 for b in bins], [b.n for b in bins], width=0.085, color="#9db7d9")
            top = max(b.n for b in bins)
            for b in bins:
                counts.annotate(count_text(b.n), ((b.lower + b.upper) / 2, b.n), textcoords="offset points",
                                xytext=(0, 2), ha="center", va="bottom", fontsize=7, color="#333333")  # fmt: skip
            counts.set_ylim(0, top * 1.35)
        axes.set_xlim(-0.02, 1.02)
        axes.set_ylim(-0.02, 1.02)
        axes.set_ylabel("observed frequency (share resolved yes)")
        axes.set_title(title, pad=24)  # room for the legend between the title and the plot
        # Above the plot, not on it: a corner of the plot is where some forecaster's points will be.
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, fontsize=8, frameon=False)
        counts.set_xticks([i / 10 for i in range(11)])
        counts.set_xlabel("forecast probability (mean of each bin; bins closed on the right)")
        counts.set_ylabel("forecasts", fontsize=8)
        counts.tick_params(axis="y", labelsize=7)
        counts.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))  # counts are whole numbers
        counts.spines[["top", "right"]].set_visible(False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _pyplot():
    """matplotlib's pyplot set up for reproducible SVG, or None without the plot extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "predictions"
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    return plt


def _svg(plt, figure) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():  # a name in a script the font lacks draws as boxes, and says so: not here
        warnings.simplefilter("ignore")
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()


def chart_label(text: str, cells: int = 30) -> str:
    """Ledger text as a chart shows it: one line, at most `cells` characters, control and
    direction marks left out (a chart is drawn, not escaped; matplotlib's math mode is off)."""
    shown = "".join(ch for ch in " ".join(text.split()) if ch.isprintable() and unicodedata.category(ch) != "Cf")
    return shown if len(shown) <= cells else shown[: cells - 1] + "…"


def source_reliability_svg(name: str, n: int, bins: Sequence[CalibrationBin]) -> str | None:
    """One small multiple: a source's reliability diagram, on the same axes (0 to 1) as every
    other source's, with Wilson intervals, the diagonal, and each bin's n beside its point."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(2.6, 2.6), dpi=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=0.8)
        if bins:
            x = [b.mean_forecast for b in bins]
            y = [b.observed_frequency for b in bins]
            low = [max(0.0, b.observed_frequency - b.wilson_low) for b in bins]
            high = [max(0.0, b.wilson_high - b.observed_frequency) for b in bins]
            axes.errorbar(x, y, yerr=[low, high], fmt="o", color="#1f5fa8", ecolor="#7fa6d6", capsize=2, markersize=3.5)
            for run in adjacent_runs(bins):
                axes.plot([b.mean_forecast for b in run], [b.observed_frequency for b in run], color="#1f5fa8", linewidth=1)
            for b in bins:
                axes.annotate(count_text(b.n), (b.mean_forecast, b.observed_frequency), textcoords="offset points",
                              xytext=(4, -9), fontsize=6, color="#555555")  # fmt: skip
        axes.set_xlim(-0.02, 1.02)
        axes.set_ylim(-0.02, 1.02)
        axes.set_xticks([0, 0.5, 1])
        axes.set_yticks([0, 0.5, 1])
        axes.tick_params(labelsize=7)
        axes.set_xlabel("mean forecast", fontsize=7)
        axes.set_ylabel("observed frequency", fontsize=7)
        axes.set_title(f"{chart_label(name, 28)} (n={n})", fontsize=8, parse_math=False)
        return _svg(plt, figure)


# The trend chart's colours, `all` first: the page's legend (HTML text, readable on a phone, where
# the chart's own type shrinks with it) names each series beside its colour.
TREND_COLOURS = ("#222222", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def trend_svg(periods: Sequence[str], series: Sequence[tuple[str, Sequence[tuple[int, float | None]]]]) -> str | None:
    """Brier score per period, one line per series (the first, "all", drawn heaviest); a point's
    area grows with its n and the first series' points are labelled with it. A period with nothing
    scored is a gap: the line breaks there, it is never drawn across. Series take TREND_COLOURS
    in order; the chart has no legend of its own (the page gives it as text)."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7.2, 3.4), dpi=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = list(range(len(periods)))
        largest = max([n for _, points in series for n, _ in points] + [1])
        def area(n: int) -> float:
            return 12 + 140 * (n / largest) ** 0.5

        for index, (name, points) in enumerate(series):
            y = [float("nan") if brier is None else brier for _, brier in points]
            first = index == 0
            line = axes.plot(x, y, linewidth=2.2 if first else 1.2, color=TREND_COLOURS[index % len(TREND_COLOURS)],
                             zorder=2 if first else 3)[0]  # fmt: skip
            shown = [(i, n, brier) for i, (n, brier) in enumerate(points) if brier is not None]
            # `all` as rings on top, the sources' filled points inside them stay visible
            colour = line.get_color()
            axes.scatter([i for i, _, _ in shown], [b for _, _, b in shown], s=[area(n) for _, n, _ in shown],
                         facecolors="none" if first else colour, edgecolors=colour, linewidths=1.4 if first else 0,
                         zorder=5 if first else 4, alpha=1 if first else 0.75)  # fmt: skip
            if first:
                for i, n, brier in shown:  # above the ring: its radius (points) and a little more
                    axes.annotate(f"n={n}", (i, brier), textcoords="offset points", xytext=(0, area(n) ** 0.5 / 2 + 3),
                                  ha="center", va="bottom", fontsize=7, color="#222222", zorder=6)  # fmt: skip
        axes.set_xticks(x)
        axes.set_xticklabels(periods, rotation=45 if len(periods) > 6 else 0, ha="right" if len(periods) > 6 else "center",
                             fontsize=8)  # fmt: skip
        axes.set_xlim(-0.5, len(periods) - 0.5)
        axes.set_ylim(0, max([0.3] + [b for _, points in series for _, b in points if b is not None]) * 1.15)
        axes.set_ylabel("Brier score (lower is better)", fontsize=8)
        axes.tick_params(axis="y", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(plt, figure)
