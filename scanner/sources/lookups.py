"""The base-model and dataset lookups that read the local HF cache or the Hub for the
lineage and training-data resolvers.

They answer with components read by the sources (`HfCacheSource`, `hub_component`), but they
belong to license resolution: kept apart from the sources, so a command that only lists and
hashes files (`verify`, `lock`) imports no resolver.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scanner.inventory import Component
from scanner.licensing.datasets import DatasetAnswer, DatasetLookup
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.lineage import BaseModelAnswer, BaseModelLookup
from scanner.remote.hub import HubClient, HubModel, HubUnavailable, is_repo_id
from scanner.sources.hfcache import CachedRevision, HfCacheSource, is_cache_repo_dir
from scanner.sources.hub import hub_component
from scanner.sources.interface import SourceContext


class HfCacheLookup(BaseModelLookup):
    """Base models downloaded into the local HF cache, read like a scanned cache revision.

    The revision `refs/main` points at is read, else the newest snapshot; only the card and
    license files are opened, never weights.
    """

    name = "hfcache"

    def __init__(self, root: Path, kb: LicenseKnowledgeBase, prefix: str = "models") -> None:
        self.root = root
        self.kb = kb
        self.prefix = prefix
        """The cache folder prefix of the repos this lookup reads (`models--org--name`)."""

    def _revision(self, repo_id: str) -> CachedRevision | None:
        repo_dir = self.root / f"{self.prefix}--{repo_id.replace('/', '--')}"
        if not is_cache_repo_dir(repo_dir):
            return None
        revisions = [r for r in self._source(repo_dir).read_repo(repo_dir) if r.snapshot]
        if not revisions:
            return None
        on_main = [r for r in revisions if "main" in r.refs]
        if on_main:
            return on_main[0]
        return max(revisions, key=lambda r: _mtime(r.snapshot))

    def _source(self, repo_dir: Path) -> HfCacheSource:
        return HfCacheSource(repo_dir, SourceContext(self.kb))

    def lookup(self, repo_id: str) -> BaseModelAnswer | None:
        revision = self._revision(repo_id)
        if revision is None or revision.snapshot is None:
            return None
        repo_dir = revision.snapshot.parent.parent
        component = self._source(repo_dir).component(revision, license_only=True)
        return BaseModelAnswer(component, f"{repo_id}@{revision.commit} ({revision.snapshot})")


def _mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path is not None else 0.0
    except OSError:
        return 0.0


class HfCacheDatasetLookup(DatasetLookup):
    """Datasets downloaded into the local HF cache (`datasets--org--name`), read like a scanned
    cache revision: the revision `refs/main` points at, else the newest; card and license files
    only."""

    name = "hfcache"

    def __init__(self, root: Path, kb: LicenseKnowledgeBase) -> None:
        self.models = HfCacheLookup(root, kb, prefix="datasets")

    def lookup(self, dataset_id: str) -> DatasetAnswer | None:
        if not is_repo_id(dataset_id):
            return None  # a cache folder is `datasets--org--name`: only a Hub id names one
        answer = self.models.lookup(dataset_id)
        if answer is None or answer.component is None:
            return None
        return DatasetAnswer(answer.component, answer.evidence)


class _HubAsker:
    """Asks the Hub for one repo's default branch, for the lookups below: a Hub that cannot be
    reached does not stop the scan (the repo falls back to the places after it, and where
    none knows it the Hub's failure is its problem), and once it could not answer, no later
    repo is asked."""

    repo_type = "model"
    shown_prefix = ""
    """How evidence names a repo of this type (`datasets/org/name`)."""

    def __init__(self, client: HubClient, kb: LicenseKnowledgeBase) -> None:
        self.client = client
        self.kb = kb
        self.unavailable: str | None = None
        """Why the Hub could not answer, once it did not: later repos are not asked again."""

    def _ask(self, repo_id: str) -> tuple[Component | None, str, str | None] | None:
        """The repo's component and evidence, or a problem (component None); None when the
        Hub cannot be asked for it (not a repo id, offline without a cached answer)."""
        if not is_repo_id(repo_id):
            return None
        if self.client.offline and not self.client.has_cached_answer(
            repo_id, repo_type=self.repo_type
        ):
            return None
        if self.unavailable is not None:
            return None, "", self.unavailable
        try:
            found = self._fetch(repo_id)
        except HubUnavailable as exc:
            self.unavailable = str(exc)
            return None, "", self.unavailable
        if found is None:
            where = self.client.shown_endpoint
            return None, "", f"not found on the Hub at {where} (missing, private or renamed)"
        component = hub_component(found, self.client, self.kb, revision=None, with_readme=False)
        license_value = found.card_data.get("license")
        evidence = f"{self.shown_prefix}{found.repo_id}@{found.sha} (card: license {license_value})"
        return component, evidence, None

    def _fetch(self, repo_id: str) -> HubModel | None:
        return self.client.model(repo_id)


class HubLookup(_HubAsker, BaseModelLookup):
    """Base models on the Hub: the default branch's facts, asked concurrently."""

    name = "hub"

    def prefetch(self, repo_ids: Sequence[str]) -> None:
        if self.unavailable is None:
            self.client.prefetch([(r, None) for r in repo_ids if is_repo_id(r)])

    def lookup(self, repo_id: str) -> BaseModelAnswer | None:
        """The Hub's facts of a base model; a base none knows has the Hub's failure as its
        problem (`provenance.base-unresolved`)."""
        asked = self._ask(repo_id)
        return None if asked is None else BaseModelAnswer(*asked)


class HubDatasetLookup(_HubAsker, DatasetLookup):
    """Datasets on the Hub: one `dataset_info` call each for the default branch, cached like
    model answers, asked concurrently; a dataset the Hub cannot answer for falls back to the
    catalogue, with the Hub's failure as its problem."""

    name = "hub"
    repo_type = "dataset"
    shown_prefix = "datasets/"

    def _fetch(self, repo_id: str) -> HubModel | None:
        return self.client.dataset(repo_id)

    def prefetch(self, dataset_ids: Sequence[str]) -> None:
        if self.unavailable is None:
            self.client.prefetch_datasets([d for d in dataset_ids if is_repo_id(d)])

    def lookup(self, dataset_id: str) -> DatasetAnswer | None:
        asked = self._ask(dataset_id)
        return None if asked is None else DatasetAnswer(*asked)
