"""The exceptions the library raises; the CLI turns each into one line on stderr."""

from __future__ import annotations

EXCERPT = 60  # characters of an input an error message quotes


def excerpt(value: str, limit: int = EXCERPT) -> str:
    """`value` quoted (repr) for an error message, cut to its first `limit` characters with its length
    said: a refusal of a 100 MB value is one short line, not the value again."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def shown(value: object) -> str:
    """Any input value for an error message, short: text as an excerpt, a number or flag as itself,
    anything else by its type (the repr of a deeply nested list is long, or a RecursionError)."""
    if isinstance(value, str):
        return excerpt(value)
    if value is None or isinstance(value, (bool, int, float)):
        text = repr(value)  # a JSON integer may have 4,300 digits
        return text if len(text) <= EXCERPT else f"{text[:EXCERPT]}... ({len(text):,} characters)"
    return f"a {type(value).__name__}"


def field_name(key: object) -> str:
    """A key from an input file as the `field` of an error: at most EXCERPT characters of it."""
    name = str(key) if isinstance(key, str) else shown(key)
    return name if len(name) <= EXCERPT else f"{name[:EXCERPT]}..."


class LedgerError(Exception):
    """Base class: any refusal the user can act on (bad input, unknown id, bad file)."""


class ValidationError(LedgerError, ValueError):
    """A value was refused. Carries the field and, where known, the place it came from."""

    def __init__(self, field: str | None, message: str, where: str | None = None):
        self.field = field
        self.message = message
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(f"field {self.field}")
        parts.append(self.message)
        return ": ".join(parts)

    def located(self, where: str) -> "ValidationError":
        """The same error, now saying where it came from (file:line)."""
        return ValidationError(self.field, self.message, where)


class NotFoundError(LedgerError):
    """No forecast has that id (or id prefix)."""


class AmbiguousIdError(LedgerError):
    """An id prefix matches more than one forecast."""


class NotALedgerError(LedgerError):
    """The file is not SQLite, not a ledger, or written by a newer version."""


class OlderSchemaError(LedgerError):
    """The ledger was written by an older version and a reader may not upgrade it."""


class VerificationError(LedgerError):
    """The hash chain failed verification, so nothing was reported from it. `.verification` has every finding."""

    def __init__(self, message: str, verification):
        self.verification = verification
        super().__init__(message)
