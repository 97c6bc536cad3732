"""Decides which lock-file entries apply to the interpreter being described.

A lock file names packages for every platform it was resolved for (`uv.lock` is universal), so
reporting each entry as shipped would put a `sys_platform == 'win32'` package into a Linux
inventory. Entries are kept when their markers hold for the target interpreter's marker
environment. Which extras and dependency groups the project installs is not known, so a marker
counts as holding when some choice of them makes it hold: an entry is left out only when no
choice would install it. A marker that cannot be evaluated keeps its entry and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scanner.inventory import Problem

if TYPE_CHECKING:
    from packaging.markers import Marker

MarkerEnvironment = Mapping[str, str]


def host_markers() -> dict[str, str]:
    """The PEP 508 marker variables of the interpreter running aiscan."""
    from packaging.markers import default_environment

    return {name: str(value) for name, value in default_environment().items()}


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def marker_holds(text: object, environment: MarkerEnvironment, where: str) -> bool | Problem:
    """Whether a PEP 508 marker holds with some extra, or why it cannot be evaluated.

    uv encodes conflicting extras and groups as `extra == '...'` clauses, so each quoted value
    of the marker is tried as the extra, besides none.
    """
    from packaging.markers import InvalidMarker, Marker

    if not isinstance(text, str):
        return Problem(where, f"marker {text!r} is not a string")
    try:
        marker = Marker(text)
    except InvalidMarker as exc:
        return Problem(where, f"invalid marker {text!r}: {exc}")
    extras = {"", *(a or b for a, b in _QUOTED.findall(text))}
    return _any_holds(marker, [{**environment, "extra": e} for e in extras], "metadata", where)


def pylock_marker_holds(
    marker: Marker,
    environment: MarkerEnvironment,
    where: str,
    extras: Collection[str],
    groups: Collection[str],
    default_groups: Collection[str],
) -> bool | Problem:
    """A PEP 751 package marker (already parsed by `packaging.pylock`), evaluated for the
    installer's default selection and for every extra and group the lock file offers."""
    selections = [(frozenset(), frozenset(default_groups)), (frozenset(extras), frozenset(groups))]
    contexts = [
        {**environment, "extras": chosen, "dependency_groups": chosen_groups}
        for chosen, chosen_groups in selections
    ]
    return _any_holds(marker, contexts, "lock_file", where)


def _any_holds(
    marker: Marker,
    contexts: Iterable[Mapping[str, Any]],
    context: Literal["metadata", "lock_file"],
    where: str,
) -> bool | Problem:
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

    try:
        return any(marker.evaluate(c, context=context) for c in contexts)
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        return Problem(where, f"cannot evaluate marker {str(marker)!r}: {exc}")


@dataclass(frozen=True)
class UvSelection:
    """The `[[package]]` entries of a uv.lock that apply, by index, with the canonical names each
    one's applying dependency entries point to."""

    applies: tuple[bool, ...]
    dependencies: tuple[tuple[str, ...], ...]
    problems: tuple[Problem, ...]


def select_uv(
    packages: Sequence[Mapping[str, Any]], environment: MarkerEnvironment, where: str
) -> UvSelection:
    """Follow dependency entries whose `marker` holds from the project's own packages (editable
    or virtual sources); a package whose `resolution-markers` all fail belongs to another fork.
    Without project packages to start from, only `resolution-markers` decide."""
    from packaging.utils import canonicalize_name

    problems: list[Problem] = []

    def holds(text: str | None, entry: str) -> bool:
        if not text:
            return True
        result = marker_holds(text, environment, entry)
        if isinstance(result, Problem):
            problems.append(result)
            return True
        return result

    by_name: dict[str, list[int]] = {}
    for index, package in enumerate(packages):
        by_name.setdefault(canonicalize_name(package["name"]), []).append(index)
    in_fork = [
        not package.get("resolution-markers")
        or any(
            holds(m, f"{where} [package {package['name']}]") for m in package["resolution-markers"]
        )
        for package in packages
    ]
    edges: list[list[int]] = []
    names: list[tuple[str, ...]] = []
    for package in packages:
        targets: list[int] = []
        for dep in _dependency_entries(package):
            if not holds(dep.get("marker"), f"{where} [package {package['name']}] {dep['name']}"):
                continue
            targets.extend(
                j
                for j in by_name.get(canonicalize_name(dep["name"]), ())
                if in_fork[j] and dep.get("version") in (None, packages[j].get("version"))
            )
        edges.append(targets)
        names.append(tuple(dict.fromkeys(canonicalize_name(packages[j]["name"]) for j in targets)))
    starts = [i for i, package in enumerate(packages) if _is_project_package(package)]
    applies = in_fork if not starts else _reachable(starts, edges, len(packages))
    return UvSelection(tuple(applies), tuple(names), tuple(problems))


def _dependency_entries(package: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from package.get("dependencies") or ()
    for table in ("optional-dependencies", "dev-dependencies"):
        for deps in (package.get(table) or {}).values():
            yield from deps


def _is_project_package(package: Mapping[str, Any]) -> bool:
    source = package.get("source") or {}
    return "editable" in source or "virtual" in source


def _reachable(starts: Iterable[int], edges: Sequence[Sequence[int]], count: int) -> list[bool]:
    seen = [False] * count
    stack = list(starts)
    while stack:
        index = stack.pop()
        if not seen[index]:
            seen[index] = True
            stack.extend(edges[index])
    return seen
