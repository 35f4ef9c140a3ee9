"""Deadline wordings ("within 18 months", "by the end of 2026", "by Q3 2026") to dates.

A deadline is the last day on which a forecast may come true, inclusive. Three kinds of wording:

* Spans count from the day the forecast was made with calendar arithmetic (dateutil's
  relativedelta): "within 18 months" of 2026-05-15 is 2027-11-15, and one month from Jan 31 is
  Feb 28 (or 29). A range such as "18-24 months" runs to its far end. Number words count like
  digits: "within two years" is "within 2 years" (one to ninety-nine, "a", "an" and "a hundred").
* Dates are themselves: 2026-10-01, "by December 31, 2026", "by 31 December 2026", "by Dec. 31
  2026"; "before" a date is the day before.
* Periods mean their last day: "by 2027" and "by the end of 2027" are 2027-12-31, "in the first
  half of 2026" is 2026-06-30, "by Q3 2026" is 2026-09-30, "by March 2027" is 2027-03-31, "late
  2026" is 2026-12-31, "by the end of the decade" is the last day of the decade (2020-2029, ...)
  the forecast was made in. "before 2027" ends the day before the period starts.

A wording whose last day needs a convention nobody agrees on (a fiscal year, a season, "early
2028", "mid-2027", a figure date such as 12/31/2026) is refused with a hint, never guessed; so is
anything else (no horizon, "eventually", a zero, negative or fractional span, a date before the
forecast was made). Every refusal is a DeadlineError saying why. docs/deadlines-and-hedges.md has
the full table of conventions.

Every pattern here is matched against one wording of at most MAX_LINE characters, refused before
any other work when longer, and is written so that no quantified part can overlap the next one:
each match is linear in the wording (benchmarks/parsers.py measures it).
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta

from .errors import excerpt
from .model import MAX_LINE


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

# What to do instead, for every wording refused because its last day would be a guess.
ASSUMED_HINT = "give an explicit date, or choose one and mark it assumed (--deadline DATE --assumed-deadline)"


def _alternation(words) -> str:
    """Longest first, so that "twenty-one" is tried before "twenty" and "sept" before "sep"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# The wording is lower case with single spaces by the time these run, so a space is a literal " ".
_WORD_NUMBERS = _alternation({*_NUMBER_WORDS, *(w.replace("-", " ") for w in _NUMBER_WORDS)})
_NUMBER = rf"(?:\d+(?:\.\d+)?|{_WORD_NUMBERS})"
_SPAN = re.compile(
    r"(?:(?:within|in|over|during|for|inside) )?(?:the )?(?:(?:next|coming) )?"
    rf"(?P<low>{_NUMBER})(?:(?: ?[-–] ?| to | or )(?P<high>{_NUMBER}))?(?P<half> and a half)? "
    r"(?P<unit>day|week|month|year|decade)s?(?P<half_after> and a half)?(?:'s)?"
    r"(?: (?:time|from now|from publication))?"
)
_POINT_PREFIX = re.compile(
    r"(?:(?P<before>before|prior to) |(?:by|in|during|through|throughout|until|till|no later than|"
    r"on or before|sometime in|some time in|at|on) )?(?P<the>the )?"
    r"(?P<end>(?:very )?end(?: of|-) ?(?:the )?|close of (?:the )?|year[- ]end (?:of )?)?"
)
_YEAR = r"(\d{4})"
_MONTH = rf"({_alternation(_MONTHS)})\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH_DAY_YEAR = re.compile(rf"{_MONTH} {_DAY},? {_YEAR}")  # december 31, 2026 / dec. 31 2026
_DAY_MONTH_YEAR = re.compile(rf"{_DAY} (?:of )?{_MONTH},? {_YEAR}")  # 31 december 2026 / 31st of dec 2026
_FIGURES = re.compile(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}")  # 12/31/2026, 31.12.2026: the order is local
# "early 2028", "mid-2027", "late March 2027": only "late" has an agreed last day, its period's.
_QUALIFIER = re.compile(r"(?P<q>middle of|beginning of|start of|early|late|mid)(?: - |[- ])?")
_FISCAL = re.compile(r"(?:fy|fiscal(?: year)?) ?'?\d{2}(?:\d{2})?(?:[-/]\d{2}(?:\d{2})?)?")
_SEASON = re.compile(r"(?:(?:this|next|the) )?(?:spring|summer|autumn|fall|winter)(?: of)?(?: \d{4})?")


def parse_deadline(text: str, made_on: dt.date | str) -> dt.date:
    """The last day (inclusive) that a deadline wording allows, counted from `made_on`.

    >>> parse_deadline("within 18 months", dt.date(2026, 5, 15))
    datetime.date(2027, 11, 15)
    >>> parse_deadline("by the end of 2026", dt.date(2026, 5, 15))
    datetime.date(2026, 12, 31)
    """
    if isinstance(made_on, dt.datetime):
        made_on = made_on.date()
    if isinstance(made_on, str):  # "YYYY-MM-DD", as every date parameter of the library takes
        try:
            made_on = dt.date.fromisoformat(made_on) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", made_on) else None
        except ValueError:
            made_on = None
        if made_on is None:
            raise DeadlineError("made_on must be a date in YYYY-MM-DD form")
    if not isinstance(made_on, dt.date):
        raise DeadlineError(f"made_on must be a date, not {type(made_on).__name__}")
    if not isinstance(text, str):
        raise DeadlineError(f"a deadline wording must be text, not {type(text).__name__}")
    if len(text) > MAX_LINE:  # before any other work: the patterns below never see a long input
        raise DeadlineError(f"{excerpt(text)} is longer than a deadline wording may be ({MAX_LINE} characters)")
    return deadline_from_wording(text, made_on)


def deadline_from_wording(text: str, made_on: dt.date) -> dt.date:
    """parse_deadline without its checks of type and length (the benchmark times this on long input)."""
    wording = " ".join(text.lower().replace("\u2019", "'").split()).rstrip(".").rstrip()
    if not wording:
        raise DeadlineError("the deadline wording is empty: give a date or a horizon such as 'within 18 months'")
    try:
        deadline = _span(wording, made_on) or _point(wording, made_on)
    except (OverflowError, ValueError) as exc:  # relativedelta past year 9999 raises ValueError
        if isinstance(exc, DeadlineError):
            raise
        raise DeadlineError(f"{excerpt(text)} from {made_on} runs past the calendar's end (year 9999)") from None
    if deadline is None:
        raise DeadlineError(
            f"{excerpt(text)} does not name a deadline: use a span ('within 18 months'), a period "
            "('by the end of 2026', 'by Q3 2026', 'by March 2027') or a date ('by December 31, 2026', YYYY-MM-DD)"
        )
    if deadline < made_on:
        raise DeadlineError(f"{excerpt(text)} ends on {deadline}, before the forecast was made ({made_on})")
    return deadline


def _number(word: str) -> float:
    if word[0].isdigit():
        return float(word)
    return _NUMBER_WORDS[word.replace(" ", "-")]


def _span(wording: str, made_on: dt.date) -> dt.date | None:
    if wording.startswith(("-", "minus ", "within -", "in -")) or re.search(r" -\d", wording):
        raise DeadlineError(f"{excerpt(wording)} is a negative span: a deadline comes after the forecast")
    if wording in _NO_HORIZON:
        return None
    match = _SPAN.fullmatch(wording)
    if not match:
        return None
    unit = match["unit"]
    low = _number(match["low"])
    high = _number(match["high"]) if match["high"] else low
    if high < low:
        raise DeadlineError(f"{excerpt(wording)} is a range that runs backwards")
    if match["half"] or match["half_after"]:
        high += 0.5
    if high <= 0:
        raise DeadlineError(f"{excerpt(wording)} is not a positive span")
    per_year = {"day": 365, "week": 52, "month": 12, "year": 1, "decade": 0.1}[unit]
    if high / per_year > _MAX_SPAN_YEARS:
        raise DeadlineError(f"{excerpt(wording)} is longer than {_MAX_SPAN_YEARS} years")
    if high != int(high):
        raise DeadlineError(f"{excerpt(wording)}: give a whole number of {_UNITS[unit]}{_whole_hint(high, unit)}")
    amount = int(high)
    if unit == "decade":
        unit, amount = "year", amount * 10
    return made_on + relativedelta(**{_UNITS[unit]: amount})


def _whole_hint(amount: float, unit: str) -> str:
    """", such as 'within 18 months'" where a smaller unit holds the span exactly ("1.5 years")."""
    smaller = {"decade": ("year", 10), "year": ("month", 12), "week": ("day", 7)}.get(unit)
    if smaller and (amount * smaller[1]).is_integer():
        return f", such as 'within {int(amount * smaller[1])} {smaller[0]}s'"
    return ""


def _point(wording: str, made_on: dt.date) -> dt.date | None:
    prefix = _POINT_PREFIX.match(wording)
    before, end = bool(prefix["before"]), bool(prefix["end"])
    rest = wording[prefix.end():].strip()
    if not end:
        day = _date(rest)
        if day is not None:
            return day - dt.timedelta(days=1) if before else day
        if prefix["the"] and re.fullmatch(_YEAR, rest):
            raise DeadlineError(
                f"{excerpt(wording)} names no part of {rest} (an event such as 'the {rest} election' is "
                f"not a date): say 'by {rest}' for its last day, or {ASSUMED_HINT}"
            )
    qualifier = _QUALIFIER.match(rest)
    if qualifier:
        period = _period(rest[qualifier.end():].strip(), made_on, end=False, wording=wording)
        if period is None:
            return None
        if qualifier["q"] != "late" or end:
            raise DeadlineError(f"{excerpt(wording)} has no agreed last day: {ASSUMED_HINT}")
        return period[1]  # late 2026 ends when 2026 does
    period = _period(rest, made_on, end=end, wording=wording)
    if period is None:
        return None
    start, last = period
    return start - dt.timedelta(days=1) if before and not end else last


def _date(rest: str) -> dt.date | None:
    """The day an explicit date names (ISO, or with the month in words); None if `rest` is none."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", rest):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _MONTH_DAY_YEAR.fullmatch(rest):
        year, month, day = int(m[3]), _MONTHS[m[1]], int(m[2])
    elif m := _DAY_MONTH_YEAR.fullmatch(rest):
        year, month, day = int(m[3]), _MONTHS[m[2]], int(m[1])
    elif _FIGURES.fullmatch(rest):
        raise DeadlineError(
            f"{excerpt(rest)} gives day and month in figures, whose order differs between countries: "
            "write the date as YYYY-MM-DD or with the month's name ('31 December 2026')"
        )
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DeadlineError(f"{excerpt(rest)} is not a real date ({exc})") from None


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, 1) + relativedelta(months=1, days=-1)


def _period(rest: str, made_on: dt.date, *, end: bool, wording: str) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of the calendar period that `rest` (of `wording`) names; `end`: "the end of" came before."""
    if m := re.fullmatch(_YEAR, rest):
        year = int(m[1])
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if _FISCAL.fullmatch(rest):
        raise DeadlineError(
            f"{excerpt(wording)} names a fiscal year, which ends on a different day for each organisation: {ASSUMED_HINT}"
        )
    if _SEASON.fullmatch(rest):
        raise DeadlineError(
            f"{excerpt(wording)} names a season, whose dates depend on the hemisphere and the convention: {ASSUMED_HINT}"
        )
    if m := re.fullmatch(r"(?:(this|next|the next) )?year|year-end|year end", rest):
        year = made_on.year + (1 if m[1] in ("next", "the next") else 0)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    # Decades run from a year ending in 0 to one ending in 9, as "the 2020s" does.
    if m := re.fullmatch(r"(\d{3}0)'?s", rest):
        start = int(m[1])
        return dt.date(start, 1, 1), dt.date(start + 9, 12, 31)
    if rest in ("this decade", "next decade", "decade") and (end or rest == "this decade"):
        start = made_on.year // 10 * 10 + (10 if rest == "next decade" else 0)
        return dt.date(start, 1, 1), dt.date(start + 9, 12, 31)
    if m := re.fullmatch(rf"(?:h([12])|(first|second) half of) ?(?:of )?{_YEAR}", rest):
        half = int(m[1]) if m[1] else (1 if m[2] == "first" else 2)
        year = int(m[3])
        return dt.date(year, 6 * half - 5, 1), _last_day(year, 6 * half)
    if m := re.fullmatch(rf"(?:q([1-4])|(first|second|third|fourth|last|final) quarter(?: of)?),? ?{_YEAR}", rest):
        quarter = int(m[1]) if m[1] else _ORDINAL_QUARTERS[m[2]]
        year = int(m[3])
        return dt.date(year, 3 * quarter - 2, 1), _last_day(year, 3 * quarter)
    if m := re.fullmatch(rf"{_MONTH},? ?{_YEAR}", rest):
        month, year = _MONTHS[m[1]], int(m[2])
        return dt.date(year, month, 1), _last_day(year, month)
    return None
