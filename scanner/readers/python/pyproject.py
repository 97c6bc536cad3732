"""Reads the dependencies a `pyproject.toml` declares: PEP 621, PEP 735 dependency groups and
Poetry's tables (`poetry_deps`).

TOML keeps no line numbers, so each requirement is located by finding its quoted text in the
file; that is enough for a reader to jump to it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scanner.errors import describe_os_error
from scanner.files import read_whole
from scanner.inventory import Problem
from scanner.readers.python.packages import (
    Declarations,
    DeclaredPackage,
    parse_requirement,
    split_declared,
)
from scanner.readers.python.poetry import poetry_tables, read_poetry_table

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
"""pyproject.toml and lock files; the largest real lock files are a few MiB."""


def load_toml(path: Path) -> tuple[dict[str, Any] | None, str, Problem | None]:
    """A TOML document and its text, or the problem that kept it from being read."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        text = read_whole(path, MAX_MANIFEST_BYTES).decode("utf-8")
    except OSError as exc:
        return None, "", Problem(path.name, f"cannot read: {describe_os_error(exc)}")
    except UnicodeDecodeError as exc:
        return None, "", Problem(path.name, f"cannot read: {exc}")
    try:
        return tomllib.loads(text), text, None
    except tomllib.TOMLDecodeError as exc:
        return None, text, Problem(path.name, f"invalid TOML: {exc}")
    except RecursionError:
        return None, text, Problem(path.name, "invalid TOML: nested too deeply")


def _line_of(text: str, value: str) -> int | None:
    for quote in ('"', "'"):
        index = text.find(f"{quote}{value}{quote}")
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return None


MAX_GROUP_DEPTH = 32
"""Nested `include-group`s followed; real projects nest two or three."""


def _groups(
    groups: Mapping[str, Any],
    name: str,
    expanded: dict[str, tuple[str | Problem, ...]],
    chain: tuple[str, ...] = (),
) -> tuple[str | Problem, ...]:
    """The requirement strings of a PEP 735 dependency group, includes expanded, each once.

    Each group is expanded once (`expanded`) and its requirements kept once, so groups that
    include the next one twice, thirty deep, give their requirements, not 2**30 copies; the
    nesting is bounded so a chain of thousands of groups cannot exhaust the stack.
    """
    at = f"[dependency-groups] {name}"
    if name in chain:
        return (Problem(at, "circular include-group"),)
    if name in expanded:
        return expanded[name]
    if len(chain) >= MAX_GROUP_DEPTH:
        return (Problem(at, f"include-group nested more than {MAX_GROUP_DEPTH} deep; not read"),)
    if name not in groups:
        return (Problem(f"[dependency-groups] {chain[-1]}", f"includes unknown group {name!r}"),)
    items = groups[name]
    if not isinstance(items, list):
        # A string would otherwise be read letter by letter, a table key by key.
        return (Problem(at, "must be a list of requirements"),)
    found: dict[str | Problem, None] = {}
    for item in items:
        if isinstance(item, str):
            found[item] = None
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            found.update(
                dict.fromkeys(_groups(groups, item["include-group"], expanded, (*chain, name)))
            )
        else:
            found[Problem(at, f"unsupported entry {_shown(item)}")] = None
    expanded[name] = tuple(found)
    return expanded[name]


def _shown(value: Any) -> str:
    """A wrong-typed TOML value for a message, shortened: a table can be megabytes."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_pyproject(path: Path) -> Declarations:
    """`[project] dependencies`, `optional-dependencies`, `[dependency-groups]` and Poetry's
    dependency tables."""
    document, text, problem = load_toml(path)
    if document is None:
        return Declarations(path.name, "pyproject", problems=(problem,) if problem else ())
    wrong: list[Problem] = []
    project = _table(document, "project", path.name, wrong)
    lists: list[tuple[str, Any]] = [("project.dependencies", project.get("dependencies"))]
    for extra, items in _table(project, "optional-dependencies", path.name, wrong).items():
        lists.append((f"project.optional-dependencies.{extra}", items))
    groups = _table(document, "dependency-groups", path.name, wrong)
    expanded: dict[str, tuple[str | Problem, ...]] = {}
    for group in groups:
        lists.append((f"dependency-groups.{group}", list(_groups(groups, group, expanded))))
    packages, problems = split_declared(_declared(path.name, text, lists, document))
    return Declarations(path.name, "pyproject", packages, (*wrong, *problems))


def _table(document: Mapping[str, Any], key: str, name: str, wrong: list[Problem]) -> dict:
    """A table of the document (empty when absent); one of another type is a problem, so that
    `project = "x"` is reported rather than crashing the scan."""
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        wrong.append(Problem(f"{name} [{key}]", f"must be a table, not {type(value).__name__}"))
        return {}
    return value


def _declared(
    name: str, text: str, lists: list[tuple[str, Any]], document: dict[str, Any]
) -> Iterator[DeclaredPackage | Problem]:
    """Every requirement of the PEP 621 / PEP 735 lists, then of Poetry's tables."""
    for table, items in lists:
        if items is None:
            continue
        if not isinstance(items, list):
            yield Problem(f"{name} {table}", "must be a list of requirements")
            continue
        for item in items:
            if isinstance(item, Problem):
                yield item
            elif not isinstance(item, str):
                yield Problem(f"{name} {table}", f"not a requirement: {item!r}")
            else:
                line = _line_of(text, item)
                where = f"{name}:{line}" if line else name
                yield parse_requirement(item, f"{where} [{table}]")
    for table, dependencies in poetry_tables(document):
        yield from read_poetry_table(name, text, table, dependencies)
