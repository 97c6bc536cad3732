"""Reads Poetry's own dependency tables in `pyproject.toml`: `[tool.poetry.dependencies]`,
`[tool.poetry.group.<name>.dependencies]` and the older `[tool.poetry.dev-dependencies]`.

Poetry constraints (`^1.2`, `~1.2`, `*`, `>=1,<2 || ^3`) are not PEP 440: translating them
would be a guess, so only an exact pin (`1.2.3`, `==1.2.3`) becomes a specifier. The constraint
as written is kept in `where`, which the report shows in `declared_in`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from scanner.inventory import Problem
from scanner.readers.python.packages import DeclaredPackage


def poetry_tables(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted table name, table) for each Poetry dependency table present."""
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if not isinstance(poetry, dict):
        return
    yield "tool.poetry.dependencies", poetry.get("dependencies")
    yield "tool.poetry.dev-dependencies", poetry.get("dev-dependencies")
    groups = poetry.get("group")
    for group, body in groups.items() if isinstance(groups, dict) else ():
        if isinstance(body, dict):
            yield f"tool.poetry.group.{group}.dependencies", body.get("dependencies")


def read_poetry_table(
    file: str, text: str, table: str, dependencies: Any
) -> Iterator[DeclaredPackage | Problem]:
    """The direct requirements of one Poetry dependency table (`python` is the interpreter)."""
    if dependencies is None:
        return
    if not isinstance(dependencies, dict):
        yield Problem(f"{file} [{table}]", "must be a table of dependencies")
        return
    for key, value in dependencies.items():
        if key == "python":
            continue
        line = _key_line(text, table, key)
        where = f"{file}:{line} [{table}]" if line else f"{file} [{table}]"
        # A list holds alternative constraints, each under its own python/markers condition.
        for item in value if isinstance(value, list) else [value]:
            yield _package(key, item, where)


def _package(name: str, item: Any, where: str) -> DeclaredPackage | Problem:
    from packaging.markers import InvalidMarker, Marker
    from packaging.utils import InvalidName, canonicalize_name

    if isinstance(item, str):
        item = {"version": item}
    if not isinstance(item, dict):
        return Problem(f"{where} {name}", f"unsupported entry {item!r}")
    try:
        canonical = canonicalize_name(name, validate=True)
    except InvalidName as exc:
        return Problem(f"{where} {name}", f"invalid name: {exc}")
    marker = item.get("markers")
    if marker is not None:
        try:
            Marker(marker)
        except (InvalidMarker, TypeError) as exc:
            return Problem(f"{where} {name}", f"invalid marker {marker!r}: {exc}")
    constraint = _constraint(item)
    pinned = _exact(item.get("version"))
    extras = item.get("extras")
    return DeclaredPackage(
        name=canonical,
        where=f"{where} {constraint}" if constraint else where,
        specifier=f"=={pinned}" if pinned else "",
        version=pinned,
        extras=tuple(sorted(e for e in extras if isinstance(e, str)))
        if isinstance(extras, list)
        else (),
        marker=marker,
        url=item.get("url") if isinstance(item.get("url"), str) else None,
    )


def _constraint(item: Mapping[str, Any]) -> str:
    """The constraint as written: the version, else where the package comes from."""
    if isinstance(item.get("version"), str):
        return item["version"]
    for key in ("git", "path", "url"):
        if isinstance(item.get(key), str):
            ref = next((item[r] for r in ("rev", "tag", "branch") if item.get(r)), None)
            return f"{key} {item[key]}" + (f"@{ref}" if ref and key == "git" else "")
    return ""


def _exact(constraint: Any) -> str | None:
    """The version of an exact Poetry pin (`1.2.3`, `==1.2.3`), else None."""
    from packaging.version import InvalidVersion, Version

    if not isinstance(constraint, str):
        return None
    version = constraint.strip().removeprefix("==").strip()
    try:
        Version(version)
    except InvalidVersion:
        return None
    return version


def _key_line(text: str, table: str, key: str) -> int | None:
    """The line of `key` in `[table]` (or of its own `[table.key]` header): TOML keeps none."""
    header = text.find(f"[{table}.{key}]")
    if header < 0:
        start = text.find(f"[{table}]")
        pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE)
        match = pattern.search(text, max(start, 0))
        if match is None:
            return None
        header = match.start()
    return text.count("\n", 0, header) + 1
