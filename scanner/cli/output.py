"""How the CLI speaks: documents to stdout or a file, one-line errors with the contract's exit
codes, the step summary on GitHub, and the one summary line a written report ends with."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scanner.inventory import ScanResult

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn aiscan's user-facing errors into one line on stderr and the contract's exit code.

    Anything else is a bug: its traceback is shown (so it can be reported) and the exit code is
    3, "could not complete", never Python's default 1, which would read as policy violations.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from scanner.errors import AiscanError, redact_credentials
        from scanner.files import printable
        from scanner.licensing.knowledge_base import KnowledgeBaseError

        try:
            return command(*args, **kwargs)
        except AiscanError as exc:
            click.echo(f"aiscan: error: {printable(redact_credentials(str(exc)))}", err=True)
            sys.exit(exc.exit_code)
        except KnowledgeBaseError as exc:
            click.echo(
                f"aiscan: error: the installed license knowledge base is broken: {exc}", err=True
            )
            sys.exit(3)
        except Exception as exc:
            traceback.print_exc()
            click.echo(
                f"aiscan: error: internal error ({type(exc).__name__}); this is a bug in aiscan, "
                "please report it with the traceback above",
                err=True,
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def write(document: str, output: Path | None) -> None:
    from scanner.errors import ScanIncomplete
    from scanner.files import valid_unicode, write_output

    if output is None:
        try:
            click.echo(valid_unicode(document), nl=False)
        except OSError as exc:  # /dev/full, a closed pipe: the run could not hand its result on
            raise ScanIncomplete(f"cannot write to standard output: {exc.strerror or exc}") from exc
        return
    write_output(output, document)


def append_step_summary(path: Path, document: str) -> None:
    """GitHub Actions shows whatever a step appends to $GITHUB_STEP_SUMMARY on the run page."""
    from scanner.errors import UsageError

    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(document + "\n")
    except OSError as exc:
        raise UsageError(
            f"cannot append to $GITHUB_STEP_SUMMARY ({path}): {exc.strerror or exc}"
        ) from exc


def color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def written(result: ScanResult, output: Path) -> None:
    """The line on stderr that says what a report written to a file holds."""
    click.echo(
        f"aiscan: {len(result.components)} component(s), {result.count('error')} error(s), "
        f"{result.count('warning')} warning(s), {result.count('note')} note(s) → {output}",
        err=True,
    )
