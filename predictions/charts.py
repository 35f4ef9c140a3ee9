"""Reliability diagrams: a compact text chart for terminals, an SVG from matplotlib for HTML.

matplotlib is optional (`pip install 'predictions[plot]'`); without it `reliability_svg` returns
None and the HTML report says how to get the chart.
"""

from __future__ import annotations

import io
from typing import Sequence

from .scoring import CalibrationBin

PLOT_HINT = "Install the plot extra for the reliability diagram: pip install 'predictions[plot]'"


def reliability_text(bins: Sequence[CalibrationBin], width: int = 30) -> str:
    """One line per non-empty bin: the mean forecast (▒) and the observed frequency (█) as bars.

    A calibrated source has both bars the same length in every row.
    """
    if not bins:
        return "(no resolved forecasts to chart)"
    lines = [f"{'bin':<11} {'forecast ▒ / observed █':<{width + 7}}  yes of n"]
    for b in bins:
        label = f"{b.lower:.1f}–{b.upper:.1f}"
        lines.append(f"{label:<11} {_bar(b.mean_forecast, width, '▒')} {b.mean_forecast:4.2f}")
        lines.append(f"{'':<11} {_bar(b.observed_frequency, width, '█')} {b.observed_frequency:4.2f}  {b.yes} of {b.n}")
    return "\n".join(lines)


def _bar(value: float, width: int, char: str) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return (char * filled).ljust(width)


def reliability_svg(bins: Sequence[CalibrationBin], title: str = "Reliability diagram") -> str | None:
    """The diagram as SVG text (forecast vs observed, diagonal, Wilson intervals, counts), or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    figure, axes = plt.subplots(figsize=(5.5, 5.5), dpi=100)
    try:
        axes.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfect calibration")
        if bins:
            x = [b.mean_forecast for b in bins]
            y = [b.observed_frequency for b in bins]
            low = [b.observed_frequency - b.wilson_low for b in bins]
            high = [b.wilson_high - b.observed_frequency for b in bins]
            axes.errorbar(x, y, yerr=[low, high], fmt="o-", color="#1f5fa8", capsize=3,
                          label="observed frequency (95% Wilson interval)")  # fmt: skip
            for b in bins:
                axes.annotate(f"n={b.n}", (b.mean_forecast, b.observed_frequency), textcoords="offset points",
                              xytext=(6, -12), fontsize=8, color="#333333")  # fmt: skip
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("forecast probability (bin mean)")
        axes.set_ylabel("observed frequency")
        axes.set_title(title)
        axes.grid(True, linewidth=0.3)
        axes.legend(loc="upper left", fontsize=8)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)
