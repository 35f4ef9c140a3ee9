"""The streaming reader of a JSON export's large list (predictions/platforms/json_stream.py):
the same values and the same refusals (wording and FILE:LINE) as parsing the file whole."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from predictions.errors import ValidationError
from predictions.platforms import common, json_stream, predictionbook
from predictions.platforms.common import Skipped

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def streamed(path, key="predictions", chunk=None):
    return list(json_stream.stream(path, key, chunk=chunk))


def dumped(value, data):
    indent = data.draw(st.sampled_from([None, 0, 1]))  # with and without line breaks
    return json.dumps(value, indent=indent, ensure_ascii=data.draw(st.booleans()))


@FUZZ
@given(items=st.lists(json_values, max_size=8), chunk=st.integers(1, 64), data=st.data())
def test_streamed_elements_equal_the_whole_files_parse(tmp_path, items, chunk, data):
    path = tmp_path / "list.json"
    bom = data.draw(st.sampled_from(["", "\ufeff"]))
    path.write_text(bom + dumped(items, data), encoding="utf-8")
    assert streamed(path, chunk=chunk) == [(f"$[{n}]", item) for n, item in enumerate(items)]

    before, after = data.draw(json_values), data.draw(json_values)
    path.write_text(bom + dumped({"user": before, "predictions": items, "next": after}, data), encoding="utf-8")
    assert streamed(path, chunk=chunk) == [(f"$.predictions[{n}]", item) for n, item in enumerate(items)]

    whole = {"id": before, "responses": items}  # an object without the key is one value
    path.write_text(bom + dumped(whole, data), encoding="utf-8")
    assert streamed(path, chunk=chunk) == [("$", whole)]


def whole_refusal(text):
    """What parsing the text whole says: None, or (line, reason)."""
    try:
        common._DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return text.count("\n", 0, exc.pos) + 1, exc.msg
    return None


@FUZZ
@given(items=st.lists(json_values, min_size=1, max_size=6), wrapped=st.booleans(), chunk=st.integers(1, 40),
       data=st.data())
def test_truncation_or_garbage_anywhere_is_refused_at_the_line_a_whole_parse_names(tmp_path, items, wrapped,
                                                                                   chunk, data):
    text = dumped({"user": 1, "predictions": items} if wrapped else items, data)
    offset = data.draw(st.integers(0, len(text)))
    if data.draw(st.booleans()):
        text = text[:offset]
    else:  # no letter or digit: an inserted one could only make a key repeat, which both refuse
        text = text[:offset] + data.draw(st.text(" \n,:[]{}\"\\x", min_size=1, max_size=3)) + text[offset:]
    try:
        common._DECODER.decode(text)
    except common._DuplicateKey:
        assume(False)
    except json.JSONDecodeError:
        pass
    expected = whole_refusal(text)
    path = tmp_path / "cut.json"
    path.write_text(text, encoding="utf-8")
    if expected is None:
        assert len(streamed(path, chunk=chunk)) >= 1
        return
    with pytest.raises(ValidationError) as refused:
        streamed(path, chunk=chunk)
    assert str(refused.value) == f"{path}:{expected[0]}: not valid JSON ({expected[1]})"


def test_an_element_larger_than_the_window_grows_it_geometrically_and_the_file_is_read_once(tmp_path):
    path = tmp_path / "big.json"
    big = {"description": "x" * 3_000_000, "responses": list(range(100_000))}
    path.write_text(json.dumps([1, big, 2]), encoding="utf-8")
    reads = []
    items = list(json_stream.stream(path, "predictions", reads.append, chunk=1024))
    assert [v for _, v in items] == [1, big, 2]
    assert sum(reads) == path.stat().st_size  # every byte read once: never again from the file's start
    assert len(reads) < 30  # doubling: about log2(3.6 MB / 1 KiB) reads, not one a KiB (3,500)


@pytest.mark.parametrize("text, line, reason", [
    ('[1,\n2]\nx', 3, "Extra data"),
    ('[1,\n2]]', 2, "Extra data"),
    ('[1,\n2', 2, "Expecting ',' delimiter"),
    ('{"predictions": [1,\n2]\n', 3, "Expecting ',' delimiter"),
    ('[1,\n"' + "a" * 3_000_000, 2, "Unterminated string starting at"),
    ('[\n1e5000000000]', 2, None),  # parsed as a float: inf, refused by the caller's checks
    ('', 1, "Expecting value"),
    ('\ufeff', 1, "Expecting value"),
    ('[1, NaN]', 1, "NaN is not allowed"),
    ('[1,\n\n' + "9" * 5000 + ']', 3, f"a number of more than 4,300 digits"),
])
def test_hostile_ends_and_values_are_refused_at_their_line(tmp_path, text, line, reason):
    path = tmp_path / "odd.json"
    path.write_text(text, encoding="utf-8")
    if reason is None:
        assert streamed(path, chunk=4)[-1][1] == float("inf")
        return
    with pytest.raises(ValidationError) as refused:
        streamed(path, chunk=4)
    assert str(refused.value) == f"{path}:{line}: not valid JSON ({reason})"


def test_elements_before_a_later_error_are_yielded_first(tmp_path):
    # file order: each element is the caller's to check before a bad byte or garbage further on
    path = tmp_path / "late.json"
    path.write_bytes(b'[{"a": 1},\n{"b": 2},\n"\xff"]')
    stream = json_stream.stream(path, "predictions", chunk=3)
    assert next(stream) == ("$[0]", {"a": 1}) and next(stream) == ("$[1]", {"b": 2})
    with pytest.raises(ValidationError, match=r"late\.json:3: is not valid UTF-8 text$"):
        next(stream)


def test_a_key_given_twice_in_the_wrapper_is_refused(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"predictions": [], "predictions": [1]}', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"twice\.json: not valid JSON \(an object gives the key 'predictions' twice"):
        streamed(path)


def test_a_field_error_early_is_named_before_a_syntax_error_late(tmp_path):
    # The one documented change from reading the file whole: refusals come in file order.
    path = tmp_path / "pb.json"
    good = {"id": 1, "description": "Rain?", "deadline": "2024-01-02T00:00:00Z", "created_at": "2024-01-01T00:00:00Z",
            "responses": [{"confidence": 150, "created_at": "2024-01-01T00:00:00Z", "user_label": "al"}]}
    path.write_text('{"predictions": [' + json.dumps(good) + ",\n" + json.dumps(good) + ",\n}", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        list(predictionbook.read(path, skipped=Skipped()))
    assert str(refused.value) == f"{path}:$.predictions[0].responses[0]: field confidence: 150.0 is outside [0, 100]"


def test_the_installed_command_names_the_first_error_in_file_order_and_writes_nothing(tmp_path):
    good = {"id": 7, "description": "Snow?", "deadline": "2024-01-02T00:00:00Z", "created_at": "2024-01-01T00:00:00Z",
            "responses": [{"confidence": 60, "created_at": "2024-01-01T00:00:00Z", "user_label": "al"}]}
    bad = dict(good, id=8, deadline="soon")
    path = tmp_path / "pb.json"
    path.write_text("[" + json.dumps(good) + ",\n" + json.dumps(bad) + ",\n" + json.dumps(good) + "\n]]", encoding="utf-8")
    db = tmp_path / "ledger.db"
    command = Path(sys.executable).with_name("predictions")
    run = subprocess.run([str(command), "--db", str(db), "import", "--from", "predictionbook", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [f"Error: {path}:$[1]: field deadline: 'soon' is not an ISO 8601 time"]
    assert not db.exists()
    other = tmp_path / "other.json"  # a ledger with something in it: a refused file leaves it as it was
    other.write_text("[" + json.dumps(dict(good, id=9)) + "]", encoding="utf-8")
    subprocess.run([str(command), "--db", str(db), "import", "--from", "predictionbook", str(other)], check=True,
                   capture_output=True)
    before = db.read_bytes()
    path.write_text("[" + json.dumps(good) + "\n]]", encoding="utf-8")  # now the garbage is the first error
    run = subprocess.run([str(command), "--db", str(db), "import", "--from", "predictionbook", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"Error: {path}:2: not valid JSON (Extra data)"]
    assert db.read_bytes() == before
