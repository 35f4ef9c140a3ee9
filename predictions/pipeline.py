"""An import's records, read and validated in batches, the next batch validated while one is written.

`importing.import_records` writes batch after batch in one transaction. SQLite releases the GIL
while it steps a statement, so `Validating` has a second thread validate the batch read next
while the writing thread's statements run: validation is about a quarter of an import's time.
What that thread does is a function of the records it is given and nothing else (no connection,
no ledger state), so the connection stays in the thread that opened it (its check_same_thread
holds) and every statement, the reads between batches and each batch's SAVEPOINT included, runs
in the order it always did. `ProcessSetting` changes a process-wide setting while imports run
(the GIL switch interval here, the collector's threshold in importing) and restores it after.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")


class ProcessSetting:
    """A process-wide setting changed while imports run, and as it was once the last one ends.

    Imports in several threads (or nested) share one changed value, and the last to end restores
    the one the first found, on a refusal or an interrupt too. `changed(before)` is the value to
    set, or None to leave it as it is.
    """

    def __init__(self, get: Callable[[], Any], set_: Callable[[Any], None], changed: Callable[[Any], Any]):
        self._get, self._set, self._changed = get, set_, changed
        self._lock = threading.Lock()
        self._running = 0
        self._before: Any = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._before = self._get()
                value = self._changed(self._before)
                if value is not None:
                    self._set(value)
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._set(self._before)


# While a validating thread runs, a thread waiting for the GIL takes it after this long instead
# of Python's 5 ms: the writing thread waits for it after each statement SQLite stepped without
# it, and at 5 ms the validating thread ran on well past the statement, so little of it ran
# beside SQLite. Only ever lowered; restored after.
SWITCH_INTERVAL = 0.0005
quick_switches = ProcessSetting(
    sys.getswitchinterval, sys.setswitchinterval,
    lambda before: SWITCH_INTERVAL if SWITCH_INTERVAL < before else None,
)  # fmt: skip


class Validating(Generic[T]):
    """`validate(where, record)` of every record, in batches of `size` and a last one of the rest
    (maybe empty), each batch given once the one before it is written; an exception (a refusal)
    is raised where the one-thread loop (validate a batch, write it, read on) raises it, so the
    same first one: a batch's before any later batch's, a record's before the next one's.

    The records are read in the writing thread (a record source may use a connection of its
    own: the create-race replay reads another ledger's `export_records`), a batch ahead. With
    `threaded`, once a second batch exists, one more thread validates it when the batch before
    it starts its statements (`statements_start`, called by `Writer.write` once the rows are
    built; started earlier, it only took turns with the writing thread's own Python). `close`
    (on leaving `validating`: done, refused, an exception, a KeyboardInterrupt, which only the
    main thread receives) tells that thread to stop at its next record and joins it.
    """

    def __init__(self, records: Iterable[tuple[str, Any]], validate: Callable[[str, Any], T], size: int, threaded: bool):
        self._records, self._validate, self._size, self._threaded = records, validate, size, threaded
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._next: list[tuple[str, Any]] | None = None  # read, not yet being validated
        self._future: Future | None = None

    def __iter__(self) -> Iterator[list[T]]:
        for chunk, read_error in _read_in_batches(self._records, self._size):
            if self._future is None:  # the first batch: nothing is written meanwhile
                self._future = _done(self._batch, chunk)
            else:
                self._next = chunk
                batch = self._result()  # its refusal, if any, before anything read after it
                if self._pool is None and self._threaded:
                    self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predictions-validate")
                yield batch  # written; its statements_start() has the next chunk validated
                self.statements_start()  # (if it wrote nothing, no statement called it)
            if read_error is not None:
                self._result()  # a refusal before the unreadable record comes first
                raise read_error
        yield self._result()

    def statements_start(self) -> None:
        """The batch being written is about to run its statements: validate the next one meanwhile."""
        if self._next is None:
            return
        chunk, self._next = self._next, None
        self._future = self._pool.submit(self._batch, chunk) if self._pool else _done(self._batch, chunk)

    def _batch(self, chunk: list[tuple[str, Any]]) -> list[T]:
        validate, stop, items = self._validate, self._stop, []
        for where, record in chunk:
            if stop.is_set():  # the import is over (refused or interrupted): the rest is not needed
                break
            items.append(validate(where, record))
        return items

    def _result(self) -> list[T]:
        future, self._future = self._future, None
        return future.result()

    def close(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def validating(
    records: Iterable[tuple[str, Any]], validate: Callable[[str, Any], T], *, size: int, threaded: bool
) -> Iterator[Validating[T]]:
    """A `Validating`, its thread ended on leaving, with the switch interval it runs with."""
    batches = Validating(records, validate, size, threaded)
    with quick_switches() if threaded else contextlib.nullcontext():
        try:
            yield batches
        finally:
            batches.close()


def _read_in_batches(records: Iterable[tuple[str, Any]], size: int) -> Iterator[tuple[list, Exception | None]]:
    """(`size` records, None) each, then (the rest, None); or (the records before it, the
    exception) where reading fails, raised by the caller only once everything before it is written."""
    chunk: list[tuple[str, Any]] = []
    try:
        for pair in records:
            chunk.append(pair)
            if len(chunk) >= size:
                yield chunk, None
                chunk = []
    except Exception as exc:  # noqa: BLE001 (raised in its turn)
        yield chunk, exc
        return
    yield chunk, None


def _done(fn: Callable[..., Any], *args: Any) -> Future:
    """fn(*args) run now, as a finished Future: its exception is raised where its result is asked."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as exc:  # noqa: BLE001 (raised by .result(), in the batch's turn)
        future.set_exception(exc)
    return future
