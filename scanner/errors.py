"""The errors a user can cause, each mapped to one of the contract's exit codes.

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import re


class AiscanError(Exception):
    """An error to report as one line, ending the run with `exit_code`."""

    exit_code = 3


class UsageError(AiscanError):
    """The user asked for something impossible: bad flag, missing target, bad policy (exit 2)."""

    exit_code = 2


class ScanIncomplete(AiscanError):
    """The scan itself could not complete, e.g. an unreadable target (exit 3)."""

    exit_code = 3


class SourceError(ScanIncomplete):
    """A source could not do its job at all (unreadable target root, corrupt cache root)."""


class TargetMissing(ScanIncomplete):
    """A target its store says does not exist (an hf:// repo the Hub does not show us): the
    scan goes on and reports it as a finding."""


def describe_os_error(exc: OSError) -> str:
    """One human line for an OSError, without the Python class name."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "file vanished or is a broken symbolic link"
    return exc.strerror or str(exc)


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def redact_credentials(text: str) -> str:
    """`text` with every URL's user and password replaced (`https://user:pass@host` →
    `https://***@host`): an endpoint given with credentials is never echoed or stored, and a
    library's error message may quote the URL it used."""
    return _URL_CREDENTIALS.sub("***@", text)
