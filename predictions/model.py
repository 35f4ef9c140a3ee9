"""The values the ledger holds: questions, the forecasts made on them, documents and resolutions.

Every class is frozen and validates itself on construction, so a value that exists is a value the
ledger would accept. Validation errors are `ValidationError`s naming the field. The classes know
nothing of SQLite: `to_record()` / `from_record()` convert to and from plain JSON-able dicts, the
one format shared by the hash chain, export and import.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import json
import json.encoder as _json_c
import math
import operator
import re
from typing import Any, ClassVar, Iterator

import attrs

from .errors import ValidationError, excerpt, field_name, shown
from .escape import UNSAFE

OUTCOMES = ("yes", "no", "ambiguous", "annulled")
SCORED_OUTCOMES = ("yes", "no")
PROBABILITY_BASES = ("stated", "verbal", "assigned")
SOURCE_KINDS = ("outlet", "person", "organisation", "estimate", "other")

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{2,39}")
TAG_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
MAX_TEXT = 20_000  # characters in a free-text field: a long article quote fits, a pasted book does not
MAX_LINE = 300  # characters in a one-line field (source, phrase, deadline wording, title)

# Free text may hold line breaks (\n, \r) and tabs; one-line text none of these. Neither may hold
# another control character, nor a character that is invisible or reorders how text is shown
# (escape.UNSAFE: C1 controls, bidi overrides and isolates, zero-width characters...): they make
# look-alike source names and text that displays as something else.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what every version has refused
_LINE_BREAK = re.compile(r"[\r\n\t]")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_STORED = contextvars.ContextVar("stored_values", default=False)


@contextlib.contextmanager
def stored_values() -> Iterator[None]:
    """Values read back from a ledger file are checked by the rules every version applied (no C0
    control), not the newer ones: a forecast an earlier version recorded with a zero-width or bidi
    character still reads (output escapes it: predictions.escape). New input gets every rule."""
    token = _STORED.set(True)
    try:
        yield
    finally:
        _STORED.reset(token)


def _unsafe_character(value: str, single_line: bool) -> str | None:
    """Why `value` may not be recorded, for the first character that makes it unsafe, or None."""
    if _CONTROL.search(value):
        return "contains a control character (such as NUL); remove it"
    if single_line and _LINE_BREAK.search(value):
        return "must be a single line"
    if _STORED.get():
        return None
    layout = "" if single_line else "\t\n\r"
    match = next((m for m in UNSAFE.finditer(value) if m.group() not in layout), None)
    if match is None:
        return None
    char = match.group()
    code = f"U+{ord(char):04X}"
    if "\x80" <= char <= "\x9f":
        return f"contains a control character ({code}, a C1 control); remove it"
    if char in _BIDI:
        return f"contains {code}, an invisible bidi control that changes how text is shown; remove it"
    if char in "\u2028\u2029":
        return "must be a single line" if single_line else f"contains {code}, a line or paragraph separator; use a newline"
    return f"contains {code}, an invisible character (it makes look-alike text); remove it"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


# --- field checks ------------------------------------------------------------------------------


def _checked_text(value: Any, field: str, *, optional: bool, single_line: bool) -> str | None:
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise ValidationError(field, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, not {type(value).__name__}")
    limit = MAX_LINE if single_line else MAX_TEXT
    if len(value) > limit:  # first: nothing below runs over a value that is refused anyway
        raise ValidationError(field, f"is {len(value):,} characters long; the limit is {limit:,}")
    if not value.strip():
        if optional:
            return None
        raise ValidationError(field, "must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: undecodable bytes on a command line, or "\ud800" in JSON
        raise ValidationError(
            field, "is not valid Unicode text (it holds a lone surrogate, e.g. from bytes that are not UTF-8)"
        ) from None
    problem = _unsafe_character(value, single_line)
    if problem:
        raise ValidationError(field, problem)
    return value


def _text_checker(field: str, *, optional: bool, single_line: bool):
    """`_checked_text` for one field, answering the common case without a call.

    Printable text (`str.isprintable`) holds no control character, line break, tab or lone
    surrogate, and its only whitespace is the space; such a value within the length limit and not
    all spaces is returned as it is, which is what `_checked_text` would do. Everything else goes
    through `_checked_text`, so every refusal (and its message) comes from that one place.
    """
    limit = MAX_LINE if single_line else MAX_TEXT
    TEXT_LIMITS[field] = limit

    def check(value: Any) -> str | None:
        if type(value) is str and len(value) <= limit and value.isprintable() and value.strip(" "):
            return value
        if value is None and optional:  # an absent optional field, a dozen times a record: as _checked_text says
            return None
        return _checked_text(value, field, optional=optional, single_line=single_line)

    return check


# The length limit of every text field, by field name ("claim", "document.title"): filled in as the
# classes below are defined, so that a record can be checked for lengths before any other work.
TEXT_LIMITS: dict[str, int] = {}


def check_lengths(values: dict[str, Any], prefix: str = "") -> None:
    """Refuse a text value longer than its field allows, before anything hashes, parses or copies it."""
    for key, value in values.items():
        if type(value) is str:
            limit = TEXT_LIMITS.get(prefix + key)
            if limit is not None and len(value) > limit:
                raise ValidationError(prefix + key, f"is {len(value):,} characters long; the limit is {limit:,}")
        elif type(value) is dict and not prefix and key == "document":
            check_lengths(value, "document.")


def _text(field: str, *, single_line: bool = False):
    return attrs.Converter(_text_checker(field, optional=False, single_line=single_line))


def _optional_text(field: str, *, single_line: bool = False):
    return attrs.Converter(_text_checker(field, optional=True, single_line=single_line))


def parse_date(value: Any, field: str) -> dt.date:
    """A date from a `date` or an ISO `YYYY-MM-DD` string; anything else is refused."""
    if type(value) is str:  # the common case first: every imported date is text
        return _parse_iso_date(value, field)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _parse_iso_date(value, field)
    raise ValidationError(field, f"must be a date (YYYY-MM-DD), not {type(value).__name__}")


@functools.lru_cache(maxsize=4096)  # imports repeat the same few thousand dates many times
def _parse_iso_date(value: str, field: str) -> dt.date:
    if len(value) > 40:  # a date padded with more spaces than this is not one (and is not cached)
        raise ValidationError(field, f"{excerpt(value)} is not a date in YYYY-MM-DD form")
    text = value.strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError(field, f"{excerpt(value)} is not a real date ({exc})") from None
    raise ValidationError(field, f"{excerpt(value)} is not a date in YYYY-MM-DD form")


def _date(field: str):
    return attrs.Converter(lambda v: parse_date(v, field))


def _optional_date(field: str):
    return attrs.Converter(lambda v: None if v in (None, "") else parse_date(v, field))


def parse_probability(value: Any, field: str = "probability") -> float:
    """A float in [0, 1]. Strings such as "0.7" are accepted; NaN, inf and booleans are not."""
    if isinstance(value, bool):
        raise ValidationError(field, "must be a number between 0 and 1, not a boolean")
    if isinstance(value, str):
        text = value.strip() if len(value) <= 100 else value  # no probability is written in 100 characters
        try:
            if len(text) > 100:
                raise ValueError
            value = float(text)
        except ValueError:
            raise ValidationError(field, f"{excerpt(text)} is not a number") from None
    if not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number between 0 and 1, not {type(value).__name__}")
    try:
        p = float(value)
    except OverflowError:  # an integer too large for a float (JSON allows any length)
        raise ValidationError(field, f"{str(value)[:20]}... is outside [0, 1]") from None
    if math.isnan(p) or math.isinf(p):
        raise ValidationError(field, f"must be a number between 0 and 1, not {p}")
    if not 0.0 <= p <= 1.0:
        raise ValidationError(field, f"{p} is outside [0, 1]")
    return p + 0.0  # -0.0 becomes 0.0: SQLite keeps no negative zero, so the chain must not either


def _choice(field: str, choices: tuple[str, ...], optional: bool = False):
    def convert(value):
        if value in (None, "") and optional:
            return None
        if value not in choices:
            raise ValidationError(field, f"{shown(value)} is not one of {', '.join(choices)}")
        return value

    return attrs.Converter(convert)


def parse_flag(value: Any, field: str) -> bool:
    """true/false, 1/0 (or their text), or empty text for false."""
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and len(value) <= 10 and value.strip().lower() in ("true", "false", "1", "0", ""):
        return value.strip().lower() in ("true", "1")
    raise ValidationError(field, f"must be true or false, not {shown(value)}")


def _flag(field: str):
    return attrs.Converter(lambda value: parse_flag(value, field))


def _tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "" or value == () or value == []:
        return ()
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("tags", f"must be a list of tags, not {type(value).__name__}")
    tags = set()
    for tag in value:
        if not isinstance(tag, str):
            raise ValidationError("tags", f"each tag must be text, not {type(tag).__name__}")
        typed, tag = tag, normalise_tag(tag)
        if not TAG_PATTERN.fullmatch(tag):
            raise ValidationError(
                "tags", f"{excerpt(typed)} is not a tag: use letters, digits, '.', '_' or '-' (at most 40)"
            )
        tags.add(tag)
    return tuple(sorted(tags))


def normalise_tag(tag: str) -> str:
    """A tag as stored: stripped, and lower case when it is ASCII ("Tech" is "tech"). Other text is
    left as typed, so that a look-alike (the Kelvin sign lower-cases to "k") is refused, not merged."""
    tag = tag.strip() if len(tag) <= 100 else tag
    return tag.lower() if tag.isascii() else tag


def check_id(value: Any, field: str = "id") -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValidationError(
            field,
            f"{shown(value)} is not an id: 3-40 characters of lower-case letters, digits and '-', "
            "starting with a letter or digit",
        )
    return value


# Built once: json.dumps with keyword arguments builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The C encoder that _CANONICAL.encode builds anew on every call (JSONEncoder.iterencode), built
# once with the same settings: the same bytes for every value (a property test compares them),
# without the per-call set-up that was a fifth of the encoding time. No `markers`: a payload is
# never circular, and a value nested too deeply still raises RecursionError.
try:
    _C_ENCODER = _json_c.c_make_encoder(
        None, _CANONICAL.default, _json_c.encode_basestring, None, ":", ",", True, False, False
    )
except TypeError:  # no C encoder (None is not callable), or one with other parameters: encode's own path
    _C_ENCODER = None


def canonical_json(value: Any) -> str:
    """The one serialisation used for hashing: sorted keys, no spaces, UTF-8 text, no NaN."""
    if _C_ENCODER is None or type(value) is not dict:  # a lone str or number: encode's own path
        return _CANONICAL.encode(value)
    return "".join(_C_ENCODER(value, 0))


def utc_now() -> str:
    """The current time as the ledger records it: ISO 8601, UTC, microseconds, 'Z'."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_timestamp(value: Any, field: str = "recorded_at") -> str:
    if not isinstance(value, str):  # before the cache, which cannot hash a list (nor should hold one)
        raise ValidationError(field, f"{shown(value)} is not a UTC timestamp like 2026-11-22T09:30:00Z")
    return _check_timestamp(value, field)


@functools.lru_cache(maxsize=1024)  # an import stamps every record with the same time
def _check_timestamp(value: str, field: str) -> str:
    if not _TIMESTAMP.fullmatch(value):
        raise ValidationError(field, f"{shown(value)} is not a UTC timestamp like 2026-11-22T09:30:00Z")
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(field, f"{value!r} is not a real time ({exc})") from None
    return value


@functools.lru_cache(maxsize=None)
def _required(cls: type) -> tuple[str, ...]:
    """The fields of `cls` without a default, in field order."""
    return tuple(field.name for field in attrs.fields(cls) if field.default is attrs.NOTHING)


def _require(cls: type, values: dict[str, Any]) -> None:
    """Refuse a record that lacks a field without a default, naming it (not attrs' TypeError)."""
    for name in _required(cls):
        if name not in values:
            raise ValidationError(name, "is required")


# --- the values --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Document:
    """Where a forecast was published. Every field is optional; an empty document is None."""

    title: str | None = attrs.field(default=None, converter=_optional_text("document.title", single_line=True))
    outlet: str | None = attrs.field(default=None, converter=_optional_text("document.outlet", single_line=True))
    author: str | None = attrs.field(default=None, converter=_optional_text("document.author", single_line=True))
    url: str | None = attrs.field(default=None, converter=_optional_text("document.url", single_line=True))
    published_on: dt.date | None = attrs.field(default=None, converter=_optional_date("document.published_on"))
    published_on_estimated: bool = attrs.field(default=False, converter=_flag("document.published_on_estimated"))
    published_text: str | None = attrs.field(
        default=None, converter=_optional_text("document.published_text", single_line=True)
    )
    note: str | None = attrs.field(default=None, converter=_optional_text("document.note"))
    file: str | None = attrs.field(default=None, converter=_optional_text("document.file", single_line=True))

    FIELDS: ClassVar[tuple[str, ...]]

    def to_record(self) -> dict[str, Any]:
        return _record_of(self)

    @classmethod
    def from_record(cls, record: Any) -> "Document | None":
        if record is None or record == {}:
            return None
        if not isinstance(record, dict):
            raise ValidationError("document", f"must be an object, not {type(record).__name__}")
        unknown = set(record) - set(cls.FIELDS)
        if unknown:
            raise ValidationError("document", f"unknown key {field_name(sorted(map(str, unknown))[0])!r}")
        document = cls(**record)
        return None if document == cls() else document

    @property
    def id(self) -> str:
        """Content-addressed: the same document metadata always gets the same id."""
        return "d" + hashlib.sha256(canonical_json(self.to_record()).encode()).hexdigest()[:15]


def _serialise(_inst: Any, _field: Any, value: Any) -> Any:
    """attrs.asdict's value_serializer: the JSON-able form of a field's value."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _record_of(value: Any) -> dict[str, Any]:
    """A value as its record: every field, in field order, dates as ISO text, tuples as lists.

    What `attrs.asdict(value, recurse=True, value_serializer=_serialise)` returns (a property test
    compares them for every class), read with one attrgetter and fixed up only in the fields
    whose annotation allows a date, a tuple or a document: asdict's per-field machinery was a
    sixth of an import's time."""
    getter, fixups = _RECORD_PLANS.get(type(value)) or _record_plan(type(value))
    record = dict(zip(value.FIELDS, getter(value)))
    for name, kind in fixups:
        item = record[name]
        if item is None:
            continue
        if kind == "date" and type(item) is dt.date:
            record[name] = item.isoformat()
        elif kind == "tuple" and type(item) is tuple:
            record[name] = list(item)
        elif kind == "document" and type(item) is Document:
            record[name] = _record_of(item)
        else:  # not the type its annotation says (no converter returns one): what asdict gives
            return attrs.asdict(value, recurse=True, value_serializer=_serialise)
    return record


_RECORD_PLANS: dict[type, tuple[Any, tuple[tuple[str, str], ...]]] = {}


def _record_plan(cls: type) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """How `_record_of` reads a class: its fields' getter, and the fields to fix up, by annotation
    ("dt.date | None" a date, "tuple[str, ...]" a tuple, "Document | None" a document). A field
    annotated otherwise holds text, a number, a flag or None, which asdict returns as it is."""
    fixups = []
    for field in attrs.fields(cls):
        annotation = str(field.type)
        for kind, marker in (("date", "dt.date"), ("tuple", "tuple["), ("document", "Document")):
            if marker in annotation:
                fixups.append((field.name, kind))
    plan = (operator.attrgetter(*cls.FIELDS), tuple(fixups))
    _RECORD_PLANS[cls] = plan
    return plan


def _from_record(cls: type, record: Any, what: str) -> Any:
    """Build `cls` from a record as `to_record()` writes it. Unknown or missing keys are refused."""
    if not isinstance(record, dict):
        raise ValidationError(None, f"a {what} record must be an object, not {type(record).__name__}")
    unknown = sorted(record.keys() - set(cls.FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "is not a known key")
    _require(cls, record)
    return cls(**record)


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(cls))


@attrs.frozen(kw_only=True)
class Question:
    """What is forecast: an operationalised yes/no question with its criteria and deadline.

    Many forecasts (several sources, or one source's updates) may be made on one question; its
    resolution (in Resolution, append-only) settles every one of them.
    """

    id: str = attrs.field(converter=attrs.Converter(check_id))
    question: str | None = attrs.field(default=None, converter=_optional_text("question"))
    resolution_criteria: str = attrs.field(converter=_text("resolution_criteria"))
    deadline: dt.date = attrs.field(converter=_date("deadline"))
    deadline_text: str | None = attrs.field(default=None, converter=_optional_text("deadline_text", single_line=True))
    deadline_assumed: bool = attrs.field(default=False, converter=_flag("deadline_assumed"))
    tags: tuple[str, ...] = attrs.field(default=(), converter=attrs.Converter(_tags))
    recorded_at: str = attrs.field(converter=attrs.Converter(check_timestamp))

    FIELDS: ClassVar[tuple[str, ...]]

    def to_record(self) -> dict[str, Any]:
        """The question as plain JSON-able values: its chain payload."""
        return _record_of(self)

    @classmethod
    def from_record(cls, record: Any) -> "Question":
        return _from_record(cls, record, "question")


@attrs.frozen(kw_only=True)
class Forecast:
    """One forecast as it was made, on one question. Never changes once recorded."""

    id: str = attrs.field(converter=attrs.Converter(check_id))
    question_id: str = attrs.field(converter=attrs.Converter(lambda v: check_id(v, "question_id")))
    source: str = attrs.field(converter=_text("source", single_line=True))
    source_kind: str | None = attrs.field(default=None, converter=_choice("source_kind", SOURCE_KINDS, optional=True))
    document: Document | None = attrs.field(default=None, converter=attrs.Converter(lambda v: Document.from_record(v) if isinstance(v, dict) else v))
    claim: str | None = attrs.field(default=None, converter=_optional_text("claim"))
    quote: str | None = attrs.field(default=None, converter=_optional_text("quote"))
    made_on: dt.date = attrs.field(converter=_date("made_on"))
    probability: float = attrs.field(converter=attrs.Converter(parse_probability))
    probability_basis: str = attrs.field(converter=_choice("probability_basis", PROBABILITY_BASES))
    phrase: str | None = attrs.field(default=None, converter=_optional_text("phrase", single_line=True))
    note: str | None = attrs.field(default=None, converter=_optional_text("note"))
    recorded_at: str = attrs.field(converter=attrs.Converter(check_timestamp))

    FIELDS: ClassVar[tuple[str, ...]]

    def __attrs_post_init__(self):
        if self.probability_basis == "verbal" and self.phrase is None:
            raise ValidationError("phrase", "is required when probability_basis is verbal")
        if self.document is not None and not isinstance(self.document, Document):
            raise ValidationError("document", "must be a Document")

    def to_record(self) -> dict[str, Any]:
        """The forecast as plain JSON-able values: its chain payload and the core of an export."""
        return _record_of(self)

    @classmethod
    def from_record(cls, record: Any) -> "Forecast":
        return _from_record(cls, record, "forecast")

    @staticmethod
    def content_id(record: dict[str, Any]) -> str:
        """A stable id for a forecast recorded without one: a hash of what was forecast.

        The question's criteria and deadline are part of it, as they were before forecasts
        shared questions, so that the same forecast recorded again derives the same id."""
        keys = ("source", "claim", "made_on", "deadline", "probability", "resolution_criteria")
        content = {k: str(_normalised(k, record.get(k))) for k in keys}
        # surrogatepass: text that is not valid Unicode is refused, naming its field, just after this
        return hashlib.sha256(canonical_json(content).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _normalised(key: str, value: Any) -> Any:
    """The value as it will be stored, so that "0.50" and 0.5, or " 2026-01-01" and a date, hash alike."""
    if isinstance(value, (list, dict)):  # refused when the Forecast is built; str() of it could recurse
        return type(value).__name__
    try:
        if key in ("made_on", "deadline"):
            return parse_date(value, key)
        if key == "probability":
            return parse_probability(value)
    except ValidationError:
        pass  # refused later, with the field named, when the Forecast is built
    return value


def check_forecast_on(question: Question, forecast: Forecast) -> None:
    """The rules between a forecast and its question."""
    if forecast.question_id != question.id:
        raise ValidationError("question_id", f"{forecast.question_id!r} is not the question {question.id!r}")
    if question.deadline < forecast.made_on:
        raise ValidationError("deadline", f"{question.deadline} is before made_on {forecast.made_on}")


@attrs.frozen(kw_only=True)
class Resolution:
    """An outcome recorded for a question. Appended, never changed: a correction is a new one."""

    question_id: str = attrs.field(converter=attrs.Converter(lambda v: check_id(v, "question_id")))
    outcome: str = attrs.field(converter=_choice("outcome", OUTCOMES))
    resolved_on: dt.date = attrs.field(converter=_date("resolved_on"))
    evidence: str = attrs.field(converter=_text("evidence"))
    note: str | None = attrs.field(default=None, converter=_optional_text("note"))
    correction_reason: str | None = attrs.field(default=None, converter=_optional_text("correction_reason"))
    early_reason: str | None = attrs.field(default=None, converter=_optional_text("early_reason"))
    recorded_at: str = attrs.field(converter=attrs.Converter(check_timestamp))
    recorded_by: str | None = attrs.field(
        default=None, converter=_optional_text("recorded_by", single_line=True)
    )

    FIELDS: ClassVar[tuple[str, ...]]

    def to_record(self) -> dict[str, Any]:
        return _record_of(self)

    @classmethod
    def from_record(cls, record: Any) -> "Resolution":
        return _from_record(cls, record, "resolution")


for _cls in (Document, Question, Forecast, Resolution):
    _cls.FIELDS = _fields(_cls)  # one source of truth: the attrs fields, in order


_CORRECTED = ("outcome", "resolved_on", "evidence", "note", "early_reason")  # what a correction may change


def _same(a: Any, b: Any) -> bool:
    """Equal, counting texts that differ only in spacing as the same (such a correction changes nothing)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.split() == b.split()
    return a == b


def check_resolution(
    question: Question, first_made_on: dt.date, current: Resolution | None, new: Resolution, today: dt.date,
    *, restored: bool = False,
) -> None:
    """The rules a new resolution must satisfy, given the question, the day its first forecast was
    made and its current resolution.

    `restored`: it comes from an export with its own recorded_at, recorded under the rules of its
    day; the two rules added later (an early reason only on an early NO, no correction that
    changes nothing) are not applied to it, so that every export imports.
    """
    if new.resolved_on > today:
        raise ValidationError("resolved_on", f"{new.resolved_on} is in the future (today is {today})")
    if new.resolved_on < first_made_on:
        raise ValidationError(
            "resolved_on", f"{new.resolved_on} is before the forecast was made ({first_made_on})"
        )
    if current is not None and new.correction_reason is None:
        raise ValidationError(
            "correction_reason",
            f"{question.id} is already resolved {current.outcome} on {current.resolved_on}; "
            "resolving it again is a correction and needs a reason",
        )
    if current is None and new.correction_reason is not None:
        raise ValidationError("correction_reason", f"{question.id} has no resolution to correct")
    if not restored and current is not None and all(_same(getattr(new, k), getattr(current, k)) for k in _CORRECTED):
        raise ValidationError(
            "correction_reason",
            f"changes nothing: {question.id} is already resolved {current.outcome} on {current.resolved_on} "
            "with the same evidence, note and early reason",
        )
    if new.outcome == "yes" and new.resolved_on > question.deadline:
        raise ValidationError(
            "resolved_on",
            f"{new.resolved_on} is after the deadline {question.deadline}: "
            "a forecast that came true late resolves no",
        )
    early_no = new.outcome == "no" and new.resolved_on < question.deadline
    if early_no and new.early_reason is None:
        raise ValidationError(
            "early_reason",
            f"resolving no on {new.resolved_on}, before the deadline {question.deadline}, "
            "needs a reason why it can no longer come true",
        )
    if not restored and not early_no and new.early_reason is not None:
        raise ValidationError(
            "early_reason",
            f"is only for a no resolved before the deadline ({question.deadline}); "
            f"this is {new.outcome} on {new.resolved_on}",
        )


def status_of(question: Question, current: Resolution | None, today: dt.date) -> str:
    """open (deadline not passed), due (passed, unresolved) or resolved: a question's status, and
    that of every forecast on it."""
    if current is not None:
        return "resolved"
    return "due" if question.deadline < today else "open"


# The same rule in SQL over a questions row `q` (its outcome column is the current outcome) and an
# ISO date `today` (a parameter or an expression): what `list --status` filters by, and (as one
# CASE, `status_sql`) the forecast_status view's column. A test checks it against status_of.
STATUS_SQL = {"resolved": "q.outcome IS NOT NULL", "due": "q.outcome IS NULL AND q.deadline < {today}",
              "open": "q.outcome IS NULL AND q.deadline >= {today}"}  # fmt: skip


def status_sql(today: str) -> str:
    whens = " ".join(f"WHEN {STATUS_SQL[s].format(today=today)} THEN '{s}'" for s in ("resolved", "due"))
    return f"CASE {whens} ELSE 'open' END"
