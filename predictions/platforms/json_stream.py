"""The large list of a JSON export, read one element at a time from a window of the file.

`load_json` parses a file whole: the parsed tree costs 0.5-0.8 KB a forecast, so a million-
forecast export would take most of a gigabyte. `stream` yields the elements of the top-level
array (or of the one list under `key` in a top-level object) one at a time, each parsed by the
same decoder (`common._DECODER`: duplicate keys, NaN and Infinity refused), from a window of the
file read in chunks. An element that does not fit in the window grows it geometrically (the
window is read again from the element's start, never from the file's), so the cost is linear in
the file and the memory is about one element plus one chunk.

Every refusal is `load_json`'s, worded the same and at the same FILE:LINE, but named in file
order: an element is yielded (and its fields checked by the caller) before a later syntax error,
a bad UTF-8 byte or trailing garbage is met. The value count limit applies to an element (and
what follows it in the window), not to the whole file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ValidationError
from . import common

CHUNK = 1024 * 1024
_WS = re.compile(r"[ \t\n\r]*")  # json's own white space
_scanstring = json.decoder.scanstring


def stream(path: str | Path, key: str, progress: common.Progress | None = None,
           chunk: int | None = None) -> Iterator[tuple[str, Any]]:
    """(JSON path, value) in file order: ("$[n]", element) for a top-level array, ("$.KEY[n]",
    element) for an object whose `key` holds an array (its other members are parsed and
    dropped), and ("$", the whole value) for anything else (an object without it, a scalar)."""
    name = str(path)
    with common.open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > common.MAX_JSON_BYTES:
            raise common.json_too_large(name, size)
        window = _Window(handle, name, progress, chunk or CHUNK)
        first = window.peek()
        if first == "[":
            window.pos += 1
            for number, value in window.array():
                yield f"$[{number}]", value
        elif first == "{":
            yield from window.wrapper(key)
        else:
            yield "$", window.value()
        if window.peek():
            window.fail("Extra data")


def _values(text: str, start: int, end: int) -> int:
    return text.count(",", start, end) + text.count("[", start, end) + text.count("{", start, end)


class _Window:
    """The unread text of a file from `pos`, decoded, with the lines before it counted."""

    def __init__(self, handle, name: str, progress: common.Progress | None, chunk: int):
        self.handle, self.name, self.progress, self.chunk = handle, name, progress, chunk
        self.text = ""
        self.pos = 0
        self.lines = 0  # line breaks in the text dropped before the window
        self.read_bytes = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.started = False  # the BOM is looked for in the first decoded text
        self.eof = False
        self.pending: ValidationError | None = None  # a bad byte, raised when the text before it is used up
        self.bound: tuple[int, int | None] | None = None  # (pos, limit) as worked out by _limit
        self.values = 0  # the values counted from there

    # --- reading ---

    def more(self) -> bool:
        """Add to the window at least a chunk, or as much as it holds (so an element that does
        not fit is re-scanned O(log) times); False at the end of the file."""
        if self.pending is not None:
            raise self.pending
        if self.eof:
            return False
        if self.pos:
            self.lines += self.text.count("\n", 0, self.pos)
            self.text = self.text[self.pos:]
            self.pos = 0
        while True:
            data = self.handle.read(max(self.chunk, len(self.text)))
            self.read_bytes += len(data)
            if self.read_bytes > common.MAX_JSON_BYTES:  # it grew since it was measured
                raise common.json_too_large(self.name, common.MAX_JSON_BYTES, more=True)
            if data and self.progress:
                self.progress(len(data))
            buffered = self.decoder.getstate()[0]
            try:
                decoded = self.decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                joined = buffered + data
                decoded = joined[: exc.start].decode("utf-8")
                line = self.lines + self.text.count("\n") + joined[: exc.start].count(b"\n") + 1
                self.pending = ValidationError(None, "is not valid UTF-8 text", f"{self.name}:{line}")
            if not self.started and (decoded or not data):
                self.started = True
                decoded = decoded[1:] if decoded[:1] == "\ufeff" else decoded
            if not data:
                self.eof = True
            self.text += decoded
            self.bound = None
            if decoded:
                return True
            if self.pending is not None:
                raise self.pending
            if self.eof:
                return False

    def peek(self) -> str:
        """The next character after white space ("" at the end of the file), not consumed."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def fail(self, reason: str, pos: int | None = None) -> None:
        at = self.pos if pos is None else pos
        line = self.lines + self.text.count("\n", 0, at) + 1
        raise ValidationError(None, f"not valid JSON ({reason})", f"{self.name}:{line}")

    # --- values ---

    def value(self) -> Any:
        self.peek()
        return self._scan(common._DECODER.scan_once)

    def _scan(self, scan: Callable[[str, int], tuple[Any, int]]) -> Any:
        """scan(text, pos), the window grown until the value fits or the file ends; a value of
        more than MAX_JSON_VALUES values is refused before it is parsed (scanned only up to there)."""
        while True:
            limit = self._limit()
            text = self.text if limit is None else self.text[:limit]
            start = self.pos  # more() may drop the text before it: offsets are kept from here
            try:
                value, end = scan(text, self.pos)
            except StopIteration as exc:
                error, reason = exc.value, "Expecting value"
            except json.JSONDecodeError as exc:
                error, reason = exc.pos, exc.msg
            except common._DuplicateKey as exc:
                raise common.json_duplicate_key(self.name, exc.key) from None
            except RecursionError:
                raise ValidationError(None, "not valid JSON (nested too deeply)", f"{self.name}:1") from None
            except ValueError as exc:  # NaN or Infinity (refused), or int()'s limit on digits
                self.fail(common.json_reason(str(exc)))  # the value's own line: the error has no position
            else:
                # a number may go on past the window ("0." of "0.5", "1e" of "1e-3"): decided 3 on
                if end + 3 <= len(text) or (limit is None and not self.more()):
                    self.pos += end - start
                    return value
                if limit is None:
                    continue
                if end < len(text):
                    self.pos = end
                    return value
                error, reason = end, ""
            # cut by the window's end (an unterminated string reports where it started), or wrong
            cut = error >= len(text) - 12 or reason.startswith("Unterminated string")
            if cut and limit is not None and self.bound[0] != self.pos:
                self._limit(again=True)  # worked out for an earlier value: again from this one
                continue
            if cut and limit is not None:
                raise common.json_too_many_values(self.name, self.values)
            if cut and self.more():
                continue
            self.fail(reason, self.pos + error - start)

    def _limit(self, again: bool = False) -> int | None:
        """None if the window from pos holds at most MAX_JSON_VALUES values (counted by commas
        and brackets: fast, an upper bound, strings too); else the end of the first that many + 1.
        Worked out once a window (or `again`, from pos, when a value reaches a stale limit): the
        limit can only move on as pos does, so a stale one refuses nothing it should not."""
        most = common.MAX_JSON_VALUES
        if self.bound is not None and not again:
            return self.bound[1]
        if len(self.text) - self.pos <= most:  # a value is at least a character
            self.bound = (self.pos, None)
            return None
        values = _values(self.text, self.pos, len(self.text))
        self.values = values
        if values <= most:
            self.bound = (self.pos, None)
            return None
        low, high = self.pos, len(self.text)  # the shortest prefix from pos holding more than `most`
        while low < high:
            middle = (low + high) // 2
            if _values(self.text, self.pos, middle) > most:
                high = middle
            else:
                low = middle + 1
        self.bound = (self.pos, low)
        return low

    def array(self) -> Iterator[tuple[int, Any]]:
        """The elements of the array whose '[' was just read, and its ']'."""
        number = 0
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield number, self.value()
            number += 1
            following = self.peek()
            if following == "]":
                self.pos += 1
                return
            if following != ",":
                self.fail("Expecting ',' delimiter")
            self.pos += 1

    def wrapper(self, key: str) -> Iterator[tuple[str, Any]]:
        """The object at pos: its `key`'s array streamed, or the whole object when it has none."""
        self.pos += 1
        pairs: list[tuple[str, Any]] | None = []
        seen: set[str] = set()
        following = self.peek()
        if following != "}":
            while True:
                if following != '"':
                    self.fail("Expecting property name enclosed in double quotes")
                name = self._scan(lambda text, pos: _scanstring(text, pos + 1, True))
                if name in seen:
                    raise common.json_duplicate_key(self.name, name)
                seen.add(name)
                if self.peek() != ":":
                    self.fail("Expecting ':' delimiter")
                self.pos += 1
                if name == key and self.peek() == "[":
                    self.pos += 1
                    for number, value in self.array():
                        yield f"$.{key}[{number}]", value
                    pairs = None  # a page: its other members are not wanted
                else:
                    value = self.value()
                    if pairs is not None:
                        pairs.append((name, value))
                following = self.peek()
                if following == "}":
                    break
                if following != ",":
                    self.fail("Expecting ',' delimiter")
                self.pos += 1
                following = self.peek()
        self.pos += 1
        if pairs is not None:
            yield "$", dict(pairs)
