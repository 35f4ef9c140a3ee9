"""`predictions extract`: the draft it writes, `seed` refusing it, and the same draft seeded once written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from predictions.seeds import DRAFT_MARKER
from predictions_cli.main import cli

ARTICLE = """\
---
title: Widgets in 2027
author: A. Writer
date: 2026-03-02
---
# Outlook

Widget sales grew 20% last year.

We predict that Acme will sell 5 million widgets within 18 months.
Globex is expected to open a widget plant in Ohio by the end of 2026.
There is a 30% chance that Initech leaves the widget market by 2028.
"""


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def article(tmp_path) -> Path:
    path = tmp_path / "widgets.md"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def draft_of(article: Path, tmp_path: Path, *extra) -> Path:
    draft = tmp_path / "draft.toml"
    result = run("extract", article, "-o", draft, *extra)
    assert result.exit_code == 0, result.stderr
    assert "Wrote 3 candidates" in result.stderr
    return draft


def test_the_toml_draft_is_a_seed_file_with_the_draft_markers(article, tmp_path):
    data = tomllib.loads(draft_of(article, tmp_path).read_text(encoding="utf-8"))
    assert data["document"]["published_on"].isoformat() == "2026-03-02"
    assert data["document"]["title"] == "Widgets in 2027" and data["document"]["file"] == "widgets.md"
    forecasts = data["forecasts"]
    assert [f["quote"] for f in forecasts][0] == "We predict that Acme will sell 5 million widgets within 18 months."
    assert all(f["question"].startswith(DRAFT_MARKER) and f["resolution_criteria"].startswith(DRAFT_MARKER)
               for f in forecasts)
    assert all(f["source"] == "A. Writer" for f in forecasts)
    by_quote = {f["quote"]: f for f in forecasts}
    stated = by_quote["There is a 30% chance that Initech leaves the widget market by 2028."]
    assert (stated["probability"], stated["probability_basis"], stated["deadline"].isoformat()) == (
        0.3, "stated", "2028-12-31")
    assert all(re.fullmatch(r"a0[1-3](-[a-z0-9]+)+", f["id"]) for f in forecasts)


def test_seed_refuses_a_draft_naming_the_forecast_and_the_field(article, tmp_path):
    draft = draft_of(article, tmp_path)
    first_id = tomllib.loads(draft.read_text(encoding="utf-8"))["forecasts"][0]["id"]
    result = run("--db", tmp_path / "l.db", "seed", draft)
    assert result.exit_code == 1
    assert re.fullmatch(rf"Error: {re.escape(str(draft))}:\d+: {first_id}: question is still a draft: "
                        r"write it before seeding\n", result.stderr)
    assert not (tmp_path / "l.db").exists()


def test_a_draft_completed_by_hand_is_seeded(article, tmp_path):
    draft = draft_of(article, tmp_path)
    text = draft.read_text(encoding="utf-8")
    text = re.sub(r'question = "DRAFT:[^"]*"', 'question = "Does it happen by the deadline?"', text)
    text = re.sub(r'resolution_criteria = "DRAFT:[^"]*"',
                  'resolution_criteria = "YES if the company reports it by the deadline; NO otherwise."', text)
    draft.write_text(text, encoding="utf-8")
    result = run("--db", tmp_path / "l.db", "--today", "2026-03-03", "seed", draft, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["forecasts"] == 3
    listed = run("--db", tmp_path / "l.db", "--today", "2026-03-03", "list", "--json")
    assert {row["quote"] for row in json.loads(listed.stdout)} == {
        f["quote"] for f in tomllib.loads(text)["forecasts"]}


def test_a_draft_with_only_the_criteria_left_is_still_refused(article, tmp_path):
    draft = draft_of(article, tmp_path)
    draft.write_text(re.sub(r'question = "DRAFT:[^"]*"', 'question = "Written?"', draft.read_text("utf-8")), "utf-8")
    result = run("--db", tmp_path / "l.db", "seed", draft)
    assert result.exit_code == 1 and "resolution_criteria is still a draft: write it before seeding" in result.stderr


def test_json_lists_the_candidates_with_their_offsets(article):
    result = run("extract", article, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    for row in rows:
        assert ARTICLE[row["start"]:row["end"]] == row["quote"]
    assert rows[0]["deadline"] == "2027-09-02" and rows[0]["cues"][0] == "predict"


def test_options_override_the_document(article, tmp_path):
    data = tomllib.loads(draft_of(article, tmp_path, "--source", "Widget Weekly", "--published", "2026-04-01",
                                  "--url", "https://w.example/a").read_text("utf-8"))
    assert data["document"]["url"] == "https://w.example/a"
    assert data["document"]["published_on"].isoformat() == "2026-04-01"
    assert {f["source"] for f in data["forecasts"]} == {"Widget Weekly"}
    assert data["forecasts"][0]["deadline"].isoformat() == "2027-10-01"  # 18 months from --published


def test_an_existing_output_file_is_never_replaced(article, tmp_path):
    target = tmp_path / "draft.toml"
    target.write_text("my edits", encoding="utf-8")
    result = run("extract", article, "-o", target)
    assert result.exit_code == 1
    assert result.stderr == f"Error: field --output: {target} exists: extract never replaces a file (a draft may hold your edits)\n"
    assert target.read_text(encoding="utf-8") == "my edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.toml", "widgets.md"]


@pytest.mark.parametrize("content, args, code, message", [
    ("Acme will open a plant by 2027.\n", [], 1, "field published: the article has no publication date"),
    ("Acme will open a plant by 2027.\n", ["--published", "2026-13-01"], 2, "Invalid value for '--published'"),
    ("Nothing here looks ahead.\n", ["--published", "2026-03-02"], 1, "no candidate forecasts found"),
    ("Acme will open a plant by 2027.\n", ["--published", "2026-03-02"], 1, "field source: the article names no"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, content, args, code, message):
    path = tmp_path / "a.txt"
    path.write_text(content, encoding="utf-8")
    result = run("extract", path, "-o", tmp_path / "out.toml", *args)
    assert result.exit_code == code
    assert message in result.stderr and result.stderr.count("\n") <= 1 + (code == 2) * 3
    assert not (tmp_path / "out.toml").exists()


def test_no_candidates_as_json_is_an_empty_list(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Nothing here looks ahead.\n", encoding="utf-8")
    result = run("extract", path, "--published", "2026-03-02", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_standard_input_is_read_with_a_dash():
    result = run("extract", "-", "--published", "2026-03-02", "--format", "json",
                 input="Acme is expected to open a plant by 2027.\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["deadline"] == "2027-12-31"


def test_the_installed_command_extracts_and_fails_cleanly(article, tmp_path):
    command = Path(sys.executable).with_name("predictions")
    env = {**os.environ, "PREDICTIONS_DB": str(tmp_path / "x.db")}
    done = subprocess.run([command, "extract", article, "--format", "json"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 3
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"PNG\n\x1a\xff")
    done = subprocess.run([command, "extract", binary, "--published", "2026-03-02"], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"Error: {binary}:2: is not UTF-8 text (byte 5 cannot be decoded)\n"


@pytest.mark.parametrize("option", ["--source", "--url"])
def test_a_source_or_url_that_is_not_one_line_is_refused(article, option):
    result = run("extract", article, option, "two\nlines")
    assert result.exit_code == 1
    assert result.stderr == f"Error: field {option[2:]}: must be one line of printable text, at most 300 characters\n"


def test_standard_input_is_held_to_the_file_rules():
    result = run("extract", "-", "--published", "2026-03-02", input=b"ok\n\xff will")
    assert result.exit_code == 1
    assert result.stderr == "Error: <stdin>:2: is not UTF-8 text (byte 3 cannot be decoded)\n"
