"""Reads the distributions installed in a Python environment, without importing any of them.

Two ways, by who chose the environment:

- A project's own `.venv` / `venv`, found in the scanned tree, is a stranger's files: its
  `site-packages` metadata folders are read as files (links out of the tree refused, sizes
  bounded) and its interpreter is never run. The marker variables come from `pyvenv.cfg`.
- An interpreter the user names (`--python PATH`, or `--env` for the one running aiscan) runs
  the metadata dump (`env_dump.py`), so the environment read is exactly the one it would import
  from, whatever its version or platform. It runs isolated (`-I`) and with a scrubbed process
  environment: no tokens or cloud credentials reach it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.errors import SourceError
from scanner.files import one_line, outside_problem, read_bounded
from scanner.readers.python import dump_cache, env_dump
from scanner.readers.python.lock_markers import host_markers

if TYPE_CHECKING:
    import subprocess

DUMP_TIMEOUT = 300
MAX_METADATA_BYTES = 4 * 1024 * 1024
"""METADATA files carry the long description; real ones stay well under this."""
PASSED_VARIABLES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP"}
    | {"SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT"}
)
"""The only variables a named interpreter sees (with `LC_*`): enough to start Python, and
nothing secret (HF_TOKEN, AWS_*, GITHUB_TOKEN and the like are never among them)."""


@dataclass(frozen=True)
class InstalledDistribution:
    """One installed distribution's metadata as written (nothing is normalised here)."""

    name: str
    version: str | None
    path: str | None
    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    requires_dist: tuple[str, ...] = ()
    license_files: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    """Why the metadata could not be read; the other fields are then empty."""
    supplier: str | None = None
    """Who the metadata says makes the package (`package_supplier`), for a BOM's supplier."""


@dataclass(frozen=True)
class Environment:
    """An interpreter's marker variables and installed distributions."""

    python: str
    version: str
    markers: Mapping[str, str]
    distributions: tuple[InstalledDistribution, ...]


MAX_SUPPLIER_CHARS = 200
"""An Author field is a name; a longer one is pasted prose and names no one usable."""


def package_supplier(raw: Mapping[str, Any]) -> str | None:
    """The first of Author, Author-email, Maintainer, Maintainer-email that names someone, as
    one line: the name of a `Name <address>` entry (the address when it is all there is).
    Several people stay one comma-separated value, as the metadata writes them."""
    for field_name in ("author", "author_email", "maintainer", "maintainer_email"):
        value = raw.get(field_name)
        if not isinstance(value, str):
            continue
        people = []
        for person in value.split(","):
            name, _, address = person.partition("<")
            shown = name.strip().strip('"') or address.rstrip(">").strip()
            if shown:
                people.append(shown)
        text = one_line(", ".join(people))
        if text and text.upper() not in ("UNKNOWN", "NONE") and len(text) <= MAX_SUPPLIER_CHARS:
            return text
    return None


def _distribution(raw: Mapping[str, Any]) -> InstalledDistribution | None:
    name = raw.get("name")
    if not name:
        return None
    return InstalledDistribution(
        name=name,
        version=raw.get("version"),
        path=raw.get("path"),
        license_expression=raw.get("license_expression"),
        license=raw.get("license"),
        classifiers=tuple(raw.get("classifiers") or ()),
        requires_dist=tuple(raw.get("requires_dist") or ()),
        license_files=tuple((f[0], f[1]) for f in raw.get("license_files") or ()),
        error=raw.get("error"),
        supplier=package_supplier(raw),
    )


def parse_dump(document: Mapping[str, Any]) -> Environment:
    """Turn the dump's JSON into an `Environment`, keeping the first of duplicate names (the one
    the interpreter would import, as it comes first on sys.path)."""
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    distributions = []
    for raw in document.get("distributions", ()):
        dist = _distribution(raw)
        if dist is None or canonicalize_name(dist.name) in seen:
            continue
        seen.add(canonicalize_name(dist.name))
        distributions.append(dist)
    return Environment(
        python=document.get("python", ""),
        version=document.get("version", ""),
        markers=dict(document.get("markers") or {}),
        distributions=tuple(distributions),
    )


def scrubbed_environment() -> dict[str, str]:
    """The process environment a named interpreter runs with: `PASSED_VARIABLES` and `LC_*`."""
    return {
        name: value
        for name, value in os.environ.items()
        if name in PASSED_VARIABLES or name.startswith("LC_")
    }


def read_environment(
    python: Path | str | None = None,
    *,
    cached: bool = True,
    meanwhile: Callable[[], object] | None = None,
    as_read: Callable[[InstalledDistribution], object] | None = None,
) -> Environment:
    """Run the metadata dump in `python` (default: the interpreter running aiscan), or reuse
    the one kept from an earlier run while the environment is unchanged (`dump_cache`; not
    with `cached` False).

    While the dump runs, which is another process on another core, this one works on what the
    caller needs next instead of waiting: `meanwhile` is called first (preparing the license
    matcher), then `as_read` with each distribution the dump writes, for as long as the dump
    still runs (matching its license texts). Neither is called for a kept dump; a
    distribution read after the dump ended is left to the caller.

    Only for an interpreter the user named: `-I` keeps the user's PYTHONPATH, user site and
    current directory out, so nothing but the environment's own site-packages is read, and the
    scrubbed environment keeps credentials away from it.
    """
    interpreter = str(python or sys.executable)
    script = Path(env_dump.__file__).read_text(encoding="utf-8")  # its source, run by the target
    document = dump_cache.load(interpreter, script) if cached else None
    if document is None:
        started = time.time_ns()
        document = _run_dump(interpreter, script, meanwhile, as_read)
        if cached:
            dump_cache.store(interpreter, script, document, started)
    return parse_dump(document)


PIPE_BYTES = 1 << 20
"""The dump's output pipe is asked to hold this much (Linux): the dump then seldom waits
for this process, whose reading thread takes turns with the matching one."""


class _DumpReader:
    """The dump's output, read all along on threads of its own while this thread works: a
    dump writes more than a pipe holds (~220 KB for 30 distributions), and one left unread
    stops until this thread is done, so the two would take turns instead of overlapping.
    Output is read in large chunks (each read waits for the thread that matches texts to let
    go of the interpreter) and split into lines by `lines`."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        import queue
        import threading

        assert process.stdout is not None and process.stderr is not None
        self._chunks: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        """What the dump wrote, as read; an empty chunk at its end."""
        self._errors: list[bytes] = []
        output, errors = process.stdout.fileno(), process.stderr.fileno()
        with contextlib.suppress(ImportError, OSError, AttributeError):  # Linux only
            import fcntl

            fcntl.fcntl(output, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._threads = [
            threading.Thread(target=self._read_output, args=(output,), daemon=True),
            threading.Thread(target=self._read_errors, args=(errors,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_output(self, output: int) -> None:
        try:
            with contextlib.suppress(OSError):
                while chunk := os.read(output, PIPE_BYTES):
                    self._chunks.put(chunk)
        finally:
            self._chunks.put(b"")

    def _read_errors(self, errors: int) -> None:
        parts = []
        with contextlib.suppress(OSError):
            while part := os.read(errors, 65536):
                parts.append(part)
        self._errors.append(b"".join(parts))

    def lines(self, deadline: float) -> Iterator[bytes]:
        """Each line of output as it comes; `TimeoutError` at `deadline`. The chunks of a line
        are joined once its end is read (joining them as they come would copy a long line
        over again with every chunk)."""
        import queue

        started: list[bytes] = []
        """The chunks of the line read so far, none holding its end."""
        while True:
            try:
                chunk = self._chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError from None
            if not chunk:
                break
            if b"\n" not in chunk:
                started.append(chunk)
                continue
            end, *complete, rest = chunk.split(b"\n")
            yield b"".join([*started, end])
            yield from complete
            started = [rest] if rest else []
        if started:
            yield b"".join(started)

    def errors(self) -> bytes:
        """What the dump wrote on stderr (once both pipes are closed: after `join`)."""
        return self._errors[0] if self._errors else b""

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


def _output(
    process: subprocess.Popen[bytes],
    meanwhile: Callable[[], object] | None,
    as_read: Callable[[InstalledDistribution], object] | None,
) -> tuple[list[bytes], bytes]:
    """The dump's lines of output and its errors, with `meanwhile` called while it runs, then
    `as_read` with each distribution it writes until it ends (`read_environment`)."""
    import subprocess

    reader = _DumpReader(process)
    deadline = time.monotonic() + DUMP_TIMEOUT
    lines: list[bytes] = []
    try:
        if meanwhile is not None:
            meanwhile()
        for line in reader.lines(deadline):
            lines.append(line)
            if as_read is not None and len(lines) > 1 and process.poll() is None:
                dist = _early_distribution(line)
                if dist is not None and not dist.error:
                    as_read(dist)
        process.wait(max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        process.kill()
        reader.join()
        raise subprocess.TimeoutExpired(process.args, DUMP_TIMEOUT) from None
    except BaseException:
        process.kill()  # the readers then see the pipes close, and are gone before this returns
        reader.join()
        raise
    reader.join()
    return lines, reader.errors()


def _early_distribution(line: bytes) -> InstalledDistribution | None:
    """A distribution's line read while the dump runs, or None when it is not one: such a
    line is left to `parse_dump`, which judges the whole dump once it has ended."""
    try:
        return _distribution(_line_object(line))
    except (ValueError, TypeError, AttributeError):
        return None


def _line_object(line: bytes) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except RecursionError:
        raise ValueError("a line nested too deeply") from None
    if not isinstance(document, dict):
        raise ValueError("a line that is not a JSON object")
    return document


def _run_dump(
    interpreter: str,
    script: str,
    meanwhile: Callable[[], object] | None = None,
    as_read: Callable[[InstalledDistribution], object] | None = None,
) -> Any:
    import subprocess

    try:
        with subprocess.Popen(
            [interpreter, "-I", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=scrubbed_environment(),
        ) as process:
            try:
                lines, stderr = _output(process, meanwhile, as_read)
            except BaseException:
                process.kill()  # as `subprocess.run` does on a timeout or an interrupt
                raise
    except (OSError, subprocess.SubprocessError) as exc:
        raise SourceError(f"cannot run {interpreter}: {exc}") from exc
    if process.returncode != 0:
        last = (stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise SourceError(
            f"cannot read the environment of {interpreter} (exit {process.returncode}): {last}"
        )
    try:
        if not lines:
            raise ValueError("no output")
        document = _line_object(lines[0])
        document["distributions"] = [_line_object(line) for line in lines[1:]]
    except ValueError as exc:
        raise SourceError(f"{interpreter} printed no metadata dump: {exc}") from exc
    return document


@functools.cache
def _folder_distribution() -> Any:
    """The `importlib.metadata.Distribution` of a folder read as files, made on first use:
    importing `importlib.metadata` (and the email package it parses with) is ~15 % of a scan
    that reads no environment."""
    from importlib import metadata

    class _FolderDistribution(metadata.Distribution):
        """A `.dist-info` / `.egg-info` folder of a stranger's environment, read as files only."""

        def __init__(self, path: Path, root: str) -> None:
            self._path = path
            self._root = root

        def read_text(self, filename: str) -> str | None:
            target = self._path / filename if filename else self._path
            if outside_problem(target, self._root) is not None:
                return None
            try:
                return read_bounded(target, MAX_METADATA_BYTES).decode("utf-8", "replace")
            except OSError:
                return None

        def locate_file(self, path: str | os.PathLike[str]) -> Path:
            return self._path.parent / path

    return _FolderDistribution


def _pyvenv_cfg(venv: Path, root: str) -> dict[str, str]:
    """`pyvenv.cfg` as key → value (the `version` / `version_info` and `implementation` keys
    are what marker evaluation needs)."""
    config = venv / "pyvenv.cfg"
    if outside_problem(config, root) is not None:
        return {}
    try:
        text = read_bounded(config, 64 * 1024).decode("utf-8", "replace")
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip().lower(): value.strip() for key, sep, value in pairs if sep}


def site_packages(venv: Path) -> list[Path]:
    """The environment's `site-packages` folders, POSIX (`lib/<python>/`) and Windows layouts."""
    found = [*sorted(venv.glob("lib/*/site-packages")), *sorted(venv.glob("lib64/*/site-packages"))]
    found.append(venv / "Lib" / "site-packages")
    unique: dict[str, Path] = {}
    for folder in found:
        if folder.is_dir():
            unique.setdefault(os.path.realpath(folder), folder)
    return list(unique.values())


def _markers(venv: Path, config: dict[str, str], sites: list[Path]) -> dict[str, str]:
    """The marker variables of the venv's interpreter, as far as files tell them: the host's,
    with the Python version and implementation from `pyvenv.cfg` (or the `lib/pythonX.Y`
    folder name)."""

    markers = host_markers()
    version = config.get("version_info") or config.get("version") or ""
    parts = re.findall(r"\d+", version)[:3]
    if len(parts) < 2:
        folder = next((re.match(r"python(\d+)\.(\d+)$", s.parent.name) for s in sites), None)
        parts = list(folder.groups()) if folder else []
    if len(parts) >= 2:
        markers["python_version"] = ".".join(parts[:2])
        markers["python_full_version"] = ".".join(parts + ["0"] * (3 - len(parts)))
        markers["implementation_version"] = markers["python_full_version"]
    implementation = config.get("implementation", "")
    if implementation:
        markers["platform_python_implementation"] = implementation
        markers["implementation_name"] = implementation.lower()
    if (venv / "Lib" / "site-packages").is_dir() and not (venv / "lib").is_dir():
        markers.update(os_name="nt", sys_platform="win32", platform_system="Windows")
    return markers


def read_virtualenv(venv: Path, root: str) -> Environment:
    """The distributions of a virtual environment found in the scanned tree, read as files.

    Nothing in the venv is executed: a project's `.venv/bin/python` is the stranger's program,
    and running it would hand it aiscan's whole environment. `root` is the resolved scan
    target, out of which no link is followed.
    """
    config = _pyvenv_cfg(venv, root)
    sites = [s for s in site_packages(venv) if outside_problem(s, root) is None]
    distributions = []
    for site in sites:
        try:
            entries = sorted(site.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.suffix in (".dist-info", ".egg-info"):
                distributions.append(env_dump.describe(_folder_distribution()(entry, root)))
    markers = _markers(venv, config, sites)
    return parse_dump(
        {
            "python": str(venv),
            "version": markers["python_full_version"],
            "markers": markers,
            "distributions": distributions,
        }
    )
