"""The exceptions the library raises; the CLI turns each into one line on stderr."""

from __future__ import annotations


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


class VerificationError(LedgerError):
    """The hash chain failed verification, so nothing was reported from it. `.verification` has every finding."""

    def __init__(self, message: str, verification):
        self.verification = verification
        super().__init__(message)
