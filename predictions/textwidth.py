"""Text in columns, measured in terminal cells, not characters: wide and fullwidth (CJK)
characters take two cells, combining marks none. Used by the text report and the CLI's tables."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal


def display_width(text: str) -> int:
    """The terminal cells `text` takes: wide and fullwidth (CJK) characters two, combining marks none."""
    return sum(_cells(char) for char in text)


def _cells(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):  # combining marks; zero-width joiners, direction marks
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(text: str, width: int) -> str:
    """`text` on one line in at most `width` cells, cut with '…' if it is longer."""
    return cut(" ".join(text.split()), width)


def cut(line: str, width: int) -> str:
    """`line` in at most `width` cells, its spacing kept (columns stay aligned), cut with '…' if longer."""
    if display_width(line) <= width:
        return line
    kept, used = [], 1  # the '…'
    for char in line:
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


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 forecast', '2 forecasts', '0 forecasts' ('1 entry', '2 entries' with many='entries')."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def count_text(count: int | float) -> str:
    """A count as printed: whole (3), or two decimals where it is a sum of weights (a pair whose
    updates fall in different calibration bins counts its share of days in each: 0.58)."""
    whole = round(count)
    return str(whole) if abs(count - whole) < 1e-9 else f"{count:.2f}"


def probability_text(p: float) -> str:
    """A probability as every listing prints it: at least two decimals (0.30, 0.75), and every
    digit it was recorded with (0.275), never rounded away: two forecasts shown alike are alike."""
    text = format(Decimal(repr(float(p))), "f")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def log_stamp(at: dt.datetime | None = None) -> str:
    """The time a cron log line starts with: ISO 8601, UTC, to the second ('2026-11-01T06:15:02Z');
    `at` defaults to now. The report's log line and every line a command writes with --log use it."""
    at = dt.datetime.now(dt.timezone.utc) if at is None else at
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def p_value_text(p: float) -> str:
    """'p = 0.104', or 'p < 0.001' where three decimals would print a misleading 0.000."""
    return "p < 0.001" if p < 0.0005 else f"p = {p:.3f}"
