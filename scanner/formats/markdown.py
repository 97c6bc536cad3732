"""A compact Markdown summary for pull requests and `$GITHUB_STEP_SUMMARY`.

Counts first, then new errors and warnings, with notes, waived and baseline findings folded
into `<details>` so the summary stays readable on a PR. Text from model cards is escaped: a card
must not be able to inject HTML or break the tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scanner.files import printable
from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import Finding, ScanResult, Service
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

_ICON = {"error": "❌", "warning": "⚠️", "note": "ℹ️"}


_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
"""ASCII punctuation: every character CommonMark lets a backslash escape, and every character
Markdown markup is made of."""
_BREAK = "<!-- -->"
"""An empty HTML comment: invisible, never copied with the text, and it splits the text node, so
no post-processing autolinker sees `user@host`, `@octocat` or `#123` whole."""


def escape(text: str) -> str:
    """Arbitrary text (a card's license name, a folder name) as Markdown that renders as exactly
    that text, on one line.

    Every ASCII punctuation character gets a backslash, so nothing becomes a link, an image, an
    emphasis, code, HTML, a heading, a list, a table break or a URL autolink (`https\\://`,
    `www\\.` are not recognised); a backslash itself is doubled, so `a\\|b` stays `a\\|b`
    inside a table cell too (the table parser unescapes `\\|` before inlines are parsed). An
    `@` and a `#` are followed by an empty comment: GFM links e-mail addresses, and GitHub
    mentions and issue references, after escapes are resolved. Tested with cmark-gfm, the
    renderer GitHub uses (`tests/formats/test_markdown_render.py`).
    """
    parts = []
    for char in printable(text):
        if char in _PUNCTUATION:
            parts.append("\\" + char + (_BREAK if char in "@#" else ""))
        else:
            parts.append(char)
    return " ".join("".join(parts).split())


def _finding_line(finding: Finding, names: dict[str, str]) -> str:
    component = names.get(finding.component or "", finding.component or "scan")
    return f"- {_ICON[finding.severity]} `{finding.rule}` **{escape(component)}**: {escape(finding.message)}"


def _services_table(
    services: Sequence[Service], per_component: dict[str, Counter[str]]
) -> list[str]:
    """The AI services in a collapsed table, as the components are."""
    if not services:
        return []
    lines = [
        f"<details><summary>AI services ({len(services)})</summary>",
        "",
        "| Service | Provider | Used at | Errors | Warnings | Notes |",
        "|---|---|---|---:|---:|---:|",
    ]
    for service in services:
        counts = per_component.get(service.ref, Counter())
        provider = service.provider + ("" if service.hosted else " (self-hosted)")
        lines.append(
            f"| {escape(service.label)} | {escape(provider)} | {escape(service.where)} "
            f"| {counts['error']} | {counts['warning']} | {counts['note']} |"
        )
    return [*lines, "", "</details>", ""]


class MarkdownFormat(ReportFormat):
    """GitHub-flavoured Markdown."""

    name = "markdown"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        names = {c.ref: c.name for c in result.components}
        names.update((s.ref, s.label) for s in result.services)
        counting = [f for f in result.findings if f.counts]
        errors = result.count("error")
        status = "❌ failing" if result.exit_code else "✅ passing"
        lines = [
            f"## aiscan: {status}",
            "",
            f"**{len(result.components)}** component(s) · **{errors}** error(s) · "
            f"**{result.count('warning')}** warning(s) · **{result.count('note')}** note(s)"
            + (f" · {result.waived_count} waived" if result.waived_count else "")
            + (
                f" · {sum(f.in_baseline for f in result.findings)} in baseline"
                if any(f.in_baseline for f in result.findings)
                else ""
            )
            + f" · fail on `{result.fail_on}`",
            "",
            f"Policy: {escape(result.policy or 'default')}"
            + (
                " · rules off: " + ", ".join(f"`{rule}`" for rule in result.rules_off)
                if result.rules_off
                else ""
            ),
            "",
        ]
        for severity, title in (("error", "Errors"), ("warning", "Warnings")):
            selected = [f for f in counting if f.severity == severity]
            if selected:
                lines += [f"### {title}", "", *(_finding_line(f, names) for f in selected), ""]

        per_component: dict[str, Counter[str]] = {}
        for finding in counting:
            per_component.setdefault(finding.component or "", Counter())[finding.severity] += 1
        lines += [
            "<details><summary>Components</summary>",
            "",
            "| Component | Type | Effective license | Category | Errors | Warnings | Notes |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        for component in result.components:
            counts = per_component.get(component.ref, Counter())
            lines.append(
                f"| {escape(component.name)} | {component.type} | {escape(component.license.effective or '-')} "
                f"| {component.license.category} | {counts['error']} | {counts['warning']} | {counts['note']} |"
            )
        lines += ["", "</details>", ""]
        lines += _services_table(result.services, per_component)

        for title, selected in (
            ("Notes", [f for f in counting if f.severity == "note"]),
            ("Waived", [f for f in result.findings if f.waived is not None]),
            (
                "Already in the baseline",
                [f for f in result.findings if f.in_baseline and f.waived is None],
            ),
        ):
            if selected:
                lines += [f"<details><summary>{title} ({len(selected)})</summary>", ""]
                for finding in selected:
                    line = _finding_line(finding, names)
                    if finding.waived is not None:
                        line += f" — waived: {escape(finding.waived.reason)}"
                    lines.append(line)
                lines += ["", "</details>", ""]
        return "\n".join(lines)
