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
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from scanner import __version__
from scanner.cli.output import (
    append_summary,
    display,
    display_options,
    reports_errors,
    write,
    written,
)
from scanner.formats.registry import BOM_FORMATS, CYCLONEDX_SPEC_VERSIONS, FORMATS

if TYPE_CHECKING:
    from scanner.inventory import Severity

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes:
  0  no unwaived finding at or above the fail level
  1  policy violations
  2  usage error (bad flag, missing target, bad policy file)
  3  the scan could not complete (unreadable target)"""

DOCUMENT_EXIT_CODES_HELP = """\b
Exit codes:
  0  the document was written, whatever the findings (gate with `aiscan scan`)
  2  usage error (bad flag, missing target, bad policy file)
  3  the scan could not complete (unreadable target)"""


class AiscanCommand(click.Command):
    """A command that says which of its options came from the configured defaults (the
    `defaults:` of the local aiscan.yaml), as every run says which policy judged it."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.default_map and not ctx.params.get("quiet"):
            from scanner.cli.defaults import from_defaults

            configured = from_defaults(ctx)
            if configured:
                source = ctx.find_root().meta.get(DEFAULTS_SOURCE)
                click.echo(f"aiscan: defaults from {source}: {' '.join(configured)}", err=True)
        return super().invoke(ctx)


DEFAULTS_SOURCE = "aiscan.defaults-source"
"""Where the run's option defaults came from, in the root context's `meta`."""
LOCAL_POLICY = "aiscan.local-policy"
"""The working directory's policy file as `find_local_policy` read it (or None), in the root
context's `meta`: read once for the option defaults and the policy."""


def _resolve_policy(explicit: str | None, kb: Any) -> Any:
    """The run's policy: `--policy`, else the local file the group already read, else default."""
    from scanner.policy.load import chosen_policy

    local = click.get_current_context().find_root().meta.get(LOCAL_POLICY)
    return chosen_policy(explicit, kb, local)


class AiscanGroup(click.Group):
    """click's own errors (an unknown option, a missing argument, a bad choice) in aiscan's one
    error style, `aiscan: error: …` on one line with exit code 2, like every other error."""

    command_class = AiscanCommand

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        *,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from scanner.files import printable

        try:
            outcome = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `aiscan`: the help itself
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "aiscan"
            click.echo(
                f"aiscan: error: {printable(exc.format_message())} (see `{command} --help`)",
                err=True,
            )
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"aiscan: error: {printable(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aiscan: interrupted", err=True)
            sys.exit(130)
        if not standalone_mode:
            return outcome
        sys.exit(outcome if isinstance(outcome, int) else 0)


@click.group(
    cls=AiscanGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "-V", "--version", prog_name="aiscan")
@click.pass_context
@reports_errors
def main(ctx: click.Context) -> None:
    """License and supply-chain compliance scanner for AI models.

    aiscan reads model cards, license files and safetensors headers in model folders and the
    Hugging Face cache, works out which license really governs each model, and judges it
    against a policy.

    \b
    Examples:
      aiscan scan ./models                      scan every model folder below ./models
      aiscan scan ~/.cache/huggingface/hub      scan every cached repo revision, offline
      aiscan scan . --policy strict --format json -o report.json
      aiscan scan hf://org/name@<commit>        a Hub repo: card, files, gating (never weights)
      aiscan verify /models                     strict safetensors checks and SHA-256 on all cores
      aiscan verify /mnt/models --scheduler tcp://sched:8786
                                                the same on a Dask cluster (pip install "aiscan[dask]")
      aiscan bom ./models -o bom.cdx.json       a validated CycloneDX / SPDX AI-BOM
      aiscan report ./models -o report.html     a self-contained HTML report for legal review
      aiscan licenses show llama3               terms of one license, section by section

    Option defaults for every run in a repository go in the `defaults:` section of its
    aiscan.yaml or [tool.aiscan] (docs/policy.md).
    """
    from scanner.policy.load import find_local_policy

    found = find_local_policy(Path.cwd())
    ctx.meta[LOCAL_POLICY] = found
    if found is not None and found[1].get("defaults"):
        from scanner.cli.defaults import default_map

        source, data, folder = found
        ctx.default_map = default_map(
            cast("click.Group", ctx.command), data["defaults"], source, folder
        )
        ctx.meta[DEFAULTS_SOURCE] = source


_PROJECT_OPTIONS = (
    click.option(
        "--env/--no-env",
        "env",
        default=None,
        help="Read the installed packages of the Python running aiscan (--env) or of none (--no-env). "
        "Default: a project's own .venv or venv when it has one, read as files (never run).",
    ),
    click.option(
        "--python",
        "python",
        metavar="PATH",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Read the installed packages of this interpreter instead: it runs a metadata dump "
        "(nothing is imported) with a scrubbed environment (no tokens or credentials).",
    ),
    click.option(
        "--deps/--no-deps",
        default=True,
        show_default=True,
        help="Read requirements*.txt, pyproject.toml, uv.lock, poetry.lock, pylock.toml, Pipfile.lock.",
    ),
    click.option(
        "--code/--no-code",
        default=True,
        show_default=True,
        help="Scan .py files and notebooks for models the code loads and model APIs it "
        "calls, and deployment files (Dockerfile, compose, manifests, scripts, .env, "
        "workflows) for the models and inference servers they run.",
    ),
    click.option(
        "--pypi",
        is_flag=True,
        help="Fetch license metadata of declared but not installed packages from the index's JSON "
        "API (cached). The index is $AISCAN_PYPI_URL, else $PIP_INDEX_URL, else https://pypi.org.",
    ),
)


def _excludes(ctx: click.Context, param: click.Parameter, patterns: tuple[str, ...]) -> Any:
    from scanner.files import Excludes

    return Excludes(patterns)


_EXCLUDE_OPTION = click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="PATTERN",
    callback=_excludes,
    help="Leave out paths that match PATTERN, as in .gitignore, relative to each target: "
    "'vendor/' a folder at any depth, '*.bin' any such file, '/drafts' only at the top, "
    "'!keep.bin' back in. Repeatable. Hub targets are not filtered.",
)


def _project_flags(command: F) -> F:
    """--env, --python, --deps, --code and --pypi: how `scan` and `bom` read a project. The
    command receives them as one `project` argument (`ProjectOptions`)."""

    @functools.wraps(command)
    def with_project(
        *args: Any,
        env: bool | None,
        python: Path | None,
        deps: bool,
        code: bool,
        pypi: bool,
        **kwargs: Any,
    ) -> Any:
        return command(*args, project=_project_options(env, python, deps, code, pypi), **kwargs)

    wrapped: Any = with_project
    for option in reversed(_PROJECT_OPTIONS):
        wrapped = option(wrapped)
    return cast(F, wrapped)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@click.option(
    "--hub",
    is_flag=True,
    help="Also ask the Hugging Face Hub: base models not found locally, gating of cached repos. "
    "hf:// targets always use the Hub. Token from HF_TOKEN or `hf auth login`; honours "
    "HF_ENDPOINT and HF_HUB_OFFLINE.",
)
@click.option(
    "--policy",
    "-p",
    metavar="NAME|FILE",
    envvar="AISCAN_POLICY",
    show_envvar=True,
    help="Policy to judge against: a shipped name (default, strict, permissive-only) or a YAML "
    "file. Without it, aiscan.yaml or [tool.aiscan] in pyproject.toml of the working directory "
    "(or its git repository root), else default; never a file inside a scanned target.",
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(list(FORMATS)),
    default="table",
    show_default=True,
    help="table for people, json for scripts (the aiscan-report/1 contract), sarif for code "
    "scanning, markdown for pull requests.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of stdout.",
)
@click.option(
    "--summary",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also append the Markdown summary to FILE, whatever --format says; in GitHub Actions "
    'pass --summary "$GITHUB_STEP_SUMMARY" to show it on the run page.',
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    envvar="AISCAN_FAIL_ON",
    show_envvar=True,
    help="Lowest unwaived severity that makes the exit code 1 (overrides the policy's fail_on).",
)
@click.option(
    "--baseline",
    envvar="AISCAN_BASELINE",
    show_envvar=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier aiscan JSON report or SARIF log: its findings are listed but do not fail the run.",
)
@click.option(
    "--source-root",
    type=click.Path(path_type=Path, file_okay=False),
    help="SARIF: the folder result paths are relative to (the repository code scanning maps them "
    "to). Default: the git repository root holding the working directory, else the working "
    "directory.",
)
@_EXCLUDE_OPTION
@display_options
@reports_errors
@_project_flags
def scan(
    targets: tuple[str, ...],
    hub: bool,
    policy: str | None,
    output_format: str,
    output: Path | None,
    summary: Path | None,
    fail_on: str | None,
    baseline: Path | None,
    source_root: Path | None,
    exclude: Any,
    color_choice: Any,
    quiet: bool,
    verbose: bool,
    min_severity: Any,
    project: Any,
) -> None:
    """Scan model folders, stores, Hugging Face caches and Hub repos.

    A TARGET is a model folder (README.md card, LICENSE, config.json, weights), a folder of
    model folders searched recursively, a Hugging Face cache (~/.cache/huggingface/hub), one
    models--org--name folder of it, or a Hub repo hf://org/name[@revision] (card, files and
    gating from the Hub API; weights are never downloaded). Nothing is written into the targets.

    A folder with pyproject.toml, requirements*.txt, lock files or Python code is also a
    project: its packages (declared and installed, with licenses and the dependency graph) and
    the models its code loads are reported beside the models.
    """
    from scanner.formats.registry import get_format
    from scanner.licensing.knowledge_base import default_knowledge_base

    result = _scan_targets(
        targets, policy=policy, fail_on=fail_on, hub=hub, project=project, exclude=exclude
    )
    _say_which_environment(result, project)
    if baseline is not None:
        from scanner.policy.baseline import apply_baseline, load_baseline

        result = apply_baseline(result, load_baseline(baseline))
    layout = display(output, color_choice, quiet=quiet, verbose=verbose, min_severity=min_severity)
    format_options: dict[str, object] = {}
    if output_format == "sarif":
        from scanner.pipeline.sarif_sources import sarif_line_hashes
        from scanner.pipeline.sarif_sources import source_root as root_of

        format_options = {
            "source_root": root_of(Path.cwd(), source_root),
            "hashes": sarif_line_hashes(result),
        }
    document = get_format(output_format, **format_options).render(
        result, default_knowledge_base(), display=layout
    )
    write(document, output, color=layout.color)
    if summary is not None:
        markdown = document if output_format == "markdown" else None
        append_summary(
            summary, markdown or get_format("markdown").render(result, default_knowledge_base())
        )
    if output is not None:
        written(result, output)
    sys.exit(result.exit_code)


def _say_which_environment(result: Any, project: Any) -> None:
    """A project read with the activated environment says so: it is not in the target."""
    if project.active_venv is not None and any(c.source == "python-env" for c in result.components):
        click.echo(
            f"aiscan: packages read from the active virtual environment {project.active_venv} "
            "($VIRTUAL_ENV), as files; --no-env reads none, --python PATH another",
            err=True,
        )


def _project_options(
    env: bool | None, python: Path | None, deps: bool, code: bool, pypi: bool
) -> Any:
    """`ProjectOptions` from the project flags of `scan` and `bom`."""
    from scanner.errors import UsageError
    from scanner.sources.interface import EnvMode, ProjectOptions

    if python is not None and env is False:
        raise UsageError("--python and --no-env contradict each other")
    if python is not None and not (python.is_file() and os.access(python, os.X_OK)):
        raise UsageError(
            f"--python {str(python)!r} is not an executable file; give a Python interpreter "
            "such as .venv/bin/python"
        )
    client = None
    if pypi:
        from scanner.integrity.cache import default_cache_dir
        from scanner.remote.pypi import PyPIClient

        client = PyPIClient(cache_dir=default_cache_dir())
    mode: EnvMode = "on" if env or python is not None else ("off" if env is False else "auto")
    active = os.environ.get("VIRTUAL_ENV")
    active_venv = Path(active) if active and (Path(active) / "pyvenv.cfg").is_file() else None
    return ProjectOptions(
        env=mode,
        python=python,
        active_venv=active_venv if mode == "auto" else None,
        manifests=deps,
        code=code,
        pypi=client,
    )


def _scan_targets(
    targets: tuple[str, ...],
    *,
    policy: str | None,
    fail_on: str | None = None,
    hub: bool = False,
    project: Any = None,
    exclude: Any = None,
) -> Any:
    """Check the targets, pick the policy and run the scan: the one path behind `scan`, `bom`,
    `report` and `notice`, so every command reads targets the same way."""
    import dataclasses

    from scanner.cli.progress import LineageProgress, progress_wanted
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.pipeline.scan import needs_hub, run_scan
    from scanner.sources.registry import parse_targets

    scan_targets = parse_targets(targets)
    kb = default_knowledge_base()
    chosen = _resolve_policy(policy, kb)
    if fail_on:
        chosen = dataclasses.replace(chosen, fail_on=cast("Severity", fail_on))
    options: dict[str, Any] = {"hub": hub, "project": project}
    if exclude is not None:
        options["exclude"] = exclude
    if not needs_hub(scan_targets, hub) or not progress_wanted():
        return run_scan(scan_targets, chosen, kb, **options)
    with LineageProgress() as progress:
        return run_scan(scan_targets, chosen, kb, on_lookup=progress.looked_up, **options)


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
@reports_errors
def licenses_list(output_format: str) -> None:
    """List every license: key, name, category and SPDX / LicenseRef id."""
    from scanner.formats.licenses import render_license_list
    from scanner.licensing.knowledge_base import default_knowledge_base

    click.echo(
        render_license_list(default_knowledge_base(), output_format, display=display(None)),
        nl=False,
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
@reports_errors
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
        wanted = license_name.lower()
        # Keys holding the word asked for (`qwen` → qwen-research, tongyi-qianwen), then
        # keys spelled like it.
        close = [k for k in kb.entries if wanted and wanted in k][:5] or difflib.get_close_matches(
            wanted, list(kb.entries), n=3, cutoff=0.5
        )
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `aiscan licenses list`"
        raise UsageError(f"unknown license {license_name!r}{hint}")
    click.echo(
        render_license(kb[key], output_format, show_text=show_text, display=display(None)), nl=False
    )


def _verify_options(
    structure_only: bool,
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    rehash_older_than: float | None,
    lock: Path | None,
    against: Path | None,
    exclude: Any,
    hub: bool = False,
) -> Any:
    """Build `VerifyOptions` from the flags shared by `verify` and `lock`."""
    import dataclasses

    from scanner.integrity.lockfile import load_lockfile
    from scanner.integrity.references import BomDigests, References
    from scanner.pipeline.verify import VerifyOptions

    published = None
    if hub:
        from scanner.integrity.cache import default_cache_dir
        from scanner.remote.hub import HubClient, HubFileDigests

        published = HubFileDigests(HubClient(default_cache_dir()))
    references = References(
        lockfile=load_lockfile(lock) if lock else None,
        bom=BomDigests.load(against) if against else None,
        hub=published,
    )
    options = VerifyOptions(
        structure_only=structure_only,
        read_cache=not (no_cache or rehash),
        write_cache=not no_cache,
        rehash_older_than_days=rehash_older_than,
        references=references,
        exclude=exclude,
    )
    return options if jobs is None else dataclasses.replace(options, jobs=jobs)


def _run_verify(targets: tuple[str, ...], options: Any, policy: str | None) -> Any:
    from scanner.cli.progress import TerminalProgress, progress_wanted
    from scanner.errors import UsageError
    from scanner.files import printable
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.pipeline.verify import run_verify
    from scanner.remote.objectstore import is_object_url

    # Object-store URLs (s3://, gs://, ...) stay strings; everything else is a local path.
    parsed: list[Path | str] = [t if is_object_url(t) else Path(t) for t in targets]
    for target in parsed:
        if isinstance(target, Path) and not target.exists() and not target.is_symlink():
            raise UsageError(f"target {str(target)!r} does not exist")
    kb = default_knowledge_base()
    chosen = _resolve_policy(policy, kb)
    return run_verify(
        parsed,
        chosen,
        kb,
        options,
        progress=TerminalProgress() if progress_wanted() else None,
        warn=lambda message: click.echo(f"aiscan: warning: {printable(message)}", err=True),
    )


def _usage(message: str) -> Exception:
    from scanner.errors import UsageError

    return UsageError(message)


def _scheduler(given: str | None, fleet: bool) -> str | None:
    """The Dask scheduler to use: --scheduler or DASK_SCHEDULER_ADDRESS, else Dask's own
    configuration; --fleet needs one."""
    from scanner.pipeline.distributed import configured_scheduler

    address = given or configured_scheduler()
    if fleet and not address:
        raise _usage(
            "--fleet needs a Dask scheduler: --scheduler ADDRESS or DASK_SCHEDULER_ADDRESS"
        )
    return address


def _run_fleet(
    targets: tuple[str, ...],
    stores: tuple[str, ...],
    expect_hosts: tuple[str, ...],
    options: Any,
    policy: str | None,
    hub: bool,
) -> Any:
    from scanner.cli.progress import TerminalProgress, progress_wanted
    from scanner.files import printable
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.pipeline.fleet import run_fleet_verify

    if targets:
        raise _usage("--fleet takes no TARGET: each host verifies its own --store folders")
    if hub:
        raise _usage("--hub does not go with --fleet: compare each host with a --lock instead")
    kb = default_knowledge_base()
    return run_fleet_verify(
        stores,
        _resolve_policy(policy, kb),
        kb,
        options,
        expect_hosts=expect_hosts,
        progress=TerminalProgress() if progress_wanted() else None,
        warn=lambda message: click.echo(f"aiscan: warning: {printable(message)}", err=True),
    )


_HASH_OPTIONS = (
    click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
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
    click.option(
        "--rehash-older-than",
        type=click.FloatRange(min=0),
        metavar="DAYS",
        help="Trust a cached digest only if the file was read in full within DAYS days; older "
        "entries are hashed again (for stores that can change below the file system).",
    ),
)


def _hash_options(command: F) -> F:
    for option in reversed(_HASH_OPTIONS):
        command = option(command)
    return command


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, metavar="[TARGET]...")
@click.option(
    "--structure-only", is_flag=True, help="Check headers, shard indexes and layout; no hashing."
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="DASK_SCHEDULER_ADDRESS",
    show_envvar=True,
    help="Hash on the workers of this Dask scheduler (tcp://host:8786), which must see TARGETS "
    'at the same path. Default: Dask\'s configured scheduler-address. Needs "aiscan[dask]".',
)
@click.option(
    "--fleet",
    is_flag=True,
    help="Each Dask worker (one per host, named `dask worker --name HOST`) verifies its own "
    "stores; one report, with drift between hosts as findings. Needs --scheduler.",
)
@click.option(
    "--store",
    "stores",
    multiple=True,
    metavar="PATH",
    help="With --fleet: a store each host verifies, resolved on the host (~ is its home). "
    "Default: the worker user's HF cache and Ollama store.",
)
@click.option(
    "--expect-host",
    "expect_hosts",
    multiple=True,
    metavar="NAME",
    help="With --fleet: a host that must answer; one without a worker is scan.unreachable-host.",
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
@click.option(
    "--hub",
    is_flag=True,
    help="Also compare HF-cache files with the LFS sha256 the Hub publishes for their commit "
    "(catches a snapshot linked to the wrong blob). Token and endpoint as for `aiscan scan`.",
)
@_hash_options
@_EXCLUDE_OPTION
@click.option(
    "--policy",
    "-p",
    metavar="NAME|FILE",
    envvar="AISCAN_POLICY",
    show_envvar=True,
    help="Policy for severities and waivers.",
)
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
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    envvar="AISCAN_FAIL_ON",
    show_envvar=True,
    help="Lowest unwaived severity that makes the exit code 1 (overrides the policy's fail_on).",
)
@display_options
@reports_errors
def verify(
    targets: tuple[str, ...],
    structure_only: bool,
    scheduler: str | None,
    fleet: bool,
    stores: tuple[str, ...],
    expect_hosts: tuple[str, ...],
    lock: Path | None,
    against: Path | None,
    hub: bool,
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    rehash_older_than: float | None,
    exclude: Any,
    policy: str | None,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    color_choice: Any,
    quiet: bool,
    verbose: bool,
    min_severity: Any,
) -> None:
    """Verify safetensors structure and file hashes of model folders and HF caches.

    Every header and shard index is checked strictly; then every file is hashed (SHA-256, all
    cores, cached by inode and timestamps) and compared with, in this order: the --lock file,
    the --against BOM, the HF cache blob name, the Hub (--hub). Files without a reference are
    reported as unverified with their hash. Nothing is written into the targets.

    With --scheduler (or DASK_SCHEDULER_ADDRESS) the hashing runs on a Dask cluster; with
    --fleet every worker verifies its own stores and drift between hosts is reported.

    A TARGET may be an object-store URL (s3://bucket/prefix with `pip install "aiscan[s3]"`,
    gs://, az://, any fsspec URL): headers are read in ranges, objects streamed, S3's own
    SHA-256 checksums used as references, and digests cached by ETag.
    """
    import dataclasses

    from scanner.formats.registry import get_format
    from scanner.licensing.knowledge_base import default_knowledge_base

    options = _verify_options(
        structure_only, jobs, no_cache, rehash, rehash_older_than, lock, against, exclude, hub
    )
    options = dataclasses.replace(options, scheduler=_scheduler(scheduler, fleet))
    if fleet:
        result = _run_fleet(targets, stores, expect_hosts, options, policy, hub)
    else:
        if stores or expect_hosts:
            raise _usage("--store and --expect-host go with --fleet")
        if not targets:
            raise _usage("give at least one TARGET to verify (or --fleet)")
        result = _run_verify(targets, options, policy)
    if hub and not any(c.source == "hfcache" and c.version for c in result.components):
        click.echo(
            "aiscan: --hub asked the Hub nothing: only HF cache revisions carry the repo id and "
            "commit it publishes digests for (for other folders, record them with `aiscan lock` "
            "and verify copies with --lock)",
            err=True,
        )
    if fail_on:
        result = dataclasses.replace(result, fail_on=fail_on)
    layout = display(output, color_choice, quiet=quiet, verbose=verbose, min_severity=min_severity)
    document = get_format(output_format).render(result, default_knowledge_base(), display=layout)
    write(document, output, color=layout.color)
    if output is not None:
        written(result, output)
    sys.exit(result.exit_code)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@_hash_options
@_EXCLUDE_OPTION
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the lock file here instead of stdout.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="DASK_SCHEDULER_ADDRESS",
    show_envvar=True,
    help='Hash on the workers of this Dask scheduler, as `verify --scheduler`. Needs "aiscan[dask]".',
)
@reports_errors
def lock(
    targets: tuple[str, ...],
    jobs: int | None,
    no_cache: bool,
    rehash: bool,
    rehash_older_than: float | None,
    exclude: Any,
    output: Path | None,
    scheduler: str | None,
) -> None:
    """Record every file's revision, path, size and SHA-256 in an aiscan-lock/1 file.

    The store is verified first (structure, HF blob names); when any error is found, the
    findings are printed, no lock file is written and the exit code is 1, so damage is never
    recorded as the expected state.
    """
    import dataclasses

    from scanner.formats.registry import get_format
    from scanner.integrity.lockfile import locked_components, render_lockfile
    from scanner.licensing.knowledge_base import default_knowledge_base

    options = _verify_options(False, jobs, no_cache, rehash, rehash_older_than, None, None, exclude)
    options = dataclasses.replace(options, scheduler=_scheduler(scheduler, fleet=False))
    result = _run_verify(targets, options, None)
    errors = [f for f in result.findings if f.severity == "error" and f.waived is None]
    if errors:
        table = get_format("table").render(result, default_knowledge_base(), display=display(None))
        click.echo(table, err=True, nl=False)
        click.echo("aiscan: error: the store has errors; no lock file written", err=True)
        sys.exit(1)
    locked = locked_components(result)
    write(render_lockfile(locked, f"aiscan {__version__}"), output)
    if output is not None:
        files = sum(len(c.files) for c in locked)
        click.echo(
            f"aiscan: locked {files} file(s) of {len(locked)} component(s) → {output}", err=True
        )


def _scan_or_load(
    targets: tuple[str, ...],
    from_report: Path | None,
    policy: str | None,
    exclude: Any,
    project: Any = None,
) -> Any:
    """A ScanResult from a fresh scan of TARGETS (projects read as `project` says, by default
    as `aiscan scan` reads them), or from a saved JSON report (no rescan)."""
    from scanner.errors import UsageError

    if from_report is None:
        if project is None:
            project = _project_options(env=None, python=None, deps=True, code=True, pypi=False)
        return _scan_targets(targets, policy=policy, project=project, exclude=exclude)
    if targets:
        raise UsageError("give either TARGETs to scan or --from REPORT, not both")
    if exclude.patterns:
        raise UsageError("--exclude applies to a scan; a --from report is rendered as it is")
    from scanner.formats.json import read_report

    return read_report(from_report)


_FROM_OPTION = click.option(
    "--from",
    "from_report",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Render a saved `aiscan scan --format json` report instead of scanning.",
)
_POLICY_OPTION = click.option(
    "--policy",
    "-p",
    metavar="NAME|FILE",
    envvar="AISCAN_POLICY",
    show_envvar=True,
    help="Policy for the scan (as for `aiscan scan`).",
)


def _scan_inputs(command: F) -> F:
    """TARGETs, --from, --policy and --exclude: how `report`, `notice` and `bom` get their scan
    result."""
    for decorator in reversed(
        (
            click.argument("targets", nargs=-1, metavar="[TARGET]..."),
            _FROM_OPTION,
            _POLICY_OPTION,
            _EXCLUDE_OPTION,
        )
    ):
        command = decorator(command)
    return command


@main.command(epilog=DOCUMENT_EXIT_CODES_HELP)
@_scan_inputs
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The HTML file to write.",
)
@click.option(
    "--hash",
    "hash_files",
    is_flag=True,
    help="SHA-256 every file so the report lists the exact bytes (not with --from).",
)
@reports_errors
def report(
    targets: tuple[str, ...],
    from_report: Path | None,
    policy: str | None,
    exclude: Any,
    output: Path,
    hash_files: bool,
) -> None:
    """Write a self-contained HTML compliance report for legal review.

    One file with inline styles and no scripts: for every model the effective license and the
    evidence for it, the lineage, conditions, obligations with their exact text, restrictions,
    file hashes; then dependencies by license category; then findings and waivers.
    The exit code is 0 once the report is written, as for `bom` and `notice`.
    """
    from scanner.formats.html import render_html
    from scanner.licensing.knowledge_base import default_knowledge_base

    result = _scan_or_load(targets, from_report, policy, exclude)
    if hash_files and from_report is None:
        from scanner.pipeline.hashes import with_file_hashes

        result = with_file_hashes(result)
    write(render_html(result, default_knowledge_base()), output)
    written(result, output)


@main.command(epilog=DOCUMENT_EXIT_CODES_HELP)
@_scan_inputs
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory for NOTICE and licenses/ (created if missing).",
)
@reports_errors
def notice(
    targets: tuple[str, ...],
    from_report: Path | None,
    policy: str | None,
    exclude: Any,
    output: Path,
) -> None:
    """Write the attribution bundle a product ships: NOTICE and full license texts.

    NOTICE lists every model, dataset and package with the notices its license requires word for
    word (e.g. "Built with Llama" and the Llama copyright line); licenses/ holds each full text.
    """
    from scanner.formats.notice import write_notice_bundle
    from scanner.licensing.knowledge_base import default_knowledge_base

    result = _scan_or_load(targets, from_report, policy, exclude)
    bundle = write_notice_bundle(result, output, default_knowledge_base())
    click.echo(
        f"aiscan: NOTICE for {bundle.components} component(s) and {len(bundle.license_files)} "
        f"license text(s) → {output}",
        err=True,
    )


@main.command(
    epilog="""\b
Exit codes:
  0  no change introduces a policy violation or an integrity drift
  1  a new unwaived finding at or above the new side's fail level, or a file
     hash that changed while its component's version did not (integrity drift)
  2  usage error (unreadable or unknown input)"""
)
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="markdown suits a pull-request comment.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the diff here instead of stdout.",
)
@reports_errors
def diff(old: Path, new: Path, output_format: str, output: Path | None) -> None:
    """Compare two scans: aiscan JSON reports or CycloneDX JSON, SPDX 2.3 JSON or SPDX 3.0.1
    JSON-LD BOMs, in any mix.

    Shows components added and removed (with their license), version or commit changes,
    declared and effective license changes, file hash changes, and new and resolved findings
    one by one with their message. Components match by purl or repo id across formats and
    tools (PyPI names as PEP 503 normalises them).
    """
    from scanner.diff import compare, load_snapshot, render_diff

    changes = compare(load_snapshot(old), load_snapshot(new))
    write(render_diff(changes, output_format), output)
    sys.exit(changes.exit_code)


@main.command(epilog=DOCUMENT_EXIT_CODES_HELP)
@_scan_inputs
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(BOM_FORMATS),
    default="cyclonedx-json",
    show_default=True,
)
@click.option(
    "--spec-version",
    type=click.Choice(CYCLONEDX_SPEC_VERSIONS),
    default="1.6",
    show_default=True,
    help="CycloneDX specification version.",
)
@click.option(
    "--hash/--no-hash",
    "hash_files",
    default=True,
    show_default=True,
    help="SHA-256 every file of the scanned components so the BOM identifies the exact bytes "
    "(not with --from: a saved report is rendered as it is).",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), metavar="N", help="Files hashed in parallel."
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor write verify's hash cache; hash every file.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the BOM here instead of stdout.",
)
@reports_errors
@_project_flags
def bom(
    targets: tuple[str, ...],
    from_report: Path | None,
    output_format: str,
    spec_version: str,
    hash_files: bool,
    jobs: int | None,
    no_cache: bool,
    policy: str | None,
    exclude: Any,
    output: Path | None,
    project: Any,
) -> None:
    """Write a validated AI-BOM: CycloneDX 1.6/1.7 ML-BOM (JSON, XML), SPDX 2.3 (JSON,
    tag-value) or SPDX 3.0.1 (JSON-LD).

    Scans TARGETs like `aiscan scan`, with the same project options (or reads --from a saved
    JSON report, for which those options do nothing), hashes every file,
    and writes the document after checking it against the official schema. The exit code is 0
    when the BOM was written, whatever the findings (use `aiscan scan --format ...` to gate
    and write a BOM in one run); 3 when the document failed validation (a bug).
    """
    from scanner.formats.registry import get_format
    from scanner.licensing.knowledge_base import default_knowledge_base

    result = _scan_or_load(targets, from_report, policy, exclude, project)
    if from_report is None:
        _say_which_environment(result, project)
    if from_report is None and hash_files:
        result = _bom_hashes(result, jobs, no_cache)
    options = {"spec_version": spec_version} if output_format.startswith("cyclonedx") else {}
    write(get_format(output_format, **options).render(result, default_knowledge_base()), output)
    if output is not None:
        services = f" and {len(result.services)} AI service(s)" if result.services else ""
        click.echo(
            f"aiscan: {output_format} BOM of {len(result.components)} component(s){services} "
            f"→ {output}",
            err=True,
        )


def _bom_hashes(result: Any, jobs: int | None, no_cache: bool) -> Any:
    """The scan with every file hashed for `aiscan bom`, through verify's hash cache unless
    `--no-cache` (a cache that cannot be opened is a warning, and every file is read)."""
    from scanner.files import printable
    from scanner.integrity.cache import HashCache, default_cache_dir
    from scanner.pipeline.hashes import with_file_hashes

    messages: list[str] = []
    cache = None if no_cache else HashCache.open(default_cache_dir(), messages)
    for message in messages:
        click.echo(f"aiscan: warning: {printable(message)}", err=True)
    try:
        return with_file_hashes(result, jobs, cache=cache)
    finally:
        if cache is not None:
            cache.close()
