"""The Datasette recipe (docs/datasette.md): the views it facets and reads (forecast_status,
scored.claim) say what the library says, and every canned query of docs/datasette-metadata.json,
run on ledger.db.example with its parameters, gives the library's figures; Datasette itself loads
the metadata, runs a canned query, a `_search` and a status facet."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from predictions import Ledger
from predictions.model import STATUS_SQL, status_of, status_sql
from predictions.scoring import BIN_SQL

from .conftest import forecast_fields

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "ledger.db.example"
METADATA = json.loads((ROOT / "docs" / "datasette-metadata.json").read_text(encoding="utf-8"))
QUERIES = METADATA["databases"]["ledger"]["queries"]
COMMAND = Path(sys.executable).with_name("predictions")


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy named as the recipe serves it: Datasette names a database after its file."""
    copy = tmp_path / "ledger.db"
    shutil.copy(EXAMPLE, copy)
    return copy


def predictions(db: Path, *args: str):
    result = subprocess.run([str(COMMAND), "--db", str(db), *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def canned(db: Path, name: str, **params: str) -> list[dict]:
    """A canned query as Datasette runs it: every named parameter given, empty if not set."""
    sql = QUERIES[name]["sql"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        names = {p for p in ("since", "until", "exclude_tag", "source") if f":{p}" in sql}
        assert set(params) <= names, (name, params)
        return [dict(row) for row in conn.execute(sql, {p: params.get(p, "") for p in names})]
    finally:
        conn.close()


# --- the status rule's SQL form, and the views --------------------------------------------------------


@given(
    outcome=st.sampled_from([None, "yes", "no", "ambiguous", "annulled"]),
    deadline=st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
    today=st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
)
def test_the_status_rule_in_sql_is_status_of(outcome, deadline, today):
    conn = sqlite3.connect(":memory:")
    row = "(SELECT :outcome AS outcome, :deadline AS deadline) AS q"
    params = {"outcome": outcome, "deadline": deadline.isoformat(), "today": today.isoformat()}
    case = conn.execute(f"SELECT {status_sql(':today')} FROM {row}", params).fetchone()[0]
    matching = [s for s, where in STATUS_SQL.items()
                if conn.execute(f"SELECT {where.format(today=':today')} FROM {row}", params).fetchone()[0]]
    conn.close()

    class Question:  # what status_of reads
        pass

    question = Question()
    question.deadline = deadline
    expected = status_of(question, object() if outcome else None, today)
    assert case == expected and matching == [expected]


def test_the_status_view_is_what_list_says_today(example):
    listed = {r["id"]: r["status"] for r in predictions(example, "list", "--json")}
    conn = sqlite3.connect(example)
    viewed = dict(conn.execute("SELECT id, status FROM forecast_status").fetchall())
    conn.close()
    assert viewed == listed and set(listed.values()) >= {"open", "resolved"}


def test_scored_keeps_its_columns_in_order_and_gains_the_claim_as_the_tool_shows_it(tmp_path, example):
    old = sqlite3.connect(ROOT / "tests" / "fixtures" / "ledger_v004.db")  # made by m004
    old_columns = [r[1] for r in old.execute("PRAGMA table_info(scored)")]
    old.close()
    db = tmp_path / "claims.db"
    with Ledger(db) as ledger:
        first = ledger.add(**forecast_fields(id="own-claim", claim="Widgets sell out", probability=0.6))
        ledger.add(question=first.id, source="Other Outlet", made_on="2026-02-01", probability=0.3)  # no claim
        worded = ledger.add(**forecast_fields(id="worded", claim="Gears turn", question_text="Do gears turn?"))
        ledger.add(question=worded.id, source="Third", made_on="2026-02-01", probability=0.5)
        for qid in (first.id, worded.id):
            ledger.resolve(qid, "yes", on="2026-03-01", evidence="Report")
        shown = {t.id: t.claim for t in ledger.forecasts()}
    conn = sqlite3.connect(db)
    assert [r[1] for r in conn.execute("PRAGMA table_info(scored)")] == [*old_columns, "claim"]
    in_view = dict(conn.execute("SELECT id, claim FROM scored").fetchall())
    in_status = dict(conn.execute("SELECT id, claim FROM forecast_status").fetchall())
    conn.close()
    assert in_view == shown == in_status
    # its own claim; else its question's wording; else the claim of the question's first forecast
    assert sorted(shown.values()) == ["Do gears turn?", "Gears turn", "Widgets sell out", "Widgets sell out"]


# --- the canned queries give the library's figures ------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"exclude_tag": "past-at-publication"}, {"since": "2026-01-01", "until": "2026-06-30"}])
def test_the_leaderboard_is_score_by_source(example, options):
    flat = [x for key, value in options.items() for x in (f"--{key.replace('_', '-')}", value)]
    expected = predictions(example, "score", "--by", "source", "--json", *flat)
    got = canned(example, "leaderboard", **options)
    assert [r["source"] for r in got] == [g["group"] for g in expected]
    for row, group in zip(got, expected):
        assert row["n"] == group["n"] and row["forecasts"] == group["forecasts"]
        assert row["brier"] == pytest.approx(group["brier"], rel=1e-12, abs=1e-15)


def test_the_leaderboard_parameters_change_the_answer(example):
    # Not a query that ignores its parameters: the example has tagged, early and late resolutions.
    everything = canned(example, "leaderboard")
    assert canned(example, "leaderboard", exclude_tag="past-at-publication") != everything
    assert canned(example, "leaderboard", until="2000-01-01") == []


def test_the_due_query_lists_what_due_lists(example):
    expected = [r["id"] for r in predictions(example, "due", "--json")]
    assert [r["id"] for r in canned(example, "due")] == expected and expected


@pytest.mark.parametrize("exclude", ["", "past-at-publication"])
def test_the_calibration_bins_are_scores(example, exclude):
    tag = ["--exclude-tag", exclude] if exclude else []
    overall = predictions(example, "score", "--by", "all", "--json", *tag)[0]
    per_source = predictions(example, "score", "--by", "source", "--json", *tag)
    for source, group in [("", overall), *((g["group"], g) for g in per_source)]:
        got = canned(example, "calibration", source=source, exclude_tag=exclude)
        expected = group["bins"]
        assert [r["bin"] for r in got] == [b["index"] for b in expected], source
        for row, b in zip(got, expected):
            assert (row["lower"], row["upper"], row["n"], row["yes"]) == (b["lower"], b["upper"], b["n"], b["yes"])
            assert row["mean_forecast"] == pytest.approx(b["mean_forecast"], rel=1e-12)
            assert row["observed_frequency"] == pytest.approx(b["observed_frequency"], rel=1e-12)


def test_the_calibration_query_bins_by_the_librarys_rule():
    assert BIN_SQL.replace("s.", "") in QUERIES["calibration"]["sql"]


# --- Datasette itself --------------------------------------------------------------------------------


def test_datasette_loads_the_metadata_and_serves_the_queries_search_and_facets(example):
    app = pytest.importorskip("datasette.app")

    async def scenario():
        ds = app.Datasette([str(example)], metadata=METADATA)
        await ds.invoke_startup()

        async def get(path):
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            return response.json()

        leaderboard = await get("/ledger/leaderboard.json?_shape=array")
        found = await get("/ledger/forecasts.json?_search=Trainium2&_shape=array")
        questions = await get("/ledger/questions.json?_search=Trainium2&_shape=array")
        faceted = await get("/ledger/forecast_status.json?_facet=status")
        page = await ds.client.get("/ledger/forecasts?_search=Trainium2")
        return leaderboard, found, questions, faceted, page

    leaderboard, found, questions, faceted, page = asyncio.run(scenario())
    assert leaderboard == canned(example, "leaderboard")
    conn = sqlite3.connect(example)
    expected = [r[0] for r in conn.execute("SELECT id FROM forecasts WHERE claim LIKE '%Trainium2%' "
                                           "OR quote LIKE '%Trainium2%' ORDER BY id")]  # fmt: skip
    statuses = dict(conn.execute("SELECT status, count(*) FROM forecast_status GROUP BY status").fetchall())
    conn.close()
    assert sorted(r["id"] for r in found) == expected and expected
    assert questions and all("Trainium2" in (q["question"] or "") + q["resolution_criteria"] for q in questions)
    facet = {r["value"]: r["count"] for r in faceted["facet_results"]["status"]["results"]}
    assert facet == statuses
    assert page.status_code == 200 and "Trainium2" in page.text
