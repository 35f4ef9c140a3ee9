"""Every platform parser against hostile input: special files, nesting, random values, and zip
files built to traverse, bomb or lie. The only acceptable failure is one ValidationError line."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import ValidationError
from predictions.model import TAG_PATTERN
from predictions.platforms import PLATFORMS, common, read_platform

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
FIXTURE = {"fatebook": "fatebook.csv", "predictionbook": "predictionbook.json", "metaculus": "metaculus-posts.json",
           "manifold": "manifold.json"}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def refused(platform, path) -> str:
    """The one-line refusal a file gets; any other exception fails the test."""
    with pytest.raises(ValidationError) as error:
        list(read_platform(platform, path))
    message = str(error.value)
    assert "\n" not in message and message
    return message


def survives(platform, path) -> None:
    try:
        list(read_platform(platform, path))
    except ValidationError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path))  # one line, naming the file first


@pytest.mark.parametrize("platform", PLATFORMS)
def test_special_files_are_refused_without_reading(tmp_path, platform):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert refused(platform, fifo) == f"{fifo} is not a regular file"
    assert refused(platform, tmp_path) == f"{tmp_path} is not a regular file"
    if os.path.exists("/dev/zero"):
        assert refused(platform, "/dev/zero") == "/dev/zero is not a regular file"
    assert refused(platform, tmp_path / "missing").startswith(f"cannot read {tmp_path / 'missing'}: ")


@pytest.mark.parametrize("platform", ["predictionbook", "metaculus", "manifold"])
@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_deep_nesting_is_one_line(tmp_path, platform, text):
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="ascii")
    message = refused(platform, path)
    assert message.startswith(f"{path}:")


@pytest.mark.parametrize("platform", ["predictionbook", "metaculus", "manifold"])
@pytest.mark.parametrize("text, words", [
    ('{"predictions": [NaN]}', "NaN is not allowed"),
    ('{"predictions": [Infinity]}', "Infinity is not allowed"),
    ("[" + "9" * 5000 + "]", "not valid JSON"),
    ("", "not valid JSON"),
    ("\ufeff", "not valid JSON"),
    ('"just text"', "must"),
])
def test_json_that_is_not_a_platform_file(tmp_path, platform, text, words):
    path = tmp_path / "odd.json"
    path.write_text(text, encoding="utf-8")
    assert words in refused(platform, path)


def test_a_json_file_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "MAX_JSON_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"x": "y" * 200}]), encoding="utf-8")
    size = path.stat().st_size
    assert refused("predictionbook", path) == f"{path} is {size:,} bytes; a JSON file may be at most 100"


def test_a_csv_line_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "long.csv"
    header = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")[0]
    path.write_text(header + "\n" + '"' + "x" * (common.MAX_CSV_LINE + 5) + '"\n', encoding="utf-8")
    assert refused("fatebook", path) == f"{path}:2: has a line longer than {common.MAX_CSV_LINE:,} bytes"


def test_a_cell_over_csvs_field_limit_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    header = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")[0]
    path.write_text(header + "\n" + '"' + "x\n" * 70_000 + '"\n', encoding="utf-8")
    assert "not valid CSV (field larger than field limit" in refused("fatebook", path)


# --- random values in every place of a real file --------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _places(value, path=()):
    """Every (path, value) inside a JSON value."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _places(item, (*path, number))


@FUZZ
@given(platform=st.sampled_from(["predictionbook", "metaculus", "manifold"]), data=st.data())
def test_any_value_anywhere_in_a_json_file(tmp_path, platform, data):
    document = json.loads((FIXTURES / FIXTURE[platform]).read_text(encoding="utf-8"))
    places = [p for p, _ in _places(document) if p]
    for path in data.draw(st.lists(st.sampled_from(places), min_size=1, max_size=3)):
        target = document
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this place
    file = tmp_path / "fuzzed.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    survives(platform, file)


@FUZZ
@given(cells=st.lists(st.tuples(st.integers(0, 16), st.text(max_size=30)), min_size=1, max_size=5),
       row=st.integers(1, 8))
def test_any_text_in_any_fatebook_cell(tmp_path, cells, row):
    import csv

    rows = list(csv.reader(io.StringIO((FIXTURES / "fatebook.csv").read_text(encoding="utf-8"), newline="")))
    for column, value in cells:
        rows[row][column] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / "fuzzed.csv"
    path.write_text(out.getvalue(), encoding="utf-8", errors="surrogatepass")
    survives("fatebook", path)


@FUZZ
@given(content=st.binary(max_size=300), platform=st.sampled_from(PLATFORMS))
def test_any_bytes(tmp_path, content, platform):
    path = tmp_path / "bytes"
    path.write_bytes(content)
    survives(platform, path)


@FUZZ
@given(cut=st.integers(0, 2000))
def test_a_truncated_zip(tmp_path, cut):
    data = (FIXTURES / "metaculus.zip").read_bytes()
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: max(4, min(cut, len(data) - 1))])
    survives("metaculus", path)


# --- zip files built to harm ----------------------------------------------------------------------


def _zip(tmp_path, members, name="export.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members:
            archive.writestr(member, content)
    return path


def _real_members():
    with zipfile.ZipFile(FIXTURES / "metaculus.zip") as archive:
        return {n: archive.read(n) for n in ("question_data.csv", "forecast_data.csv")}


@pytest.mark.parametrize("names, words", [
    (["../question_data.csv", "forecast_data.csv"], "which is not where an export keeps question_data.csv"),
    (["/question_data.csv", "forecast_data.csv"], "which is not where an export keeps question_data.csv"),
    (["a/b/question_data.csv", "forecast_data.csv"], "which is not where an export keeps question_data.csv"),
    (["question_data.csv", "x/question_data.csv", "forecast_data.csv"], "holds question_data.csv 2 times"),
    (["question_data.csv"], "holds no forecast_data.csv: is it a Metaculus data export?"),
])
def test_zip_members_are_found_only_where_an_export_puts_them(tmp_path, names, words):
    real = _real_members()
    path = _zip(tmp_path, [(n, real[n.rsplit("/", 1)[-1]]) for n in names])
    assert words in refused("metaculus", path)


def test_an_export_in_one_folder_is_read(tmp_path):
    real = _real_members()
    path = _zip(tmp_path, [(f"user_data/{n}", content) for n, content in real.items()])
    assert [q.key for q in read_platform("metaculus", path)] == ["31001", "31002", "31003", "31004", "31005"]


def test_a_zip_bomb_is_refused_from_its_header(tmp_path):
    real = _real_members()
    path = _zip(tmp_path, [("question_data.csv", real["question_data.csv"]),
                           ("forecast_data.csv", b"0" * (20 * 1024 * 1024))])
    assert "forecast_data.csv unpacks to" in refused("metaculus", path)
    assert "refused as a zip bomb" in refused("metaculus", path)


def _patch_headers(path: Path, member: str, local_at: int, central_at: int, value: bytes) -> None:
    """Overwrite a field of `member` in both its local and its central directory header."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member).header_offset
    data[local + local_at: local + local_at + len(value)] = value
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack("<H", data[central + 28: central + 30])[0]
        if data[central + 46: central + 46 + length] == member.encode():
            data[central + central_at: central + central_at + len(value)] = value
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_member_larger_than_its_header_says_is_refused(tmp_path):
    real = _real_members()
    path = _zip(tmp_path, list(real.items()))
    size = len(real["forecast_data.csv"])
    _patch_headers(path, "forecast_data.csv", 22, 24, struct.pack("<I", size // 2))  # the uncompressed size
    message = refused("metaculus", path)
    assert message.startswith(f"{path}!forecast_data.csv")
    assert "damaged" in message or "more than its zip header declares" in message


def test_an_encrypted_member_is_refused(tmp_path):
    real = _real_members()
    path = _zip(tmp_path, list(real.items()))
    _patch_headers(path, "forecast_data.csv", 6, 8, b"\x01\x00")  # the flag bits: bit 0, encrypted
    assert refused("metaculus", path).endswith("forecast_data.csv is encrypted")


def test_a_zip_with_thousands_of_members_is_refused(tmp_path):
    path = _zip(tmp_path, [(f"f{n}.txt", b"") for n in range(1001)])
    assert "holds 1,001 files" in refused("metaculus", path)


def test_a_file_that_only_starts_like_a_zip(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "is not a readable zip file" in refused("metaculus", path)


# --- the shared value checks --------------------------------------------------------------------


@given(st.text(max_size=60))
def test_a_tag_is_a_ledger_tag_or_nothing(name):
    converted = common.tag(name)
    assert converted is None or TAG_PATTERN.fullmatch(converted)
    if converted is not None:
        assert common.tag(converted) == converted


@given(st.one_of(st.integers(), st.floats(), st.text(max_size=30), st.none(), st.booleans()))
def test_time_and_number_checks_refuse_with_validation_errors_only(value):
    for check in (lambda v: common.epoch_time(v, "t", unit=1000.0), lambda v: common.epoch_time(v, "t"),
                  lambda v: common.iso_time(v, "t"), lambda v: common.probability(v, "p", text=True),
                  lambda v: common.probability(v, "p", scale=100.0), lambda v: common.identifier(v, "id")):
        try:
            check(value)
        except ValidationError as error:
            assert error.field in ("t", "p", "id")


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_milliseconds_since_1970_are_exact(moment):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=dt.timezone.utc)
    millis = (moment - common.EPOCH) // dt.timedelta(milliseconds=1)
    assert common.epoch_time(millis, "t", unit=1000.0) == moment


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                    timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=11)),
                                               dt.timezone(dt.timedelta(hours=-7, minutes=-30))])))
def test_iso_times_with_any_zone_become_the_same_moment_in_utc(moment):
    read = common.iso_time(moment.isoformat(), "t")
    assert read == moment and read.tzinfo == dt.timezone.utc


def test_skipped_counts_read_as_sentences():
    skipped = common.Skipped()
    skipped.add("multiple-choice questions")
    skipped.add("forecasts on multiple-choice questions", 3)
    skipped.add("limit orders of which nothing was filled", 0)
    assert skipped.lines() == ["skipped 1 multiple-choice question", "skipped 3 forecasts on multiple-choice questions"]


# --- the front door --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform, names", [
    ("fatebook", ["fatebook.csv"]), ("predictionbook", ["predictionbook.json"]), ("metaculus", ["metaculus.zip"]),
    ("metaculus", ["metaculus-posts.json"]), ("manifold", ["manifold-market.json", "manifold-bets.json"]),
])
def test_progress_reports_the_bytes_read(platform, names):
    """What a progress bar is given: the bytes of the file(s) consumed, adding up to their size."""
    seen = []
    list(read_platform(platform, [FIXTURES / n for n in names], progress=seen.append))
    total = sum((FIXTURES / n).stat().st_size for n in names)
    assert all(step >= 0 for step in seen) and seen
    if platform == "metaculus" and names[0].endswith(".zip"):
        assert 0 < sum(seen) <= total  # the zip's own bytes, as its members are unpacked
    else:
        assert sum(seen) == total


def test_unknown_platforms_and_file_counts_are_refused():
    with pytest.raises(ValidationError, match="field platform: 'kalshi' is not one of fatebook, predictionbook, metaculus, manifold"):
        read_platform("kalshi", "x.csv")
    with pytest.raises(ValidationError, match="fatebook is read from one file, not 2"):
        read_platform("fatebook", ["a.csv", "b.csv"])
