"""An article's text in pieces: paragraphs, list items, headings and table lines, then sentences.

Line kinds: a table line starts with "|"; a heading starts with "#" or is a short line (at most
12 words) that does not end like a sentence ("AINews Verdict & Predictions", "Our predictions:");
a list item starts with "-", "*", "•" or "1."; the rest is prose, and a prose line that does not
end a sentence runs on into the next (hard-wrapped paragraphs). A heading about predictions,
forecasts or the outlook opens a section that lasts until the next heading.

A sentence ends at ".", "!" or "?" followed by a space and a capital, digit, quote or bracket (not
after an abbreviation or an initial), or at a CJK end mark. Everything is one pass over the text.
"""

from __future__ import annotations

import re

from .reading import Article

# A sentence ends at an end mark and a space before a capital, digit, quote or bracket; CJK end marks alone.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]*_]*\s+|[。!?]+")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "inc", "corp", "ltd", "co",
                  "jr", "sr", "no", "fig", "approx", "est", "u.s", "u.k", "e.u", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}  # fmt: skip
_NUMBER_ONLY = re.compile(r"\s*\d{1,3}")
LIST_ITEM = re.compile(r"[-*•+]\s+|\d{1,3}[.)]\s+")
_HEADING_WORDS = re.compile(r"\b(?:predictions?|forecasts?|outlook|verdict|what to watch|what'?s next|looking ahead|"
                            r"the road ahead|expect|expectations|projections)\b", re.IGNORECASE)


def blocks(article: Article):
    """(start, end, kind, in_section) for each paragraph, list item, heading and table line."""
    text, pos = article.text, article.body_start
    in_section = False
    block_start = None  # the open paragraph
    open_kind = None
    previous = ""  # the last line, stripped
    while pos <= len(text):
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline
        line = text[pos:line_end]
        stripped = line.strip()
        kind = _line_kind(stripped)
        joins = (block_start is not None and kind == "prose" and (open_kind == "prose" or line[:1] in " \t")
                 and not _ends_sentence(previous))
        previous = stripped
        if not joins and block_start is not None:
            yield block_start, pos - 1, open_kind, in_section
            block_start = None
        if kind == "heading":
            in_section = bool(_HEADING_WORDS.search(stripped)) and not stripped.startswith("|")
            yield pos, line_end, kind, in_section
        elif kind == "table":
            yield pos, line_end, kind, in_section
        elif kind in ("prose", "item") and block_start is None:
            block_start, open_kind = pos, kind
        if newline < 0:
            break
        pos = newline + 1
    if block_start is not None:
        yield block_start, len(text), open_kind, in_section


def _line_kind(stripped: str) -> str:
    if not stripped:
        return "blank"
    if stripped.startswith("|"):
        return "table"
    if stripped.startswith("#"):
        return "heading"
    if LIST_ITEM.match(stripped):
        return "item"
    words = stripped.count(" ") + 1
    if words <= 12 and stripped[-1] not in ".!?;,\"'”’)。!?" and len(stripped) <= 100:
        return "heading"
    return "prose"


def _ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in ".!?:;\"'”’)。!?"


def sentences(text: str, start: int, end: int):
    """(start, end) of each sentence in text[start:end], leading list markers and spaces left out."""
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        mark = match.group()
        if mark[0] in ".!?":
            if match.end() < end and not _opens_sentence(text[match.end()]):
                continue
            word = re.search(r"([\w.]+)$", text[max(pos, match.start() - 12):match.start()])
            if mark[0] == "." and _NUMBER_ONLY.fullmatch(text, pos, match.start()):
                continue  # "1. Acme will ...": a list number, not a sentence
            if mark[0] == "." and word and (word[1].lower() in _ABBREVIATIONS or (len(word[1]) == 1 and word[1].isalpha())):
                continue
        yield from trimmed(text, pos, match.end())
        pos = match.end()
    yield from trimmed(text, pos, end)


def _opens_sentence(char: str) -> bool:
    return char.isupper() or char.isdigit() or char in "\"'“‘([*_" or ord(char) > 0x2E7F


def trimmed(text: str, start: int, end: int):
    while start < end and text[start].isspace():
        start += 1
    marker = LIST_ITEM.match(text, start, end)
    if marker and text[start] in "-*•+":
        start = marker.end()
    while start < end and text.startswith(("#", "**", "__"), start):  # heading marks, bold around a label
        start += 1 if text[start] == "#" else 2
        while start < end and text[start] in " \t":
            start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end
