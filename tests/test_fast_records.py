"""The import's fast record path gives what the one checker gives, or steps aside.

`fast_records.validated` must return, for any record, either None (the caller then runs
`records.forecast_from_record`, so every refusal and its message come from there) or exactly the
values that checker returns: equal and of the same types (repr compares 1 and 1.0 apart), with
the same records and so the same chain payloads. The encoder and record helpers it relies on are
compared with their references here too: `canonical_json` with `json.dumps`' canonical settings,
`to_record()` with `attrs.asdict`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from predictions import Ledger, fast_records, writer  # noqa: F401 (writer registers the adapter)
from predictions.errors import ValidationError
from predictions.model import Document, _serialise, canonical_json
from predictions.records import forecast_from_record

from .conftest import TODAY

RECORDED_AT = "2026-11-22T01:02:03.000000Z"

# Values each field may take: valid ones, often, and the near misses the checker refuses or
# rewrites (blank, padded, wrong type, too long, unsafe characters, unreal dates...).
_TEXT = st.one_of(
    st.sampled_from(["Source A", "The claim", "YES if so.", "Figure published", "x" * 300, "x" * 301, "é ü 中文"]),
    st.sampled_from(["", " ", "  padded  ", "two\nlines", "tab\there", "nul\x00", "bidi\u202e", "zw\u200b", "\ud800"]),
    st.text(max_size=12),
    st.none(),
    st.integers(-2, 2),
    st.lists(st.text(max_size=3), max_size=2),
)
_DATE = st.one_of(
    st.sampled_from(["2025-01-15", "2025-03-01", "2026-06-30", "2026-12-31", "2027-01-01", "2020-02-30", " 2025-01-15"]),
    st.sampled_from(["2025-1-5", "", None, "٢٠٢٥-٠١-١٥", 20250115]),
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat),
)
_FIELDS = {
    "id": st.one_of(st.sampled_from(["rec-0001", "rec-0002", "Bad Id", "ab", "", None, 7]), st.from_regex(r"[a-z0-9-]{2,6}", fullmatch=True)),
    "question_id": st.sampled_from(["rec-0001", "q-0001", "", None, "Q!", 3]),
    "source": _TEXT,
    "source_kind": st.sampled_from(["outlet", "person", "", None, "robot", 1]),
    "document": st.one_of(st.none(), st.just({}), st.fixed_dictionaries({"title": _TEXT}, optional={"published_on": _DATE})),
    "claim": _TEXT,
    "quote": _TEXT,
    "made_on": _DATE,
    "probability": st.one_of(
        st.floats(0, 1), st.sampled_from([0, 1, -0.0, 1e-05, 1e-300, 0.5, 0.75, "0.75", 0.93, "0.5", " 0.25 ", "", None, True, 1.5, -0.1]),
        st.sampled_from([float("nan"), float("inf"), 10**400, "1e-5", [0.5]]),
    ),
    "probability_basis": st.sampled_from(["stated", "assigned", "verbal", "", " ", None, "guess"]),
    "phrase": st.sampled_from(["likely", "almost certain", "a hunch", "", None, "two\nlines"]),
    "note": _TEXT,
    "recorded_at": st.sampled_from(["2026-11-22T00:00:00Z", "2026-11-22T00:00:00.5Z", "2026-13-01T00:00:00Z",
                                    "2999-01-01T00:00:00Z", "yesterday", "", None, 5]),  # fmt: skip
    "question": _TEXT,
    "resolution_criteria": _TEXT,
    "deadline": _DATE,
    "deadline_text": st.sampled_from(["by the end of 2026", "within 18 months", "", None, "soonish"]),
    "deadline_assumed": st.sampled_from([True, False, "true", "0", "", None, "maybe", 2]),
    "tags": st.one_of(st.lists(st.sampled_from(["ai", "AI", " oil ", "bad tag", "\u212a", ""]), max_size=3),
                      st.sampled_from(["ai,oil", "", None, 5, ("ai",)])),  # fmt: skip
    "outcome": st.sampled_from(["yes", "no", "ambiguous", "annulled", "", None, "maybe"]),
    "resolved_on": _DATE,
    "evidence": _TEXT,
    "early_reason": st.sampled_from(["it cannot happen now", "", None, "nul\x00"]),
    "status": st.sampled_from(["resolved", "open", None]),
    "resolutions": st.one_of(st.sampled_from([None, [], "", (), "x", [5]]), st.lists(st.fixed_dictionaries(
        {"outcome": st.sampled_from(["yes", "no", "no", "maybe"]),
         "resolved_on": st.one_of(st.sampled_from(["2026-03-01", "2026-06-30", "2026-06-30"]), _DATE),
         "evidence": st.sampled_from(["Figure published", "Figure published", "It did", ""])},
        optional={"correction_reason": st.sampled_from(["misread", "misread", "", None]),
                  "early_reason": st.sampled_from(["gone", None]),
                  "recorded_at": st.sampled_from(["2026-11-20T00:00:00Z", "2999-01-01T00:00:00Z", "", "bad"]),
                  "note": _TEXT, "colour": st.just("red"), "question_id": st.just("q-0001")}), min_size=1, max_size=3)),
    "colour": st.just("red"),  # not a known key
}
_VALID = {
    "id": "rec-0001", "source": "Source A", "claim": "The claim", "resolution_criteria": "YES if so.",
    "made_on": "2025-01-15", "deadline": "2026-06-30", "probability": 0.25, "probability_basis": "assigned",
    "outcome": "no", "resolved_on": "2026-06-30", "evidence": "Figure published", "recorded_at": "2026-11-22T00:00:00Z",
}  # fmt: skip


@st.composite
def records(draw):
    """A valid import record with a few fields dropped, added or replaced by arbitrary values;
    often a new one (no recorded_at: the rules for recording apply) and with other dates."""
    record = dict(_VALID)
    if draw(st.booleans()):
        del record["recorded_at"]
    if draw(st.booleans()):
        made_on = draw(st.dates(dt.date(2024, 1, 1), TODAY + dt.timedelta(days=3)))
        deadline = made_on + dt.timedelta(days=draw(st.integers(-2, 400)))
        resolved_on = deadline + dt.timedelta(days=draw(st.integers(-300, 3)))
        record.update(made_on=made_on.isoformat(), deadline=deadline.isoformat(), resolved_on=resolved_on.isoformat())
    for key in draw(st.lists(st.sampled_from(sorted(_VALID)), max_size=2, unique=True)):
        record.pop(key, None)
    for key in draw(st.lists(st.sampled_from(sorted(_FIELDS)), max_size=3, unique=True)):
        record[key] = draw(_FIELDS[key])
    return record


def _checked(record):
    try:
        return forecast_from_record(record, recorded_at=RECORDED_AT, today=TODAY)
    except ValidationError as exc:
        return exc


_ENTRY = {k: _VALID[k] for k in ("outcome", "resolved_on", "evidence")}


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
@example({**_VALID, "resolutions": [{**_ENTRY, "question_id": "rec-0001"}]})  # a key a history entry may not have
@example({**_VALID, "resolutions": [{**_ENTRY, "outcome": "yes", "resolved_on": "2026-03-01"}]})  # the flat outcome disagrees
def test_the_fast_path_gives_the_checkers_values_or_steps_aside(record):
    fast = fast_records.validated(record, recorded_at=RECORDED_AT, today=TODAY)
    slow = _checked(record)
    if fast is None:
        return
    assert not isinstance(slow, ValidationError), f"the fast path accepted what the checker refuses: {slow}"
    assert repr(fast) == repr(slow)  # equal values of the same types (1 and 1.0 differ here)
    question, forecast, history = fast
    assert [canonical_json(v.to_record()) for v in (question, forecast, *history)] == [
        canonical_json(v.to_record()) for v in (slow[0], slow[1], *slow[2])
    ]


def test_common_records_take_the_fast_path():
    """The property above is not vacuous: the records a large import is made of (the benchmark's,
    an export's unresolved and resolved lines) do go this way, with the checker's values."""
    exported = {**_VALID, "document": None, "status": "resolved", "resolutions": [], "tags": ["ai"],
                "question_id": "rec-0001", "question": None, "deadline_text": "by mid-2026"}  # fmt: skip
    unresolved = {k: v for k, v in _VALID.items() if k not in ("outcome", "resolved_on", "evidence")}
    history = [{"outcome": "yes", "resolved_on": "2026-03-01", "evidence": "It did", "recorded_at": "2026-11-20T00:00:00Z"},
               {**{k: _VALID[k] for k in ("outcome", "resolved_on", "evidence")}, "correction_reason": "misread"}]
    resolved = {**exported, "resolutions": history}
    for record in (_VALID, exported, unresolved, resolved, {**_VALID, "probability": 1, "recorded_at": None}):
        fast = fast_records.validated(record, recorded_at=RECORDED_AT, today=TODAY)
        assert fast is not None and repr(fast) == repr(_checked(record))


def test_an_import_validates_through_the_fast_path_and_refusals_through_the_checker(tmp_path, monkeypatch):
    taken = []
    original = fast_records.validated
    monkeypatch.setattr(fast_records, "validated", lambda *a, **k: taken.append(original(*a, **k)) or taken[-1])
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.import_records([("in:1", _VALID)], recorded_at=RECORDED_AT, today=TODAY)
        bad = {**_VALID, "id": "rec-0002", "made_on": "2025-02-30"}
        try:
            ledger.import_records([("in:2", bad)], recorded_at=RECORDED_AT, today=TODAY)
        except ValidationError as exc:
            assert str(exc) == str(_checked(bad).located("in:2"))
        else:
            raise AssertionError("an unreal date was accepted")
    assert taken[0] is not None and taken[1] is None


# --- the helpers it relies on -------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from(["\ud800", "\x00\x1f\x7f\"\\/\u2028", "é"])
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1e-05, 1e-4, 9.99e-5, 5e-324, 1e16, -0.0]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=8))
def test_canonical_json_is_byte_identical_to_the_reference_encoder(value):
    reference = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert canonical_json(value) == reference


def test_canonical_json_refuses_what_the_reference_refuses():
    reference = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for value in ({"p": float("nan")}, {"p": float("inf")}, {"x": b"bytes"}, {"x": object()}, {"a": 1, 2: 3}):
        ours, theirs = _error(lambda: canonical_json(value)), _error(lambda: reference.encode(value))
        assert theirs is not None and type(ours) is type(theirs) and str(ours) == str(theirs)


def _error(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 (whatever the reference raises)
        return exc
    return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "title": st.sampled_from(["T", "Ü"]), "url": st.just("https://example.org"), "published_on": _DATE,
    "published_on_estimated": st.sampled_from([True, "true", 0]), "note": st.sampled_from(["n\nx", "n"])})))  # fmt: skip
def test_to_record_is_what_attrs_asdict_gives(record, document):
    if document is not None:
        record = {**record, "document": document}
    values = _checked(record)
    if isinstance(values, ValidationError):
        return
    question, forecast, history = values
    for value in (question, forecast, *history, *([forecast.document] if forecast.document else [])):
        expected = attrs.asdict(value, recurse=True, value_serializer=_serialise)
        assert value.to_record() == expected and list(value.to_record()) == list(expected)
        assert canonical_json(value.to_record()) == canonical_json(expected)
    assert isinstance(forecast.document, (Document, type(None)))


def test_none_binds_as_null_through_a_registered_adapter():
    """writer registers an adapter for None (binding it without sqlite3's lookup of adapters and
    conform methods); a None must still be stored as NULL."""
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT typeof(?), ? IS NULL", [None, None]).fetchone() == ("null", 1)
