"""The `dependency.*` rules: Python packages whose license is unknown or denied by the policy.

The policy's `dependencies` section lists denied SPDX ids (or knowledge-base names), denied
categories and, when non-empty, the only allowed ids. An expression is denied when an AND term
is denied or every OR alternative is, since a choice of license lets the product pick one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.policy.load import LicenseRules


def _same_license(a: str, b: str, kb: LicenseKnowledgeBase) -> bool:
    if a.lower() == b.lower():
        return True
    key = kb.identify_name(a)
    return key is not None and key == kb.identify_name(b)


def _why_denied(symbol: str, rules: LicenseRules, kb: LicenseKnowledgeBase) -> str | None:
    if any(_same_license(symbol, denied, kb) for denied in rules.deny):
        return f"{symbol} is denied by the policy"
    from scanner.licensing.python_licenses import license_category  # packages only: 3 ms

    category = license_category(symbol, kb)
    if category in rules.deny_categories:
        return f"{symbol} is {category}, a category the policy denies"
    if rules.allow and not any(_same_license(symbol, allowed, kb) for allowed in rules.allow):
        return f"{symbol} is not on the policy's allow list"
    return None


def denied_terms(expression: str, rules: LicenseRules, kb: LicenseKnowledgeBase) -> list[str]:
    """Why an SPDX expression is denied (one reason per denied term), or [] when it is not."""
    from license_expression import Licensing

    licensing = Licensing()

    def walk(node) -> list[str]:
        if isinstance(node, licensing.AND):
            return [reason for arg in node.args for reason in walk(arg)]
        if isinstance(node, licensing.OR):
            alternatives = [walk(arg) for arg in node.args]
            if all(alternatives):
                return [reason for reasons in alternatives for reason in reasons]
            return []
        # A `GPL-2.0-only WITH GCC-exception-2.0` term is judged whole: the exception changes
        # its category, and only a policy naming that term denies it by name.
        symbol = str(node) if hasattr(node, "exception_symbol") else node.key
        reason = _why_denied(symbol, rules, kb)
        return [reason] if reason else []

    return walk(licensing.parse(expression, validate=False))


class DependencyCheck(Check):
    """Judges the license facts of `library` components against `policy.dependencies`."""

    name = "dependency"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            if component.type == "library":
                yield from self._check(component, context)

    def _check(self, component: Component, context: CheckContext) -> Iterator[Finding]:
        label = f"{component.name} {component.version or ''}".strip()
        effective = component.license.effective
        if effective is None:
            if component.library.declared_only:
                problem = component.library.index_problem
                hint = (
                    f"the index gave none ({problem}); scan its environment (--python)"
                    if problem
                    else "scan its environment (--python) or ask the index (--pypi)"
                )
                message = (
                    f"{label} is declared ({', '.join(component.library.declared_in)}) but not "
                    f"installed where aiscan looked, so its license is not known; {hint}"
                )
            else:
                message = (
                    f"{label}: no License-Expression, License field, license classifier or "
                    "recognisable license file"
                )
            yield finding(
                "dependency.license-unknown",
                component,
                message,
                declared=list(component.license.declared) or None,
                declared_only=component.library.declared_only or None,
            )
            return
        reasons = denied_terms(effective, context.policy.dependencies, context.kb)
        if reasons:
            yield finding(
                "dependency.license-denied",
                component,
                f"{label} is under {effective}: {'; '.join(reasons)}",
                license=effective,
                category=component.license.category,
                direct=component.library.direct,
            )
