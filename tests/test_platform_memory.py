"""The platform parsers' bookkeeping (issue 12's memory goal): the keys a file has given are kept
in a KeyStore (a private temporary SQLite database), not in Python sets and dicts that grow with
the file. Repeats are still found wherever they are in a file, and no parser keeps Python state
that grows with the number of questions it has read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from predictions.platforms import read_platform
from predictions.platforms.common import PlatformForecast, Skipped
from predictions.platforms.keys import RUN_FORECASTS, KeyStore, SeenForecasts, pack_question, unpack_question
from predictions.platforms.records import to_records
from predictions.store import Ledger

UTC = dt.timezone.utc
REPEATED = "repeated forecasts (the same forecast twice in the file)"
FATEBOOK_HEADER = ("Question title,Multiple choice option,Forecast created by,Forecast (scale = 0-1),"
                   "Forecast created at,Question created by,Question created at,Question resolve by,Resolution,"
                   "Resolved at,Your Brier score for this question,Your relative Brier score for this question,"
                   "Question notes,Question shared with,Question shared publicly,Question comments,Question tags")


def fatebook_rows(questions: int, per_question: int = 1) -> list[str]:
    """Rows of `questions` questions (a third each YES, NO and open), as Fatebook writes them."""
    rows = []
    for q in range(questions):
        resolution = ("YES", "NO", "")[q % 3]
        for f in range(per_question):
            cells = [f'"Event {q} happens"', "", f'"Forecaster {f}"', f"0.{q % 9 + 1}", f"2025-01-{f % 28 + 1:02d} 10:00:0",
                     '"Alice"', f"2024-12-01 {q // 3600}:{q // 60 % 60}:{q % 60}", "2025-06-01 12:00:0",
                     f'"{resolution}"' if resolution else "", "2025-06-01 12:00:0" if resolution else "", "", "",
                     f'"Notes {q}"', '""', "false", '""', '""']
            rows.append(",".join(cells))
    return rows


def fatebook_file(tmp_path, rows, name="fatebook.csv"):
    path = tmp_path / name
    path.write_text("\n".join([FATEBOOK_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def containers(generator) -> dict[str, int]:
    """The size of every set, dict and list in the frames of a suspended generator and the
    generators it delegates to (yield from): the state a parser keeps while it reads."""
    sizes: dict[str, int] = {}
    while generator is not None:
        frame = generator.gi_frame
        if frame is not None:
            for name, value in frame.f_locals.items():
                if isinstance(value, (set, dict, list)):
                    sizes[f"{generator.__name__}.{name}"] = len(value)
        generator = generator.gi_yieldfrom
    return sizes


# --- KeyStore and SeenForecasts ------------------------------------------------------------------


def test_a_key_store_keeps_keys_and_values():
    store = KeyStore()
    assert store.add("a") and not store.add("a") and store.add("b", b"value")
    assert "a" in store and "c" not in store and len(store) == 2
    assert store.get("b") == b"value" and store.get("c", 7) == 7
    assert store.setdefault("t", "text") == "text" and store.setdefault("t", "other") == "text"
    store.close()


def _forecast(key: str) -> PlatformForecast:
    return PlatformForecast(key=key, source="s", made_at=dt.datetime(2025, 1, 1, tzinfo=UTC), probability=0.5,
                            basis="stated")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans(),
                          st.lists(st.tuples(st.booleans(), st.sampled_from("wxyz")), max_size=5)), max_size=14),
       st.sampled_from([2, 256]))
def test_seen_forecasts_finds_the_repeats_a_set_would(runs, run_keys):
    """Against plain sets: the same forecasts kept, repeats counted, the info of a question's
    first meeting given back and `again` set once a question was yielded, for keys under their
    question's key ("q/x") and keys of their own (a Manifold bet's "x"), questions met again later,
    met explicitly or by `fresh`, and questions with more forecasts than a run keeps in Python."""
    seen, skipped = SeenForecasts(), Skipped()
    seen.ROW_KEYS = run_keys
    keys, infos, yielded, expected_skipped = set(), {}, set(), 0
    for question, explicit, run in runs:
        if explicit:
            info = f"info of {question} {len(infos)}".encode()
            assert seen.meet(question, info) == infos.get(question)
            infos.setdefault(question, info)
        forecasts = [_forecast(f"{question}/{k}" if under else k) for under, k in run]
        got = seen.fresh(question, forecasts, skipped)
        infos.setdefault(question, b"")  # met by `fresh`, without info
        expected = []
        for forecast in forecasts:
            if forecast.key in keys:
                expected_skipped += 1
            else:
                keys.add(forecast.key)
                expected.append(forecast)
        assert got == tuple(expected)
        assert seen.again == (question in yielded)
        if got:
            yielded.add(question)
    assert skipped.counts.get(REPEATED, 0) == expected_skipped
    assert seen.questions == len(infos)
    seen.close()


def test_only_the_current_questions_keys_are_kept_in_python():
    seen, skipped = SeenForecasts(), Skipped()
    for q in range(2000):
        seen.fresh(f"q{q}", [_forecast(f"q{q}/{f}") for f in range(3)], skipped)
        assert len(seen._current) == 3  # the rest are in the store, a row a question
    assert len(seen.store) == 1999 and seen.questions == 2000
    many = [_forecast(f"big/{f}") for f in range(SeenForecasts.ROW_KEYS * 3)]
    assert len(seen.fresh("big", many, skipped)) == len(many)
    assert len(seen._current) <= SeenForecasts.ROW_KEYS and len(seen._loose) == len(many)
    assert seen.fresh("big", many[-1:], skipped) == () and skipped.counts == {REPEATED: 1}
    seen.close()


# --- repeats anywhere in a large-ish file ----------------------------------------------------------


def test_fatebook_a_repeat_of_the_first_row_at_the_end_is_counted(tmp_path):
    rows = fatebook_rows(3000)
    batch = read_platform("fatebook", fatebook_file(tmp_path, [*rows, rows[0]]))
    questions = list(batch)
    assert sum(len(q.forecasts) for q in questions) == 3000
    assert batch.skipped.counts == {REPEATED: 1}
    # and a new forecast on the first question, there, is read (the question met again)
    other = rows[0].replace(",0.1,", ",0.7,")
    batch = read_platform("fatebook", fatebook_file(tmp_path, [*rows, rows[0], other]))
    questions = list(batch)
    assert sum(len(q.forecasts) for q in questions) == 3001 and batch.skipped.counts == {REPEATED: 1}
    assert questions[-1].key == questions[0].key and questions[-1].where == questions[0].where


def test_fatebook_keeps_no_python_state_that_grows_with_the_questions(tmp_path):
    path = fatebook_file(tmp_path, fatebook_rows(3000))
    reader = iter(read_platform("fatebook", path))
    sizes = []
    for number, _ in enumerate(reader):
        if number in (100, 2900):
            sizes.append(containers(reader))
    assert sizes[0] and sizes[0].keys() == sizes[1].keys(), sizes  # the same containers, none of them grown
    assert max(sizes[1].values()) < 50, sizes[1]


def _metaculus_zip(tmp_path, questions: int, extra_forecasts=()) -> tuple:
    q_out, f_out = io.StringIO(), io.StringIO()
    qw, fw = csv.writer(q_out), csv.writer(f_out)
    qw.writerow(["Question ID", "Question URL", "Question Title", "Question Type", "Open Time",
                 "Scheduled Close Time", "Resolution", "Resolution Known Time"])
    fw.writerow(["Question ID", "Forecaster ID", "Forecaster Username", "Is Bot", "Start Time", "Probability Yes"])
    rows = []
    for q in range(questions):
        qw.writerow([100 + q, f"https://www.metaculus.com/questions/{q}/e/", f"Event {q}?", "binary",
                     "2024-01-01 00:00:00+00:00", "2025-01-01 00:00:00+00:00", "", ""])
        rows.append([100 + q, 7, "alice", False, f"2024-02-01 00:00:{q % 60:02d}+00:00", 0.5])
    qw.writerow([99, "", "Unanswered?", "binary", "2024-01-01 00:00:00+00:00", "2025-01-01 00:00:00+00:00", "", ""])
    for row in [*rows, *extra_forecasts(rows)]:
        fw.writerow(row)
    path = tmp_path / "metaculus.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("question_data.csv", q_out.getvalue())
        archive.writestr("forecast_data.csv", f_out.getvalue())
    return path


def test_metaculus_a_repeat_of_the_first_row_at_the_end_is_counted(tmp_path):
    path = _metaculus_zip(tmp_path, 2000, lambda rows: [rows[0], [*rows[0][:4], rows[0][4].replace(":00+", ":59+"), 0.9]])
    batch = read_platform("metaculus", path)
    questions = list(batch)
    assert sum(len(q.forecasts) for q in questions) == 2001
    assert batch.skipped.counts == {REPEATED: 1, "questions without any forecast": 1}


def test_metaculus_keeps_no_python_state_that_grows_with_the_questions(tmp_path):
    reader = iter(read_platform("metaculus", _metaculus_zip(tmp_path, 3000, lambda rows: [])))
    sizes = []
    for number, _ in enumerate(reader):
        if number in (100, 2900):
            sizes.append(containers(reader))
    assert sizes[0] and sizes[0].keys() == sizes[1].keys(), sizes
    assert max(sizes[1].values()) < 50, sizes[1]


def test_predictionbook_a_prediction_given_again_at_the_end_counts_its_repeats(tmp_path):
    predictions = [{"id": 1000 + q, "description": f"Event {q}", "created_at": "2024-01-01T00:00:00Z",
                    "deadline": "2025-01-01T00:00:00Z", "outcome": None, "withdrawn": False,
                    "responses": [{"id": q, "confidence": 60, "created_at": "2024-01-02T00:00:00Z",
                                   "user_label": "alice"}]} for q in range(2000)]
    again = json.loads(json.dumps(predictions[0]))
    again["responses"].append({"id": 99999, "confidence": 10, "created_at": "2024-01-03T00:00:00Z", "user_label": "bob"})
    path = tmp_path / "pb.json"
    path.write_text(json.dumps({"predictions": [*predictions, again]}))
    batch = read_platform("predictionbook", path)
    questions = list(batch)
    assert sum(len(q.forecasts) for q in questions) == 2001 and batch.skipped.counts == {REPEATED: 1}
    assert [f.key for f in questions[-1].forecasts] == ["1000/99999"]


def test_manifold_a_bet_given_again_on_the_last_market_is_counted(tmp_path):
    """A bet's key is its own id: the repeat is found across markets."""
    items = [{"market": {"id": f"m{q}", "question": f"Event {q}?", "outcomeType": "BINARY", "createdTime": 1704067200000,
                         "closeTime": 1735689600000, "isResolved": False},
              "bets": [{"id": f"b{q}", "userId": "u1", "contractId": f"m{q}", "createdTime": 1704153600000 + q,
                        "amount": 10, "probAfter": 0.5}]} for q in range(2000)]
    items[-1]["bets"].append(dict(items[0]["bets"][0], contractId=items[-1]["market"]["id"]))
    path = tmp_path / "manifold.json"
    path.write_text(json.dumps(items))
    batch = read_platform("manifold", path)
    assert sum(len(q.forecasts) for q in batch) == 2000 and batch.skipped.counts == {REPEATED: 1}


def test_to_records_keeps_no_python_state_that_grows_with_the_questions(tmp_path):
    records = to_records(read_platform("fatebook", fatebook_file(tmp_path, fatebook_rows(3000))))
    sizes = []
    resolutions = 0
    for number, (_, record) in enumerate(records):
        resolutions += "outcome" in record
        if number in (100, 2900):
            sizes.append(containers(records))
    assert sizes[0].keys() == sizes[1].keys() and max(sizes[1].values()) < 50, sizes
    assert resolutions == 2000  # YES and NO questions, one resolution each


def test_a_question_met_again_is_resolved_once(tmp_path):
    """A file whose questions come back later: each resolution rides on one record only, and the
    import writes each question's resolution once."""
    rows = fatebook_rows(300, per_question=2)
    path = fatebook_file(tmp_path, rows[0::2] + rows[1::2])  # every question met twice, apart
    records = list(to_records(read_platform("fatebook", path)))
    assert len(records) == 600 and sum("outcome" in r for _, r in records) == 200
    ledger = Ledger(str(tmp_path / "ledger.db"))
    summary = ledger.import_platform("fatebook", path, today="2026-11-30")
    assert (summary.forecasts, summary.questions, summary.resolutions) == (600, 300, 200)
    counts = [ledger.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("forecasts", "resolutions")]
    assert counts == [600, 200]


def test_a_question_with_many_forecasts_is_yielded_in_parts_resolved_once(tmp_path):
    """The parser holds at most RUN_FORECASTS of a question's forecasts: a question with more is
    yielded in parts, each after the first saying so (`again`), and its resolution rides on one
    record; the import writes all of them on one question."""
    rows = [f'"One big question",,"Forecaster {f}",0.5,2025-01-01 {f // 3600}:{f // 60 % 60}:{f % 60},"Alice",'
            '2024-12-01 09:00:0,2025-06-01 12:00:0,"YES",2025-06-01 12:00:0,,,"Notes","",false,"",""'
            for f in range(RUN_FORECASTS * 2 + 5)]
    path = fatebook_file(tmp_path, rows)
    parts = list(read_platform("fatebook", path))
    assert [len(q.forecasts) for q in parts] == [RUN_FORECASTS, RUN_FORECASTS, 5]
    assert [q.again for q in parts] == [False, True, True] and len({q.key for q in parts}) == 1
    records = list(to_records(parts))
    assert len(records) == len(rows) and sum("outcome" in r for _, r in records) == 1
    ledger = Ledger(str(tmp_path / "ledger.db"))
    summary = ledger.import_platform("fatebook", path, today="2026-11-30")
    assert (summary.forecasts, summary.questions, summary.resolutions) == (len(rows), 1, 1)


def test_a_packed_question_comes_back_the_same():
    """Every question of the fixtures, packed for a KeyStore and unpacked: every field equal,
    times still aware and in UTC."""
    fixtures = Path(__file__).parent / "fixtures" / "platforms"
    files = [("fatebook", ["fatebook.csv"]), ("fatebook", ["fatebook-2023.csv"]), ("predictionbook", ["predictionbook.json"]),
             ("predictionbook", ["predictionbook-withdrawn.json"]), ("metaculus", ["metaculus.zip"]),
             ("metaculus", ["metaculus-posts.json"]), ("manifold", ["manifold.json"])]
    count = 0
    for platform, names in files:
        for question in read_platform(platform, [fixtures / n for n in names]):
            back = unpack_question(pack_question(question))
            assert back == question and back.where == question.where and back.forecasts == ()
            assert back.created.utcoffset() == dt.timedelta(0) and type(back.deadline) is dt.date
            count += 1
    assert count > 15


def test_meeting_a_question_again_reads_a_bounded_row():
    """Two questions alternating row by row (an unsorted export): each meeting reads back at most
    ROW_KEYS keys, however many the question has, and every repeat is still found."""
    seen, skipped, limit = SeenForecasts(), Skipped(), SeenForecasts.ROW_KEYS
    for n in range(3 * limit):
        for q in ("a", "b"):
            assert seen.fresh(q, [_forecast(f"{q}/{n}")], skipped)
            assert len(seen._earlier or ()) <= limit and len(seen._current) <= limit
    assert skipped.counts == {}
    assert seen.fresh("a", [_forecast("a/0"), _forecast(f"a/{3 * limit - 1}"), _forecast("a/new")], skipped) != ()
    assert skipped.counts == {REPEATED: 2}
    seen.close()
