"""Runs a scan: sources gather components, licenses are resolved, checks judge, policy applies.

The one place that wires the plug-in families together, as pip-audit's `Auditor` does.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.checks.code_references import CodeReferenceCheck
from scanner.checks.completeness import CompletenessCheck
from scanner.checks.datasets import DatasetCheck
from scanner.checks.dependency import DependencyCheck
from scanner.checks.integrity import IntegrityCheck
from scanner.checks.interface import Check, CheckContext, finding
from scanner.checks.license import LicenseCheck
from scanner.checks.provenance import ProvenanceCheck
from scanner.checks.services import ServiceCheck
from scanner.errors import TargetMissing
from scanner.files import NO_EXCLUDES, Excludes
from scanner.inventory import Component, Finding, ScanResult, Service
from scanner.licensing.catalogue import default_catalogue
from scanner.licensing.dataset_catalogue import default_dataset_catalogue
from scanner.licensing.datasets import DatasetLookup, resolve_training_data
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.lineage import BaseModelLookup, CatalogueLookup
from scanner.licensing.resolution import resolve_licenses, resolve_package_licenses
from scanner.pipeline.result import ordered_result, unique_components, unique_services
from scanner.policy.load import Policy
from scanner.policy.waivers import apply_policy
from scanner.remote.hub import GATED, is_hub_target
from scanner.sources.hfcache import default_hub_cache
from scanner.sources.interface import ProjectOptions, SourceContext, Target
from scanner.sources.lookups import HfCacheDatasetLookup, HfCacheLookup
from scanner.sources.registry import collect, shown_target

if TYPE_CHECKING:
    from scanner.readers.python.environment import InstalledDistribution
    from scanner.remote.hub import HubClient

CHECKS: tuple[Check, ...] = (
    LicenseCheck(),
    ProvenanceCheck(),
    IntegrityCheck(),
    CompletenessCheck(),
    DependencyCheck(),
    CodeReferenceCheck(),
    ServiceCheck(),
    DatasetCheck(),
)


def needs_hub(targets: Sequence[Target], hub_wanted: bool) -> bool:
    """Whether the run asks the Hub: when told to (`--hub`) or when a target is on it."""
    return hub_wanted or any(is_hub_target(t) for t in targets)


def _collect(
    target: Target, context: SourceContext, services: list[Service]
) -> tuple[list[Component], list[Finding]]:
    """Components of one target from every source that accepts it (the AI services its
    projects call are added to `services`), or the finding that says why there are none."""
    before = len(services)
    try:
        found = _split_services(collect(target, context), services)
    except TargetMissing as exc:
        return [], [finding("scan.unreadable", None, str(exc), target=shown_target(target))]
    if found or len(services) > before:
        if context.hub is not None:
            found = [_enrich(c, context.hub) for c in found]
        return found, []
    hint = ""
    if isinstance(target, Path) and (target / "pyvenv.cfg").is_file():
        hint = f"; to read this environment's packages use --python {target / 'bin' / 'python'}"
    return [], [
        finding(
            "scan.nothing-found",
            None,
            f"{shown_target(target)}: no model folder, cache repo or Python project found{hint}",
            target=shown_target(target),
        )
    ]


def _split_services(
    collected: Iterable[Component | Service], services: list[Service]
) -> list[Component]:
    """The components of what sources yield; the services go to `services`."""
    components = []
    for item in collected:
        if isinstance(item, Service):
            services.append(item)
        else:
            components.append(item)
    return components


def _enrich(component: Component, hub: HubClient) -> Component:
    """Hub facts for an HF-cache revision (repo id and commit known): gating and remote code,
    and whether the Hub's gating value could not be used (the files are the cache's own)."""
    if component.source != "hfcache" or component.type != "model" or not component.version:
        return component
    model = hub.model(component.name, component.version)
    if model is None:
        return component
    details = dataclasses.replace(
        component.model,
        gated=model.gated,
        remote_code=tuple(dict.fromkeys((*component.model.remote_code, *model.auto_map))),
    )
    problems = (*component.problems, *(p for p in model.problems if p.location == GATED))
    return dataclasses.replace(component, details=details, problems=problems)


def _dataset_lookups(kb: LicenseKnowledgeBase, client: HubClient | None) -> list[DatasetLookup]:
    """Where a model's datasets are looked up after the scan itself: the HF cache, then the Hub
    when the run may ask it; the dataset catalogue comes last (in `resolve_training_data`)."""
    lookups: list[DatasetLookup] = [HfCacheDatasetLookup(default_hub_cache(), kb)]
    if client is not None:
        from scanner.sources.lookups import HubDatasetLookup

        lookups.append(HubDatasetLookup(client, kb))
    return lookups


def run_scan(
    targets: Sequence[Target],
    policy: Policy,
    kb: LicenseKnowledgeBase,
    today: datetime.date | None = None,
    *,
    hub: bool | HubClient = False,
    on_lookup: Callable[[str], None] | None = None,
    project: ProjectOptions | None = None,
    exclude: Excludes = NO_EXCLUDES,
) -> ScanResult:
    """Scan targets (model folders, stores, HF caches, hf:// repos) and judge them.

    Base models are looked up in the scan, the local HF cache, the Hub when `hub` is true (or a
    client, or a target is on the Hub) and the offline catalogue, in that order. With
    `project`, folders that are Python projects also yield their packages and the models their
    code loads; an environment chosen explicitly (`env="on"`, `python`) is read once for the
    whole run. `exclude` leaves out the paths `--exclude` matches in every local target.
    """
    components: list[Component] = []
    empty_targets: list[Finding] = []
    client: HubClient | None = None
    if not isinstance(hub, bool):
        client = hub
    elif needs_hub(targets, hub):
        from scanner.integrity.cache import default_cache_dir
        from scanner.remote.hub import HubClient

        client = HubClient(default_cache_dir())
    environment = None
    if project is not None and (project.env == "on" or project.python is not None):
        from scanner.licensing.python_licenses import texts_to_match
        from scanner.readers.python.environment import read_environment

        def match_texts(dist: InstalledDistribution) -> None:
            for text in texts_to_match(dist.license, dist.license_files):
                kb.identify(text)

        # While the dump runs in the other process: the matcher prepared, then the license
        # texts of each distribution matched as the dump writes it.
        environment = read_environment(
            project.python, meanwhile=kb.prepare_matching, as_read=match_texts
        )
    context = SourceContext(kb, client, project, environment, exclude=exclude)
    services: list[Service] = []
    for target in targets:
        found, problems = _collect(target, context, services)
        components.extend(found)
        empty_targets.extend(problems)
    unique = unique_components(components)
    # Models on disk, on the Hub and named in code go through one lineage resolution (a model
    # named in code by the id it is loaded by); packages are concluded from their metadata.
    libraries = [c for c in unique if c.type == "library"]
    models = [c for c in unique if c.type != "library"]
    if models:  # the catalogue is read only for a run that has models to trace
        catalogue = default_catalogue()
        lookups: list[BaseModelLookup] = [HfCacheLookup(default_hub_cache(), kb)]
        if client is not None:
            from scanner.sources.lookups import HubLookup

            lookups.append(HubLookup(client, kb))
        lookups.append(CatalogueLookup(catalogue))
        models = resolve_licenses(models, kb, lookups, catalogue, on_lookup)
    if any(c.type in ("model", "dataset") for c in models):  # a package-only run reads no card
        models = resolve_training_data(
            models, kb, _dataset_lookups(kb, client), default_dataset_catalogue()
        )
    resolved = [
        *(c for c in models if c.code_reference is None),
        *resolve_package_licenses(libraries, kb),
        *(c for c in models if c.code_reference is not None),
    ]
    judging = CheckContext(policy=policy, kb=kb, services=tuple(services))
    raw = [*empty_targets, *(f for check in CHECKS for f in check.run(resolved, judging))]
    judged = apply_policy(raw, policy, today or datetime.date.today())
    result = ordered_result([shown_target(t) for t in targets], resolved, judged, policy)
    return dataclasses.replace(result, services=unique_services(services))
