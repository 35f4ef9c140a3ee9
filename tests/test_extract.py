"""extract_forecasts: the cues, quotes and offsets, horizons and hedges, and the three kinds of input.

Every text here is written for the test; the articles and the seeds are measured in
tests/test_extract_recall.py.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from predictions import Candidate, Draft, ValidationError, extract_forecasts

DAY = dt.date(2026, 3, 2)


def candidates(text: str, **kwargs) -> tuple[Candidate, ...]:
    return extract_forecasts(text, published=kwargs.pop("published", DAY), **kwargs).candidates


def only(text: str, **kwargs) -> Candidate:
    found = candidates(text, **kwargs)
    assert len(found) == 1, [c.quote for c in found]
    return found[0]


# --- cues ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, cue", [
    ("We predict that Acme will ship a folding phone.", "predict"),
    ("Our forecast: Acme ships a folding phone.", "predict"),
    ("Acme is expected to ship a folding phone.", "expected"),
    ("Sales are projected to reach $4 billion.", "expected"),
    ("Acme plans to open a factory in Ohio.", "plan"),
    ("Acme has committed to buying only green steel.", "plan"),
    ("There is a 70% chance that Acme ships a folding phone.", "stated"),
])
def test_a_strong_future_cue_alone_makes_a_candidate(sentence, cue):
    found = only(f"Acme had a good year. {sentence} Its shares rose.")
    assert cue in found.cues
    assert found.quote == sentence


def test_a_plain_will_needs_a_second_cue():
    assert candidates("Acme will matter more. It was a good year.") == ()  # will (2) + named (1)
    found = only("Acme will ship a folding phone by 2027. It was a good year.")
    assert {"will", "horizon", "named"} <= set(found.cues)


def test_statements_about_the_past_or_present_are_not_candidates():
    text = ("Acme shipped 4 million phones in 2025. Its revenue grew by 20% to $3 billion. "
            "The company employs 5,000 people. Analysts were surprised by the results.")
    assert candidates(text) == ()


def test_a_section_about_predictions_and_numbered_items_count():
    text = "Our predictions\n\n1. Acme will change its logo.\n2. Acme will hire a new CEO.\n"
    found = candidates(text)
    assert [c.quote for c in sorted(found, key=lambda c: c.start)] == [
        "1. Acme will change its logo.", "2. Acme will hire a new CEO."]
    assert all({"section", "numbered"} <= set(c.cues) for c in found)
    # the same sentences outside such a section are plain "will"s
    assert candidates("Notes\n\n1. Acme will change its logo.\n2. Acme will hire a new CEO.\n") == ()


def test_a_numbered_prediction_title_is_read_with_the_sentence_after_it():
    text = "Prediction 2: A New Rival. Within two years, Globex will overtake Acme in Europe. Time will tell."
    found = only(text)
    assert found.quote == "Prediction 2: A New Rival. Within two years, Globex will overtake Acme in Europe."
    assert found.deadline == dt.date(2028, 3, 2)


def test_penalties_questions_conditionals_and_meta_statements():
    assert candidates("Will Acme ship a folding phone by 2027?") == ()
    plain = only("Acme will ship a folding phone by 2027.")
    conditional = only("If rates fall, Acme will ship a folding phone by 2027.")
    assert "conditional" in conditional.cues and conditional.score == plain.score - 2
    found = only("The real test will be whether Acme ships by 2027. Acme will ship a folding phone by 2027.")
    assert found.quote == "Acme will ship a folding phone by 2027."


def test_nouns_and_months_are_not_future_verbs():
    assert candidates("The will of the board prevailed in May 2027. Political will is lacking.") == ()
    assert candidates("Sales grew faster than expected in 2026.") == ()
    assert candidates("We should worry about Acme by 2027.") == ()  # advice, not a forecast


# --- quotes and offsets --------------------------------------------------------------------------


_WORDS = st.sampled_from(["Acme", "will", "ship", "by", "2027", "is", "expected", "to", "grow", "30%",
                          "chance", "a", "the", "We", "predict", "—", "預計", "Прогноз", "\n", "\n\n", "|",
                          "Prediction 1:", "e.g.", "U.S.", "likely", "within", "18", "months", "."])


@given(st.lists(_WORDS, max_size=60).map(" ".join))
def test_every_quote_is_the_exact_slice_of_the_text_it_names(text):
    for candidate in candidates(text):
        assert text[candidate.start:candidate.end] == candidate.quote
        assert candidate.quote == candidate.quote.strip()


def test_a_quote_keeps_the_text_as_written_and_its_offsets_count_characters():
    text = "Café « Übersicht ».\n\nAcme’s  new plant is expected   to open by Q3 2026."
    found = only(text)
    assert found.quote == "Acme’s  new plant is expected   to open by Q3 2026."
    assert text.index("Acme") == found.start
    assert found.deadline == dt.date(2026, 9, 30)


def test_a_sentence_said_twice_is_one_candidate_where_it_first_appears():
    sentence = "Acme is expected to open a plant in 2027."
    found = only(f"{sentence} Then more.\n\nSummary:\n- {sentence}\n")
    assert found.start == 0


# --- horizons and hedges -------------------------------------------------------------------------


@pytest.mark.parametrize("wording, deadline", [
    ("within 18 months", dt.date(2027, 9, 2)),
    ("by the end of 2026", dt.date(2026, 12, 31)),
    ("by year-end 2026", dt.date(2026, 12, 31)),  # normalised before parse_deadline
    ("by end-2026", dt.date(2026, 12, 31)),
    ("in the first half of 2027", dt.date(2027, 6, 30)),
    ("in the second half of the year", dt.date(2026, 12, 31)),  # "the year" is the publication's
    ("over the next decade", dt.date(2036, 3, 2)),
    ("before the end of the year", dt.date(2026, 12, 31)),
])
def test_a_horizon_is_counted_from_the_publication_date(wording, deadline):
    found = only(f"Acme is expected to open a plant {wording}.")
    assert (found.deadline_text, found.deadline) == (wording, deadline)
    assert "horizon" in found.cues


def test_a_horizon_already_past_is_kept_as_words_with_the_reason():
    found = only("By the end of 2025, we predict Acme will open a plant.")
    assert found.deadline_text == "By the end of 2025" and found.deadline is None
    assert "before the forecast was made" in found.deadline_error


def test_a_horizon_parse_deadline_refuses_is_kept_with_its_reason():
    found = only("Acme is expected to open a plant by mid-2027.")  # "mid" has no agreed last day
    assert (found.deadline_text, found.deadline) == ("by mid-2027", None)
    assert "past-horizon" in found.cues and "no agreed last day" in found.deadline_error


def test_the_first_horizon_that_gives_a_deadline_is_taken():
    found = only("Sales are projected to grow from $4 billion in 2024 to $9 billion by 2028.")
    assert (found.deadline_text, found.deadline) == ("by 2028", dt.date(2028, 12, 31))


def test_two_claims_with_their_own_deadlines_are_two_candidates():
    text = "Plant A will open in the first half of 2026, and plant B is expected to open before the end of 2027."
    first, second = sorted(candidates(text), key=lambda c: c.start)
    assert (first.quote, first.deadline, first.phrase) == (
        "Plant A will open in the first half of 2026", dt.date(2026, 6, 30), "will")
    assert (second.quote, second.deadline, second.phrase) == (
        "plant B is expected to open before the end of 2027.", dt.date(2027, 12, 31), "expected to")


@pytest.mark.parametrize("sentence, phrase, probability", [
    ("Acme will likely open a plant by 2027.", "will likely", 0.75),
    ("Acme will probably open a plant by 2027.", "probably", 0.75),
    ("Acme is unlikely to open a plant by 2027.", "unlikely", 0.30),
    ("Acme will almost certainly open a plant by 2027.", "almost certainly", 0.93),
    ("Acme plans to open a plant by 2027.", "plans to", 0.75),
    ("Acme is committing to open a plant by 2027.", "committed to", 0.93),
    ("Acme could open a plant by 2027.", "could", 0.50),
])
def test_the_hedge_is_the_scale_phrase_of_the_claim(sentence, phrase, probability):
    found = only(sentence)
    assert (found.phrase, found.probability, found.probability_basis) == (phrase, probability, "verbal")


@pytest.mark.parametrize("sentence, probability", [
    ("There is a 70% chance that Acme opens a plant by 2027.", 0.70),
    ("Acme is 30 percent likely to open a plant by 2027.", 0.30),
    ("We put the probability of a plant by 2027 at about 15%.", 0.15),
    ("We see a 1 in 4 chance of a plant by 2027.", 0.25),
])
def test_a_stated_chance_is_the_probability_with_basis_stated(sentence, probability):
    found = only(sentence)
    assert (found.probability, found.probability_basis, found.phrase) == (probability, "stated", None)


@given(st.integers(0, 100))
def test_any_stated_percentage_is_read_as_that_probability(percent):
    found = only(f"We give Acme a {percent}% chance of opening a plant by 2027.")
    assert found.probability == percent / 100


# --- tables --------------------------------------------------------------------------------------


def test_a_column_headed_projected_makes_a_candidate_of_each_row():
    text = ("| Metric | 2025 | 2026 (Projected) |\n|---|---|---|\n| Revenue | $1B | $2B |\n"
            "| Customers | 10 | 30 |\n\nThat is all.")
    found = sorted(candidates(text), key=lambda c: c.start)
    assert [c.quote for c in found] == ["| Revenue | $1B | $2B |", "| Customers | 10 | 30 |"]
    assert all(c.deadline_text == "2026 (Projected)" and c.deadline == dt.date(2026, 12, 31) for c in found)
    assert all("table" in c.cues and c.phrase == "projected" for c in found)


def test_rows_by_year_are_quoted_from_the_header_so_the_figures_keep_their_names():
    text = "| Year | Revenue ($B) |\n|---|---|\n| 2024 | 1 |\n| 2026 | 3 |\n| 2027 | 5 |\n"
    found = sorted(candidates(text), key=lambda c: c.end)
    assert [c.deadline_text for c in found] == ["2026", "2027"]
    assert found[1].quote == text.rstrip("\n")  # header to the 2027 row


def test_a_table_of_past_figures_is_not_a_forecast():
    text = "| Year | Revenue ($B) |\n|---|---|\n| 2019 | 1 |\n| 2020 | 3 |\n\n| Name | Estimated value |\n|---|---|\n| A | 3 |\n"
    assert candidates(text) == ()


# --- inputs --------------------------------------------------------------------------------------


def test_markdown_front_matter_gives_title_author_date_and_url(tmp_path):
    path = tmp_path / "post.md"
    path.write_text("---\ntitle: \"Acme \\u00e9t\\u00e9\"\nauthor: 'Jo O''Neil'  \ndate: 2026-03-02\n"
                    "url: https://example.com/a # the canonical address\ntags:\n  - a\n  - b\nextra: {x: 1}\n---\n"
                    "# Outlook\n\nAcme will open a plant by 2027.\n", encoding="utf-8")
    draft = extract_forecasts(path)
    article = draft.article
    assert (article.title, article.author, article.url) == ("Acme été", "Jo O'Neil", "https://example.com/a")
    assert draft.published == dt.date(2026, 3, 2) and draft.source == "Jo O'Neil"
    assert [c.quote for c in draft.candidates] == ["Acme will open a plant by 2027."]
    assert draft.text[draft.candidates[0].start:draft.candidates[0].end] == draft.candidates[0].quote


@pytest.mark.parametrize("front, message", [
    ("title: Acme\nauthor: Jo", "opened with '---' but never closed"),
    ("title: 'Acme\n---\n", "unterminated 'quoted' value"),
    ('title: "Acme\\q"\n---\n', "unknown escape"),
    ("date: soon\n---\n", "'soon' is not a date"),
    ("title: |\n  Acme\n---\n", "plain or quoted value on one line"),
    ("just words\n---\n", "expected 'key: value'"),
])
def test_bad_front_matter_is_refused_naming_the_line(tmp_path, front, message):
    path = tmp_path / "post.md"
    body = "" if "never closed" in message else "Acme will open a plant by 2027.\n"
    path.write_text("---\n" + front + body, encoding="utf-8")
    with pytest.raises(ValidationError, match=message) as error:
        extract_forecasts(path, published=DAY)
    assert error.value.where.startswith(f"{path}:")


def test_html_text_leaves_out_scripts_and_styles_and_reads_the_metadata():
    page = ("<html><head><title>Acme's year</title><meta name='author' content='Jo'>"
            "<meta property='article:published_time' content='2026-03-02T08:00:00Z'>"
            "<style>.x { content: 'Acme will open a plant by 2027.' }</style></head><body>"
            "<script>var s = 'Globex will open a plant by 2027.';</script>"
            "<p>Acme &amp; Co <b>will</b> open a plant by 2027.</p><!-- Initech will close by 2027. --></body></html>")
    draft = extract_forecasts(page)
    assert [c.quote for c in draft.candidates] == ["Acme & Co will open a plant by 2027."]
    assert (draft.article.title, draft.source, draft.published) == ("Acme's year", "Jo", DAY)
    assert "Globex" not in draft.text and "content:" not in draft.text and "Initech" not in draft.text


@pytest.mark.parametrize("page, text", [
    ("<p>a < b and c<d</p><p>x</p>", "a < b and c<d\nx"),  # a "<" that opens no tag is text
    ("<p title='it\"s'>one</p><a b='>two", "one\n<a b='>two"),  # an unclosed quote: text, not a tag
    ("<p>one</p><!-- hidden <p>two</p>", "one"),  # an unclosed comment hides the rest
    ("<!DOCTYPE html><![CDATA[x]]><?php echo 1 ?><p>one</p>", "one"),
    ("<p>" + "<a b='" * 3 + "</p>", "<a b='<a b='<a b='"),
])
def test_html_that_is_not_well_formed_is_read_as_a_browser_shows_it(page, text):
    assert extract_forecasts("<html><body>" + page, published=DAY, kind="html").text == text


def test_html_tables_read_like_markdown_tables():
    page = ("<html><body><table><tr><th>Metric</th><th>2026 (forecast)</th></tr>"
            "<tr><td>Revenue</td><td>$2B</td></tr></table></body></html>")
    found = only(page)
    assert found.quote == "| Revenue | $2B |"


def test_plain_text_takes_a_dateline_and_refuses_without_a_date():
    assert extract_forecasts("Acme news\nPublished: 15 May 2026\n\nAcme will open by 2027.").published == dt.date(
        2026, 5, 15)
    with pytest.raises(ValidationError, match=r"no publication date \(it gives only a month: 'May 2026'\)"):
        extract_forecasts("Acme news\nMay 2026\n\nAcme will open a plant by 2027.")
    with pytest.raises(ValidationError, match="--published"):
        extract_forecasts("Acme will open a plant by 2027.")


def test_mixed_scripts_give_candidates_from_the_english_and_leave_the_rest():
    text = ("充電站數量預計在 2026 年底前翻倍。The number of charging points is projected to double by 2027.\n"
            "Le marché progressera de 18 % d'ici 2027. Рынок вырастет к 2027 году.\n")
    found = only(text)
    assert found.quote == "The number of charging points is projected to double by 2027."


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe Acme will", "is not UTF-8 text"),
    (b"Acme\x00 will", "NUL character"),
])
def test_a_file_that_is_not_text_is_refused(tmp_path, data, message):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    with pytest.raises(ValidationError, match=message):
        extract_forecasts(path, published=DAY)


def test_a_directory_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="is a directory"):
        extract_forecasts(tmp_path, published=DAY)
    with pytest.raises(ValidationError, match="cannot read it"):
        extract_forecasts(tmp_path / "missing.txt", published=DAY)


def test_a_special_file_or_one_too_large_is_refused_without_reading_it_all(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(ValidationError, match="not a regular file"):
        extract_forecasts(fifo, published=DAY)
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    with pytest.raises(ValidationError, match="larger than 16 MB"):
        extract_forecasts(big, published=DAY)


def test_an_overlong_sentence_is_not_prose():
    assert candidates("Acme will open a plant by 2027 " + "and more " * 400 + ".") == ()


def test_the_draft_type_is_public():
    draft = extract_forecasts("Acme will open a plant by 2027.", published=DAY, source="Acme Watch", url="u")
    assert isinstance(draft, Draft) and (draft.source, draft.url) == ("Acme Watch", "u")
    assert draft.to_json()[0]["deadline"] == "2027-12-31"
    assert set(draft.to_json()[0]) >= {"quote", "start", "end", "deadline_text", "deadline", "phrase",
                                       "probability", "probability_basis", "cues", "score"}


# --- the draft -----------------------------------------------------------------------------------


@given(st.text())
def test_a_toml_string_holds_exactly_its_text(value):
    from predictions.drafts import toml_string

    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_a_draft_keeps_every_quote_exactly_even_across_lines():
    text = ("| Year | Revenue ($B) |\n|---|---|\n| 2026 | 4 |\n| 2027 | 5 |\n\n"
            "'Acme will open a plant by 2027,' he said. Globex is expected to say \"no\" by 2028.\\\n")
    draft = extract_forecasts(text, published=DAY, source="S")
    loaded = tomllib.loads(draft.to_toml(recorded_at="2026-03-02T00:00:00Z"))["forecasts"]
    assert [f["quote"] for f in loaded] == [c.quote for c in draft.candidates]
    assert any("\n" in f["quote"] for f in loaded) and len(loaded) == 4
