"""Reads pip requirements files, following `-r` includes.

pip-requirements-parser parses each file with pip's own grammar (continuations, `--hash`
options spread over several lines, markers, extras, editable and URL requirements) and reports
broken lines instead of stopping. Includes are followed here, not by the library, so an include
cycle or a missing file becomes a `Problem` rather than endless recursion or a crash.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from scanner.errors import describe_os_error
from scanner.files import outside_problem, read_whole
from scanner.inventory import Problem
from scanner.readers.python.packages import (
    Declarations,
    DeclaredPackage,
    parse_requirement,
    split_declared,
)

MAX_INCLUDE_DEPTH = 20
MAX_REQUIREMENTS_BYTES = 8 * 1024 * 1024
"""Real requirements files are kilobytes; `-r /dev/zero` must not fill memory."""


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_requirements(path: Path, root: Path) -> Declarations:
    """Every requirement of `path` and of the files it includes, in reading order."""
    packages, problems = split_declared(_read(path, Path(os.path.realpath(root)), ()))
    return Declarations(_display(path, root), "requirements", packages, problems)


def _read(path: Path, root: Path, chain: tuple[Path, ...]) -> Iterator[DeclaredPackage | Problem]:
    from pip_requirements_parser import RequirementsFile

    where = _display(path, root)
    outside = outside_problem(path, str(root), where)
    if outside is not None:
        yield outside
        return
    path = Path(os.path.realpath(path))
    where = _display(path, root)
    if path in chain:
        cycle = " → ".join(_display(p, root) for p in (*chain, path))
        yield Problem(where, f"circular -r include ({cycle}); not read again")
        return
    if len(chain) >= MAX_INCLUDE_DEPTH:
        yield Problem(where, f"more than {MAX_INCLUDE_DEPTH} nested -r includes; not read")
        return
    try:
        raw = read_whole(path, MAX_REQUIREMENTS_BYTES)
    except OSError as exc:
        yield Problem(where, f"cannot read requirements file: {describe_os_error(exc)}")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Problem(where, f"cannot read requirements file: {exc}")
        return
    if "\0" in text:
        yield Problem(where, "not a text file; not read")
        return
    try:
        parsed = RequirementsFile.from_file(str(path), include_nested=False)
    except Exception as exc:  # the parser's own errors are not a public family
        yield Problem(where, f"cannot parse requirements file: {exc}")
        return
    for invalid in parsed.invalid_lines:
        line = invalid.requirement_line
        message = invalid.error_message.splitlines()[0]
        yield Problem(f"{where}:{line.line_number}", f"{message}: {line.line.strip()!r}")
    for option in parsed.options:
        for include in option.options.get("requirements", ()):
            yield from _read(path.parent / include, root, (*chain, path))
    for requirement in parsed.requirements:
        at = f"{where}:{requirement.line_number}"
        if requirement.name is None:
            if not requirement.is_editable:  # `-e .` is the project itself
                yield Problem(at, f"cannot tell the package name of {requirement.line.strip()!r}")
            continue
        text_form = str(requirement.req)
        if requirement.marker is not None and ";" not in text_form:
            text_form = f"{text_form}; {requirement.marker}"
        yield parse_requirement(text_form, at, hashes=tuple(requirement.hash_options))
