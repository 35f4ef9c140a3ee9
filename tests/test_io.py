"""Reading and writing .jsonl, .json and .csv: FILE:LINE in every error, and lossless round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import Ledger, ValidationError
from predictions.io import CSV_COLUMNS, EXPORT_KEYS, format_of, read_records, write_records
from predictions.escape import UNSAFE
from predictions.hedges import UnknownPhraseError, probability_from_phrase
from predictions.model import TAG_PATTERN

D = dt.date
TODAY = D(2026, 11, 22)
STAMP = "2026-11-22T09:30:00.000000Z"
REQUIRED_KEYS = ("id", "source", "document", "claim", "quote", "question", "resolution_criteria", "made_on",
                 "deadline", "deadline_text", "probability", "probability_basis", "tags", "status", "outcome",
                 "resolved_on", "evidence")  # fmt: skip


def record(**overrides):
    values = {"source": "S", "claim": "C", "resolution_criteria": "K", "made_on": "2026-01-01",
              "deadline": "2026-06-01", "probability": 0.5}  # fmt: skip
    values.update(overrides)
    return values


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def jsonl(path: Path, *records) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def import_error(ledger: Ledger, path: Path) -> str:
    before = ledger.head()
    with pytest.raises(ValidationError) as caught:
        ledger.import_records(read_records(path), today=TODAY)
    assert ledger.head() == before and ledger.count() == before.seq  # all or nothing
    return str(caught.value)


# --- formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.json", "json"), ("a.CSV", "csv")])
def test_format_from_the_file_name(name, fmt):
    assert format_of(name) == fmt


def test_unknown_suffix_is_refused():
    with pytest.raises(ValidationError) as caught:
        format_of("forecasts.txt")
    assert str(caught.value) == "cannot tell the format of forecasts.txt: name it .jsonl, .json or .csv"
    assert format_of("forecasts.txt", "csv") == "csv"


def test_export_keys_include_the_issues_contract():
    assert set(REQUIRED_KEYS) <= set(EXPORT_KEYS)
    assert CSV_COLUMNS[:4] == ("id", "question_id", "source", "source_kind")
    assert "document.title" in CSV_COLUMNS and "document" not in CSV_COLUMNS


def test_missing_file(tmp_path):
    with pytest.raises(ValidationError) as caught:
        list(read_records(tmp_path / "none.jsonl"))
    assert str(caught.value) == f"cannot read {tmp_path / 'none.jsonl'}: No such file or directory"


# --- JSON Lines -----------------------------------------------------------------------------------


def test_jsonl_reads_records_with_their_lines_skipping_blank_ones(tmp_path):
    path = write(tmp_path / "a.jsonl", json.dumps(record()) + "\n\n  \n" + json.dumps(record(claim="D")) + "\n")
    assert [(where, r["claim"]) for where, r in read_records(path)] == [(f"{path}:1", "C"), (f"{path}:4", "D")]


def test_jsonl_validation_error_names_file_line_and_field(ledger, tmp_path):
    path = jsonl(tmp_path / "a.jsonl", record(), record(claim="D", probability=1.5))
    assert import_error(ledger, path) == f"{path}:2: field probability: 1.5 is outside [0, 1]"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"source": "S",', "not valid JSON (Expecting property name enclosed in double quotes)"),
        ('{"probability": NaN}', "not valid JSON (NaN is not allowed)"),
        ('{"probability": Infinity}', "not valid JSON (Infinity is not allowed)"),
    ],
)
def test_jsonl_syntax_errors(ledger, tmp_path, line, message):
    path = write(tmp_path / "a.jsonl", json.dumps(record()) + "\n" + line + "\n")
    assert import_error(ledger, path) == f"{path}:2: {message}"


def test_jsonl_bad_utf8_names_the_line_once(ledger, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(json.dumps(record()).encode() + b"\n\xff\xfe\n")
    assert import_error(ledger, path) == f"{path}:2: is not valid UTF-8 text"


def test_jsonl_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record()).encode() + b"\n")
    assert [r["claim"] for _, r in read_records(path)] == ["C"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"a record"', "a record must be an object, not str"),
        ('{"colour": "red"}', "field colour: is not a known key"),
        (json.dumps(record(made_on="2026-02-30")), "field made_on: '2026-02-30' is not a real date (day is out of range for month)"),
        (json.dumps(record(deadline="2025-12-31")), "field deadline: 2025-12-31 is before made_on 2026-01-01"),
        (json.dumps(record(deadline=None, deadline_text="eventually")),
         "field deadline_text: 'eventually' does not name a deadline: use a span ('within 18 months'), a period "
         "('by the end of 2026', 'by Q3 2026', 'by March 2027') or a date ('by December 31, 2026', YYYY-MM-DD)"),
        (json.dumps(record(probability=None, phrase="perhaps")), "field phrase: 'perhaps' is not on the hedge scale"),
        (json.dumps(record(probability=None)), "field probability: is required (give a number or a hedge phrase)"),
        (json.dumps({k: v for k, v in record().items() if k != "claim"}), "field claim: is required"),
        (json.dumps(record(outcome="maybe", resolved_on="2026-02-01", evidence="e")),
         "field outcome: 'maybe' is not one of yes, no, ambiguous, annulled"),
        (json.dumps(record(outcome="yes", resolved_on="2026-12-01", evidence="e", deadline="2027-01-01")),
         "field resolved_on: 2026-12-01 is in the future (today is 2026-11-22)"),
        (json.dumps(record(outcome="yes", evidence="e")), "field resolved_on: is required when an outcome is given"),
        (json.dumps(record(resolved_on="2026-02-01")), "field outcome: is required when resolved_on is given"),
        (json.dumps(record(resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e"},
                                        {"outcome": "no", "resolved_on": "2026-06-01", "evidence": "f"}])),
         "field resolutions[1].correction_reason: "),
        (json.dumps(record(resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e", "why": 1}])),
         "field resolutions[0].why: is not a known key"),
        (json.dumps(record(resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": ""}])),
         "field resolutions[0].evidence: must not be empty"),
        (json.dumps(record(probability=10**400)), "field probability: 10000000000000000000... is outside [0, 1]"),
        (json.dumps(record(outcome="no", resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e"}])),
         "field outcome: 'no' disagrees with the last entry of resolutions"),
        (json.dumps(record(evidence="f", resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e"}])),
         "field evidence: 'f' disagrees with the last entry of resolutions"),
        (json.dumps(record(resolved_on="2026-02-02", resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e"}])),
         "field resolved_on: '2026-02-02' disagrees with the last entry of resolutions"),
        # an early_reason beside a history that has none is refused, not silently dropped
        (json.dumps(record(early_reason="dissolved", resolutions=[{"outcome": "no", "resolved_on": "2026-02-01",
                                                                   "evidence": "e", "early_reason": "repealed"}])),
         "field early_reason: 'dissolved' disagrees with the last entry of resolutions"),
        (json.dumps(record(early_reason="dissolved", resolutions=[{"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e"}])),
         "field early_reason: 'dissolved' disagrees with the last entry of resolutions"),
    ],
)  # fmt: skip
def test_record_errors_name_the_field(ledger, tmp_path, value, message):
    path = write(tmp_path / "a.jsonl", json.dumps(record(claim="fine")) + "\n" + value + "\n")
    assert import_error(ledger, path).startswith(f"{path}:2: {message}")


def test_flat_keys_agreeing_with_the_history_are_compared_as_values(ledger, tmp_path):
    history = [{"outcome": "no", "resolved_on": "2026-02-01", "evidence": "e", "early_reason": "gone"}]
    path = jsonl(tmp_path / "a.jsonl", record(outcome="no", resolved_on=" 2026-02-01", evidence="e",
                                              early_reason="gone", resolutions=history))  # fmt: skip
    ledger.import_records(read_records(path), today=TODAY)
    assert ledger.history(ledger.forecasts()[0].id)[0].resolved_on == D(2026, 2, 1)


def test_duplicate_ids_in_one_file_and_against_the_ledger(ledger, tmp_path):
    path = jsonl(tmp_path / "a.jsonl", record(id="one"), record(id="two", claim="D"), record(id="one", claim="E"))
    assert import_error(ledger, path) == f"{path}:3: field id: 'one' appears twice in this input"
    ledger.import_records(read_records(jsonl(tmp_path / "b.jsonl", record(id="two"))), today=TODAY)
    path = jsonl(tmp_path / "c.jsonl", record(id="three"), record(id="two", claim="D"))
    assert import_error(ledger, path) == f"{path}:2: field id: 'two' is already in the ledger"


# --- JSON arrays ----------------------------------------------------------------------------------


def test_json_array_records_are_located_by_their_first_line(tmp_path):
    text = "[\n" + json.dumps(record(), indent=2) + ",\n" + json.dumps(record(claim="D"), indent=2) + "\n]\n"
    path = write(tmp_path / "a.json", text)
    second = text.count("\n", 0, text.index('"claim": "D"')) + 1 - 2  # the '{' two lines above the claim
    assert [where for where, _ in read_records(path)] == [f"{path}:2", f"{path}:{second}"]


def test_json_error_names_the_line(ledger, tmp_path):
    path = write(tmp_path / "a.json", "[\n" + json.dumps(record()) + ",\n" + json.dumps(record(claim="")) + "\n]")
    assert import_error(ledger, path) == f"{path}:3: field claim: must not be empty"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"source": "S"}', "1: a .json file must hold an array of forecast objects"),
        ("", "1: a .json file must hold an array of forecast objects"),
        ('[\n{"a": 1}\n{"b": 2}]', "3: expected ',' or ']' between records"),
        ('[\n{"a": 1},\n{"b": }]', "3: not valid JSON (Expecting value)"),
        ('[{"source": "S"}] extra', "1: unexpected text after the array"),
    ],
)
def test_json_syntax_errors(tmp_path, text, message):
    path = write(tmp_path / "a.json", text)
    with pytest.raises(ValidationError) as caught:
        list(read_records(path))
    assert str(caught.value) == f"{path}:{message}"


def test_empty_json_array(tmp_path):
    assert list(read_records(write(tmp_path / "a.json", " [ ] "))) == []


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_rows_spanning_lines_are_located_by_their_first_line(ledger, tmp_path):
    path = write(
        tmp_path / "a.csv",
        "source,claim,resolution_criteria,made_on,deadline,probability\n"
        'S,"multi\nline, with comma",K,2026-01-01,2026-06-01,0.5\n'
        "S,C,K,2026-13-01,2026-06-01,0.5\n",
    )
    assert import_error(ledger, path) == f"{path}:4: field made_on: '2026-13-01' is not a real date (month must be in 1..12)"


def test_csv_cells_become_a_record(tmp_path):
    path = write(
        tmp_path / "a.csv",
        "source,claim,resolution_criteria,made_on,deadline,probability,tags,document.title,quote\n"
        'S,C,K,2026-01-01,2026-06-01,0.5,"oil,energy","A ""quoted"" title",\n',
    )
    [(where, row)] = list(read_records(path))
    assert where == f"{path}:2"
    assert row["tags"] == ["oil", "energy"]
    assert row["document"] == {"title": 'A "quoted" title'}
    assert row["quote"] is None  # an empty cell is no value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source,claim,bogus\n", "1: field bogus: is not a known column"),
        ("source,claim,claim\n", "1: field claim: is a column given twice"),
        ("source,claim\nS,C,extra\n", "2: has more cells than the header has columns"),
        ('source,resolutions\nS,"[not json"\n', "2: field resolutions: is not valid JSON (Expecting value)"),
    ],
)
def test_csv_errors(tmp_path, text, message):
    path = write(tmp_path / "a.csv", text)
    with pytest.raises(ValidationError) as caught:
        list(read_records(path))
    assert str(caught.value) == f"{path}:{message}"


def test_csv_header_only_or_empty_file_has_no_records(tmp_path):
    assert list(read_records(write(tmp_path / "a.csv", ""))) == []
    assert list(read_records(write(tmp_path / "b.csv", ",".join(CSV_COLUMNS) + "\n"))) == []


# --- writers --------------------------------------------------------------------------------------


def test_writers_on_a_small_ledger(ledger):
    ledger.add(source="S", claim='Say "hi", then\nleave', resolution_criteria="K", made_on=D(2026, 1, 1),
               deadline=D(2026, 6, 1), probability=0.25, tags=["b", "a"], document={"title": "T"})  # fmt: skip
    records = list(ledger.export_records(today=TODAY))
    out = io.StringIO()
    assert write_records(records, out, "csv") == 1
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    row = dict(zip(rows[0], rows[1]))
    assert row["claim"] == 'Say "hi", then\nleave'
    assert row["tags"] == "a,b" and row["document.title"] == "T" and row["probability"] == "0.25"
    assert row["deadline_assumed"] == "false" and row["resolutions"] == "" and row["status"] == "due"

    out = io.StringIO()
    write_records(records, out, "json")
    assert json.loads(out.getvalue()) == records
    out = io.StringIO()
    write_records(records, out, "jsonl")
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records


def test_empty_exports_are_valid_files():
    for fmt, expected in (("jsonl", ""), ("json", "[]\n"), ("csv", ",".join(CSV_COLUMNS) + "\n")):
        out = io.StringIO()
        assert write_records([], out, fmt) == 0
        assert out.getvalue() == expected


def test_unknown_output_format():
    with pytest.raises(ValidationError, match="field format: 'xml' is not one of jsonl, json, csv"):
        write_records([], io.StringIO(), "xml")


# --- round trips ----------------------------------------------------------------------------------

# Free text: any character the model accepts, including quotes, commas, newlines and emoji.
_FORBIDDEN = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# (and none of what the model refuses since: escape.UNSAFE outside newlines and tabs, a lone \r)
free_text = st.text(st.characters(codec="utf-8", exclude_characters=_FORBIDDEN + "\r"), min_size=1, max_size=40).filter(
    lambda t: t.strip() and not UNSAFE.search(t.replace("\n", "").replace("\t", "")))
line_text = st.text(st.characters(codec="utf-8", exclude_characters=_FORBIDDEN + "\r\n\t"), min_size=1, max_size=30).filter(
    lambda t: t.strip() and not UNSAFE.search(t))
tricky = st.sampled_from(['a, "quoted", b', "line one\nline two", "x\r\ny", "tab\there", "  padded  ", "é中🎯", "=1+1"])
texts = st.one_of(free_text, tricky)
lines = st.one_of(line_text, st.sampled_from(['a, "b"', "é中🎯", "'single'"]))
optional = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731
ids = st.from_regex(r"[a-z0-9][a-z0-9-]{2,12}", fullmatch=True)
tags = st.lists(st.from_regex(TAG_PATTERN, fullmatch=True), max_size=3)
days = st.dates(min_value=D(1990, 1, 1), max_value=TODAY)


def scale_value(phrase: str) -> float | None:
    try:
        return probability_from_phrase(phrase)
    except UnknownPhraseError:
        return None


@st.composite
def forecasts(draw):
    made_on = draw(days)
    deadline = made_on + dt.timedelta(days=draw(st.integers(0, 5000)))
    basis = draw(st.sampled_from(["stated", "verbal", "assigned"]))
    result = {
        "id": draw(ids),
        "source": draw(lines),
        "source_kind": draw(optional(st.sampled_from(["outlet", "person", "organisation", "estimate", "other"]))),
        "document": draw(optional(st.fixed_dictionaries({}, optional={
            "title": lines, "author": lines, "url": lines, "outlet": lines, "note": texts,
            "published_on": days.map(str), "published_on_estimated": st.booleans()}))),
        "claim": draw(texts),
        "quote": draw(optional(texts)),
        "question": draw(optional(texts)),
        "resolution_criteria": draw(texts),
        "made_on": made_on.isoformat(),
        "deadline": deadline.isoformat(),
        "deadline_text": draw(optional(lines)),
        "deadline_assumed": draw(st.booleans()),
        "probability": draw(st.floats(0, 1)),
        "probability_basis": basis,
        "phrase": draw(lines if basis == "verbal" else optional(lines)),
        "tags": draw(tags),
        "note": draw(optional(texts)),
    }  # fmt: skip
    if basis == "verbal" and scale_value(result["phrase"]) is not None:  # a verbal number is the scale's
        result["probability"] = scale_value(result["phrase"])
    history, settled = [], False
    for number in range(draw(st.integers(0, 3))):
        outcome = draw(st.sampled_from(["yes", "no", "ambiguous", "annulled"]))
        latest = min(TODAY, deadline) if outcome == "yes" else TODAY
        on = made_on + dt.timedelta(days=draw(st.integers(0, (latest - made_on).days)))
        history.append({
            # each entry's evidence its own, so that no correction repeats the entry before it
            # (a correction that changes nothing is refused)
            "outcome": outcome, "resolved_on": on.isoformat(), "evidence": f"{draw(texts)} ({number})",
            "note": draw(optional(texts)), "recorded_by": draw(optional(lines)),
            "correction_reason": draw(texts) if settled else None,
            "early_reason": draw(texts) if outcome == "no" and on < deadline else None,
        })  # fmt: skip
        settled = True
    if history:
        result["resolutions"] = history
    return result


def _round_trip(records, fmt):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        with Ledger(folder / "a.db") as first:
            first.import_records([(f"gen:{i}", r) for i, r in enumerate(records)], recorded_at=STAMP, today=TODAY)
            exported = list(first.export_records(today=TODAY))
            path = folder / f"export.{fmt}"
            with open(path, "w", encoding="utf-8", newline="") as out:
                write_records(exported, out, fmt)
            head = first.head()
        with Ledger(folder / "b.db") as second:
            second.import_records(read_records(path), recorded_at="2026-11-01T00:00:00Z", today=TODAY)  # not used: every record has its own
            assert list(second.export_records(today=TODAY)) == exported
            assert second.head() == head  # the same chain, entry for entry
            again = io.StringIO(newline="")
            write_records(second.export_records(today=TODAY), again, fmt)
        assert again.getvalue() == path.read_bytes().decode("utf-8")


round_trip_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
forecast_lists = st.lists(forecasts(), min_size=1, max_size=4, unique_by=lambda r: r["id"])


@round_trip_settings
@given(forecast_lists)
def test_jsonl_round_trip(records):
    _round_trip(records, "jsonl")


@round_trip_settings
@given(forecast_lists)
def test_json_round_trip(records):
    _round_trip(records, "json")


@round_trip_settings
@given(forecast_lists)
def test_csv_round_trip(records):
    _round_trip(records, "csv")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_round_trip_of_a_corrected_resolution_and_content_ids(fmt):
    corrected = record(id=None, claim='He said, "no"\nand left', tags=["a"], resolutions=[
        {"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "first"},
        {"outcome": "no", "resolved_on": "2026-06-01", "evidence": "second", "correction_reason": "misread"},
    ])  # fmt: skip
    _round_trip([corrected, record(claim="other", phrase="likely", probability=None, deadline=None,
                                   deadline_text="within 18 months")], fmt)  # fmt: skip
