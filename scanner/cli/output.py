"""How the CLI speaks: documents to stdout or a file, one-line errors with the contract's exit
codes, the step summary on GitHub, and the one summary line a written report ends with."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

if TYPE_CHECKING:
    from scanner.formats.interface import Detail, Display
    from scanner.inventory import ScanResult, Severity

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


def write(document: str, output: Path | None, *, color: bool = False) -> None:
    """Print `document`, or write it to `output`; `color` keeps its ANSI styles on a pipe
    (`--color always`, FORCE_COLOR), which click would otherwise strip."""
    from scanner.errors import ScanIncomplete
    from scanner.files import valid_unicode, write_output

    if output is None:
        try:
            click.echo(valid_unicode(document), nl=False, color=color or None)
        except OSError as exc:  # /dev/full, a closed pipe: the run could not hand its result on
            raise ScanIncomplete(f"cannot write to standard output: {exc.strerror or exc}") from exc
        return
    write_output(output, document)


def append_summary(path: Path, document: str) -> None:
    """Append `document` to `path`: GitHub Actions shows whatever a step appends to
    $GITHUB_STEP_SUMMARY on the run page."""
    from scanner.errors import UsageError

    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(document + "\n")
    except OSError as exc:
        raise UsageError(f"cannot append the summary to {path}: {exc.strerror or exc}") from exc


ColorChoice = Literal["auto", "always", "never"]


def display_options(command: F) -> F:
    """`--color`, `-q`, `-v` and `--severity`: how much of a result the terminal table shows
    (the report formats always carry everything)."""
    decorators = (
        click.option(
            "--color",
            "color_choice",
            envvar="AISCAN_COLOR",
            show_envvar=True,
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="Colour the table: auto colours a terminal unless NO_COLOR is set (FORCE_COLOR "
            "colours a pipe too).",
        ),
        click.option(
            "--quiet", "-q", is_flag=True, help="Only warnings and errors and the summary lines."
        ),
        click.option(
            "--verbose",
            "-v",
            is_flag=True,
            help="Every finding on its own, a license's obligations too, with waiver details.",
        ),
        click.option(
            "--severity",
            "min_severity",
            type=click.Choice(["note", "warning", "error"]),
            default="note",
            show_default=True,
            help="Lowest severity the table lists; the rest are counted in the summary.",
        ),
    )
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def display(
    output: Path | None,
    color_choice: ColorChoice = "auto",
    *,
    quiet: bool = False,
    verbose: bool = False,
    min_severity: Severity = "note",
) -> Display:
    """The terminal layout for a result written to stdout or to `output`."""
    from scanner.errors import UsageError
    from scanner.formats.interface import Display

    if quiet and verbose:
        raise UsageError("--quiet and --verbose contradict each other")
    detail: Detail = "quiet" if quiet else "verbose" if verbose else "normal"
    return Display(
        width=shutil.get_terminal_size((80, 24)).columns,
        color=use_color(color_choice, output),
        detail=detail,
        min_severity=min_severity,
    )


def use_color(choice: ColorChoice, output: Path | None) -> bool:
    """`--color always|never`; for auto, NO_COLOR (https://no-color.org) beats FORCE_COLOR,
    which beats whether stdout is a terminal. A report written to a file is plain."""
    if choice != "auto":
        return choice == "always"
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def written(result: ScanResult, output: Path) -> None:
    """The line on stderr that says what a report written to a file holds, and which policy
    judged it: a run never waives findings silently."""
    from scanner.formats.table import plural

    counts = ", ".join(plural(result.count(s), s) for s in ("error", "warning", "note"))
    policy = f"policy {result.policy or 'default'}"
    if result.waived_count:
        policy += f" waived {plural(result.waived_count, 'finding')}"
    held = plural(len(result.components), "component")
    if result.services:
        held += f", {plural(len(result.services), 'AI service')}"
    click.echo(f"aiscan: {held}, {counts} ({policy}) → {output}", err=True)
