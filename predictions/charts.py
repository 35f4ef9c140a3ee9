"""Reliability diagrams: a compact text chart for terminals, an SVG from matplotlib for HTML.

matplotlib is optional (`pip install 'predictions[plot]'`); without it `reliability_svg` returns
None and the HTML report says how to get the chart.
"""

from __future__ import annotations

import io
from typing import Sequence

from .scoring import CalibrationBin

PLOT_HINT = "Install the plot extra for the reliability diagram: pip install 'predictions[plot]'"


def bin_label(b: CalibrationBin) -> str:
    """'[0.0, 0.1]' for the first bin, '(0.1, 0.2]' after: bins are closed on the right."""
    return f"{'[' if b.index == 0 else '('}{b.lower:.1f}, {b.upper:.1f}]"


def resolved_yes(b: CalibrationBin) -> str:
    return f"{b.yes} of {b.n} resolved yes"


def reliability_text(bins: Sequence[CalibrationBin], width: int = 30) -> str:
    """Two lines per non-empty bin: the mean forecast (▒) and the observed frequency (█) as bars,
    with "k of n resolved yes" and the 95% Wilson interval of the observed frequency.

    A calibrated source has both bars the same length in every row.
    """
    if not bins:
        return "(no resolved forecasts to chart)"
    lines = [f"{'bin':<11} {'mean forecast ▒ / observed frequency █':<{width + 6}}"]
    for b in bins:
        lines.append(f"{bin_label(b):<11} {_bar(b.mean_forecast, width, '▒')} {b.mean_forecast:4.2f}")
        lines.append(
            f"{'':<11} {_bar(b.observed_frequency, width, '█')} {b.observed_frequency:4.2f}  "
            f"{resolved_yes(b)} (95% CI {b.wilson_low:.2f}–{b.wilson_high:.2f})"
        )
    return "\n".join(lines)


def bar_width(width: int | None) -> int:
    """The bars' length in a text chart fitted to `width` cells: 30, less on a narrow terminal
    (the rest of a row, labels and counts, takes about 58 cells)."""
    return 30 if width is None else max(10, min(30, width - 58))


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
                counts.annotate(str(b.n), ((b.lower + b.upper) / 2, b.n), textcoords="offset points",
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
