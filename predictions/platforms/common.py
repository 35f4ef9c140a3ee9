"""What every platform parser shares: the platform-neutral values, the skip counts, and the
careful reading of files, times, numbers and text that the four formats have in common.

A parser yields `PlatformQuestion`s, each with the forecasts on it that it read. Only binary
questions are yielded; everything else is counted in `Skipped`, never silently dropped. A file
need not hold a question's rows together (a Metaculus user export does not sort them), so the
same question may be yielded more than once: its fields are then identical (a parser refuses a
file that disagrees with itself), each yield carries forecasts not yielded before, and each
yield after the first says so (`again`: its outcome rode on the first).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import math
import os
import re
import stat
import sys
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs

from ..errors import ValidationError, field_name
from ..importing import PLATFORMS  # defined where the CLI can read it without loading the parsers
from ..model import MAX_LINE, MAX_TEXT, TAG_PATTERN, _checked_text

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MAX_JSON_BYTES = 512 * 1024 * 1024  # an API dump of a whole account fits (json_stream streams most)
# Parsed, each value costs 30-80 bytes: 50 MB of "[]," took 1.3 GB. A real export has a value per
# ~25 bytes or more, so this many (counted by commas and brackets, before parsing) fits its 512 MiB.
# load_json counts the whole file; json_stream each element of the list it streams.
MAX_JSON_VALUES = 20_000_000
Progress = Callable[[int], None]  # called with the number of bytes of the file just consumed


@attrs.frozen(kw_only=True, slots=True)
class PlatformForecast:
    """One forecast as the platform recorded it. `key` is its identity on the platform (the
    platform's own id, or a natural key where it has none); `where` says where it was read."""

    key: str
    source: str
    made_at: dt.datetime  # aware, UTC
    probability: float
    basis: str  # "stated" (the forecaster gave the number) or "assigned" (a market price)
    comment: str | None = None
    where: str = attrs.field(default="", eq=False)


@attrs.frozen(kw_only=True, slots=True)
class PlatformQuestion:
    """A binary question as the platform holds it, with the forecasts read for it.

    `criteria_from_platform` is False when the platform gives no resolution criteria and
    `criteria` only says who resolves it and where (see docs/import.md). `resolved_at` is the
    platform's resolution time; `resolved_on` its UTC date, or the fallback date a platform
    without a resolution time gets (the `evidence` then says so).
    """

    platform: str
    key: str
    title: str
    criteria: str
    criteria_from_platform: bool
    url: str | None
    created: dt.datetime  # aware, UTC
    deadline: dt.date
    tags: tuple[str, ...] = ()
    outcome: str | None = None  # yes, no, ambiguous, annulled; None while unresolved
    resolved_at: dt.datetime | None = None
    resolved_on: dt.date | None = None
    evidence: str | None = None
    forecasts: tuple[PlatformForecast, ...] = attrs.field(default=(), eq=False)
    where: str = attrs.field(default="", eq=False)
    again: bool = attrs.field(default=False, eq=False)  # yielded before in this read (its outcome rode on that)

    def same_question(self, other: "PlatformQuestion") -> str | None:
        """The first field in which `other` (the same key) differs from this one, or None."""
        for field in _QUESTION_CONTENT:
            if getattr(self, field) != getattr(other, field):
                return field
        return None


_QUESTION_CONTENT = tuple(f.name for f in attrs.fields(PlatformQuestion) if f.eq and f.name != "key")


class Skipped:
    """What a file held that was not imported, and why: {"multiple-choice questions": 4, ...}."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n

    def lines(self) -> list[str]:
        """One phrase per reason, in the order first met: 'skipped 4 multiple-choice questions'."""
        return [f"skipped {n} {what if n != 1 else _singular(what)}" for what, n in self.counts.items()]


_NOUNS = {"questions", "forecasts", "comments", "bets", "predictions", "markets", "redemptions", "rebalances",
          "orders", "tags", "posts", "characters"}


def _singular(what: str) -> str:
    words = what.split(" ")
    for number, word in enumerate(words):
        if word in _NOUNS:
            words[number] = word[:-1]
            break
    return " ".join(words)


# --- files ---------------------------------------------------------------------------------------


def open_regular(path: str | Path):
    """Open a file for binary reading, refusing what is not a regular file (a FIFO, a device,
    a directory): those may never end, or are not files at all. The file is opened without
    blocking (a FIFO would wait for a writer) and checked on the open descriptor, so a file
    swapped in after a check is still the one checked."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ValidationError(None, f"cannot read {name}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValidationError(None, f"{name} is not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise



# One wording for each refusal of a JSON file, shared by load_json and json_stream.
def json_too_large(name: str, size: int, more: bool = False) -> ValidationError:
    return ValidationError(None, f"{name} is {'more than ' if more else ''}{size:,} bytes; a JSON file may be at "
                                 f"most {MAX_JSON_BYTES:,}")


def json_too_many_values(name: str, values: int) -> ValidationError:
    return ValidationError(None, f"holds about {values:,} JSON values; at most {MAX_JSON_VALUES:,} are read "
                                 "(parsed, they would take gigabytes of memory)", name)


def json_duplicate_key(name: str, key: str) -> ValidationError:
    return ValidationError(None, f"not valid JSON (an object gives the key {field_name(key)!r} twice: which "
                                 "is meant?)", name)


def json_reason(reason: str) -> str:
    """The decoder's reason, with int()'s limit on digits worded for a reader, not a programmer."""
    if "integer string conversion" in reason:
        return f"a number of more than {sys.get_int_max_str_digits():,} digits"
    return reason

def load_json(path: str | Path, progress: Progress | None = None) -> Any:
    """The whole JSON value in a file, or one line naming FILE:LINE and what is wrong. (Manifold's
    reader; one that can take a file's large list an element at a time uses json_stream.)"""
    name = str(path)
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_JSON_BYTES:
            raise json_too_large(name, size)
        data = handle.read(MAX_JSON_BYTES + 1)
    if progress:
        progress(len(data))
    values = data.count(b",") + data.count(b"[") + data.count(b"{")  # fast, an upper bound (strings too)
    if values > MAX_JSON_VALUES:
        raise json_too_many_values(name, values)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(None, "is not valid UTF-8 text", f"{name}:{line}") from None
    del data  # the text is all that is read from here: the bytes beside it would add the file's size to the peak
    try:
        return _DECODER.decode(text)
    except _DuplicateKey as exc:
        raise json_duplicate_key(name, exc.key) from None
    except RecursionError:
        raise ValidationError(None, "not valid JSON (nested too deeply)", f"{name}:1") from None
    except ValueError as exc:
        position = getattr(exc, "pos", None)
        line = text.count("\n", 0, position) + 1 if position is not None else 1
        reason = json_reason(getattr(exc, "msg", None) or str(exc))
        raise ValidationError(None, f"not valid JSON ({reason})", f"{name}:{line}") from None


MAX_CSV_LINE = 1024 * 1024  # a longer physical line holds a cell beyond csv's own field limit


def csv_lines(handle, name: str, progress: Progress | None = None) -> Iterator[str]:
    """The decoded lines of a CSV file, read a line at a time (csv.reader takes them as they
    come, quoted line breaks included): memory stays flat whatever the file's size. A "\r\n"
    line end, between records or inside a quoted cell, reads as "\n"."""
    number = 0
    while True:
        raw = handle.readline(MAX_CSV_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_CSV_LINE:
            if b"\r" in raw.rstrip(b"\r\n"):  # the whole file as one line: its lines end in a lone CR
                raise ValidationError(None, LONE_CR, f"{name}:{number}")
            raise ValidationError(None, f"has a line longer than {MAX_CSV_LINE:,} bytes", f"{name}:{number}")
        if progress:
            progress(len(raw))
        if raw.endswith(b"\r\n"):  # a file saved again on Windows: the same text, lines and cells alike
            raw = raw[:-2] + b"\n"
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ValidationError(None, "is not valid UTF-8 text", f"{name}:{number}") from None


LONE_CR = "has a line break that is a lone CR (old Mac line ends); save the file with LF or CRLF line ends"


def csv_error(exc: Exception, where: str) -> ValidationError:
    """csv's own error as one line: a lone CR outside quotes is the one csv words for programmers."""
    if "new-line character seen in unquoted field" in str(exc):
        return ValidationError(None, LONE_CR, where)
    return ValidationError(None, f"not valid CSV ({exc})", where)


def csv_header(header: list[str], columns: dict[str, tuple[str, ...]], optional: set[str] | frozenset[str],
               name: str) -> dict[str, int]:
    """Our name for each known column -> its position. A missing required column or one given
    twice is refused; a column this version does not know is left alone (platforms add them)."""
    by_header = {h: field for field, names in columns.items() for h in names}
    index: dict[str, int] = {}
    for position, column in enumerate(header):
        field = by_header.get(column.strip())
        if field is None:
            continue
        if field in index:
            raise ValidationError(column, "is a column given twice", f"{name}:1")
        index[field] = position
    for field, names in columns.items():
        if field not in index and field not in optional:
            raise ValidationError(names[0], "is a required column and is missing", f"{name}:1")
    return index


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict:
    # json keeps the last of a key given twice; another reader may keep the first: refused
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_object)


# --- values --------------------------------------------------------------------------------------
# Each checker takes the value, the field name for the message, and returns the checked value or
# raises ValidationError(field, ...); the caller adds where (FILE:LINE or FILE: JSON path).


def text(value: Any, field: str, *, optional: bool = False, single_line: bool = False) -> str | None:
    """Text the ledger will accept: the ledger's own rule (length, control characters, lines),
    once the invisible formatting characters it refuses are removed (counted, `removing_format`)."""
    if optional and (value is None or value == ""):
        return None
    # The common case without a call, as the model's own checker does: printable text (no
    # control character, line break or lone surrogate) within the limit, not all spaces.
    if type(value) is str and value.isprintable() and len(value) <= (MAX_LINE if single_line else MAX_TEXT) \
            and value.strip(" "):
        return value
    if type(value) is str and FORMAT.search(value):
        cleaned = FORMAT.sub("", value)
        counts = _FORMAT_COUNTS.get()
        if counts is not None:
            counts.add(FORMAT_REMOVED, len(value) - len(cleaned))
        value = cleaned
    return _checked_text(value, field, optional=optional, single_line=single_line)


# The invisible formatting characters (Unicode category Cf) among those the ledger refuses
# (escape.UNSAFE): zero-width joiners in emoji, RLM and LRM in right-to-left titles, soft hyphens,
# bidi embeddings and isolates, a byte-order mark, tag characters. A platform's text keeps its
# visible characters and loses these, counted; controls and separators are still refused.
FORMAT = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
                    "\ufff9-\ufffb\U000e0001-\U000e007f]")
FORMAT_REMOVED = "invisible characters in text (zero-width joiners, bidi marks: the ledger refuses them; removed)"
_FORMAT_COUNTS: contextvars.ContextVar[Skipped | None] = contextvars.ContextVar("format_counts", default=None)


@contextlib.contextmanager
def removing_format(skipped: Skipped) -> Iterator[None]:
    """While a file is read: the invisible characters `text` removes are counted in `skipped`."""
    token = _FORMAT_COUNTS.set(skipped)
    try:
        yield
    finally:
        try:
            _FORMAT_COUNTS.reset(token)
        except ValueError:  # a reader closed from another context: nothing of this one to restore
            pass


def one_line(value: Any, field: str, *, optional: bool = False) -> str | None:
    """A platform's name or one-line field: trimmed, each run of white space (line breaks and
    tabs included) one space, then checked as the ledger checks one-line text."""
    if isinstance(value, str) and (_SPACES.search(value) or value[:1] == " " or value[-1:] == " "):
        value = " ".join(value.split())
    return text(value, field, optional=optional, single_line=True)


_SPACES = re.compile(r"\s\s|[^\S ]")


def source_override(source: str | None) -> str | None:
    """The --source NAME given for a single-person export, checked like any source."""
    return None if source is None else text(source, "source (--source)", single_line=True)


def probability(value: Any, field: str, *, scale: float = 1.0, text: bool = False) -> float:
    """A finite number in [0, scale] as a probability in [0, 1]: a JSON number, or with `text`
    a CSV cell holding one (in JSON, a number written as text is the wrong type)."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not text):
        raise ValidationError(field, f"must be a number, not {kind_of(value)}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValidationError(field, f"{short(value)!r} is not a number") from None
    elif not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number, not {kind_of(value)}")
    try:
        p = float(value)
    except OverflowError:
        raise ValidationError(field, f"{str(value)[:20]}... is outside [0, {scale:g}]") from None
    if math.isnan(p) or math.isinf(p) or not 0.0 <= p <= scale:
        raise ValidationError(field, f"{p} is outside [0, {scale:g}]")
    return p / scale + 0.0


def boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(field, f"must be true or false, not {kind_of(value)}")


def iso_time(value: Any, field: str, *, optional: bool = False) -> dt.datetime | None:
    """An ISO 8601 time ('2024-01-10T10:48:02.000Z', '2024-05-01 12:34:56.123456+00:00') in UTC;
    a time without a zone is taken as UTC."""
    if value is None or value == "":
        if optional:
            return None
        raise ValidationError(field, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a time (ISO 8601 text), not {kind_of(value)}")
    if not _ISO_TIME.fullmatch(value):
        raise ValidationError(field, f"{short(value)!r} is not an ISO 8601 time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(field, f"{value!r} is not a real time ({exc})") from None
    return _utc(moment, field)


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?")


def epoch_time(value: Any, field: str, *, unit: float = 1.0, optional: bool = False) -> dt.datetime | None:
    """A number of seconds (unit 1) or milliseconds (unit 1000) since 1970 as a UTC time."""
    if value is None:
        if optional:
            return None
        raise ValidationError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number (time since 1970), not {kind_of(value)}")
    try:
        if isinstance(value, int):  # exact: no float rounding of milliseconds
            return EPOCH + dt.timedelta(microseconds=value * round(1_000_000 / unit))
        if math.isnan(value) or math.isinf(value):
            raise OverflowError
        return EPOCH + dt.timedelta(seconds=value / unit)
    except (OverflowError, ValueError):
        raise ValidationError(field, f"{short(str(value))} is not a time between the years 1 and 9999") from None


def _utc(moment: dt.datetime, field: str) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError(field, f"{moment.isoformat()} is outside the years 1 to 9999 in UTC") from None


def iso_z(moment: dt.datetime) -> str:
    """A UTC time as the ledger writes it, for keys and evidence: 2025-03-02T10:00:07Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def tag(name: str) -> str | None:
    """A platform's tag or category as a ledger tag: lower case, accents dropped, every run of
    other characters one '-', at most 40 characters. None when nothing is left."""
    if TAG_PATTERN.fullmatch(name):
        return name
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9._]+", "-", plain).strip("-._")[:40].rstrip("-._")
    return slug or None


def tags(names: list[str], skipped: Skipped) -> tuple[str, ...]:
    out = set()
    for name in names:
        if not name.strip():
            continue
        converted = tag(name.strip())
        if converted is None:
            skipped.add("tags with no letter or digit")
        else:
            out.add(converted)
    return tuple(sorted(out))


def kind_label(kind: str) -> str:
    """'MULTIPLE_CHOICE' or 'multiple_choice' -> 'multiple-choice questions'."""
    return f"{kind.strip().lower().replace('_', '-') or 'untyped'} questions"


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "text", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def short(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "..."


def fit_criteria(value: str, url: str | None) -> str:
    """Criteria longer than the ledger holds are cut, saying so and where the rest is."""
    if len(value) <= MAX_TEXT:
        return value
    tail = f" [... cut at {MAX_TEXT:,} characters; the rest is on {url or 'the platform'}]"
    return value[: MAX_TEXT - len(tail)] + tail


# --- JSON values, located by their path: FILE:predictions[3].responses[0] ---------------------------


def obj(value: Any, where: str, what: str = "an object") -> dict:
    if not isinstance(value, dict):
        raise ValidationError(None, f"must be {what}, not {kind_of(value)}", where)
    return value


def array(value: Any, where: str, what: str = "a list") -> list:
    if not isinstance(value, list):
        raise ValidationError(None, f"must be {what}, not {kind_of(value)}", where)
    return value


def get(record: dict, key: str, where: str, check: Callable[..., Any], **options: Any) -> Any:
    """`check(record[key], key, **options)`, its error located at `where`."""
    return checked(record.get(key), key, where, check, **options)


def checked(value: Any, field: str, where: str, check: Callable[..., Any], **options: Any) -> Any:
    """`check(value, field, **options)`, its error located at `where`."""
    try:
        return check(value, field, **options)
    except ValidationError as exc:
        raise exc.located(where) from None


def listed(record: dict, key: str, where: str, what: str = "a list") -> list:
    """record[key], a list; a missing key or null is an empty one (any other type is refused)."""
    value = record.get(key)
    return [] if value is None else array(value, where, what)


def identifier(value: Any, field: str, *, optional: bool = False) -> str | None:
    """A platform id: an integer or a short one-line text, as text."""
    if value is None and optional:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise ValidationError(field, "is not an id (an integer out of range)")
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= 100 and value.isprintable() and "/" not in value:
        return value
    if value is None:
        raise ValidationError(field, "is required")
    raise ValidationError(field, f"is not an id (an integer or up to 100 printable characters), but {kind_of(value)}")


def with_forecasts(question: PlatformQuestion, forecasts: tuple[PlatformForecast, ...], again: bool = False) -> PlatformQuestion:
    return attrs.evolve(question, forecasts=forecasts, again=again)


def check_single_source(source: str | None, name: str, where: str, forecasters: dict[str, str]) -> None:
    """With --source, the file must be one forecaster's: a second name is refused, not renamed."""
    if source is None:
        return
    forecasters.setdefault(name, where)
    if len(forecasters) > 1:
        first, second = list(forecasters)[:2]
        raise ValidationError(
            "source (--source)", f"names one forecaster, but the file holds forecasts by {first!r} "
            f"(at {forecasters[first]}) and by {second!r}: import it without --source", where)
