"""Stable order and unique refs for reports, shared by `scan` and `verify`.

Reports are diffed, baselined and fingerprinted, so the same input must list the same components
under the same refs and the findings in the same order on every run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from scanner import __version__
from scanner.inventory import SEVERITY_RANK, Component, Finding, ScanResult, Service
from scanner.policy.load import Policy

_FLAT_STORES = frozenset({"ollama", "llamacpp"})


def unique_components(components: list[Component]) -> list[Component]:
    """Drop a folder or package reached twice (overlapping targets, one environment read for
    several projects); keep refs unique in the report."""
    seen_locations: set[str] = set()
    refs: dict[str, int] = {}
    unique = []
    for component in components:
        # Packages share a lock file's location; their ref (name@version) identifies them. The
        # models of an Ollama store or a llama.cpp cache share its root (their files lie side by
        # side in it): the ref tells them apart, the location tells two stores apart.
        key = component.ref if component.type == "library" else component.location
        if component.source in _FLAT_STORES:
            key = f"{component.location}\0{component.ref}"
        elif component.source == "code":  # one line may name two (`ollama pull a && … b`)
            key = f"{component.location}\0{component.name}"
        if key in seen_locations:
            continue
        seen_locations.add(key)
        count = refs.get(component.ref, 0)
        refs[component.ref] = count + 1
        if count:
            component = dataclasses.replace(component, ref=f"{component.ref}#{count + 1}")
        unique.append(component)
    return unique


def unique_services(services: list[Service]) -> tuple[Service, ...]:
    """Each service reference once (overlapping targets reach a file twice), in file order."""
    seen: dict[tuple[str, str], Service] = {}
    for service in services:
        seen.setdefault((service.location, service.ref), service)
    refs: dict[str, int] = {}
    unique = []
    for service in sorted(seen.values(), key=lambda s: (s.location, s.ref)):
        count = refs.get(service.ref, 0)
        refs[service.ref] = count + 1
        if count:  # the same file:line in two projects scanned together
            service = dataclasses.replace(service, ref=f"{service.ref}#{count + 1}")
        unique.append(service)
    return tuple(unique)


def finding_order(f: Finding) -> tuple:
    """Worst first, then by component, rule and message: the same order on every run."""
    return (-SEVERITY_RANK[f.severity], f.component or "", f.rule, f.message)


def ordered_result(
    targets: Sequence[Path | str],
    components: Sequence[Component],
    findings: Iterable[Finding],
    policy: Policy,
) -> ScanResult:
    """The result of a run, findings in `finding_order`, as `scan` and `verify` both report it."""
    return ScanResult(
        tool_version=__version__,
        targets=tuple(str(t) for t in targets),
        components=tuple(components),
        findings=tuple(sorted(findings, key=finding_order)),
        fail_on=policy.fail_on,
        policy=policy.source,
        rules_off=tuple(sorted(rule for rule, level in policy.rules.items() if level == "off")),
    )
