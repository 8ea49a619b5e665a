"""Errors the engine raises, each mapped to one HTTP status and one CLI message."""

from __future__ import annotations


class GridwatchError(Exception):
    """Base class."""


class SourceError(GridwatchError):
    """A user-edited file (policy pack, calendar override) that cannot be used.

    ``source``, ``line`` and ``column`` (1-based) say where; the message starts with them.
    """

    def __init__(self, source: str, line: int | None, column: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.detail = message
        where = source if line is None else f"{source}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class CommandInvalid(GridwatchError):
    """Bad input: one message per field. HTTP 422; nothing is stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class TransitionRefused(GridwatchError):
    """The state machine forbids this action in the case's current state. HTTP 409."""

    def __init__(self, action: str, status: str, reason: str) -> None:
        self.action = action
        self.status = status
        self.reason = reason
        super().__init__(f"cannot {action} a case that is {status}: {reason}")


class CaseNotFound(GridwatchError):
    """HTTP 404."""

    def __init__(self, key: object) -> None:
        self.key = key
        super().__init__(f"no case {key!r}")


class VersionConflict(GridwatchError):
    """Another engine changed the case first; the batch is retried on fresh state."""
