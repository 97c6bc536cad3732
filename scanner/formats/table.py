"""A terminal summary: one row per component, then the findings, worst first."""

from __future__ import annotations

import io
from collections import Counter
from typing import TYPE_CHECKING

from scanner.files import printable
from scanner.formats.interface import ReportFormat
from scanner.inventory import Component, ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

if TYPE_CHECKING:
    from rich.text import Text

_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def _parameters(count: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


class TableFormat(ReportFormat):
    """rich tables for people at a terminal; plain text when written to a file."""

    name = "table"

    def render(self, result: ScanResult, kb: LicenseKnowledgeBase, *, color: bool = False) -> str:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        buffer = io.StringIO()
        console = Console(
            file=buffer, force_terminal=color, no_color=not color, width=None if color else 140
        )
        per_component: dict[str | None, Counter[str]] = {}
        for f in result.findings:
            if f.waived is None:
                per_component.setdefault(f.component, Counter())[f.severity] += 1

        components = Table(
            title=f"aiscan: {len(result.components)} component(s)", title_justify="left"
        )
        # `aiscan verify` gathers no license facts: columns about licenses would only say "-".
        show_licenses = any(
            c.card is not None or c.license.declared or c.license.detected or c.license.effective
            for c in result.components
        )
        columns = ["Component", "Type", "Source"]
        columns += ["Effective license", "Category"] if show_licenses else []
        for column in (*columns, "Weights", "Findings"):
            components.add_column(column, overflow="fold")
        for component in result.components:
            counts = per_component.get(component.ref, Counter())
            summary = Text()
            for severity in ("error", "warning", "note"):
                if counts[severity]:
                    summary.append(
                        f"{counts[severity]} {severity}{'s' if counts[severity] > 1 else ''} ",
                        _STYLE[severity],
                    )
            weights = _weights(component)
            hashed = [f for f in component.files if f.sha256 is not None or f.verified is not None]
            if hashed:
                verified = sum(f.verified is True for f in hashed)
                mismatched = sum(f.verified is False for f in hashed)
                cached = sum(f.from_cache for f in hashed)
                weights += f"\n{verified}/{len(component.files)} files verified" + (
                    f", {mismatched} mismatched" if mismatched else ""
                )
                weights += f" ({cached} from the hash cache)" if cached else ""
            license_cells = (
                [component.license.effective or "-", component.license.category]
                if show_licenses
                else []
            )
            components.add_row(
                _plain(
                    component.name + (f"@{component.version[:12]}" if component.version else "")
                ),
                _plain(component.type),
                _plain(component.source),
                *(_plain(cell) for cell in license_cells),
                _plain(weights),
                summary or Text("clean", "green"),
            )
        console.print(components)

        if result.findings:
            names: dict[str | None, str] = {c.ref: c.name for c in result.components}
            findings = Table(title="Findings", title_justify="left")
            for column in ("Severity", "Rule", "Component", "Message"):
                findings.add_column(column, overflow="fold")
            for f in result.findings:
                label = Text(f.severity + (" (waived)" if f.waived else ""), _STYLE[f.severity])
                # Notes can be long license clauses: one line each keeps errors visible; the JSON
                # report and `aiscan licenses show` carry the full text.
                text = Text(printable(f.message), no_wrap=f.severity == "note", overflow="ellipsis")
                subject = names.get(f.component, f.component or "-")
                findings.add_row(label, _plain(f.rule), _plain(subject), text)
            console.print(findings)

        waived = f", {result.waived_count} waived" if result.waived_count else ""
        off = f"; rules off: {', '.join(result.rules_off)}" if result.rules_off else ""
        digests = [f for c in result.components for f in c.files if f.sha256 is not None]
        if digests:
            cached = sum(f.from_cache for f in digests)
            console.print(
                f"hashed: {len(digests)} file(s), {cached} of them from the hash cache "
                "(unchanged device, inode, size, mtime and ctime)",
                highlight=False,
                soft_wrap=True,
            )
        console.print(Text(printable(f"policy: {result.policy or 'default'}{off}")), soft_wrap=True)
        console.print(
            f"{result.count('error')} error(s), {result.count('warning')} warning(s), "
            f"{result.count('note')} note(s){waived}; failing on {result.fail_on} → exit {result.exit_code}"
        )
        return buffer.getvalue()


def _weights(component: Component) -> str:
    """Parameters and number formats of the weights headers read: safetensors dtypes, a GGUF's
    quantisation (`general.file_type`, else its tensor types)."""
    parameters = 0
    kinds: set[str] = set()
    read = False
    for entry in component.files:
        if entry.safetensors is not None:
            parameters += entry.safetensors.parameter_count
            kinds.update(entry.safetensors.dtypes)
        elif entry.gguf is not None:
            parameters += entry.gguf.parameter_count
            quantization = entry.gguf.quantization
            kinds.update([quantization] if quantization else entry.gguf.tensor_types)
        else:
            continue
        read = True
    return f"{_parameters(parameters)} params {'/'.join(sorted(kinds))}" if read else ""


def _plain(value: str) -> Text:
    """A cell shown as written: never parsed as rich markup (a card's `[link=…]` stays text),
    control characters escaped."""
    from rich.text import Text

    return Text(printable(value))
