"""The Fatebook CSV parser: every mapped field of the fixtures, the three header generations, a
newer overlapping export, rows in any order, --source, and malformed files."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import ValidationError
from predictions.escape import UNSAFE
from predictions.platforms import read_platform
from predictions.platforms.fatebook import fatebook_time

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
UTC = dt.timezone.utc
BRIDGE = "Will the Harbour Bridge reopen to cars before 1 June 2025?"
LAUNCH = 'Does the "Q3 launch" slip,\nagain, past September?'


def read(path, **options):
    batch = read_platform("fatebook", path, **options)
    return list(batch), batch.skipped.lines()


def natural_key(title: str, created: str) -> str:
    return hashlib.sha256(f"{title}\n{created}".encode()).hexdigest()[:16]


def by_title(questions):
    return {q.title: q for q in questions}


def test_the_current_export_maps_every_field():
    questions, skipped = read(FIXTURES / "fatebook.csv")
    assert [q.title for q in questions] == [BRIDGE, "Will it rain in Paris, France, on 14 July 2025?", LAUNCH,
                                            "Will the library open on Sundays by 2026?"]
    assert skipped == ["skipped 1 multiple-choice question", "skipped 2 forecasts on multiple-choice questions"]
    bridge, rain, launch, library = questions
    assert bridge.platform == "fatebook"
    assert bridge.key == natural_key(BRIDGE, "2025-01-05T09:02:41Z")
    assert bridge.criteria == 'YES if the city opens it to car traffic; "soft openings" for buses only do not count.'
    assert bridge.criteria_from_platform is True
    assert bridge.url is None  # the export has no question id, so no link
    assert bridge.created == dt.datetime(2025, 1, 5, 9, 2, 41, tzinfo=UTC)
    assert bridge.deadline == dt.date(2025, 6, 1)
    assert bridge.tags == ("infrastructure", "local-news")  # "Local News" as a ledger tag
    assert (bridge.outcome, bridge.resolved_on) == ("yes", dt.date(2025, 5, 20))
    assert bridge.resolved_at == dt.datetime(2025, 5, 20, 18, 30, 45, tzinfo=UTC)
    assert bridge.evidence == "Resolved YES on Fatebook at 2025-05-20T18:30:45Z."
    assert bridge.where.endswith("fatebook.csv:2")
    # an update by Alice and a second forecaster, in file order, each with its own line
    assert [(f.source, f.probability, f.made_at, f.basis, f.comment) for f in bridge.forecasts] == [
        ("Alice Example", 0.6, dt.datetime(2025, 1, 5, 9, 3, 7, tzinfo=UTC), "stated", None),
        ("Bob Sample", 0.4, dt.datetime(2025, 1, 6, 11, 0, 0, tzinfo=UTC), "stated", None),
        ("Alice Example", 0.75, dt.datetime(2025, 3, 10, 14, 20, 9, tzinfo=UTC), "stated", None),
    ]
    assert [f.where.rsplit(":", 1)[1] for f in bridge.forecasts] == ["2", "3", "4"]
    assert len({f.key for f in bridge.forecasts}) == 3
    assert all(f.key.startswith(bridge.key + "/") for f in bridge.forecasts)

    assert rain.criteria == "As resolved by its author, Alice Example, on Fatebook."  # no notes: no invented rule
    assert rain.criteria_from_platform is False
    assert (rain.outcome, rain.resolved_on, rain.deadline, rain.tags) == ("no", dt.date(2025, 7, 15), dt.date(2025, 7, 14), ())

    assert launch.criteria == 'Line one of the notes.\nLine two: "launch" means general availability.'
    assert (launch.outcome, launch.resolved_on) == ("ambiguous", dt.date(2025, 10, 1))
    assert launch.where.endswith("fatebook.csv:6")  # the row starts on line 6 and spans three
    assert launch.forecasts[0].where.endswith("fatebook.csv:6")
    assert launch.forecasts[0].probability == 0.55

    assert (library.outcome, library.resolved_at, library.resolved_on, library.evidence) == (None, None, None, None)
    assert library.tags == ("civic",)
    assert library.where.endswith("fatebook.csv:11")


@pytest.mark.parametrize("older", ["fatebook-2024.csv", "fatebook-2023.csv"])
def test_older_exports_give_the_same_questions(older):
    """2024 (no tags column) and 2023 (no multiple-choice column, 'Question resolution')."""
    current, _ = read(FIXTURES / "fatebook.csv")
    questions, skipped = read(FIXTURES / older)
    assert questions == [attrs.evolve(q, tags=()) for q in current]
    for old, new in zip(questions, current):
        assert [(f.key, f.source, f.probability, f.made_at) for f in old.forecasts] == [
            (f.key, f.source, f.probability, f.made_at) for f in new.forecasts]
    # the 2023 export could not hold a multiple-choice question at all
    assert skipped == ([] if older == "fatebook-2023.csv" else
                       ["skipped 1 multiple-choice question", "skipped 2 forecasts on multiple-choice questions"])


def test_a_newer_overlapping_export_keeps_every_identity():
    first, _ = read(FIXTURES / "fatebook.csv")
    newer, _ = read(FIXTURES / "fatebook-newer.csv")
    old_keys = {f.key for q in first for f in q.forecasts}
    new_forecasts = {f.key: f for q in newer for f in q.forecasts}
    assert old_keys < set(new_forecasts)
    added = sorted((new_forecasts[k].source, new_forecasts[k].probability) for k in set(new_forecasts) - old_keys)
    assert added == [("Alice Example", 0.35), ("Alice Example", 0.65), ("Bob Sample", 0.7)]
    before, after = by_title(first), by_title(newer)
    assert before[BRIDGE] == after[BRIDGE]  # same identity, same content
    assert before[LAUNCH].same_question(after[LAUNCH]) == "outcome"  # re-resolved AMBIGUOUS -> NO
    assert after[LAUNCH].outcome == "no"
    library = after["Will the library open on Sundays by 2026?"]
    assert (library.outcome, library.resolved_on) == ("no", dt.date(2026, 1, 2))
    assert len(library.forecasts) == 2


def _shuffled_copy(tmp_path, seed: int) -> Path:
    """fatebook.csv with its records in another order (records, not lines: some span lines)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO((FIXTURES / "fatebook.csv").read_text(encoding="utf-8"), newline="")))
    head, body = rows[0], rows[1:]
    random.Random(seed).shuffle(body)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([head, *body])
    path = tmp_path / f"shuffled-{seed}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("seed", range(5))
def test_rows_in_any_order_give_the_same_questions_and_forecasts(tmp_path, seed):
    """A question's rows need not be together: it is then yielded again with its other forecasts."""
    expected, _ = read(FIXTURES / "fatebook.csv")
    questions, _ = read(_shuffled_copy(tmp_path, seed))
    assert {q.key: q for q in questions} == {q.key: q for q in expected}
    assert sorted(f.key for q in questions for f in q.forecasts) == sorted(f.key for q in expected for f in q.forecasts)


def test_source_names_a_single_persons_export(tmp_path):
    single = tmp_path / "mine.csv"
    lines = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")
    single.write_text("\n".join(l for l in lines if '"Bob Sample",0.4' not in l), encoding="utf-8")
    questions, _ = read(single, source="alice")
    assert {f.source for q in questions for f in q.forecasts} == {"alice"}
    mine, _ = read(single)
    # the identity comes from the file, not from --source: both imports name the same forecasts
    assert [f.key for q in questions for f in q.forecasts] == [f.key for q in mine for f in q.forecasts]


def test_source_refuses_a_file_with_several_forecasters():
    with pytest.raises(ValidationError) as refused:
        read(FIXTURES / "fatebook.csv", source="alice")
    assert str(refused.value).startswith(f"{FIXTURES / 'fatebook.csv'}:3: field source (--source): names one forecaster")
    assert "'Alice Example'" in str(refused.value) and "'Bob Sample'" in str(refused.value)


def test_a_forecast_without_a_forecaster_name_is_counted(tmp_path):
    path = tmp_path / "anonymous.csv"
    path.write_text((FIXTURES / "fatebook.csv").read_text(encoding="utf-8").replace(',"Bob Sample",0.4,', ',,0.4,'),
                    encoding="utf-8")
    questions, skipped = read(path)
    assert len(questions[0].forecasts) == 2
    assert "skipped 1 forecast with no forecaster name (give --source for a single-person export)" in skipped


HEADER = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")[0]
ROW = ('"Q",,"Ann",0.5,2025-01-01 10:00:0,"Ann",2025-01-01 09:00:0,2025-12-31 12:00:0,,,,,"","",false,"",""')


@pytest.mark.parametrize("text, where, message", [
    (HEADER.replace(",Forecast created at", "") + "\n" + ROW.replace(",2025-01-01 10:00:0", ""), 1,
     "field Forecast created at: is a required column and is missing"),
    (HEADER + ",Resolution\n" + ROW + ",", 1, "field Resolution: is a column given twice"),
    (HEADER + "\n" + ROW.replace("0.5", "fifty"), 2, "field Forecast (scale = 0-1): 'fifty' is not a number"),
    (HEADER + "\n" + ROW.replace("0.5", "1.5"), 2, "field Forecast (scale = 0-1): 1.5 is outside [0, 1]"),
    (HEADER + "\n" + ROW.replace("0.5", "nan"), 2, "field Forecast (scale = 0-1): nan is outside [0, 1]"),
    (HEADER + "\n" + ROW.replace("2025-01-01 10:00:0", "2025-13-01 10:00:0"), 2,
     "field Forecast created at: '2025-13-01 10:00:0' is not a real time (month must be in 1..12)"),
    (HEADER + "\n" + ROW.replace("2025-12-31 12:00:0", "31/12/2025"), 2,
     "field Question resolve by: '31/12/2025' is not a time like 2025-03-02 14:05:7"),
    (HEADER + "\n" + ROW.replace(',,,,,"",', ',"MAYBE",,,,"",'), 2,
     "field Resolution: 'MAYBE' is not YES, NO, AMBIGUOUS or empty"),
    (HEADER + "\n" + ROW.replace(',,,,,"",', ',,2025-02-01 10:00:0,,,"",'), 2,
     "field Resolved at: is given but the question has no resolution"),
    (HEADER + "\n" + ROW + ",extra", 2, "has 18 cells; the header has 17"),
    (HEADER + "\n" + ROW + "\n" + ROW.replace('"Ann",0.5,2025-01-01 10:00:0', '"Ann",0.6,2025-01-02 10:00:0')
     .replace(',,,,,"",', ',"YES",2025-03-01 10:00:0,,,"",'), 3,
     "field Resolution: 'YES' differs from '' on the same question at"),
    (HEADER + "\n" + ROW.replace('"Q"', '"Q\x00"'), 2, "field Question title: contains a control character"),
    (HEADER + "\n" + ROW.replace('"Q"', '"unterminated'), 2, "not valid CSV"),
])
def test_malformed_files_are_refused_naming_the_line_and_field(tmp_path, text, where, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}:{where}: ")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_bad_utf8_names_its_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + ROW + "\n").encode() + ROW.replace('"Q"', '"Caf\xe9"').encode("latin-1"))
    with pytest.raises(ValidationError, match=r"latin1\.csv:3: is not valid UTF-8 text"):
        read(path)


def test_an_empty_file_is_refused_as_no_export(tmp_path):
    # Fatebook always writes the header: an empty file is a failed download, not an empty account
    # (as a Metaculus member with no header row is refused)
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"empty\.csv:1: is empty \(no header row\)"):
        read(path)
    path.write_text(HEADER + "\n", encoding="utf-8")  # a header and no forecast holds nothing
    assert read(path) == ([], [])


# --- properties --------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0))


def js_time(moment: dt.datetime) -> str:
    """Fatebook's getDateTimeYYYYMMDDHHMMSS: zero-padded except the seconds."""
    return f"{moment:%Y-%m-%d %H:%M}:{moment.second}"


@given(moments)
def test_fatebook_times_read_back_exactly(moment):
    assert fatebook_time(js_time(moment), "t") == moment.replace(tzinfo=UTC)


def js_cell(value) -> str:
    """Fatebook's printForCsv: strings quoted with quotes doubled, dates and numbers bare."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, dt.datetime):
        return js_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


# Text the model accepts: no C1 controls, bidi controls or invisible characters either (escape.UNSAFE).
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=12).filter(
    lambda t: t.strip() and not UNSAFE.search(t))
free_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00\x0b\x0c\x7f"
                                  + "".join(map(chr, range(0x0e, 0x20))) + "\x01\x02\x03\x04\x05\x06\x07\x08"),
                    min_size=1, max_size=30).filter(lambda t: t.strip() and not UNSAFE.search(t.translate({9: None, 10: None, 13: None})))
forecast_rows = st.lists(st.tuples(names, st.floats(0, 1), moments), min_size=1, max_size=4)
question_values = st.tuples(free_text, names, moments, moments, st.sampled_from([None, "YES", "NO", "AMBIGUOUS"]),
                            moments, st.none() | free_text, st.lists(names, max_size=3), forecast_rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(question_values, min_size=1, max_size=4, unique_by=lambda q: (q[0].replace("\r\n", "\n"), q[2])))
def test_what_fatebook_writes_is_read_back(tmp_path_factory, questions):
    """A file written the way Fatebook's jsonToCsv writes it yields every value it was given."""
    lines = [HEADER]
    for title, author, created, resolve_by, resolution, resolved, notes, tag_names, forecasts in questions:
        for forecaster, p, made in forecasts:
            lines.append(",".join(js_cell(v) for v in [
                title, None, forecaster, p, made, author, created, resolve_by, resolution,
                resolved if resolution else None, None, None, notes, "", False, "", "; ".join(tag_names)]))
    path = tmp_path_factory.mktemp("fb") / "written.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    read_back, _ = read(path)
    by_key = {}
    for question in read_back:
        by_key.setdefault(question.key, []).append(question)
    for title, author, created, resolve_by, resolution, resolved, notes, tag_names, forecasts in questions:
        # a "\r\n" inside a quoted cell reads as "\n" (common.csv_lines), as in a file saved again on Windows
        title, notes = title.replace("\r\n", "\n"), notes and notes.replace("\r\n", "\n")
        (question, *again) = by_key[natural_key(title, created.strftime("%Y-%m-%dT%H:%M:%SZ"))]
        assert all(q == question for q in again)
        assert question.title == title
        assert question.created == created.replace(tzinfo=UTC)
        assert question.deadline == resolve_by.date()
        assert question.outcome == {"YES": "yes", "NO": "no", "AMBIGUOUS": "ambiguous", None: None}[resolution]
        assert question.resolved_on == (resolved.date() if resolution else None)
        assert question.criteria == (notes if notes else f"As resolved by its author, {' '.join(author.split())}, on Fatebook.")
        assert all(t for t in question.tags)
        got = sorted((f.source, f.probability, f.made_at) for q in [question, *again] for f in q.forecasts)
        distinct = sorted({(" ".join(n.split()), p, m.replace(tzinfo=UTC)) for n, p, m in forecasts})
        assert got == distinct


def test_a_file_saved_again_with_a_bom_and_crlf_reads_the_same(tmp_path):
    """What a spreadsheet that opened the export and saved it again writes."""
    path = tmp_path / "resaved.csv"
    text = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8")
    path.write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    expected, _ = read(FIXTURES / "fatebook.csv")
    questions, _ = read(path)
    assert questions == expected  # the line breaks inside a title or notes read as "\n" too
    assert [[f.key for f in q.forecasts] for q in questions] == [[f.key for f in q.forecasts] for q in expected]


def test_a_question_whose_rows_are_apart_and_disagree_is_refused_naming_both_lines(tmp_path):
    # Rows of one question (same title and creation time) separated by another question's row:
    # the parser keeps only a digest of earlier questions' cells, and still refuses the change.
    other = ROW.replace('"Q"', '"Other"')
    later = ROW.replace('"Ann",0.5,2025-01-01 10:00:0', '"Ann",0.6,2025-01-02 10:00:0').replace(
        ',,,,,"",', ',"YES",2025-03-01 10:00:0,,,"",')
    path = tmp_path / "apart.csv"
    path.write_text("\n".join([HEADER, ROW, other, later]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read(path)
    message = str(refused.value)
    assert message.startswith(f"{path}:4: ") and f"differ from its rows at {path}:2" in message
    assert "Resolution" in message and "\n" not in message
    agreeing = ROW.replace('"Ann",0.5,2025-01-01 10:00:0', '"Bo",0.6,2025-01-02 10:00:0')
    path.write_text("\n".join([HEADER, ROW, other, agreeing]) + "\n", encoding="utf-8")
    questions, _ = read(path)
    assert sorted(len(q.forecasts) for q in questions) == [1, 1, 1]  # the same question, seen twice: its rows kept
