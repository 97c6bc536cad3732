"""Turns a Python project into components: its packages (installed or declared) and the models
its code loads.

The dependency files say what the project asks for (direct requirements, lock pins); the
installed environment says what is really there and carries the license metadata; the code
says which models are loaded. This module joins the three into one component per package,
with `depends_on` relations from `Requires-Dist` (markers evaluated for the target interpreter)
or from the lock file, and one component per model reference found in code.

Whether a folder is a project is decided by file names alone (`readers/project_files.py`); the
readers of dependency files, environments, code and deployment files are imported by the
methods that use them, so a scan of a folder that is no project never loads them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.errors import describe_os_error
from scanner.files import (
    NO_EXCLUDES,
    Excludes,
    not_regular_description,
    outside_problem,
    read_bounded,
)
from scanner.inventory import (
    Component,
    Evidence,
    LibraryDetails,
    LicenseFacts,
    LicenseText,
    Notice,
    PackageMetadata,
    Problem,
    Service,
)
from scanner.readers.model_folder import is_notice_file
from scanner.readers.project_files import is_lock_file, is_manifest, is_project
from scanner.sources.interface import Source, SourceContext, Target

if TYPE_CHECKING:
    from scanner.readers.code_references import FoundReference
    from scanner.readers.python.environment import Environment, InstalledDistribution
    from scanner.readers.python.packages import Declarations, DeclaredPackage

PROJECT_VENVS = (".venv", "venv")
"""Where a project keeps its own virtual environment (read as files, never run)."""
MAX_INVENTORY_BYTES = 64 * 1024 * 1024
MODEL_INVENTORIES = ("aiscan.lock",)
"""Besides these, every `*.cdx.json` and `bom.json` at the project root is read for models."""


def project_manifests(
    folder: Path, exclude: Excludes = NO_EXCLUDES
) -> tuple[list[Path], list[Problem]]:
    """Dependency files at the root, plus `requirements/*.txt`, less what `exclude` matches;
    those that are links out of the project, or not regular files, are problems instead."""
    root = os.path.realpath(folder)
    candidates = sorted(p for p in folder.iterdir() if is_manifest(p))
    nested = folder / "requirements"
    if nested.is_dir() and outside_problem(nested, root) is None:
        candidates.extend(sorted(nested.glob("*.txt")))
    found: list[Path] = []
    problems: list[Problem] = []
    for path in candidates:
        if exclude.skips(path, folder=False):
            continue
        where = _display(path, folder)
        outside = outside_problem(path, root, where)
        if outside is not None:
            problems.append(outside)
            continue
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            problems.append(Problem(where, describe_os_error(exc)))
            continue
        if stat.S_ISREG(mode):
            found.append(path)
        elif not stat.S_ISDIR(mode):
            problems.append(Problem(where, f"{not_regular_description(mode)}; not read"))
    return found, problems


def read_declarations(
    folder: Path,
    markers: Mapping[str, str],
    only: Path | None = None,
    exclude: Excludes = NO_EXCLUDES,
) -> list[Declarations]:
    """Every dependency file of the project (or `only` that one, a file given as the target)
    that `exclude` leaves in; lock entries are kept when their markers hold for `markers`, the
    target interpreter's marker environment."""
    from scanner.readers.python.lockfiles import read_lock_file
    from scanner.readers.python.packages import Declarations
    from scanner.readers.python.pyproject import read_pyproject
    from scanner.readers.python.requirements import read_requirements

    paths, problems = ([only], []) if only is not None else project_manifests(folder, exclude)
    declarations = [
        Declarations(problem.location, _manifest_kind(Path(problem.location)), problems=(problem,))
        for problem in problems
    ]
    for path in paths:
        kind = _manifest_kind(path)
        if kind == "pyproject":
            declarations.append(read_pyproject(path))
        elif kind == "lockfile":
            declarations.append(read_lock_file(path, markers))
        else:
            declarations.append(read_requirements(path, folder))
    return declarations


def _manifest_kind(path: Path) -> str:
    """`pyproject`, `lockfile` or `requirements`: the report's `source` for the file."""
    if path.name == "pyproject.toml":
        return "pyproject"
    return "lockfile" if is_lock_file(path) else "requirements"


@cache
def _requirement(text: str):
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _applies(marker, markers: Mapping[str, str], extras: Iterable[str] = ("",)) -> bool:
    """Whether a marker holds for the target interpreter with any of the requested extras."""
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison

    if marker is None:
        return True
    try:
        parsed = marker if isinstance(marker, Marker) else Marker(marker)
        return any(parsed.evaluate({**markers, "extra": extra}) for extra in extras)
    except (InvalidMarker, UndefinedComparison, ValueError):
        return True  # a marker we cannot evaluate is not a reason to hide a package


def _normalise_version(version: str | None) -> str | None:
    from packaging.version import InvalidVersion, Version

    if not version:
        return None
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class ProjectSource(Source):
    """Packages and code references of one project folder, or the packages of one dependency
    file given as the target (read as in its folder: the folder's own environment, no code)."""

    name = "project"

    def __init__(self, target: Target, context: SourceContext) -> None:
        assert context.project is not None  # as `accepts` requires
        path = Path(target)
        self.only = path if path.is_file() else None
        """The dependency file given as the target, when the target is one."""
        self.root = path.parent if self.only is not None else path
        self.kb = context.kb
        self.options = context.project
        self.environment = context.environment
        self.exclude = context.exclude

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        """A folder with dependency files or code, or one dependency file, when the run reads
        projects (any folder when the user named an environment to read)."""
        if context.project is None or not isinstance(target, Path):
            return False
        if target.is_file():
            return is_manifest(target)
        if not target.is_dir():
            return False
        return context.environment is not None or is_project(target, context.exclude)

    def _environment(self) -> tuple[Environment | None, Problem | None]:
        """The environment to read: the one named (`--python`, `--env`), else the activated
        one (`$VIRTUAL_ENV`), else the project's own `.venv`/`venv`; and the problem that kept
        the project's own from being read (a `.venv` linked out of the project)."""
        from scanner.readers.python.environment import read_virtualenv, site_packages

        if self.environment is not None or self.options.env != "auto":
            return self.environment, None
        active = self.options.active_venv
        if active is not None:  # the user's own choice, so it may lie outside the target
            return read_virtualenv(active, os.path.realpath(active)), None
        root = os.path.realpath(self.root)
        for relative in PROJECT_VENVS:
            venv = self.root / relative
            if not (venv / "pyvenv.cfg").exists() and not site_packages(venv):
                continue
            outside = outside_problem(venv, root, relative)
            if outside is not None:
                return None, outside
            return read_virtualenv(venv, root), None
        return None, None

    def collect(self) -> Iterator[Component | Service]:

        environment, problem = self._environment()
        if problem is not None:
            yield self._file_component(problem.location, "python-env", (problem,))
        from scanner.readers.python.lock_markers import host_markers

        markers = dict(environment.markers) if environment else host_markers()
        declarations = (
            read_declarations(self.root, markers, self.only, self.exclude)
            if self.options.manifests
            else []
        )
        for item in declarations:
            if item.problems:
                yield self._file_component(item.path, item.kind, item.problems)
        # The activated environment is shared (aiscan itself may live in it): only what the
        # project declares, and what that pulls in, belongs to the project.
        shared = (
            environment is not None
            and self.environment is None
            and self.options.env == "auto"
            and self.options.active_venv is not None
        )
        if shared and not any(item.packages for item in declarations):
            environment = None
        if declarations or environment is not None:
            yield from self._libraries(declarations, environment, markers, declared_only=shared)
        if self.options.code and self.only is None:
            yield from self._code_references()

    def _file_component(self, path: str, kind: str, problems: Iterable[Problem]) -> Component:
        return Component(
            ref=f"file:{kind}/{path}",
            type="file",
            name=path,
            source=kind,
            location=str(self.root / path),
            problems=tuple(problems),
        )

    # --- packages -------------------------------------------------------------------------

    def _libraries(
        self,
        declarations: list[Declarations],
        environment: Environment | None,
        markers: Mapping[str, str],
        *,
        declared_only: bool = False,
    ) -> Iterator[Component]:
        """One component per package; with `declared_only`, only the packages the project
        declares and those they pull in (the environment is not the project's own)."""
        from packaging.utils import canonicalize_name

        declared: dict[str, list[tuple[DeclaredPackage, str]]] = {}
        for item in declarations:
            for package in item.packages:
                if _applies(package.marker, markers):
                    declared.setdefault(package.name, []).append((package, item.kind))
        installed: dict[str, InstalledDistribution] = {
            canonicalize_name(d.name): d for d in (environment.distributions if environment else ())
        }
        roots = {name for name, decls in declared.items() if any(d.direct for d, _ in decls)}
        extras: dict[str, set[str]] = {name: {""} for name in (*installed, *declared)}
        for name in roots:
            extras[name].update(e for d, _ in declared[name] for e in d.extras)
        edges = self._edges(installed, declared, extras, markers)
        reachable = self._reachable(roots, edges)
        if declared_only:
            belongs = set(declared) | self._reachable(set(declared), edges)
            extras = {name: wanted for name, wanted in extras.items() if name in belongs}
        versions = {
            name: _normalise_version(
                installed[name].version
                if name in installed
                else next((d.version for d, _ in declared[name] if d.version), None)
            )
            for name in extras
        }
        refs = {
            name: f"library:pypi/{name}" + (f"@{versions[name]}" if versions[name] else "")
            for name in extras
        }
        self._identify_ahead([installed[name] for name in extras if name in installed])
        for name in sorted(extras):
            decls = declared.get(name, [])
            if roots:
                direct: bool | None = (
                    True if name in roots else (False if name in reachable else None)
                )
            else:
                direct = False if any(d.direct is False for d, _ in decls) else None
            common = {
                "ref": refs[name],
                "type": "library",
                "version": versions[name],
                "purl": refs[name].replace("library:pypi/", "pkg:pypi/"),
            }
            details = LibraryDetails(
                depends_on=tuple(refs[dep] for dep in edges.get(name, ()) if dep in refs),
                direct=direct,
                declared_in=tuple(dict.fromkeys(d.where for d, _ in decls)),
            )
            dist = installed.get(name)
            if dist is not None:
                yield self._installed(dist, common, details)
            else:
                yield self._declared_only(name, decls, common, details)

    def _edges(
        self,
        installed: Mapping[str, InstalledDistribution],
        declared: Mapping[str, list[tuple[DeclaredPackage, str]]],
        extras: dict[str, set[str]],
        markers: Mapping[str, str],
    ) -> dict[str, list[str]]:
        """Requires-Dist edges of installed packages (extras propagated to a fixpoint), lock
        file edges for the rest."""
        from packaging.utils import canonicalize_name

        edges: dict[str, list[str]] = {}
        changed = True
        while changed:
            changed = False
            for name, dist in installed.items():
                targets: list[str] = []
                for text in dist.requires_dist:
                    requirement = _requirement(text)
                    if requirement is None or not _applies(
                        requirement.marker, markers, extras[name]
                    ):
                        continue
                    dep = canonicalize_name(requirement.name)
                    targets.append(dep)
                    wanted = extras.setdefault(dep, {""})
                    if dep in installed and not set(requirement.extras) <= wanted:
                        wanted.update(requirement.extras)
                        changed = True
                edges[name] = [t for t in dict.fromkeys(targets) if t in installed]
        for name, decls in declared.items():
            if name not in installed:
                edges[name] = list(dict.fromkeys(dep for d, _ in decls for dep in d.dependencies))
        for name in list(extras):
            if name not in installed and name not in declared:
                del extras[name]  # a dependency nobody installed or declared is not a component
        return edges

    @staticmethod
    def _reachable(roots: set[str], edges: Mapping[str, list[str]]) -> set[str]:
        seen = set(roots)
        stack = list(roots)
        while stack:
            for dep in edges.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return seen

    def _identify_ahead(self, distributions: list[InstalledDistribution]) -> None:
        """Match every license text of `distributions` at once, on every core, before their
        components ask for them one by one."""
        if not distributions:
            return
        from scanner.licensing.python_licenses import texts_to_match  # packages only: 5 ms

        self.kb.identify_all(
            text
            for dist in distributions
            if not dist.error
            for text in texts_to_match(dist.license, dist.license_files)
        )

    def _installed(
        self, dist: InstalledDistribution, common: dict, details: LibraryDetails
    ) -> Component:
        problems: tuple[Problem, ...] = ()
        license_facts = LicenseFacts()
        metadata = None
        if dist.error:
            problems = (Problem(dist.path or dist.name, dist.error),)
            license_facts = LicenseFacts(evidence=(Evidence("installed metadata", dist.error),))
        else:
            metadata = PackageMetadata(
                "installed",
                license_expression=dist.license_expression,
                license=dist.license,
                classifiers=dist.classifiers,
                license_files=dist.license_files,
                supplier=dist.supplier,
            )
        return Component(
            name=dist.name,
            source="python-env",
            location=dist.path or "",
            license=license_facts,
            details=dataclasses.replace(details, metadata=metadata),
            notices=tuple(
                Notice(name, text)
                for name, text in dist.license_files
                if is_notice_file(Path(name).name)
            ),
            license_texts=tuple(
                LicenseText(name, text, keys)
                for name, text in dist.license_files
                if self.kb.lacks_text(keys := self.kb.identify_text(text))
            ),
            problems=problems,
            **common,
        )

    def _declared_only(
        self,
        name: str,
        decls: list[tuple[DeclaredPackage, str]],
        common: dict,
        details: LibraryDetails,
    ) -> Component:
        kinds = [kind for _, kind in decls]
        source = "lockfile" if "lockfile" in kinds else kinds[0]
        wheres = ", ".join(details.declared_in)
        license_facts = LicenseFacts(
            evidence=(
                Evidence(
                    "declared only",
                    f"named in {wheres} but not installed where aiscan looked; "
                    "no license metadata was read",
                ),
            )
        )
        version = common["version"]
        metadata = None
        index_problem = None
        if self.options.pypi is not None and not version:
            index_problem = "not looked up: no pinned version (==) to ask the index about"
        elif self.options.pypi is not None:
            release = self.options.pypi.release(name, version)
            if release.error:
                index_problem = release.error
                license_facts = dataclasses.replace(
                    license_facts,
                    evidence=(*license_facts.evidence, Evidence("PyPI JSON API", release.error)),
                )
            else:
                metadata = PackageMetadata(
                    "index",
                    license_expression=release.license_expression,
                    license=release.license,
                    classifiers=release.classifiers,
                )
        return Component(
            name=name,
            source=source,
            location=str(self.root / decls[0][0].where.split(":")[0].split(" ")[0]),
            license=license_facts,
            details=dataclasses.replace(
                details, declared_only=True, metadata=metadata, index_problem=index_problem
            ),
            **common,
        )

    # --- code -----------------------------------------------------------------------------

    def _declared_models(self) -> tuple[dict[str, str], list[Component]]:
        """Model names (lower case) listed by the project's own inventories → which file, and a
        file component for every inventory that could not be read: skipped in silence, the
        models it lists would be reported undeclared with no word of why."""
        names: dict[str, str] = {}
        unreadable: list[Component] = []
        candidates = [self.root / name for name in MODEL_INVENTORIES]
        candidates += [*sorted(self.root.glob("*.cdx.json")), self.root / "bom.json"]
        root = os.path.realpath(self.root)
        for path in candidates:
            if not os.path.lexists(path):
                continue
            where = _display(path, self.root)
            listed, problem = _inventory_components(path, where, root)
            if problem is not None:
                unreadable.append(self._file_component(where, "inventory", (problem,)))
            for name in listed:
                names.setdefault(name.lower(), path.name)
        return names, unreadable

    def _code_references(self) -> Iterator[Component | Service]:
        from scanner.readers.code_references import scan_tree
        from scanner.readers.deployment import scan_deployment_tree

        declared, unreadable = self._declared_models()
        yield from unreadable
        declared_services = _declared_services(self.root)
        problems: dict[str, list[Problem]] = {}
        found: list[tuple[str, FoundReference]] = []
        used: list[Service] = []
        deployment = scan_deployment_tree(self.root, self.exclude)
        for file, item in [*scan_tree(self.root, self.exclude), *deployment]:
            if isinstance(item, Problem):
                problems.setdefault(file, []).append(item)
            elif isinstance(item, Service):
                used.append(item)
            else:
                found.append((file, item))
        for file, items in problems.items():
            yield self._file_component(file, "code", items)
        found.sort(key=lambda pair: (pair[0], pair[1].reference.cell or 0, pair[1].reference.line))
        for _, item in found:
            yield self._code_component(item, declared)
        used.sort(key=lambda service: (service.file, service.cell or 0, service.line, service.ref))
        for service in used:
            yield self._service(service, declared_services)

    def _service(self, service: Service, declared: Mapping[str, str]) -> Service:
        """A service found in code or a deployment file, placed in the project and marked
        declared when a BOM of the project lists it (by model name or provider/model; a server
        by its image, any tag)."""
        names = [service.bom_name]
        if service.model is not None:
            names += [service.model, f"{service.provider}/{service.model}"]
        inventory = next((declared[n.lower()] for n in names if n.lower() in declared), None)
        return dataclasses.replace(
            service,
            location=str(self.root / service.location),
            declared_in=(inventory,) if inventory else (),
        )

    def _code_component(self, item: FoundReference, declared: Mapping[str, str]) -> Component:
        reference = item.reference
        where = reference.file + (f":cell{reference.cell}" if reference.cell else "")
        where += f":{reference.line}"
        inventory = declared.get(item.name.lower()) if reference.resolved else None
        if inventory:
            reference = dataclasses.replace(reference, declared_in=(inventory,))
        return Component(
            ref=f"{item.type}:code/{item.name}#{where}",
            type=item.type,  # type: ignore[arg-type]
            name=item.name,
            source="code",
            location=str(self.root / where),
            version=reference.revision,
            details=reference,
        )


def _declared_services(folder: Path) -> dict[str, str]:
    """Service names (lower case) that the project's CycloneDX BOMs list → which file. A BOM
    that cannot be read is already reported by `_declared_models`."""
    from scanner.formats.cyclonedx import declared_service_names

    names: dict[str, str] = {}
    root = os.path.realpath(folder)
    for path in [*sorted(folder.glob("*.cdx.json")), folder / "bom.json"]:
        if not os.path.lexists(path) or outside_problem(path, root) is not None:
            continue
        try:
            document = json.loads(read_bounded(path, MAX_INVENTORY_BYTES + 1))
        except (OSError, ValueError, RecursionError):
            continue
        for name in declared_service_names(document):
            names.setdefault(name.lower(), path.name)
    return names


def _inventory_components(path: Path, where: str, root: str) -> tuple[list[str], Problem | None]:
    """The names of the components an `aiscan.lock` or a CycloneDX JSON BOM lists (nested ones
    included), read by their own decoders; or the problem that kept the file from being read."""
    from scanner.formats.cyclonedx import decode_cyclonedx
    from scanner.formats.decoded import BomDecodeError
    from scanner.integrity.lockfile import LockFileError, parse_lockfile

    outside = outside_problem(path, root, where)
    if outside is not None:
        return [], outside
    unused = "its models are not read"
    try:
        data = read_bounded(path, MAX_INVENTORY_BYTES + 1)
    except OSError as exc:
        return [], Problem(where, f"{describe_os_error(exc)}; {unused}")
    if len(data) > MAX_INVENTORY_BYTES:
        return [], Problem(where, f"larger than {MAX_INVENTORY_BYTES // 2**20} MiB; {unused}")
    try:
        document = json.loads(data)
    except RecursionError:
        return [], Problem(where, f"nested too deeply to read; {unused}")
    except ValueError as exc:  # UnicodeDecodeError included
        return [], Problem(where, f"not valid JSON ({exc}); {unused}")
    try:
        if path.name in MODEL_INVENTORIES:
            lock = parse_lockfile(document, where)
            return [c.name for c in lock.components.values()], None
        bom = decode_cyclonedx(document)
    except (LockFileError, BomDecodeError) as exc:
        return [], Problem(where, f"{exc}; {unused}")
    if bom is None:
        return [], Problem(
            where, f"not a CycloneDX JSON BOM (bomFormat must be CycloneDX); {unused}"
        )
    return [c.name for c in bom.components if c.kind != "service"], None
