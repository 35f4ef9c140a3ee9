"""What a parser remembers of a file while it reads it, out of Python memory: the keys it has
met (KeyStore) and, for each question, its first reading and its forecasts' keys (SeenForecasts),
so that a repeat anywhere in a file is found and memory stays flat however large the file is
(issue 12: every command under 200 MB at a million forecasts).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import marshal
import sqlite3
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .common import PlatformForecast, PlatformQuestion, Skipped


class KeyStore:
    """Keys met while a file is read (forecast keys, question keys), each with an optional value,
    kept in a private temporary SQLite database rather than in Python objects: its page cache is
    bounded (CACHE_KIB) and the rest spills to a temporary file that is deleted when it closes, so
    memory stays flat however many forecasts and questions a file holds. (A set of 16-byte digests
    cost about 90 bytes a forecast: 90 MB at a million.) A key is kept as a 16-byte digest of itself.

    Most keys a file gives are new, and a query for each would cost more than the rest of a
    forecast's parsing: a Bloom filter (FILTER_BITS bits, two a key) answers "new" for them
    without one, and new keys are written PENDING at a time, sorted, in one statement. Only a key
    the filter may have seen is looked up (about 1% of new keys at a million, and every repeat).
    """

    CACHE_KIB = 4 * 1024
    FILTER_BITS = 1 << 24  # 2 MiB; _mark takes two 24-bit numbers from a digest
    PENDING = 4096

    def __init__(self) -> None:
        # "" is a temporary database of this connection's own; one thread reads a file at a time
        self._conn = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("CREATE TABLE keys (digest BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID")
        self._conn.execute("BEGIN")  # never committed: nothing of it outlives the read
        self._bits = bytearray(self.FILTER_BITS // 8)
        self._pending: dict[bytes, Any] = {}

    def __len__(self) -> int:
        self._write()
        return self._conn.execute("SELECT count(*) FROM keys").fetchone()[0]

    def add(self, key: str, value: Any = None) -> bool:
        """Keep `key` (with `value`: text, bytes or None); whether it was new."""
        digest = _digest(key)
        if self._mark(digest) and self._find(digest) is not None:
            return False
        self._pending[digest] = value
        if len(self._pending) >= self.PENDING:
            self._write()
        return True

    def put(self, key: str, value: Any, *, new: bool) -> None:
        """Keep `value` for `key`: a key known to be `new`, or one kept before (replaced)."""
        self._put(_digest(key), value, new=new)

    def _put(self, digest: bytes, value: Any, *, new: bool) -> None:
        self._mark(digest)
        if not new and digest not in self._pending:
            self._conn.execute("REPLACE INTO keys VALUES (?, ?)", (digest, value))
            return
        self._pending[digest] = value
        if len(self._pending) >= self.PENDING:
            self._write()

    def get(self, key: str, default: Any = None) -> Any:
        found = self._find(_digest(key), check=True)
        return default if found is None else found[0]

    def setdefault(self, key: str, value: Any) -> Any:
        """The value kept for `key`, keeping `value` if there was none."""
        return value if self.add(key, value) else self.get(key)

    def __contains__(self, key: str) -> bool:
        return self._find(_digest(key), check=True) is not None

    def close(self) -> None:
        self._pending.clear()
        self._conn.close()

    def _mark(self, digest: bytes) -> bool:
        """Set the digest's two bits in the filter; whether both were set already."""
        n = int.from_bytes(digest[:6], "little")
        first, second = (n & 0xFFFFFF), n >> 24
        bits = self._bits
        one, two = 1 << (first & 7), 1 << (second & 7)
        if bits[first >> 3] & one and bits[second >> 3] & two:
            return True
        bits[first >> 3] |= one
        bits[second >> 3] |= two
        return False

    def _find(self, digest: bytes, check: bool = False) -> tuple[Any] | None:
        """(value,) if the digest is kept, else None; `check`: ask the filter first."""
        if check:
            n = int.from_bytes(digest[:6], "little")
            first, second = (n & 0xFFFFFF), n >> 24
            if not (self._bits[first >> 3] & (1 << (first & 7)) and self._bits[second >> 3] & (1 << (second & 7))):
                return None
        if digest in self._pending:
            return (self._pending[digest],)
        return self._conn.execute("SELECT value FROM keys WHERE digest = ?", (digest,)).fetchone()

    def _write(self) -> None:
        if self._pending:
            self._conn.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", sorted(self._pending.items()))
            self._pending.clear()


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


RUN_FORECASTS = 2000  # a parser yields a question with more forecasts than this in parts


class SeenForecasts:
    """The questions a file has given and the keys of their forecasts, to count a repeated
    forecast rather than import it twice, in one KeyStore row a question.

    A parser meets each run of a question's rows (`meet`, or the first `fresh` on it): a question
    met before gets back the `info` kept when it was first met (its cells, say). A forecast's key
    starts with its question's key and "/" on every platform but Manifold (question keys hold no
    "/"), so such a key can repeat only on a question met before: the current question's keys are
    kept in a set, and written with the question's row when the next question is met. A key of
    another form (a Manifold bet's id), and every key of a question with more than ROW_KEYS
    forecasts, is kept on its own, in a second KeyStore: memory stays flat either way, and meeting
    a question again reads at most ROW_KEYS keys back (a file that alternates between two large
    questions row by row costs a bounded amount a row, not one growing with the question).
    """

    ROW_KEYS = 256

    def __init__(self) -> None:
        self.store = KeyStore()  # NUL + question key -> flags, info, digests of its forecast keys
        self._loose: KeyStore | None = None
        self._question: str | None = None
        self.questions = 0  # the questions met (a question met again counts once)
        self.again = False  # whether the question of the last `fresh` was yielded before

    def meet(self, question_key: str, info: bytes = b"") -> bytes | None:
        """Start on a run of `question_key`'s rows: the info kept when it was first met, or None
        (it is new; `info` is kept for it)."""
        self._flush()
        self._question, self._prefix = question_key, question_key + "/"
        self._scoped = "/" not in question_key
        self._current: set[str] = set()
        self._digest = _digest("\x00" + question_key)  # its own entry (no key holds a NUL)
        found = self.store._find(self._digest, check=True)
        row = None if found is None else found[0]
        if row is None:
            self.questions += 1
            self._info, self._earlier, self._yielded, self._spilled = info, None, False, False
            return None
        self._yielded, self._spilled = bool(row[0] & _YIELDED), bool(row[0] & _SPILLED)
        size = int.from_bytes(row[1:5], "little")
        self._info, digests = row[5:5 + size], row[5 + size:]
        self._earlier = {digests[i:i + 16] for i in range(0, len(digests), 16)}
        return self._info

    def fresh(self, question_key: str, forecasts: list[PlatformForecast], skipped: Skipped) -> tuple[PlatformForecast, ...]:
        """The forecasts (on `question_key`) whose key was not given before in this file; repeats
        are counted. Then `again` says whether the question was yielded before."""
        if question_key != self._question:
            self.meet(question_key)
        self.again = self._yielded
        fresh = []
        for forecast in forecasts:
            key = forecast.key
            scoped = self._scoped and key.startswith(self._prefix)
            if key in self._current or (scoped and self._earlier and _digest(key) in self._earlier):
                repeated = True
            elif not scoped or self._spilled:
                repeated = not self._loose_keys().add(key)
            else:
                repeated = False
                self._current.add(key)
                if len(self._current) + len(self._earlier or ()) > self.ROW_KEYS:  # many: kept on their own
                    loose = self._loose_keys()
                    for kept in self._current:
                        loose.put(kept, None, new=True)
                    self._current = set()
                    self._spilled = True
            if repeated:
                skipped.add("repeated forecasts (the same forecast twice in the file)")
            else:
                fresh.append(forecast)
        if fresh:
            self._yielded = True
        return tuple(fresh)

    def _loose_keys(self) -> KeyStore:
        if self._loose is None:
            self._loose = KeyStore()
        return self._loose

    def _flush(self) -> None:
        """Write the current question's row: new, or again with the keys read since."""
        if self._question is None:
            return
        mine = [_digest(k) for k in self._current]
        if self._earlier:
            mine += self._earlier
        flags = (_YIELDED if self._yielded else 0) | (_SPILLED if self._spilled else 0)
        row = bytes([flags]) + len(self._info).to_bytes(4, "little") + self._info + b"".join(mine)
        self.store._put(self._digest, row, new=self._earlier is None)
        self._question = None

    def close(self) -> None:
        self.store.close()
        if self._loose is not None:
            self._loose.close()


def met(seen: SeenForecasts, question: PlatformQuestion) -> PlatformQuestion | None:
    """`seen.meet` for a parser that compares a question met again with the first: the question
    kept when it was first met."""
    first = seen.meet(question.key, pack_question(question))
    return None if first is None else unpack_question(first)


def pack_question(question: PlatformQuestion) -> bytes:
    """A question (but its forecasts) as bytes, for a KeyStore: marshal, about a tenth of
    pickle's cost. A time or date is a list (["t", iso] or ["d", ordinal]), nothing else is."""
    return marshal.dumps(tuple(_plain(getattr(question, name)) for name in _packed_fields()))


def unpack_question(data: bytes) -> PlatformQuestion:
    from .common import PlatformQuestion

    return PlatformQuestion(**{name: _value(v) for name, v in zip(_packed_fields(), marshal.loads(data))})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.toordinal()]
    return value


def _value(value: Any) -> Any:
    if type(value) is list:
        return dt.datetime.fromisoformat(value[1]) if value[0] == "t" else dt.date.fromordinal(value[1])
    return value


@functools.cache
def _packed_fields() -> tuple[str, ...]:
    from .common import PlatformQuestion

    return tuple(f.name for f in attrs.fields(PlatformQuestion) if f.name not in ("forecasts", "again"))


_YIELDED, _SPILLED = 1, 2  # a question's row: yielded with forecasts; its keys kept on their own
