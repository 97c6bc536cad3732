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
from scanner.readers.python.packages import Declarations, DeclaredPackage, split_declared
from scanner.readers.python.pyproject import MAX_MANIFEST_BYTES, load_toml

_UV_VERSIONS = (1,)
_POETRY_MAJOR_VERSIONS = ("1", "2")
_PIPFILE_SPECS = (6,)


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
        # A field of the wrong type deeper than `_package_tables` checks.
        problems.append(Problem(path.name, f"malformed lock file ({type(exc).__name__}: {exc})"))
    return Declarations(path.name, "lockfile", tuple(packages), tuple(problems))


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _package_tables(document: Mapping[str, Any], where: str) -> list[dict[str, Any]] | Problem:
    """The `[[package]]` tables of a uv.lock or poetry.lock, each with a string `name`, or the
    problem with them: `package = "x"` or a nameless entry is no lock file to read."""
    packages = document.get("package") or []
    if not isinstance(packages, list):
        return Problem(where, "`package` is not an array of tables; not read")
    for index, package in enumerate(packages):
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            return Problem(where, f"package {index + 1} is not a table with a name; not read")
    return packages


def _uv(
    document: Mapping[str, Any], where: str, environment: MarkerEnvironment
) -> Iterator[DeclaredPackage | Problem]:
    version = document.get("version")
    if version not in _UV_VERSIONS:
        yield Problem(where, f"uv.lock version {version!r} is not one aiscan knows; not read")
        return
    packages = _package_tables(document, where)
    if isinstance(packages, Problem):
        yield packages
        return
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
    metadata = document.get("metadata")
    lock_version = str(metadata.get("lock-version", "")) if isinstance(metadata, dict) else ""
    if lock_version.split(".")[0] not in _POETRY_MAJOR_VERSIONS:
        yield Problem(where, f"poetry.lock lock-version {lock_version!r} is unknown; not read")
        return
    packages = _package_tables(document, where)
    if isinstance(packages, Problem):
        yield packages
        return
    for package in packages:
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
    if not isinstance(document, dict):
        problem = Problem(path.name, "not a Pipfile.lock: not a JSON object")
        return Declarations(path.name, "lockfile", problems=(problem,))
    meta = document.get("_meta")
    spec = meta.get("pipfile-spec") if isinstance(meta, dict) else None
    if spec not in _PIPFILE_SPECS:
        problem = Problem(path.name, f"Pipfile.lock pipfile-spec {spec!r} is unknown; not read")
        return Declarations(path.name, "lockfile", problems=(problem,))
    items: list[DeclaredPackage | Problem] = []
    for section in ("default", "develop"):
        where = f"{path.name} [{section}]"
        entries = document.get(section) or {}
        if not isinstance(entries, dict):
            items.append(Problem(where, "must be an object of packages; not read"))
            continue
        for name, entry in entries.items():
            items.extend(_pipfile_entry(name, entry, where, environment))
    packages, problems = split_declared(items)
    return Declarations(path.name, "lockfile", packages, problems)


def _pipfile_entry(
    name: str, entry: Any, where: str, environment: MarkerEnvironment
) -> Iterator[DeclaredPackage | Problem]:
    """One package of a Pipfile.lock section, none when its marker does not hold (an invalid
    marker keeps it, reported). A field of the wrong type is a problem instead: a list where
    the version belongs is no version."""
    from packaging.utils import InvalidName, canonicalize_name

    at = f"{where} {name}"
    if not isinstance(entry, dict):
        yield Problem(at, "entry is not an object; not read")
        return
    try:
        canonical = canonicalize_name(name, validate=True)
    except InvalidName:
        yield Problem(at, "not a valid package name; not read")
        return
    pinned = entry.get("version") or ""
    hashes = entry.get("hashes") or []
    if not isinstance(pinned, str):
        yield Problem(at, "version is not a string; not read")
        return
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        yield Problem(at, "hashes is not a list of strings; not read")
        return
    marker = entry.get("markers")
    applies = marker_holds(marker, environment, at) if marker else True
    if isinstance(applies, Problem):
        yield applies
    elif not applies:
        return
    yield DeclaredPackage(
        name=canonical,
        where=where,
        specifier=pinned,
        version=pinned.removeprefix("==") if pinned.startswith("==") else None,
        direct=None,
        hashes=tuple(hashes),
    )
