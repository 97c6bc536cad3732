"""Reads lock files: uv.lock, poetry.lock, pylock.toml (PEP 751) and Pipfile.lock.

A lock file pins every package of a resolution, so it names the transitive dependencies a
requirements list leaves out. A lock file version aiscan does not know is not guessed at: it is
reported as a problem and not read. Entries whose markers do not hold for the target interpreter
are left out (`lock_markers`), so the packages returned are the ones that interpreter would get;
their `marker` is therefore left unset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scanner.errors import describe_os_error
from scanner.files import read_whole
from scanner.inventory import Problem
from scanner.readers.python.lock_markers import (
    MarkerEnvironment,
    host_markers,
    marker_holds,
    pylock_marker_holds,
    select_uv,
)
from scanner.readers.python.packages import Declarations, DeclaredPackage
from scanner.readers.python.pyproject import MAX_MANIFEST_BYTES, load_toml

LOCK_FILE_NAMES = ("uv.lock", "poetry.lock", "pylock.toml", "Pipfile.lock")

_UV_VERSIONS = (1,)
_POETRY_MAJOR_VERSIONS = ("1", "2")
_PIPFILE_SPECS = (6,)


def is_lock_file(path: Path) -> bool:
    """True for the file names a project's lock files have (`pylock.<name>.toml` included)."""
    name = path.name
    return name in LOCK_FILE_NAMES or (name.startswith("pylock.") and name.endswith(".toml"))


def read_lock_file(path: Path, environment: MarkerEnvironment | None = None) -> Declarations:
    """Dispatch on the file name; markers are evaluated for `environment` (default: the
    interpreter running aiscan)."""

    markers = host_markers() if environment is None else environment
    if path.name == "uv.lock":
        return _read_toml_lock(path, _uv, markers)
    if path.name == "poetry.lock":
        return _read_toml_lock(path, _poetry, markers)
    if path.name == "Pipfile.lock":
        return _pipfile(path, markers)
    return _read_toml_lock(path, _pylock, markers)


def _read_toml_lock(path: Path, reader, environment: MarkerEnvironment) -> Declarations:
    document, _, problem = load_toml(path)
    if document is None:
        return Declarations(path.name, "lockfile", problems=(problem,) if problem else ())
    packages: list[DeclaredPackage] = []
    problems: list[Problem] = []
    try:
        for item in reader(document, path.name, environment):
            (packages if isinstance(item, DeclaredPackage) else problems).append(item)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        problems.append(Problem(path.name, f"malformed lock file: {exc!r}"))
    return Declarations(path.name, "lockfile", tuple(packages), tuple(problems))


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _uv(
    document: Mapping[str, Any], where: str, environment: MarkerEnvironment
) -> Iterator[DeclaredPackage | Problem]:
    version = document.get("version")
    if version not in _UV_VERSIONS:
        yield Problem(where, f"uv.lock version {version!r} is not one aiscan knows; not read")
        return
    packages = document.get("package") or []
    selection = select_uv(packages, environment, where)
    yield from selection.problems
    roots = [
        i
        for i, p in enumerate(packages)
        if {"editable", "virtual"} & set((p.get("source") or {}).keys())
        and (p["source"].get("editable") or p["source"].get("virtual")) == "."
    ]
    direct = {name for i in roots for name in selection.dependencies[i]}
    root_names = {_canonical(packages[i]["name"]) for i in roots}
    for package, applies, dependencies in zip(
        packages, selection.applies, selection.dependencies, strict=True
    ):
        name = _canonical(package["name"])
        if name in root_names or not applies:
            continue
        yield DeclaredPackage(
            name=name,
            where=where,
            version=package.get("version"),
            direct=(name in direct) if roots else None,
            dependencies=dependencies,
        )


def _poetry(
    document: Mapping[str, Any], where: str, environment: MarkerEnvironment
) -> Iterator[DeclaredPackage | Problem]:
    lock_version = str((document.get("metadata") or {}).get("lock-version", ""))
    if lock_version.split(".")[0] not in _POETRY_MAJOR_VERSIONS:
        yield Problem(where, f"poetry.lock lock-version {lock_version!r} is unknown; not read")
        return
    for package in document.get("package") or []:
        markers = package.get("markers") or {}
        # Lock version 2.1 writes one marker, or one per dependency group (a table).
        texts = list(markers.values()) if isinstance(markers, dict) else [markers]
        entry = f"{where} [package {package['name']}]"
        results = [marker_holds(text, environment, entry) for text in texts]
        yield from (r for r in results if isinstance(r, Problem))
        if results and not any(r is not False for r in results):
            continue
        yield DeclaredPackage(
            name=_canonical(package["name"]),
            where=where,
            version=package.get("version"),
            direct=None,  # poetry.lock does not say; pyproject.toml does
            dependencies=tuple(_canonical(d) for d in package.get("dependencies") or {}),
        )


def _pylock(
    document: Mapping[str, Any], where: str, environment: MarkerEnvironment
) -> Iterator[DeclaredPackage | Problem]:
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    try:
        lock = Pylock.from_dict(document)
    except PylockUnsupportedVersionError as exc:
        yield Problem(where, f"unsupported pylock version: {exc}; not read")
        return
    except PylockValidationError as exc:
        yield Problem(where, f"invalid pylock file: {exc}")
        return
    for index, package in enumerate(lock.packages):
        if package.marker is not None:
            applies = pylock_marker_holds(
                package.marker,
                environment,
                f"{where} [packages[{index}] {package.name}]",
                extras=lock.extras or (),
                groups=lock.dependency_groups or (),
                default_groups=lock.default_groups or (),
            )
            if isinstance(applies, Problem):
                yield applies
            elif not applies:
                continue
        yield DeclaredPackage(
            name=_canonical(package.name),
            where=where,
            version=str(package.version) if package.version else None,
            direct=None,  # PEP 751 records no roots
            dependencies=tuple(
                _canonical(d["name"]) for d in package.dependencies or () if "name" in d
            ),
        )


def _pipfile(path: Path, environment: MarkerEnvironment) -> Declarations:
    try:
        document = json.loads(read_whole(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except OSError as exc:
        problem = Problem(path.name, f"cannot read: {describe_os_error(exc)}")
        return Declarations(path.name, "lockfile", problems=(problem,))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        problem = Problem(path.name, f"not valid JSON: {message}")
        return Declarations(path.name, "lockfile", problems=(problem,))
    spec = (document.get("_meta") or {}).get("pipfile-spec") if isinstance(document, dict) else None
    if spec not in _PIPFILE_SPECS:
        problem = Problem(path.name, f"Pipfile.lock pipfile-spec {spec!r} is unknown; not read")
        return Declarations(path.name, "lockfile", problems=(problem,))
    packages = []
    problems = []
    for section in ("default", "develop"):
        for name, entry in (document.get(section) or {}).items():
            where = f"{path.name} [{section}]"
            marker = entry.get("markers")
            applies = marker_holds(marker, environment, f"{where} {name}") if marker else True
            if isinstance(applies, Problem):
                problems.append(applies)
            elif not applies:
                continue
            pinned = str(entry.get("version") or "")
            packages.append(
                DeclaredPackage(
                    name=_canonical(name),
                    where=where,
                    specifier=pinned,
                    version=pinned.removeprefix("==") if pinned.startswith("==") else None,
                    direct=None,
                    hashes=tuple(entry.get("hashes") or ()),
                )
            )
    return Declarations(path.name, "lockfile", tuple(packages), tuple(problems))
