"""Judges the AI services a project calls or deploys: named at run time, denied by the policy's
`ai_services`, or not declared in the project's BOM (shadow AI beyond model weights).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext
from scanner.inventory import Component, Finding, Service
from scanner.policy.load import ServiceRules
from scanner.policy.rules import RULES


def _about(service: Service, rule: str, message: str, **extra: str | None) -> Finding:
    """A finding on a service, pointing at the file and line that use it."""
    evidence = {
        "file": service.file,
        "line": service.line,
        "cell": service.cell,
        "provider": service.provider,
        "model": service.model,
        **extra,
    }
    return Finding(
        rule=rule,
        severity=RULES[rule].severity,
        component=service.ref,
        message=message,
        evidence={k: v for k, v in evidence.items() if v is not None},
    )


def _described(service: Service) -> str:
    if service.image is not None:
        return f"the {service.provider} inference server (image {service.image})"
    return f"{service.provider} model {service.model}"


def _denial(rules: ServiceRules, service: Service) -> str | None:
    """Why the policy denies the service, or None when it does not."""
    for pattern in rules.deny:
        if rules.matches(pattern, service.provider, service.model):
            return f"matches ai_services.deny {pattern!r}"
    if rules.allow and not any(
        rules.matches(pattern, service.provider, service.model) for pattern in rules.allow
    ):
        return "is not in ai_services.allow"
    return None


class ServiceCheck(Check):
    """Findings for the services in `CheckContext.services`."""

    name = "services"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        rules = context.policy.ai_services
        for service in context.services:
            if not service.resolved:
                yield _about(
                    service,
                    "provenance.unresolved-reference",
                    f"{service.call} at {service.where} calls {service.provider} with a model "
                    f"named at run time ({service.expression}); review which model it is",
                    expression=service.expression,
                )
            if (why := _denial(rules, service)) is not None:
                yield _about(
                    service,
                    "provenance.service-denied",
                    f"{service.where} uses {_described(service)}, which {why}",
                )
            if service.resolved and not service.declared_in:
                yield _about(
                    service,
                    "provenance.undeclared-service",
                    f"{service.where} uses {_described(service)} ({service.call}) but no BOM "
                    "of the project lists it among its services",
                    call=service.call,
                )
