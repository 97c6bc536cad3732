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
from scanner.formats.registry import FORMATS

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


def _append_step_summary(path: Path, document: str) -> None:
    """GitHub Actions shows whatever a step appends to $GITHUB_STEP_SUMMARY on the run page."""
    from scanner.errors import UsageError

    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(document + "\n")
    except OSError as exc:
        raise UsageError(
            f"cannot append to $GITHUB_STEP_SUMMARY ({path}): {exc.strerror or exc}"
        ) from exc


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
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
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
    type=click.Choice(list(FORMATS)),
    default="table",
    show_default=True,
    help="table for people, json for scripts (the aiscan-report/1 contract), sarif for code "
    "scanning, markdown for pull requests (also appended to $GITHUB_STEP_SUMMARY when set).",
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
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier aiscan JSON report or SARIF log: its findings are listed but do not fail the run.",
)
@_reports_errors
def scan(
    targets: tuple[Path, ...],
    policy: str | None,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    baseline: Path | None,
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
    if baseline is not None:
        from scanner.baseline import apply_baseline, load_baseline

        result = apply_baseline(result, load_baseline(baseline))
    document = get_format(output_format).render(result, color=_color(output))
    _write(document, output)
    if output_format == "markdown" and os.environ.get("GITHUB_STEP_SUMMARY"):
        _append_step_summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), document)
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


def _verify_options(
    structure_only: bool,
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    lock: Path | None,
    against: Path | None,
) -> Any:
    """Build `VerifyOptions` from the flags shared by `verify` and `lock`."""
    import dataclasses

    from scanner.errors import UsageError
    from scanner.integrity.lockfile import load_lockfile
    from scanner.integrity.references import BomDigests, References
    from scanner.verify import VerifyOptions

    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be at least 1")
    references = References(
        lockfile=load_lockfile(lock) if lock else None,
        bom=BomDigests.load(against) if against else None,
    )
    options = VerifyOptions(
        structure_only=structure_only,
        read_cache=not (no_cache or rehash),
        write_cache=not no_cache,
        references=references,
    )
    return options if jobs is None else dataclasses.replace(options, jobs=jobs)


def _run_verify(targets: tuple[Path, ...], options: Any, policy: str | None) -> Any:
    from scanner.config import resolve_policy
    from scanner.errors import UsageError
    from scanner.integrity.progress import TerminalProgress, progress_wanted
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.verify import run_verify

    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"target {str(target)!r} does not exist")
    kb = default_knowledge_base()
    chosen = resolve_policy(policy, list(targets), kb)
    return run_verify(
        list(targets),
        chosen,
        kb,
        options,
        progress=TerminalProgress() if progress_wanted() else None,
        warn=lambda message: click.echo(f"aiscan: warning: {message}", err=True),
    )


_HASH_OPTIONS = (
    click.option(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="Files hashed in parallel (default: every available core).",
    ),
    click.option(
        "--no-cache", is_flag=True, help="Neither read nor write the hash cache; hash everything."
    ),
    click.option(
        "--rehash",
        is_flag=True,
        help="Ignore cached digests and hash everything again (the cache is refreshed).",
    ),
)


def _hash_options(command: F) -> F:
    for option in reversed(_HASH_OPTIONS):
        command = option(command)
    return command


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option(
    "--structure-only", is_flag=True, help="Check headers, shard indexes and layout; no hashing."
)
@click.option(
    "--lock",
    "lock",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An aiscan-lock/1 file (from `aiscan lock`): expected files, sizes and SHA-256.",
)
@click.option(
    "--against",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="BOM",
    help="A CycloneDX JSON BOM whose file components carry SHA-256 hashes.",
)
@_hash_options
@click.option("--policy", "-p", metavar="NAME|FILE", help="Policy for severities and waivers.")
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of stdout.",
)
@click.option("--fail-on", type=click.Choice(["error", "warning", "note"]))
@_reports_errors
def verify(
    targets: tuple[Path, ...],
    structure_only: bool,
    lock: Path | None,
    against: Path | None,
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    policy: str | None,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
) -> None:
    """Verify safetensors structure and file hashes of model folders and HF caches.

    Every header and shard index is checked strictly; then every file is hashed (SHA-256, all
    cores, cached by inode and timestamps) and compared with, in this order: the --lock file,
    the --against BOM, the HF cache blob name. Files without a reference are reported as
    unverified with their hash. Nothing is written into the targets.
    """
    import dataclasses

    from scanner.formats.registry import get_format

    options = _verify_options(structure_only, jobs, no_cache, rehash, lock, against)
    result = _run_verify(targets, options, policy)
    if fail_on:
        result = dataclasses.replace(result, fail_on=fail_on)
    _write(get_format(output_format).render(result, color=_color(output)), output)
    if output is not None:
        click.echo(
            f"aiscan: {len(result.components)} component(s), {result.count('error')} error(s), "
            f"{result.count('warning')} warning(s), {result.count('note')} note(s) → {output}",
            err=True,
        )
    sys.exit(result.exit_code)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@_hash_options
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the lock file here instead of stdout.",
)
@_reports_errors
def lock(
    targets: tuple[Path, ...],
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    output: Path | None,
) -> None:
    """Record every file's revision, path, size and SHA-256 in an aiscan-lock/1 file.

    The store is verified first (structure, HF blob names); when any error is found, the
    findings are printed, no lock file is written and the exit code is 1, so damage is never
    recorded as the expected state.
    """
    from scanner.formats.registry import get_format
    from scanner.integrity.lockfile import LockedComponent, LockedFile, render_lockfile

    options = _verify_options(False, jobs, no_cache, rehash, None, None)
    result = _run_verify(targets, options, None)
    errors = [f for f in result.findings if f.severity == "error" and f.waived is None]
    if errors:
        click.echo(get_format("table").render(result, color=_color(None)), err=True, nl=False)
        click.echo("aiscan: error: the store has errors; no lock file written", err=True)
        sys.exit(1)
    locked = [
        LockedComponent(
            ref=c.ref,
            name=c.name,
            revision=c.version,
            location=c.location,
            files={
                f.path: LockedFile(f.path, f.size, f.sha256)
                for f in c.files
                if f.sha256 is not None and f.size is not None
            },
        )
        for c in result.components
    ]
    _write(render_lockfile(locked, f"aiscan {__version__}"), output)
    if output is not None:
        files = sum(len(c.files) for c in locked)
        click.echo(
            f"aiscan: locked {files} file(s) of {len(locked)} component(s) → {output}", err=True
        )
