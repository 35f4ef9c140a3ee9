"""Deadline wordings ("within 18 months", "by the end of 2026", "by Q3 2026") to dates.

A deadline is the last day on which a forecast may come true, inclusive. Two kinds of wording:

* Spans count from the day the forecast was made with calendar arithmetic (dateutil's
  relativedelta): "within 18 months" of 2026-05-15 is 2027-11-15, and one month from Jan 31 is
  Feb 28 (or 29). A range such as "18-24 months" runs to its far end.
* Points name a calendar period and mean its last day: "by 2027" and "by the end of 2027" are
  2027-12-31, "by mid-2026" and "in the first half of 2026" are 2026-06-30, "by Q3 2026" is
  2026-09-30, "by March 2027" is 2027-03-31. "before 2027" and "before March 2027" end the day
  before the period starts. An ISO date (2026-10-01, or "by 2026-10-01") is itself; "before
  2026-10-01" is the day before. Number words count like digits: "within two years" is
  "within 2 years" (one to ninety-nine, "a", "an" and "a hundred").

Anything else (no horizon, "eventually", "soon", "early 2027", a zero or negative span, or a date
before the forecast was made) raises DeadlineError saying why. docs/deadlines-and-hedges.md has
the full table of conventions.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta


class DeadlineError(ValueError):
    """The wording does not pin down one deadline."""


_ONES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
# Every number word from one to ninety-nine ("twenty-one" or "twenty one"), a hundred, and "a"/"an".
_NUMBER_WORDS = {
    "a": 1, "an": 1, **_ONES, **_TEENS, **_TENS,
    **{f"{tens}-{one}": t + o for tens, t in _TENS.items() for one, o in _ONES.items()},
    "hundred": 100, "a-hundred": 100, "one-hundred": 100,
}  # fmt: skip
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years", "decade": "decades"}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
_ORDINAL_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4, "final": 4}
_NO_HORIZON = {"one day", "one of these days"}  # "someday", not a span of one day ("within one day" is)
_MAX_SPAN_YEARS = 200  # a horizon longer than this is a typo, not a forecast

_NUMBER = r"(\d+(?:\.\d+)?|[a-z]+(?:[- ][a-z]+)?)"
_SPAN = re.compile(
    rf"(?:(?:within|in|over|during|for|inside)\s+)?(?:the\s+)?(?:next\s+|coming\s+)?"
    rf"{_NUMBER}(?:\s*(?:-|–|to|or)\s*{_NUMBER})?\s+"
    rf"(day|week|month|year|decade)s?(?:'s)?(?:\s+(?:time|from now|from publication))?"
)
_YEAR = r"(\d{4})"
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_POINT_PREFIX = re.compile(
    r"^(?:(?P<before>before|prior to)\s+|(?:by|in|during|through|throughout|until|till|no later than|"
    r"on or before|sometime in|some time in|at)\s+)?(?:the\s+)?(?P<end>(?:very\s+)?end(?:\s+of|-)\s*(?:the\s+)?|"
    r"close\s+of\s+(?:the\s+)?|year[- ]end\s+(?:of\s+)?)?"
)


def parse_deadline(text: str, made_on: dt.date) -> dt.date:
    """The last day (inclusive) that a deadline wording allows, counted from `made_on`.

    >>> parse_deadline("within 18 months", dt.date(2026, 5, 15))
    datetime.date(2027, 11, 15)
    >>> parse_deadline("by the end of 2026", dt.date(2026, 5, 15))
    datetime.date(2026, 12, 31)
    """
    if isinstance(made_on, dt.datetime):
        made_on = made_on.date()
    if not isinstance(made_on, dt.date):
        raise DeadlineError(f"made_on must be a date, not {type(made_on).__name__}")
    if not isinstance(text, str):
        raise DeadlineError(f"a deadline wording must be text, not {type(text).__name__}")
    wording = " ".join(text.strip().lower().replace("\u2019", "'").rstrip(".").split())
    if not wording:
        raise DeadlineError("the deadline wording is empty: give a date or a horizon such as 'within 18 months'")
    try:
        deadline = _span(wording, made_on) or _point(wording, made_on)
    except (OverflowError, ValueError) as exc:  # relativedelta past year 9999 raises ValueError
        if isinstance(exc, DeadlineError):
            raise
        raise DeadlineError(f"{text!r} from {made_on} runs past the calendar's end (year 9999)") from None
    if deadline is None:
        raise DeadlineError(
            f"{text!r} does not name a deadline: use a span ('within 18 months'), a period "
            "('by the end of 2026', 'by Q3 2026', 'by March 2027', 'by mid-2026') or a date (YYYY-MM-DD)"
        )
    if deadline < made_on:
        raise DeadlineError(f"{text!r} ends on {deadline}, before the forecast was made ({made_on})")
    return deadline


def _number(word: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return _NUMBER_WORDS.get(word.replace(" ", "-"))


def _span(wording: str, made_on: dt.date) -> dt.date | None:
    if wording.startswith(("-", "minus ", "within -", "in -")) or re.search(r"\s-\d", wording):
        raise DeadlineError(f"{wording!r} is a negative span: a deadline comes after the forecast")
    if wording in _NO_HORIZON:
        return None
    match = _SPAN.fullmatch(wording)
    if not match:
        return None
    first, last, unit = match.group(1), match.group(2), match.group(3)
    low = _number(first)
    high = _number(last) if last else low
    if low is None or high is None:
        return None
    if high < low:
        raise DeadlineError(f"{wording!r} is a range that runs backwards")
    if high <= 0:
        raise DeadlineError(f"{wording!r} is not a positive span")
    if high != int(high):
        raise DeadlineError(f"{wording!r}: give a whole number of {_UNITS[unit]}")
    amount = int(high)
    if unit == "decade":
        unit, amount = "year", amount * 10
    years = amount / {"day": 365, "week": 52, "month": 12, "year": 1}[unit]
    if years > _MAX_SPAN_YEARS:
        raise DeadlineError(f"{wording!r} is longer than {_MAX_SPAN_YEARS} years")
    return made_on + relativedelta(**{_UNITS[unit]: amount})


def _point(wording: str, made_on: dt.date) -> dt.date | None:
    prefix = _POINT_PREFIX.match(wording)
    before = bool(prefix.group("before"))
    rest = wording[prefix.end():].strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", rest) and not prefix.group("end"):
        try:
            day = dt.date.fromisoformat(rest)
        except ValueError as exc:
            raise DeadlineError(f"{rest!r} is not a real date ({exc})") from None
        return day - dt.timedelta(days=1) if before else day
    period = _period(rest, made_on)
    if period is None:
        if re.fullmatch(rf"(?:early|(?:the\s+)?beginning of|(?:the\s+)?start of)\s*-?\s*{_YEAR}", rest):
            raise DeadlineError(
                f"{wording!r} has no agreed last day: give a date, or record an assumed deadline"
            )
        return None
    start, end = period
    return start - dt.timedelta(days=1) if before and not prefix.group("end") else end


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, 1) + relativedelta(months=1, days=-1)


def _period(rest: str, made_on: dt.date) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of the calendar period that `rest` names."""
    if m := re.fullmatch(rf"(?:fy\s*)?{_YEAR}", rest):
        year = int(m[1])
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if m := re.fullmatch(r"(?:(this|next|the next)\s+)?year|year-end|year end", rest):
        year = made_on.year + (1 if m[1] in ("next", "the next") else 0)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if m := re.fullmatch(rf"(?:mid|the middle of|middle of)\s*-?\s*{_YEAR}", rest):
        year = int(m[1])
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if m := re.fullmatch(rf"late\s*-?\s*{_YEAR}", rest):
        year = int(m[1])
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    if m := re.fullmatch(rf"(?:h([12])|(first|second) half of)\s*(?:of\s+)?{_YEAR}", rest):
        half = int(m[1]) if m[1] else (1 if m[2] == "first" else 2)
        year = int(m[3])
        return dt.date(year, 6 * half - 5, 1), _last_day(year, 6 * half)
    if m := re.fullmatch(
        rf"(?:q([1-4])|(first|second|third|fourth|last|final) quarter(?: of)?)\s*,?\s*{_YEAR}", rest
    ):
        quarter = int(m[1]) if m[1] else _ORDINAL_QUARTERS[m[2]]
        year = int(m[3])
        return dt.date(year, 3 * quarter - 2, 1), _last_day(year, 3 * quarter)
    if m := re.fullmatch(rf"{_MONTH}\s*,?\s*{_YEAR}", rest):
        month, year = _MONTHS[m[1]], int(m[2])
        return dt.date(year, month, 1), _last_day(year, month)
    return None
