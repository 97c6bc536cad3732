"""What project files say about Python packages, before anything is installed or resolved.

Requirements files, `pyproject.toml` and lock files each yield `DeclaredPackage` facts plus the
`Problem`s met while reading; `ProjectSource` joins them with the installed environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanner.inventory import Problem


@dataclass(frozen=True)
class DeclaredPackage:
    """One package named by a project file.

    `name` is canonical (PEP 503). `version` is set when the file pins one exact version (a lock
    file, or `==` in a requirement). `direct` is True when the project asks for the package
    itself, False for a lock entry only other packages need, None when the file cannot tell.
    `dependencies` are the canonical names a lock file records for the package. `marker` is a
    condition still to be evaluated for the target interpreter; lock readers evaluate their
    entries' markers themselves (uv's depend on the path to the package) and leave it None.
    """

    name: str
    where: str
    specifier: str = ""
    version: str | None = None
    extras: tuple[str, ...] = ()
    marker: str | None = None
    direct: bool | None = True
    dependencies: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class Declarations:
    """Everything one project file declared, and what could not be read in it."""

    path: str
    kind: str
    """`requirements`, `pyproject` or `lockfile`: the report's `source` for what it declares."""
    packages: tuple[DeclaredPackage, ...] = ()
    problems: tuple[Problem, ...] = ()


def parse_requirement(text: str, where: str, **fields) -> DeclaredPackage | Problem:
    """A PEP 508 string as a `DeclaredPackage`, or a `Problem` saying why it is not one."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        return Problem(where, f"invalid requirement {text!r}: {exc}")
    pinned = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
    return DeclaredPackage(
        name=canonicalize_name(requirement.name),
        where=where,
        specifier=str(requirement.specifier),
        version=pinned[0] if len(pinned) == 1 and "*" not in pinned[0] else None,
        extras=tuple(sorted(requirement.extras)),
        marker=str(requirement.marker) if requirement.marker else None,
        url=requirement.url,
        **fields,
    )


def split_declared(
    items: Iterable[DeclaredPackage | Problem],
) -> tuple[tuple[DeclaredPackage, ...], tuple[Problem, ...]]:
    """Packages and problems of a reader's stream, each in reading order."""
    packages: list[DeclaredPackage] = []
    problems: list[Problem] = []
    for item in items:
        if isinstance(item, DeclaredPackage):
            packages.append(item)
        else:
            problems.append(item)
    return tuple(packages), tuple(problems)
