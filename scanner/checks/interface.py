"""The interface every check implements.

A check reads components (facts) and the policy and yields findings. It never reads files or
the network: everything it needs was gathered by a source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.inventory import Component, Finding, Service, Severity
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.policy.load import Policy
from scanner.policy.rules import RULES


@dataclass(frozen=True)
class CheckContext:
    """What every check may consult besides the components."""

    policy: Policy
    kb: LicenseKnowledgeBase
    services: tuple[Service, ...] = ()
    """The AI services the scanned projects call, for the checks that judge them."""


class Check(ABC):
    """One family of rules."""

    name: str

    @abstractmethod
    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        """Yield findings at the rule's default severity, or a situational one where the rule
        says so; the policy's per-rule overrides are applied afterwards."""


def finding(
    rule: str,
    component: Component | None,
    message: str,
    severity: Severity | None = None,
    **evidence: Any,
) -> Finding:
    """Build a finding for a known rule id (a typo here is a bug, so it raises KeyError)."""
    return Finding(
        rule=rule,
        severity=severity or RULES[rule].severity,
        component=component.ref if component else None,
        message=message,
        evidence={k: v for k, v in evidence.items() if v is not None},
    )
