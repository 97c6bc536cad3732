"""Runs a scan: sources gather components, licenses are resolved, checks judge, policy applies.

The one place that wires the plug-in families together, as pip-audit's `Auditor` does.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.checks.code_references import CodeReferenceCheck
from scanner.checks.completeness import CompletenessCheck
from scanner.checks.dependency import DependencyCheck
from scanner.checks.integrity import IntegrityCheck
from scanner.checks.interface import Check, CheckContext, finding
from scanner.checks.license import LicenseCheck
from scanner.checks.provenance import ProvenanceCheck
from scanner.inventory import Component, Finding, ScanResult
from scanner.licensing.catalogue import default_catalogue
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.lineage import BaseModelLookup, CatalogueLookup
from scanner.licensing.resolution import resolve_licenses
from scanner.pipeline.result import ordered_result, unique_components
from scanner.policy.load import Policy
from scanner.policy.waivers import apply_policy
from scanner.readers.python.environment import Environment, read_environment
from scanner.sources.hfcache import HfCacheLookup, default_hub_cache
from scanner.sources.modeldir import ModelDirSource
from scanner.sources.project import ProjectOptions, ProjectSource, is_project

if TYPE_CHECKING:
    from scanner.remote.hub import HubClient

Target = Path | str
"""A local path, or an `hf://org/name[@revision]` string for the Hub."""

CHECKS: tuple[Check, ...] = (
    LicenseCheck(),
    ProvenanceCheck(),
    IntegrityCheck(),
    CompletenessCheck(),
    DependencyCheck(),
    CodeReferenceCheck(),
)


def _collect(
    target: Target,
    kb: LicenseKnowledgeBase,
    hub: HubClient | None,
    project: tuple[ProjectOptions, Environment | None] | None = None,
) -> tuple[list[Component], list[Finding]]:
    """Components of one target, or the finding that says why there are none."""
    if isinstance(target, str):
        from scanner.remote.hub import HubClient, HubTargetMissing, parse_target
        from scanner.sources.hub import HubSource

        repo_id, revision = parse_target(target)
        client = hub or HubClient(_cache_dir())
        try:
            return list(HubSource(repo_id, revision, client, kb).collect()), []
        except HubTargetMissing as exc:
            return [], [finding("scan.unreadable", None, str(exc), target=target)]
    found = list(ModelDirSource(target, kb).collect())
    if project is not None and target.is_dir():
        options, environment = project
        if environment is not None or is_project(target):
            found.extend(ProjectSource(target, kb, options, environment).collect())
    if found:
        if hub is not None:
            found = [_enrich(c, hub) for c in found]
        return found, []
    hint = ""
    if (target / "pyvenv.cfg").is_file():
        hint = f"; to read this environment's packages use --python {target / 'bin' / 'python'}"
    return [], [
        finding(
            "scan.nothing-found",
            None,
            f"{target}: no model folder, cache repo or Python project found{hint}",
            target=str(target),
        )
    ]


def _cache_dir() -> Path:
    from scanner.integrity.cache import default_cache_dir

    return default_cache_dir()


def _enrich(component: Component, hub: HubClient) -> Component:
    """Hub facts for an HF-cache revision (repo id and commit known): gating and remote code."""
    if component.source != "hfcache" or component.type != "model" or not component.version:
        return component
    model = hub.model(component.name, component.version)
    if model is None:
        return component
    return dataclasses.replace(
        component,
        gated=model.gated,
        remote_code=tuple(dict.fromkeys((*component.remote_code, *model.auto_map))),
    )


def run_scan(
    targets: Sequence[Target],
    policy: Policy,
    kb: LicenseKnowledgeBase,
    today: datetime.date | None = None,
    *,
    hub: HubClient | None = None,
    on_lookup: Callable[[str], None] | None = None,
    project: ProjectOptions | None = None,
) -> ScanResult:
    """Scan targets (model folders, stores, HF caches, hf:// repos) and judge them.

    Base models are looked up in the scan, the local HF cache, the Hub when `hub` is given (or a
    target is on the Hub) and the offline catalogue, in that order. With `project`, folders that
    are Python projects also yield their packages and the models their code loads; an
    environment chosen explicitly (`env="on"`, `python`) is read once for the whole run.
    """
    components: list[Component] = []
    empty_targets: list[Finding] = []
    if hub is None and any(isinstance(t, str) for t in targets):
        from scanner.remote.hub import HubClient

        hub = HubClient(_cache_dir())
    environment = None
    if project is not None and (project.env == "on" or project.python is not None):
        environment = read_environment(project.python)
    for target in targets:
        found, problems = _collect(
            target, kb, hub, (project, environment) if project is not None else None
        )
        components.extend(found)
        empty_targets.extend(problems)
    catalogue = default_catalogue()
    lookups: list[BaseModelLookup] = [HfCacheLookup(default_hub_cache(), kb)]
    if hub is not None:
        from scanner.sources.hub import HubLookup

        lookups.append(HubLookup(hub, kb))
    lookups.append(CatalogueLookup(catalogue))
    unique = unique_components(components)
    # Packages arrive with their license concluded from their metadata, and models named in
    # code are references, not copies whose terms could be read: lineage is for the rest.
    settled = [c for c in unique if c.type == "library" or c.code_reference is not None]
    resolved = [
        *resolve_licenses(
            [c for c in unique if c not in settled], kb, lookups, catalogue, on_lookup
        ),
        *settled,
    ]
    context = CheckContext(policy=policy, kb=kb)
    raw = [*empty_targets, *(f for check in CHECKS for f in check.run(resolved, context))]
    judged = apply_policy(raw, policy, today or datetime.date.today())
    return ordered_result(targets, resolved, judged, policy)
