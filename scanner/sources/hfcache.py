"""Reads the Hugging Face hub cache: one component per cached repo revision.

The layout (`models--org--name/snapshots/<commit>/`, `refs/<branch>`) is the one huggingface_hub
writes and its `scan_cache_dir` reads; aiscan reads it itself because `scan_cache_dir` globs
every snapshot folder, following a snapshot linked to `/` across the whole file system, and
drops a repo it calls corrupted (a snapshot link to a missing blob, say), where aiscan reads it
snapshot by snapshot with the corruption recorded: skipping it would report a broken store as
clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import SourceError
from scanner.files import link_outside, outside_link_message, read_bounded
from scanner.inventory import Component, ComponentType, Problem
from scanner.readers.model_folder import (
    EMPTY_FOLDER,
    describe_os_error,
    read_model_folder,
)
from scanner.sources.interface import Source, SourceContext, Target

_REPO_TYPES: dict[str, ComponentType] = {"models": "model", "datasets": "dataset"}
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _repo_dir_type(folder: Path) -> ComponentType | None:
    prefix, _, rest = folder.name.partition("--")
    if prefix not in _REPO_TYPES or not rest:
        return None
    try:
        return _REPO_TYPES[prefix] if (folder / "snapshots").is_dir() else None
    except OSError:
        return None


def is_cache_repo_dir(folder: Path) -> bool:
    """A `models--org--name` (or `datasets--…`) folder with snapshots."""
    return _repo_dir_type(folder) is not None


def is_cache_snapshot(folder: Path) -> bool:
    """One revision of a cached repo: `models--org--name/snapshots/<commit>`."""
    return folder.parent.name == "snapshots" and is_cache_repo_dir(folder.parent.parent)


def is_cache_root(folder: Path) -> bool:
    """A folder holding at least one cached repo folder."""
    try:
        return any(child.is_dir() and is_cache_repo_dir(child) for child in folder.iterdir())
    except OSError:
        return False


@dataclass(frozen=True)
class CachedRevision:
    repo_type: ComponentType
    repo_id: str
    commit: str
    snapshot: Path | None
    """None when no snapshot folder could be read; the problems then say why."""
    refs: tuple[str, ...]
    problems: tuple[Problem, ...] = ()


MAX_REF_BYTES = 1024
"""A ref file holds one commit id; anything longer is not a ref."""


class HfCacheSource(Source):
    """Every repo revision in an HF cache root, in one `models--org--name` folder, or the one
    revision of a `snapshots/<commit>` folder (named after its repo, not its commit)."""

    name = "hfcache"

    def __init__(self, target: Target, context: SourceContext, *, root: str | None = None) -> None:
        self.path = Path(target)
        self.kb = context.kb
        self.files_only = context.files_only
        self.exclude = context.exclude
        self.snapshot = self.path if is_cache_snapshot(self.path) else None
        # A snapshot named alone is read with its repo folder (refs, blobs), which the user
        # named by naming one of its revisions.
        self.root = root or os.path.realpath(self.path.parent.parent if self.snapshot else target)
        """The resolved scan target: links may not lead out of it (snapshot blob links aside).
        A cache met inside a larger target keeps that target's root."""

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        return isinstance(target, Path) and (
            is_cache_root(target) or is_cache_repo_dir(target) or is_cache_snapshot(target)
        )

    def collect(self) -> Iterator[Component]:
        for revision in self._revisions():
            yield self.component(revision)

    def _revisions(self) -> list[CachedRevision]:
        """The layout read directly (as huggingface_hub's `scan_cache_dir` reads it), so that a
        snapshot folder linked out of the target is reported instead of globbed, and a repo
        huggingface_hub would call corrupted is still read snapshot by snapshot."""
        path = self.path
        if self.snapshot is not None:
            found = self.read_repo(path.parent.parent)
            return [r for r in found if r.snapshot is not None and r.snapshot.name == path.name]
        if is_cache_repo_dir(path):
            wanted = [path]
        else:
            try:
                wanted = sorted(
                    p
                    for p in path.iterdir()
                    if is_cache_repo_dir(p) and not self.exclude.skips(p, folder=True)
                )
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {describe_os_error(exc)}") from exc
        revisions: list[CachedRevision] = []
        for repo_path in wanted:
            revisions.extend(self.read_repo(repo_path))
        return sorted(revisions, key=lambda r: (r.repo_id, r.commit))

    def _outside(self, path: Path) -> Problem | None:
        destination = link_outside(path, self.root)
        if destination is None:
            return None
        return Problem(str(path), outside_link_message(destination), "link-outside-target")

    def _refs(self, repo_path: Path, problems: list[Problem]) -> dict[str, list[str]]:
        """Commit id → the branch and tag names (`refs/<name>`) pointing at it."""
        refs: dict[str, list[str]] = {}
        refs_dir = repo_path / "refs"
        if not refs_dir.is_dir() or self._outside(refs_dir) is not None:
            return refs
        for dirpath, _, filenames in os.walk(refs_dir):
            for name in filenames:
                ref = Path(dirpath, name)
                problem = self._outside(ref)
                if problem is not None:
                    problems.append(problem)
                    continue
                try:
                    commit = read_bounded(ref, MAX_REF_BYTES).decode("ascii").strip()
                except (OSError, UnicodeDecodeError) as exc:
                    message = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
                    problems.append(Problem(str(ref), f"unreadable ref: {message}"))
                    continue
                refs.setdefault(commit, []).append(ref.relative_to(refs_dir).as_posix())
        return refs

    def read_repo(self, repo_path: Path) -> list[CachedRevision]:
        repo_type = _repo_dir_type(repo_path)
        assert repo_type is not None
        repo_id = repo_path.name.partition("--")[2].replace("--", "/")
        problems: list[Problem] = []
        for part in (repo_path, repo_path / "snapshots"):
            problem = self._outside(part)
            if problem is not None:
                return [CachedRevision(repo_type, repo_id, "unknown", None, (), (problem,))]
        refs = self._refs(repo_path, problems)
        snapshots = []
        try:
            children = sorted((repo_path / "snapshots").iterdir())
        except OSError as exc:
            problems.append(Problem(str(repo_path / "snapshots"), describe_os_error(exc)))
            children = []
        for child in children:
            problem = self._outside(child)
            if problem is not None:
                problems.append(problem)
            elif child.is_dir():
                snapshots.append(child)
        if not snapshots:
            return [CachedRevision(repo_type, repo_id, "unknown", None, (), tuple(problems))]
        return [
            CachedRevision(
                repo_type,
                repo_id,
                snap.name,
                snap,
                tuple(sorted(refs.get(snap.name, []))),
                tuple(problems),
            )
            for snap in snapshots
        ]

    def component(self, revision: CachedRevision, *, license_only: bool = False) -> Component:
        """The component of one cached revision (`license_only`: card and license files)."""
        location = revision.snapshot or self.path
        facts = (
            read_model_folder(
                revision.snapshot,
                self.kb,
                files_only=self.files_only,
                license_only=license_only,
                root=self.root,
                exclude=self.exclude,
            )
            if revision.snapshot is not None
            else EMPTY_FOLDER
        )
        problems = list(revision.problems) + list(facts.problems)
        if revision.snapshot is not None and not _COMMIT.match(revision.commit):
            problems.append(
                Problem(
                    str(location),
                    f"snapshot folder {revision.commit!r} is not a 40-hex commit id",
                )
            )
        card = facts.card
        is_model = revision.repo_type == "model"
        return Component(
            ref=f"{revision.repo_type}:hf/{revision.repo_id}@{revision.commit}",
            type=revision.repo_type,
            name=revision.repo_id,
            source=self.name,
            location=str(location),
            version=revision.commit,
            purl=f"pkg:huggingface/{revision.repo_id}@{revision.commit}" if is_model else None,
            license=facts.license,
            base_models=facts.base_models,
            datasets=card.datasets if card else (),
            files=facts.files,
            problems=tuple(problems),
            details=facts.model_details(refs=revision.refs),
            notices=facts.notices,
            license_texts=facts.license_texts,
        )


def default_hub_cache() -> Path:
    """The HF cache huggingface_hub uses: HF_HUB_CACHE, else HF_HOME/hub, else the default."""
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"
