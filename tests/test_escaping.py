"""Values read from a ledger file reach no medium raw (issue 9, class 4), and new text cannot carry
the characters that would need it: one escaping function per medium (predictions.escape), used by
every command and format, and the model refusing controls, bidi and zero-width characters."""

from __future__ import annotations

import html as html_module
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import (
    Ledger, ValidationError, escape_html, escape_json, escape_markdown, escape_markdown_code, escape_terminal,
    escape_terminal_lines,
)  # fmt: skip
from predictions.escape import UNSAFE
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

SCRIPT = Path(sys.executable).with_name("predictions")

# What a hostile value holds: a screen clear and a fake green OK, a bidi override, zero-width
# characters, a C1 CSI, a line separator, a tag character.
HOSTILE = "\x1b[2J\x1b[32mOK\x1b[0m \u202etxt.exe\u202c \u200bx\ufeff \x9b31m \u2028 \U000e0041"
RAW = re.compile("[\x1b\x9b\u202e\u202c\u200b\ufeff\u2028\U000e0041]")


def raw_in(text: str) -> list[str]:
    return RAW.findall(text)


# --- the escaping functions ---------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60) | st.sampled_from(
    [HOSTILE, "`", "``a``", " ` ", "a|b", "\ud800x", "\r\n", "\\x1b"]
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_terminal_escaping_leaves_no_unsafe_character_and_keeps_safe_text(text):
    one, lines = escape_terminal(text), escape_terminal_lines(text)
    assert not UNSAFE.search(one)
    assert all(c in "\t\n" for c in UNSAFE.findall(lines))
    assert lines.count("\n") == text.count("\n")
    if not UNSAFE.search(text):
        assert one == text and lines == text
    assert escape_terminal(one) == one  # nothing left to escape: applying it twice changes nothing


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | ANY_TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                    max_leaves=10))  # fmt: skip
def test_json_escaping_is_the_same_value_to_a_json_reader(value):
    for indent in (None, 2):
        text = escape_json(value, indent=indent)
        assert json.loads(text) == value
        assert all(c == "\n" for c in UNSAFE.findall(text))  # layout only, never inside a string


def _code_span(markdown: str) -> str:
    """The content of the first code span in `markdown`, as CommonMark 6.1 reads it."""
    opening = re.search("`+", markdown)
    fence = opening.group()
    rest = markdown[opening.end():]
    closing = next(m for m in re.finditer("`+", rest) if m.group() == fence)
    content = rest[: closing.start()]
    if len(content) > 2 and content[0] == content[-1] == " " and content.strip():
        content = content[1:-1]
    return content


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_a_markdown_code_span_holds_exactly_the_value_whatever_backticks_it_has(text):
    span = escape_markdown_code(text)
    expected = escape_terminal(" ".join(text.splitlines()))
    if expected.strip(" "):
        assert _code_span(span) == expected
    assert not UNSAFE.search(span)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_markdown_and_html_text_escape_their_specials_and_the_unsafe(text):
    md = escape_markdown(text)
    assert not UNSAFE.search(md)
    assert not re.search(r"(?<!\\)[`|*_\[\]<>#~$]", md.replace("\\\\", ""))  # every special is backslashed
    page = escape_html(text)
    assert "<" not in page and ">" not in page and '"' not in page
    assert html_module.unescape(page) == escape_terminal_lines(text)


# --- new text: the model refuses what would need escaping -----------------------------------------

ONE_LINE = ["source", "deadline_text", "phrase", "recorded_by", "document.title", "document.url"]
MULTI_LINE = ["claim", "quote", "question", "resolution_criteria", "note", "evidence", "document.note"]


def _build(field: str, value: str):
    from predictions import Document, Forecast, Question, Resolution

    if field.startswith("document."):
        return Document(**{field.split(".")[1]: value})
    if field in ("question", "resolution_criteria", "deadline_text"):
        values = {"id": "abc", "resolution_criteria": "r", "deadline": "2026-02-01", "recorded_at": "2026-01-01T00:00:00Z"}
        return Question(**{**values, field: value})
    if field in ("recorded_by", "evidence"):
        values = {"question_id": "abc", "outcome": "yes", "resolved_on": "2026-01-01", "evidence": "e",
                  "recorded_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        return Resolution(**{**values, field: value})
    fields = {"id": "abc", "question_id": "abc", "source": "S", "claim": "c", "made_on": "2026-01-01",
              "probability": 0.5, "probability_basis": "stated", "recorded_at": "2026-01-01T00:00:00Z",
              "phrase": None}  # fmt: skip
    if field == "phrase":
        fields["probability_basis"] = "verbal"
    return Forecast(**{**fields, field: value})


@pytest.mark.parametrize("field", ONE_LINE + MULTI_LINE)
@pytest.mark.parametrize(
    ("char", "words"),
    [
        ("\x85", "a C1 control"), ("\x9b", "a C1 control"),
        ("\u202e", "U+202E, an invisible bidi control"), ("\u2066", "U+2066, an invisible bidi control"),
        ("\u200f", "U+200F, an invisible bidi control"), ("\u061c", "U+061C, an invisible bidi control"),
        ("\u200b", "U+200B, an invisible character"), ("\u200d", "U+200D, an invisible character"),
        ("\ufeff", "U+FEFF, an invisible character"), ("\u2060", "U+2060, an invisible character"),
        ("\u00ad", "U+00AD, an invisible character"), ("\U000e0041", "U+E0041, an invisible character"),
        ("\x1b", "a control character"), ("\x7f", "a control character"),
    ],
)  # fmt: skip
def test_every_text_field_refuses_controls_bidi_and_zero_width_characters(field, char, words):
    with pytest.raises(ValidationError) as caught:
        _build(field, f"Look{char}alike")
    assert caught.value.field == field and words in caught.value.message


@pytest.mark.parametrize("field", MULTI_LINE)
def test_multi_line_fields_keep_line_breaks_and_tabs_and_refuse_other_separators(field):
    text = "line one\nline two\ttabbed\r\nend\rold Mac"
    value = _build(field, text)
    assert getattr(value, field.split(".")[-1]) == text
    for bad in ("a\u2028b", "a\u2029b"):
        with pytest.raises(ValidationError, match="a line or paragraph separator; use a newline"):
            _build(field, bad)


@pytest.mark.parametrize("field", ONE_LINE)
def test_one_line_fields_refuse_every_line_break(field):
    for bad in ("a\nb", "a\tb", "a\rb", "a\u2028b", "a\u2029b"):
        with pytest.raises(ValidationError, match="must be a single line"):
            _build(field, bad)


def test_add_and_import_refuse_a_look_alike_source_with_one_line(tmp_path):
    db = tmp_path / "l.db"
    base = ["--db", str(db), "--today", TODAY.isoformat()]
    added = CliRunner().invoke(cli, [*base, "add", "--source", "The\u200b Economist", "--claim", "c",
                                     "--criteria", "r", "--made-on", "2026-01-15", "--deadline", "2026-12-31",
                                     "--probability", "0.5"])  # fmt: skip
    assert added.exit_code == 1
    assert added.stderr == "Error: field source: contains U+200B, an invisible character (it makes look-alike text); remove it\n"
    assert not db.exists() or Ledger(db).count() == 0
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({**forecast_fields(source="Reu\u202eters"), "made_on": "2026-01-15",
                                "deadline": "2026-12-31"}) + "\n", encoding="utf-8")  # fmt: skip
    imported = CliRunner().invoke(cli, [*base, "import", str(data)])
    assert imported.exit_code == 1
    assert "in.jsonl:1" in imported.stderr and "U+202E" in imported.stderr
    assert not raw_in(imported.stderr)


def test_a_forecast_an_earlier_version_recorded_with_such_characters_still_reads(db_path):
    with Ledger(db_path) as ledger:
        ledger.add(**forecast_fields(id="old-one"))
    _edit(db_path, "UPDATE forecasts SET source = 'Reu\u202eters' WHERE id = 'old-one'", trigger="forecasts_no_edit")
    with Ledger(db_path) as ledger:
        assert ledger.get("old-one").forecast.source == "Reu\u202eters"  # read by the rules it was recorded under
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--today", TODAY.isoformat(), "show", "old-one"])
    assert result.exit_code == 0 and "Reu\\u202eters" in result.stdout and not raw_in(result.stdout)


# --- values from the file in every command and format ------------------------------------------


def _edit(db: Path, *statements, trigger: str | None = None) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        saved = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [trigger]).fetchone() if trigger else None
        if saved:
            conn.execute(f"DROP TRIGGER {trigger}")
        for statement in statements:
            conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
        if saved:
            conn.execute(saved[0])
    finally:
        conn.close()


@pytest.fixture
def hostile(db_path):
    """A ledger whose unhashed columns and table values hold terminal sequences, bidi overrides and
    zero-width characters, as raw SQL can write them (the chain then fails, and says so escaped)."""
    with Ledger(db_path) as ledger:
        ledger.add(**forecast_fields(id="alpha-one", source="Example Outlet", deadline="2026-06-30"))
        ledger.add(**forecast_fields(id="beta-two", deadline="2026-03-31"))
        ledger.resolve("alpha-one", "no", on="2026-06-30", evidence="report", today=TODAY)
    soft = HOSTILE.replace("\x1b", "").replace("\x9b", "")  # what the read rules let through (no C0)
    _edit(db_path, ("UPDATE entries SET subject_id = ? WHERE seq = 1", [HOSTILE]),
          ("UPDATE entries SET hash = ? WHERE seq = 3", ["``" + HOSTILE + "``"]), trigger="entries_no_update")  # fmt: skip
    _edit(db_path, ("UPDATE forecasts SET source = ?, claim = ? WHERE id = 'alpha-one'", [soft, soft]),
          trigger="forecasts_no_edit")  # fmt: skip
    _edit(db_path, ("UPDATE resolutions SET evidence = ?, recorded_by = ?", [soft, soft.replace("\u2028", "")]),
          trigger="resolutions_no_update")  # fmt: skip
    return db_path


COMMANDS = [
    ["verify"], ["verify", "--json"], ["head"], ["head", "--json"], ["list"], ["list", "--json"],
    ["show", "alpha-one"], ["show", "alpha-one", "--json"], ["history", "alpha-one"], ["due"],
    ["score"], ["score", "--json"], ["score", "--by", "month"],
    ["report", "--for", "2026"], ["report", "--for", "2026", "--no-verify"],
    *[["report", "--for", "2026", "--no-verify", "--format", fmt] for fmt in ("md", "html", "json")],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_command_prints_a_raw_control_bidi_or_zero_width_character(hostile, command):
    result = CliRunner().invoke(cli, ["--db", str(hostile), "--today", TODAY.isoformat(), *command])
    assert "unexpected" not in result.stderr and result.exception is None or isinstance(result.exception, SystemExit)
    assert raw_in(result.stdout) == [] and raw_in(result.stderr) == [], (result.stdout, result.stderr)
    if command[0] == "verify":
        assert result.exit_code == 1
        if "--json" in command:
            problems = json.loads(result.stdout)["problems"]
            assert any(p["forecast_id"] == HOSTILE for p in problems)  # the value itself, \u-escaped
        else:
            assert "\\x1b[2J\\x1b[32mOK" in result.stdout  # shown, not obeyed
            assert result.stderr.startswith("Error: verification failed: ") and len(result.stderr.splitlines()) == 1
    if command == ["head"]:
        assert result.stdout.startswith("``\\x1b[2J")


def test_the_markdown_report_keeps_a_hash_with_backticks_in_its_code_span(hostile):
    result = CliRunner().invoke(cli, ["--db", str(hostile), "--today", TODAY.isoformat(),
                                      "report", "--for", "2026", "--no-verify", "--format", "md"])  # fmt: skip
    line = next(line for line in result.stdout.splitlines() if "chain head" in line)
    after = line[line.index("chain head") + len("chain head"):]
    value = "``" + HOSTILE + "``"
    assert _code_span(after) == escape_terminal(" ".join(value.splitlines()))  # a line separator is a space


def test_the_html_report_holds_no_markup_from_the_file(hostile):
    result = CliRunner().invoke(cli, ["--db", str(hostile), "--today", TODAY.isoformat(),
                                      "report", "--for", "2026", "--no-verify", "--format", "html"])  # fmt: skip
    assert "\\u202etxt.exe" in result.stdout and not raw_in(result.stdout)


def test_verify_through_the_installed_command_paints_nothing(hostile):
    done = subprocess.run([str(SCRIPT), "--db", str(hostile), "verify"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert raw_in(done.stdout + done.stderr) == []
    assert done.stderr.count("\n") == 1 and "\\x1b[2J" in done.stderr
