"""Reads the Hugging Face hub cache: one component per cached repo revision.

The layout (`models--org--name/snapshots/<commit>/`, `refs/<branch>`) comes from
huggingface_hub's own `scan_cache_dir`, so repo ids, commits and refs are exactly what the client
recorded. A repo that `scan_cache_dir` rejects as corrupted (a snapshot link to a missing blob,
say) is still read snapshot by snapshot, with the corruption recorded: skipping it would report a
broken store as clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.inventory import Component, ComponentType, Problem
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.lineage import BaseModelFacts, BaseModelLookup
from scanner.sources.interface import Source, SourceError
from scanner.sources.model_folder import (
    declared_licenses,
    describe_os_error,
    is_license_file,
    read_card,
    read_file_entry,
    read_model_folder,
)

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


def is_cache_root(folder: Path) -> bool:
    """A folder holding at least one cached repo folder."""
    try:
        return any(child.is_dir() and is_cache_repo_dir(child) for child in folder.iterdir())
    except OSError:
        return False


@dataclass(frozen=True)
class _CachedRevision:
    repo_type: ComponentType
    repo_id: str
    commit: str
    snapshot: Path
    refs: tuple[str, ...]
    problems: tuple[Problem, ...] = ()


class HfCacheSource(Source):
    """Every repo revision in an HF cache root, or in one `models--org--name` folder."""

    name = "hfcache"

    def __init__(self, path: Path, kb: LicenseKnowledgeBase, *, files_only: bool = False) -> None:
        self.path = path
        self.kb = kb
        self.files_only = files_only

    def collect(self) -> Iterator[Component]:
        for revision in self._revisions():
            yield self._component(revision)

    def _revisions(self) -> list[_CachedRevision]:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound

        path = self.path.resolve()
        single_repo = is_cache_repo_dir(path)
        root = path.parent if single_repo else path
        wanted = (
            [path] if single_repo else sorted(p for p in root.iterdir() if is_cache_repo_dir(p))
        )
        revisions: list[_CachedRevision] = []
        scanned: set[Path] = set()
        warnings: list[str] = []
        try:
            info = scan_cache_dir(root)
        except (CacheNotFound, ValueError) as exc:
            raise SourceError(f"{root} is not a readable Hugging Face cache: {exc}") from exc
        except OSError as exc:
            warnings.append(f"huggingface_hub could not scan the cache: {describe_os_error(exc)}")
        else:
            warnings.extend(str(w) for w in info.warnings)
            for repo in info.repos:
                repo_type = _repo_dir_type(repo.repo_path)
                if repo.repo_path not in wanted or repo_type is None:
                    continue
                scanned.add(repo.repo_path)
                for rev in repo.revisions:
                    revisions.append(
                        _CachedRevision(
                            repo_type=repo_type,
                            repo_id=repo.repo_id,
                            commit=rev.commit_hash,
                            snapshot=rev.snapshot_path,
                            refs=tuple(sorted(rev.refs)),
                        )
                    )
        for repo_path in wanted:
            if repo_path not in scanned:
                revisions.extend(self._read_unscanned(repo_path, warnings))
        return sorted(revisions, key=lambda r: (r.repo_id, r.commit))

    def _read_unscanned(self, repo_path: Path, warnings: list[str]) -> list[_CachedRevision]:
        """Read a repo `scan_cache_dir` refused, keeping its complaint as a problem."""
        repo_type = _repo_dir_type(repo_path)
        assert repo_type is not None
        repo_id = repo_path.name.partition("--")[2].replace("--", "/")
        complaint = next(
            (w for w in warnings if str(repo_path) in w),
            "huggingface_hub reported this cached repo as corrupted",
        )
        problem = Problem(location=str(repo_path), message=complaint)
        refs: dict[str, list[str]] = {}
        refs_dir = repo_path / "refs"
        if refs_dir.is_dir():
            for ref in refs_dir.rglob("*"):
                try:
                    if ref.is_file():
                        refs.setdefault(ref.read_text().strip(), []).append(
                            ref.relative_to(refs_dir).as_posix()
                        )
                except OSError:
                    continue
        try:
            snapshots = sorted(p for p in (repo_path / "snapshots").iterdir() if p.is_dir())
        except OSError as exc:
            return [
                _CachedRevision(
                    repo_type,
                    repo_id,
                    "unknown",
                    repo_path,
                    (),
                    (problem, Problem(str(repo_path), describe_os_error(exc))),
                )
            ]
        return [
            _CachedRevision(
                repo_type,
                repo_id,
                snap.name,
                snap,
                tuple(sorted(refs.get(snap.name, []))),
                (problem,),
            )
            for snap in snapshots
        ]

    def _component(self, revision: _CachedRevision) -> Component:
        facts = read_model_folder(
            revision.snapshot, self.kb, revision.repo_id, files_only=self.files_only
        )
        problems = list(revision.problems) + list(facts.problems)
        if not _COMMIT.match(revision.commit):
            problems.append(
                Problem(
                    str(revision.snapshot),
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
            location=str(revision.snapshot),
            version=revision.commit,
            purl=f"pkg:huggingface/{revision.repo_id}@{revision.commit}" if is_model else None,
            license=facts.license,
            base_models=card.base_models if card else (),
            datasets=card.datasets if card else (),
            files=facts.files,
            card=card,
            refs=revision.refs,
            problems=tuple(problems),
            remote_code=facts.remote_code,
            model_type=facts.model_type,
            architectures=facts.architectures,
            notices=facts.notices,
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


class HfCacheLookup(BaseModelLookup):
    """Base models downloaded into the local HF cache: their card and license files.

    The revision `refs/main` points at is read, else the newest snapshot; only the card and
    license files are opened, never weights.
    """

    name = "hfcache"

    def __init__(self, root: Path, kb: LicenseKnowledgeBase) -> None:
        self.root = root
        self.kb = kb

    def _snapshot(self, repo_id: str) -> tuple[str, Path] | None:
        repo_dir = self.root / f"models--{repo_id.replace('/', '--')}"
        try:
            main = (repo_dir / "refs" / "main").read_text().strip()
        except OSError:
            main = ""
        if main and (repo_dir / "snapshots" / main).is_dir():
            return main, repo_dir / "snapshots" / main
        try:
            snapshots = sorted(
                (p for p in (repo_dir / "snapshots").iterdir() if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
            )
        except OSError:
            return None
        return (snapshots[-1].name, snapshots[-1]) if snapshots else None

    def lookup(self, repo_id: str) -> BaseModelFacts | None:
        found = self._snapshot(repo_id)
        if found is None:
            return None
        commit, snapshot = found
        card = None
        detected: list[str] = []
        try:
            children = sorted(p for p in snapshot.iterdir() if p.is_file())
        except OSError:
            return None
        for path in children:
            if path.name.lower() == "readme.md":
                card = read_card(path, path.name, repo_id)
            elif path.name != "README.md":
                entry = (
                    read_file_entry(path, path.name, self.kb)
                    if is_license_file(path.name)
                    else None
                )
                detected.extend(entry.license_detected if entry else ())
        usable = card is not None and card.error is None
        return BaseModelFacts(
            name=repo_id,
            found_in="hfcache",
            declared=declared_licenses(card) if usable else (),
            detected=tuple(dict.fromkeys(detected)),
            base_models=card.base_models if usable else (),
            relation=card.base_model_relation if usable else None,
            revision=commit,
            evidence=f"{repo_id}@{commit} ({snapshot})",
        )
