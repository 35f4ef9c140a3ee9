"""Text read from a ledger file, made safe for the medium it is shown in: one function per medium.

The chain does not cover every column (`entries.forecast_id`, `entries.hash`, ...), a file can be
edited with raw SQL, and earlier versions accepted characters the model now refuses. So nothing
read from the file reaches a terminal, a Markdown or HTML page or a JSON document as it is:

* `escape_terminal` / `escape_terminal_lines`: characters that are invisible or that steer the terminal (C0 and
  C1 controls, the escape sequences they start, bidi overrides and isolates, zero-width
  characters, line and paragraph separators, lone surrogates from bytes that are not UTF-8) are
  written as Python writes them in a string: `\\x1b`, `\\u202e`, `\\udcff`.
* `escape_markdown` / `escape_markdown_code`: the same, then Markdown's own escaping (a table cell, a code span).
* `escape_html`: the same, then `html.escape`.
* `escape_json`: JSON with those characters as `\\uXXXX` escapes (the same value to a JSON reader).

`UNSAFE` is also what the model refuses in new text (model.py), so the two cannot drift.
"""

from __future__ import annotations

import html as _html
import json
import re
from typing import Any

# C0 controls, DEL and C1 controls; soft hyphen; Arabic letter mark; Mongolian vowel separator;
# zero-width space, non-joiner, joiner, LRM, RLM; line and paragraph separators; the bidi
# embeddings and overrides; word joiner, invisible operators, bidi isolates, deprecated format
# characters; byte-order mark (zero-width no-break space); interlinear annotation; lone
# surrogates; tag characters.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_UNSAFE_EXCEPT_LAYOUT = re.compile(UNSAFE.pattern.replace("\x00-\x1f", "\x00-\x08\x0b-\x1f"))  # keeps \t \n


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    if code <= 0xFF:
        return {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_terminal(value: Any) -> str:
    """One line for a terminal: every unsafe character, line breaks and tabs included, escaped."""
    text = str(value)
    return UNSAFE.sub(_visible, text)


def escape_terminal_lines(value: Any) -> str:
    """Text of several lines for a terminal: newlines and tabs kept, everything else unsafe escaped."""
    return _UNSAFE_EXCEPT_LAYOUT.sub(_visible, str(value))


_MARKDOWN_SPECIAL = re.compile(r"([\\|*_`\[\]<>#~$])")  # ~ and $: strikethrough and maths in GitHub-style renderers


def escape_markdown(value: Any) -> str:
    """Inline Markdown text (a paragraph or a table cell) that shows `value` literally, on one line."""
    text = escape_terminal(" ".join(str(value).split()))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def escape_markdown_code(value: Any, in_table: bool = False) -> str:
    """A code span showing `value` literally. Its content is not backslash-escaped, so it is fenced
    with more backticks than the longest run inside (CommonMark 6.1), with a space each side when
    it starts or ends with a backtick (the space is stripped on display). In a table cell `|` must
    still be escaped: GFM splits cells before it reads code spans, and shows `\\|` there as `|`."""
    text = escape_terminal(" ".join(str(value).splitlines()))
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    space = " " if text[:1] == "`" or text[-1:] == "`" or (text[:1] == text[-1:] == " " and text.strip()) else ""
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{space}{text}{space}{fence}"


def escape_html(value: Any) -> str:
    """Text for HTML (an element's content or a quoted attribute value)."""
    return _html.escape(escape_terminal_lines(value), quote=True)


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


# json.dumps writes every C0 control in a string as an escape, so a raw one in its output is layout.
_JSON_UNSAFE_BMP = re.compile(UNSAFE.pattern.replace("\x00-\x1f", "").replace("\U000e0000-\U000e007f", ""))


def escape_json(value: Any, *, indent: int | None = None) -> str:
    """`value` as JSON, with unsafe characters as \\uXXXX escapes (tag characters as their surrogate
    pair, as JSON writes characters beyond the BMP)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if _UNSAFE_EXCEPT_LAYOUT.search(text) is None:
        return text
    text = _JSON_UNSAFE_BMP.sub(_json_escape, text)
    return re.sub("[\U000e0000-\U000e007f]", lambda m: json.dumps(m.group()).strip('"'), text)
