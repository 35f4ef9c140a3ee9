"""Import files are streamed (issue 9, classes 5, 7 and 9): a .json array is decoded through a
window of the file, CSV row by row; deep nesting, bad UTF-8, a line without end and CSV errors are
one-line refusals naming FILE:LINE, the line where the record starts.

Speed and memory are measured in benchmarks/ (docs/performance.md), not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import Ledger, ValidationError
from predictions import io as records_io
from predictions.io import read_records

from .conftest import TODAY

SCRIPT = Path(sys.executable).with_name("predictions")
HEADER = "source,claim,resolution_criteria,made_on,deadline,probability"
ROW = "S,C,K,2026-01-01,2026-06-01,0.5"


def record(**overrides):
    return {"source": "S", "claim": "C", "resolution_criteria": "K", "made_on": "2026-01-01",
            "deadline": "2026-06-01", "probability": 0.5, **overrides}  # fmt: skip


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ValidationError) as caught:
        list(read_records(path))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300
    return message


# --- a .json array through a window of any size ---------------------------------------------------

json_texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
json_records = st.lists(st.fixed_dictionaries({"claim": json_texts}, optional={
    "note": json_texts, "n": st.integers(-10**30, 10**30), "p": st.floats(allow_nan=False, allow_infinity=False),
    "tags": st.lists(json_texts, max_size=3), "ok": st.booleans(), "none": st.none()}), max_size=8)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=json_records, indent=st.sampled_from([None, 0, 1, 2]), chunk=st.integers(1, 40),
       bom=st.booleans(), ascii_only=st.booleans())  # fmt: skip
def test_a_json_array_reads_the_same_whatever_the_window(tmp_path, monkeypatch, records, indent, chunk, bom, ascii_only):
    text = json.dumps(records, indent=indent, ensure_ascii=ascii_only)
    path = write(tmp_path / "a.json", ("\ufeff" if bom else "") + text + "\n")
    monkeypatch.setattr(records_io, "_CHUNK", chunk)
    read = list(read_records(path))
    assert [r for _, r in read] == records
    # each record is located by the line its object starts on, counted independently here
    starts, depth, in_string, escaped = [], 0, False, False
    for index, char in enumerate(text):
        if in_string:
            in_string, escaped = (not (char == '"' and not escaped)), (char == "\\" and not escaped)
        elif char == '"':
            in_string = True
        elif char in "[{":
            if depth == 1:
                starts.append(text.count("\n", 0, index) + 1)
            depth += 1
        elif char in "]}":
            depth -= 1
    assert [where for where, _ in read] == [f"{path}:{line}" for line in starts]


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_a_string_longer_than_the_window_is_read_whole(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(records_io, "_CHUNK", chunk)
    long = "é" * 5000 + '\\"'
    path = write(tmp_path / "a.json", f'[\n{{"claim": "{long}"}},\n12345678\n]')
    assert [r for _, r in read_records(path)] == [{"claim": "é" * 5000 + '"'}, 12345678]


@pytest.mark.parametrize("chunk", [2, 1 << 20])
@pytest.mark.parametrize(("text", "message"), [
    ('[\n{"a": 1},\n{"b": }]', "3: not valid JSON (Expecting value)"),
    ('[\n{"a": "never ends', "2: not valid JSON (Unterminated string starting at: line 2 column 7 (char 8))"),
    ('[\n{"a": NaN}]', "2: not valid JSON (NaN is not allowed)"),
    ('[\n{"a": 1}\n{"b": 2}]', "3: expected ',' or ']' between records"),
    ('[{"a": 1}]\n\nextra', "3: unexpected text after the array"),
    ('\n\n{"a": 1}', "3: a .json file must hold an array of forecast objects"),
])  # fmt: skip
def test_json_errors_name_their_line_whatever_the_window(tmp_path, monkeypatch, chunk, text, message):
    monkeypatch.setattr(records_io, "_CHUNK", chunk)
    path = write(tmp_path / "a.json", text)
    got = refusal(path)
    if "Unterminated" in message:  # the decoder counts within its window: only the line is ours to fix
        assert got.startswith(f"{path}:2: not valid JSON (Unterminated string starting at")
    else:
        assert got == f"{path}:{message}"


# --- deep nesting: one line, never a RecursionError (class 5) -----------------------------------------


@pytest.mark.parametrize("depth", [5_000, 1_000_000])
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_deeply_nested_json_is_a_one_line_refusal_naming_the_line(tmp_path, fmt, depth):
    nested = "[" * depth + "]" * depth
    text = {
        "jsonl": json.dumps(record()) + "\n" + '{"claim": ' + nested + "}\n",
        "json": "[\n" + json.dumps(record()) + ",\n" + '{"claim": ' + nested + "}\n]",
        "csv": f'{HEADER},resolutions\n{ROW},\n{ROW},"{nested}"\n',
    }[fmt]
    path = write(tmp_path / f"a.{fmt}", text)
    if fmt == "csv" and depth > 65_000:
        assert refusal(path) == f"{path}:3: not valid CSV (field larger than field limit (131072))"
    elif fmt == "csv":
        assert refusal(path) == f"{path}:3: field resolutions: is not valid JSON (nested too deeply)"
    else:
        assert refusal(path) == f"{path}:{2 if fmt == 'jsonl' else 3}: not valid JSON (nested too deeply)"


def test_nesting_the_decoder_accepts_is_refused_by_its_field_without_recursing(tmp_path, ledger):
    nested = "[" * 900 + "]" * 900  # within the decoder's limit: it reaches the record checks
    for key in ("source", "claim", "tags", "document", "resolutions", "unknown"):
        path = write(tmp_path / "a.jsonl", json.dumps(record())[:-1] + f', "{key}": {nested}' + "}\n")
        with pytest.raises(ValidationError) as caught:
            ledger.import_records(read_records(path), today=TODAY)
        assert str(caught.value).startswith(f"{path}:1: field {key}"), str(caught.value)
        assert len(str(caught.value)) < 300


# --- bad UTF-8 names its line in every format ---------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xed\xa0\x80"])  # not UTF-8; cut short; a surrogate
def test_invalid_utf8_names_its_line(tmp_path, monkeypatch, fmt, bad, chunk):
    monkeypatch.setattr(records_io, "_CHUNK", chunk)
    good = json.dumps(record())
    data = {
        "jsonl": f"{good}\n\n{good}\n".encode() + b'{"claim": "x' + bad + b'"}\n',
        "json": f"[\n{good},\n\n{good},\n".encode() + b'{"claim": "x' + bad + b'"}\n]',
        "csv": f'{HEADER}\n{ROW}\n"S\nS",C,K,2026-01-01,2026-06-01,0.5\n'.encode() + b"S," + bad + b",K,2026-01-01,2026-06-01,0.5\n",
    }[fmt]
    path = write(tmp_path / f"a.{fmt}", data)
    assert refusal(path) == f"{path}:{4 if fmt == 'jsonl' else 5}: is not valid UTF-8 text"


# --- CSV: the line a record starts on (class 9) -------------------------------------------------------


@pytest.mark.parametrize(("text", "line"), [
    (f"{HEADER}\n\n{ROW[:-3]}1.5\n", 3),  # after a blank line
    (f'{HEADER}\n{ROW}\nS,"two\nlines",K,2026-01-01,2026-06-01,1.5\n', 3),  # a cell over two lines
    (f"{HEADER}\r\n{ROW}\r\n{ROW[:-3]}1.5\r\n", 3),
    (f"{HEADER}\r{ROW}\r{ROW[:-3]}1.5\r", 3),  # old Mac line ends
    (f"{HEADER}\n{ROW}\r{ROW[:-3]}1.5", 3),  # a lone CR, the last line without an end
    (f'{HEADER}\nS,"C\r\rC",K,2026-01-01,2026-06-01,0.5\n{ROW[:-3]}1.5\n', 5),  # lone CRs inside a cell
])  # fmt: skip
def test_a_csv_record_error_cites_the_line_it_starts_on(tmp_path, ledger, text, line):
    path = write(tmp_path / "a.csv", text)
    with pytest.raises(ValidationError) as caught:
        ledger.import_records(read_records(path), today=TODAY)
    assert str(caught.value) == f"{path}:{line}: field probability: 1.5 is outside [0, 1]"


def test_a_csv_syntax_error_cites_the_line_its_record_starts_on(tmp_path):
    path = write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\nS,{'B' * 200_000},K,2026-01-01,2026-06-01,0.5\n")
    assert refusal(path) == f"{path}:3: not valid CSV (field larger than field limit (131072))"


def test_csv_cells_keep_their_line_breaks(tmp_path):
    path = write(tmp_path / "a.csv", f'{HEADER}\r\nS,"a\r\nb\rc\nd",K,2026-01-01,2026-06-01,0.5\r\n')
    [(where, row)] = list(read_records(path))
    assert where == f"{path}:2" and row["claim"] == "a\r\nb\rc\nd"


# --- a record without end -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_a_record_longer_than_the_limit_is_refused_in_bounded_memory(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(records_io, "MAX_RECORD", 10_000)
    monkeypatch.setattr(records_io, "_CHUNK", 1000)
    endless = "x" * 50_000  # no line break, no closing quote: /dev/zero, or a cut-off file
    text = {"jsonl": f"{json.dumps(record())}\n{endless}", "json": f'[\n{json.dumps(record())},\n{{"claim": "{endless}',
            "csv": f"{HEADER}\n{ROW}\n{endless}"}[fmt]  # fmt: skip
    path = write(tmp_path / f"a.{fmt}", text)
    assert refusal(path) == f"{path}:3: holds a record longer than 0 MB (or a string that never ends)".replace(
        ":3:", ":2:" if fmt == "jsonl" else ":3:")


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_hostile_import_files_through_the_installed_command(tmp_path, fmt):
    nested = "[" * 100_000 + "]" * 100_000
    text = {"jsonl": '{"claim": ' + nested + "}\n", "json": '[{"claim": ' + nested + "}]",
            "csv": f"{HEADER}\n{ROW}\n\nS,\xff\n"}[fmt]  # fmt: skip
    path = write(tmp_path / f"a.{fmt}", text.encode("utf-8", "surrogateescape") if fmt != "csv"
                 else text.encode("latin-1"))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}
    db = tmp_path / "l.db"
    result = subprocess.run([str(SCRIPT), "--db", str(db), "import", str(path)], capture_output=True, text=True,
                            env=env, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    expected = f"{path}:4: is not valid UTF-8 text" if fmt == "csv" else f"{path}:1: not valid JSON (nested too deeply)"
    assert result.stderr == f"Error: {expected}\n"
    assert not db.exists() or Ledger(db, create=False).count() == 0


@pytest.mark.parametrize(("data", "lines"), [(b"a\rb", ["a\r", "b"]), (b"a\r\r\n", ["a\r", "\r\n"]), (b"a\r", ["a\r"]),
                                             (b"a\r\nb\rc\n", ["a\r\n", "b\r", "c\n"]), (b"\xef\xbb\xbfa\n", ["a\n"])])  # fmt: skip
def test_csv_lines_split_where_a_file_opened_with_newline_empty_splits(tmp_path, data, lines):
    import io as stdlib_io

    with open(write(tmp_path / "a.csv", data), "rb") as handle:
        assert list(records_io._csv_lines(handle, "a.csv", lambda n: None)) == lines
    assert list(stdlib_io.StringIO(data.decode("utf-8-sig"), newline="")) == lines  # the reference
