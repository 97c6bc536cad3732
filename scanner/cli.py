"""The `aiscan` command line: parses arguments and wires objects together, nothing more.

Heavy modules (huggingface_hub, rich, yaml, license-expression) are imported inside commands so
`aiscan --help` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scanner import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes:
  0  no unwaived finding at or above the fail level
  1  policy violations
  2  usage error (bad flag, missing target, bad policy file)
  3  the scan could not complete (unreadable target)"""


def _reports_errors(command: F) -> F:
    """Turn aiscan's user-facing errors into one line on stderr and the contract's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from scanner.errors import AiscanError
        from scanner.licensing.knowledge_base import KnowledgeBaseError

        try:
            return command(*args, **kwargs)
        except AiscanError as exc:
            click.echo(f"aiscan: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KnowledgeBaseError as exc:
            click.echo(
                f"aiscan: error: the installed license knowledge base is broken: {exc}", err=True
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def _write(document: str, output: Path | None) -> None:
    from scanner.errors import UsageError

    if output is None:
        click.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="aiscan")
def main() -> None:
    """License and supply-chain compliance scanner for AI models.

    aiscan reads model cards, license files and safetensors headers in model folders and the
    Hugging Face cache, works out which license really governs each model, and judges it
    against a policy.

    \b
    Examples:
      aiscan scan ./models                      scan every model folder below ./models
      aiscan scan ~/.cache/huggingface/hub      scan every cached repo revision, offline
      aiscan scan . --policy strict --format json -o report.json
      aiscan licenses list                      the AI-license knowledge base
      aiscan licenses show llama3               terms of one license, section by section
    """


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "-p",
    metavar="NAME|FILE",
    help="Policy to judge against: a shipped name (default, strict, permissive-only) or a YAML "
    "file. Without it, the target's aiscan.yaml or [tool.aiscan] in pyproject.toml, else default.",
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts (the aiscan-report/1 contract).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of stdout.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    help="Lowest unwaived severity that makes the exit code 1 (overrides the policy's fail_on).",
)
@_reports_errors
def scan(
    targets: tuple[Path, ...],
    policy: str | None,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
) -> None:
    """Scan model folders, stores and Hugging Face caches.

    A TARGET is a model folder (README.md card, LICENSE, config.json, weights), a folder of
    model folders searched recursively, a Hugging Face cache (~/.cache/huggingface/hub) or one
    models--org--name folder of it. Nothing is written into the targets.
    """
    import dataclasses

    from scanner.config import resolve_policy
    from scanner.errors import UsageError
    from scanner.formats.registry import get_format
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.scan import run_scan

    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"target {str(target)!r} does not exist")
    kb = default_knowledge_base()
    chosen = resolve_policy(policy, list(targets), kb)
    if fail_on:
        chosen = dataclasses.replace(chosen, fail_on=fail_on)
    result = run_scan(list(targets), chosen, kb)
    _write(get_format(output_format).render(result, color=_color(output)), output)
    if output is not None:
        click.echo(
            f"aiscan: {len(result.components)} component(s), {result.count('error')} error(s), "
            f"{result.count('warning')} warning(s), {result.count('note')} note(s) → {output}",
            err=True,
        )
    sys.exit(result.exit_code)


@main.group()
def licenses() -> None:
    """Browse the AI-license knowledge base shipped with aiscan."""


@licenses.command("list")
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@_reports_errors
def licenses_list(output_format: str) -> None:
    """List every license: key, name, category and SPDX / LicenseRef id."""
    from scanner.formats.licenses import render_license_list
    from scanner.licensing.knowledge_base import default_knowledge_base

    click.echo(
        render_license_list(default_knowledge_base(), output_format, color=_color(None)), nl=False
    )


@licenses.command("show")
@click.argument("license_name")
@click.option(
    "--text", "show_text", is_flag=True, help="Also print the full license text when it is bundled."
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@_reports_errors
def licenses_show(license_name: str, show_text: bool, output_format: str) -> None:
    """Show one license's conditions, obligations and restrictions, each with its section.

    LICENSE_NAME is a key (llama3), an SPDX id (Apache-2.0), a name or a license URL.
    """
    import difflib

    from scanner.errors import UsageError
    from scanner.formats.licenses import render_license
    from scanner.licensing.knowledge_base import default_knowledge_base

    kb = default_knowledge_base()
    key = kb.identify_name(license_name)
    if key is None:
        close = difflib.get_close_matches(license_name.lower(), list(kb.entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `aiscan licenses list`"
        raise UsageError(f"unknown license {license_name!r}{hint}")
    click.echo(
        render_license(kb[key], output_format, show_text=show_text, color=_color(None)), nl=False
    )
