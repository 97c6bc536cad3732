"""Reads pip requirements files, following `-r` includes.

pip-requirements-parser parses each file with pip's own grammar (continuations, `--hash`
options spread over several lines, markers, extras, editable and URL requirements) and reports
broken lines instead of stopping. Includes are followed here, not by the library, so an include
cycle or a missing file becomes a `Problem` rather than endless recursion or a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from scanner.inventory import Problem
from scanner.sources.packages import Declarations, DeclaredPackage, parse_requirement

MAX_INCLUDE_DEPTH = 20


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_requirements(path: Path, root: Path) -> Declarations:
    """Every requirement of `path` and of the files it includes, in reading order."""
    packages: list[DeclaredPackage] = []
    problems: list[Problem] = []
    for item in _read(path.resolve(), root.resolve(), ()):
        (packages if isinstance(item, DeclaredPackage) else problems).append(item)
    return Declarations(_display(path, root), "requirements", tuple(packages), tuple(problems))


def _read(path: Path, root: Path, chain: tuple[Path, ...]) -> Iterator[DeclaredPackage | Problem]:
    from pip_requirements_parser import RequirementsFile

    where = _display(path, root)
    if path in chain:
        cycle = " → ".join(_display(p, root) for p in (*chain, path))
        yield Problem(where, f"circular -r include ({cycle}); not read again")
        return
    if len(chain) >= MAX_INCLUDE_DEPTH:
        yield Problem(where, f"more than {MAX_INCLUDE_DEPTH} nested -r includes; not read")
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
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
            yield from _read((path.parent / include).resolve(), root, (*chain, path))
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
