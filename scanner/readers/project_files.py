"""Which files make a folder a Python project, and which of its files a project scan reads, by
name alone.

Every folder target is asked whether it is a project (`ProjectSource.accepts`), so the answer
must cost no more than a directory listing: this module imports no reader, and the readers of
dependency files, code and deployment files are imported only once a folder turns out to be a
project (they cost ~10 ms of start-up, a tenth of a model-folder scan).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from scanner.files import NO_EXCLUDES, Excludes

SKIPPED_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "venv", ".venv", ".tox", ".git"}
)
"""Folders of a project whose code and deployment files are not the project's own."""
LOCK_FILE_NAMES = ("uv.lock", "poetry.lock", "pylock.toml", "Pipfile.lock")
YAML_SUFFIXES = (".yaml", ".yml")


def is_lock_file(path: Path) -> bool:
    """True for the file names a project's lock files have (`pylock.<name>.toml` included)."""
    name = path.name
    return name in LOCK_FILE_NAMES or (name.startswith("pylock.") and name.endswith(".toml"))


def is_manifest(path: Path) -> bool:
    """A Python dependency file by its name: pyproject.toml, requirements*.txt, a lock file."""
    name = path.name
    return (
        name == "pyproject.toml"
        or (name.startswith("requirements") and name.endswith(".txt"))
        or is_lock_file(path)
    )


def is_container_definition(path: Path) -> bool:
    """A Dockerfile, Containerfile or compose file by its name: what makes a folder without
    Python code a project whose deployment is read."""
    name = path.name
    if name.startswith(("Dockerfile", "Containerfile")) or name.lower().endswith(
        (".dockerfile", ".containerfile")
    ):
        return True
    return name.endswith(YAML_SUFFIXES) and name.startswith(("docker-compose", "compose"))


def project_files(
    root: Path,
    wanted: Callable[[Path], bool],
    exclude: Excludes = NO_EXCLUDES,
    hidden: frozenset[str] = frozenset(),
) -> Iterator[Path]:
    """The files below root that are `wanted`, in name order, skipping environments, caches,
    hidden folders other than `hidden` and what `exclude` matches."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIPPED_DIRS
            and (not d.startswith(".") or d in hidden)
            and not exclude.skips(Path(dirpath, d), folder=True)
        )
        for filename in sorted(filenames):
            path = Path(dirpath, filename)
            if wanted(path) and not exclude.skips(path, folder=False):
                yield path


def source_files(root: Path, exclude: Excludes = NO_EXCLUDES) -> Iterator[Path]:
    """`.py` and `.ipynb` files below root (`project_files`)."""
    return project_files(root, lambda path: path.name.endswith((".py", ".ipynb")), exclude)


def is_project(folder: Path, exclude: Excludes = NO_EXCLUDES) -> bool:
    """A folder with Python dependency files or a Dockerfile or compose file at its top level,
    or Python code anywhere below (outside environments, hidden folders and what `--exclude`
    leaves out)."""
    try:
        if any(
            (is_manifest(p) or is_container_definition(p)) and not exclude.skips(p, folder=False)
            for p in folder.iterdir()
        ):
            return True
    except OSError:
        return False
    return next(source_files(folder, exclude), None) is not None
