"""The errors a user can cause, each mapped to one of the contract's exit codes.

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno


class AiscanError(Exception):
    """An error to report as one line, ending the run with `exit_code`."""

    exit_code = 3


class UsageError(AiscanError):
    """The user asked for something impossible: bad flag, missing target, bad policy (exit 2)."""

    exit_code = 2


class ScanIncomplete(AiscanError):
    """The scan itself could not complete, e.g. an unreadable target (exit 3)."""

    exit_code = 3


def describe_os_error(exc: OSError) -> str:
    """One human line for an OSError, without the Python class name."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "file vanished or is a broken symbolic link"
    return exc.strerror or str(exc)
