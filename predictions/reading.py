"""An article's text and what it says about itself (title, author, date, address).

Three kinds of input, told apart by the file name or, failing that, by the first characters:

* plain text: the text as read; a date is taken from a dateline near the top ("Published
  2026-05-15", "May 15, 2026" alone on a line). A month alone ("May 2026") is not a date.
* Markdown: the text as read (markup kept, so offsets are the file's); YAML front matter between
  `---` lines gives `title`, `author`, `published` or `date`, `url`. The front matter is read by
  the small parser below, which knows one `key: value` a line (plain, 'single' or "double"
  quoted) and skips what it does not use (lists, nested keys): no YAML library, nothing executed.
* HTML: the text the standard library's parser sees (after one linear pass that turns what it
  would rescan quadratically, such as an unclosed quote, into text), with scripts, styles and
  templates dropped, block elements on lines of their own and table rows as `| a | b |` lines; metadata from the
  <title>, <meta> tags (author, article:published_time, og:url, og:site_name) and <time datetime>.

Offsets into `Article.text` are counts of characters, with line ends read as "\n". Every step is
one pass over the input; files are read up to MAX_BYTES, so a special file (a pipe, /dev/zero)
is refused instead of read forever.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import re
from pathlib import Path
from typing import BinaryIO

import attrs

from .errors import ValidationError
from .files import open_regular

MAX_BYTES = 16 * 1024 * 1024  # about 2.5 million words: far past any article
KINDS = ("text", "markdown", "html")
_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".mdown": "markdown",
             ".html": "html", ".htm": "html", ".xhtml": "html"}  # fmt: skip


@attrs.frozen(kw_only=True)
class Article:
    """The readable text of a document, and its metadata where the document gives it."""

    text: str
    kind: str
    body_start: int = 0  # where the prose starts: after the front matter
    title: str | None = None
    author: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: dt.date | None = None
    published_text: str | None = None  # the date as the document prints it
    file: str | None = None


def read_article(source: str | Path | BinaryIO, *, kind: str | None = None) -> Article:
    """Read a file (a Path) or a binary stream (standard input), or take text (a str)."""
    name = None
    if isinstance(source, Path):
        name = str(source)
        text = _read_file(source)
        kind = kind or _SUFFIXES.get(source.suffix.lower())
    elif isinstance(source, str):
        text = source.replace("\r\n", "\n").replace("\r", "\n")
    elif hasattr(source, "read"):
        text = _decoded(source.read(MAX_BYTES + 1), "<stdin>")
    else:
        raise ValidationError(None, f"an article is a path, a binary stream or its text, not {type(source).__name__}")
    if kind is not None and kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    kind = kind or _sniff(text)
    where = name or "<text>"
    if kind == "html":
        article = _from_html(text)
    elif kind == "markdown":
        article = _from_markdown(text, where)
    else:
        article = Article(text=text, kind="text", **_dateline(text))
    return attrs.evolve(article, file=Path(name).name if name else None)


def _read_file(path: Path) -> str:
    try:
        with open_regular(path) as handle:  # a FIFO or a device is refused, not waited on
            data = handle.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise ValidationError(None, "is a directory, not an article", str(path)) from None
    except OSError as exc:
        raise ValidationError(None, f"cannot read it ({exc.strerror or exc})", str(path)) from None
    return _decoded(data, str(path))


def _decoded(data: bytes, path: str) -> str:
    """UTF-8 text (a BOM skipped, line ends as "\n") of at most MAX_BYTES, or a refusal naming FILE:LINE."""
    if not isinstance(data, bytes):
        raise ValidationError(None, "a stream to read an article from must give bytes", path)
    if len(data) > MAX_BYTES:
        raise ValidationError(None, f"is larger than {MAX_BYTES // (1024 * 1024)} MB: not an article", path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValidationError(None, f"is not UTF-8 text (byte {exc.start} cannot be decoded)", f"{path}:{line}") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValidationError(None, "holds a NUL character: not a text file", f"{path}:{line}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _sniff(text: str) -> str:
    head = text[:512].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<head", "<body", "<article")):
        return "html"
    if text.startswith("---\n"):
        return "markdown"
    return "text"


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {name: number for number, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}  # fmt: skip
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_FORMS = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"), "ymd"),
    (re.compile(rf"{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.I), "mdy"),
    (re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(\d{{4}})", re.I), "dmy"),
)
_DATELINE = re.compile(r"(?:published|posted|updated|date|dated|on)?\s*:?\s*", re.I)
_MONTH_ONLY = re.compile(rf"{_MONTH}\s+\d{{4}}", re.I)


def parse_date_text(value: str) -> dt.date | None:
    """A date written out in full ("2026-05-15", "May 15, 2026", "15 May 2026"); None otherwise."""
    value = value.strip()
    for pattern, order in _DATE_FORMS:
        match = pattern.fullmatch(value)
        if not match:
            continue
        if order == "ymd":
            year, month, day = int(match[1]), int(match[2]), int(match[3])
        elif order == "mdy":
            month, day, year = _MONTHS[match[1].lower()], int(match[2]), int(match[3])
        else:
            day, month, year = int(match[1]), _MONTHS[match[2].lower()], int(match[3])
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


def _dateline(text: str) -> dict:
    """A publication date on a line of its own among the first ten, for plain text."""
    for line in text.split("\n", 10)[:10]:
        line = line.strip()
        if not line or len(line) > 60:
            continue
        rest = line[_DATELINE.match(line).end():]
        day = parse_date_text(rest)
        if day is not None:
            return {"published": day, "published_text": line}
    return {}


def month_only_date(article: Article) -> str | None:
    """A line near the top that gives only a month ("May 2026"), to say why no date was taken."""
    for line in article.text[article.body_start:].split("\n", 10)[:10]:
        if _MONTH_ONLY.fullmatch(line.strip()):
            return line.strip()
    return None


# --- Markdown front matter -----------------------------------------------------------------------

_FRONT_KEYS = {"title": "title", "author": "author", "published": "published", "date": "published",
               "url": "url"}  # fmt: skip
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*))?")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\x00", "r": "\r"}


def _from_markdown(text: str, where: str) -> Article:
    if not text.startswith("---\n"):
        return Article(text=text, kind="markdown")
    lines = text.split("\n")
    values: dict[str, tuple[str, int]] = {}
    offset = 4
    for number, line in enumerate(lines[1:], start=2):
        end = offset + len(line) + 1
        if line.rstrip() in ("---", "..."):
            break
        offset = end
        if not line.strip() or line.lstrip().startswith("#") or line[0] in " \t-":
            continue  # a comment, or part of a list or mapping under a key this reader does not use
        match = _KEY_LINE.fullmatch(line.rstrip())
        if not match:
            raise ValidationError("front matter", "expected 'key: value'", f"{where}:{number}")
        key = _FRONT_KEYS.get(match[1].lower())
        if key is None or key in values:
            continue  # keys this reader does not use; the first of two `date`/`published` wins
        value = _scalar(match[2] or "", f"{where}:{number}", match[1])
        if value:
            values[key] = (value, number)
    else:
        raise ValidationError("front matter", "opened with '---' but never closed", f"{where}:1")
    fields = {key: value for key, (value, _) in values.items() if key != "published"}
    for key, value in fields.items():
        if "\n" in value or len(value) > 300:
            raise ValidationError(f"front matter {key}", "must be one line of at most 300 characters",
                                  f"{where}:{values[key][1]}")
    if "published" in values:
        raw, number = values["published"]
        day = parse_date_text(raw)
        if day is None:
            raise ValidationError("front matter date", f"{raw!r} is not a date (YYYY-MM-DD)", f"{where}:{number}")
        fields.update(published=day, published_text=raw)
    return Article(text=text, kind="markdown", body_start=min(end, len(text)), **fields)


def _scalar(raw: str, where: str, key: str) -> str:
    """One YAML scalar on one line: plain (a trailing ' #' comment dropped), 'single' or "double"."""
    raw = raw.strip()
    if raw.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'(?:\s+#.*)?", raw)
        if not match:
            raise ValidationError(f"front matter {key}", "has an unterminated 'quoted' value", where)
        return match[1].replace("''", "'")
    if raw.startswith('"'):
        match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"(?:\s+#.*)?', raw)
        if not match:
            raise ValidationError(f"front matter {key}", 'has an unterminated "quoted" value', where)
        return re.sub(r"\\(u[0-9A-Fa-f]{4}|.)", lambda m: _unescape(m[1], where, key), match[1])
    if raw[:1] in ("|", ">", "[", "{", "&", "*", "!"):
        raise ValidationError(f"front matter {key}", "must be a plain or quoted value on one line", where)
    return re.sub(r"\s+#.*$", "", raw)


def _unescape(code: str, where: str, key: str) -> str:
    if code[0] == "u" and len(code) == 5:
        char = chr(int(code[1:], 16))
    elif code in _ESCAPES:
        char = _ESCAPES[code]
    else:
        raise ValidationError(f"front matter {key}", f"has an unknown escape '\\{code}'", where)
    if char == "\x00" or 0xD800 <= ord(char) <= 0xDFFF:
        raise ValidationError(f"front matter {key}", "holds a NUL or a lone surrogate", where)
    return char


# --- HTML ----------------------------------------------------------------------------------------

_DROPPED = {"script", "style", "template", "noscript", "svg"}
_BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2", "h3",
           "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre", "br", "hr", "table", "tr", "dl", "dt",
           "dd", "figure", "figcaption", "form", "title"}  # fmt: skip
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}


class _TextParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping: list[str] = []  # open dropped elements; text inside them is skipped
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.in_title = False
        self.cells: list[str] | None = None  # the cells of the open table row
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs_):
        found = {key.lower(): (value or "") for key, value in attrs_}
        if tag == "meta":
            key = (found.get("property") or found.get("name") or found.get("itemprop") or "").lower()
            if key and "content" in found:
                self.meta.setdefault(key, found["content"])
        elif tag == "link" and "canonical" in found.get("rel", "").lower().split():
            self.meta.setdefault("canonical", found.get("href", ""))
        elif tag == "time" and found.get("datetime"):
            self.meta.setdefault("time", found["datetime"])
        if tag == "title":
            self.in_title = True
        if tag in _VOID:
            if tag in ("br", "hr") and not self.dropping:
                self._write("\n")
            return
        if tag in _DROPPED:
            self.dropping.append(tag)
            return
        if self.dropping:
            return
        if tag == "tr":
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cell = []
        elif tag in _BLOCKS:
            self._write("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in ("td", "th") and self.cell is not None and self.cells is not None:
            self.cells.append(" ".join("".join(self.cell).split()).replace("|", "/"))
            self.cell = None
        elif tag == "tr" and self.cells is not None:
            cells, self.cells = self.cells, None
            self.parts.append("\n| " + " | ".join(cells) + " |\n")
        elif tag in _BLOCKS:
            self._write("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title.append(data)
            return
        if self.dropping:
            return
        self._write(data)

    def _write(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        elif self.cells is None:
            self.parts.append(data)


_TAG = re.compile(r"<[a-zA-Z/!?][^<>]{0,4000}>")
_BALANCED_TAG = re.compile(r"""<[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>""")


def _linear_html(source: str) -> str:
    """The markup html.parser can read in linear time: it rescans to the end of the text for each
    tag it cannot finish (an unclosed quote, "<a" after "<a"), which is quadratic on hostile input.

    So, in one pass: a tag is kept only when it ends within 4,000 characters, holds no "<" and
    balances its quotes; any other "<" becomes "&lt;" (text, as it is to a browser). Comments,
    declarations, CDATA and processing instructions are dropped (they hold no article text; an
    unclosed comment hides the rest, as it does in a browser); the doctype is kept.
    """
    out, pos = [], 0
    while True:
        at = source.find("<", pos)
        if at < 0:
            out.append(source[pos:])
            break
        out.append(source[pos:at])
        if source.startswith("<!--", at):
            close = source.find("-->", at + 4)
            if close < 0:
                break
            pos = close + 3
            continue
        tag = _TAG.match(source, at)
        if tag is None or not _BALANCED_TAG.fullmatch(tag.group()):
            out.append("&lt;")
            pos = at + 1
            continue
        if tag.group()[1] not in "!?" or tag.group()[:9].lower() == "<!doctype":
            out.append(tag.group())
        pos = tag.end()
    return "".join(out)


def _from_html(source: str) -> Article:
    parser = _TextParser()
    parser.feed(_linear_html(source))
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = _table_separators("\n".join(line for line in lines if line))
    meta = parser.meta
    title = " ".join("".join(parser.title).split()) or meta.get("og:title")
    published_text = meta.get("article:published_time") or meta.get("date") or meta.get(
        "datepublished") or meta.get("time")
    published = parse_date_text(published_text) if published_text else None
    return Article(
        text=text, kind="html", title=_one_line(title), author=_one_line(meta.get("author")),
        outlet=_one_line(meta.get("og:site_name")), url=_one_line(meta.get("og:url") or meta.get("canonical")),
        published=published, published_text=published_text if published else None,
    )


def _table_separators(text: str) -> str:
    """A `|---|` line after the first row of each table, so that HTML tables read like Markdown's."""
    out, previous = [], ""
    for line in text.split("\n"):
        if line.startswith("| ") and not previous.startswith("| "):
            out.append(line)
            out.append("|" + "---|" * line.count(" | ") + "---|")
        else:
            out.append(line)
        previous = line
    return "\n".join(out)


def _one_line(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value[:300] or None
