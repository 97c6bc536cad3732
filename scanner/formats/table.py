"""A terminal summary: one row per component, then the findings, worst first.

The layout fits the terminal's width without breaking a word: columns that would say the same
thing on every row are left out, and when even the narrowest table is wider than the terminal
each component becomes a heading with its facts on the line below. Values a user copies (paths,
ids, revisions, hashes) are never shortened; a note's long license clause is wrapped, not cut.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.files import printable
from scanner.formats.interface import PLAIN, SOURCE_LABELS, Display, ReportFormat
from scanner.inventory import SEVERITY_RANK, Component, Finding, ScanResult, Severity
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


_INDENT = 4
"""Where a finding's message starts under its severity, rule and component line."""


def plural(count: int, word: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class _Shown:
    """One entry of the findings list: a finding, or a component's grouped obligations."""

    finding: Finding
    message: str
    count: int = 1


class TableFormat(ReportFormat):
    """rich tables for people at a terminal; plain text when written to a file or a pipe."""

    name = "table"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=max(display.width, 40),
            force_terminal=display.color,
            no_color=not display.color,
            color_system="standard" if display.color else None,
            highlight=False,
            markup=False,
            emoji=False,
        )
        if display.detail != "quiet":
            _print_components(console, result)
            _print_services(console, result)
        floor = _floor(display)
        shown = [f for f in result.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[floor]]
        entries = list(_entries(shown, group=display.detail != "verbose"))
        if entries:
            if display.detail != "quiet":
                console.print()
            console.print(_bold(f"Findings ({len(shown)})", display.color))
            names: dict[str | None, str] = {c.ref: c.name for c in result.components}
            names.update((s.ref, s.label) for s in result.services)
            for entry in entries:
                _print_finding(console, entry, names, verbose=display.detail == "verbose")
        console.print()
        for line in _summary(result, hidden=len(result.findings) - len(shown), floor=floor):
            console.print(_plain(line), soft_wrap=True)
        # rich pads every cell to its column's width; trailing blanks only get in a copy's way.
        return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _floor(display: Display) -> Severity:
    """The lowest severity shown: `--severity`, raised to warning by `-q`."""
    if display.detail == "quiet" and SEVERITY_RANK[display.min_severity] < SEVERITY_RANK["warning"]:
        return "warning"
    return display.min_severity


def _print_components(console: Console, result: ScanResult) -> None:
    per_component: dict[str | None, Counter[str]] = {}
    for f in result.findings:
        if f.counts:
            per_component.setdefault(f.component, Counter())[f.severity] += 1
    rows = [
        _row(component, per_component.get(component.ref, Counter()))
        for component in result.components
    ]
    columns = _columns(result.components, rows)
    console.print(_plain(f"aiscan: {plural(len(result.components), 'component')}"))
    if not rows:
        return
    _print_table(console, columns, [[row[title] for title in columns] for row in rows])


def _print_table(console: Console, columns: list[str], cells: list[list[Text]]) -> None:
    """A table of `cells` under `columns` that breaks no word: fitted to the console, or below
    the narrowest such table a heading per row with its other cells under it."""
    from rich import box
    from rich.table import Table

    widths = _fit(console, columns, cells)
    if widths is not None:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for title, width in zip(columns, widths, strict=True):
            # rich counts a cell's padding (one column each side) in its width.
            table.add_column(title, width=width + 2, overflow="fold")
        for row_cells in cells:
            table.add_row(*row_cells)
        console.print(table)
        return
    # Too narrow for a table without breaking words: a heading per row, facts below.
    from rich.padding import Padding
    from rich.text import Text

    for row_cells in cells:
        console.print(row_cells[0])
        facts = Text(" · ").join(cell for cell in row_cells[1:] if cell.plain)
        console.print(Padding(facts, (0, 0, 0, _INDENT), expand=False))


def _print_services(console: Console, result: ScanResult) -> None:
    """The AI services beside the components: what is called, who runs it, where it is used."""
    if not result.services:
        return
    counts: dict[str | None, Counter[str]] = {}
    for f in result.findings:
        if f.counts:
            counts.setdefault(f.component, Counter())[f.severity] += 1
    console.print()
    console.print(_plain(f"aiscan: {plural(len(result.services), 'AI service')}"))
    cells = []
    for service in result.services:
        found = counts.get(service.ref, Counter())
        summary = ", ".join(
            plural(found[level], level) for level in ("error", "warning", "note") if found[level]
        )
        provider = service.provider + ("" if service.hosted else " (self-hosted)")
        cells.append(
            [_plain(service.label), _plain(provider), _plain(service.where), _plain(summary)]
        )
    _print_table(console, ["Service", "Provider", "Used at", "Findings"], cells)


_GAP = 3
"""Columns between two cells of the component table: padding, rule, padding."""


def _fit(console: Console, columns: list[str], cells: list[list[Text]]) -> list[int] | None:
    """Column widths that fit the console without breaking a word, or None when none do.

    Every column gets its longest word; the space left makes the columns that lack least
    whole first, so short cells stay on one line and only the longest wrap. (rich shrinks every column alike,
    cutting words in a narrow column while a wide one keeps spare room.)
    """
    from rich.measure import Measurement
    from rich.text import Text

    options = console.options
    mins, maxes = [], []
    for index, title in enumerate(columns):
        measures = [Measurement.get(console, options, Text(title))]
        measures += [Measurement.get(console, options, row[index]) for row in cells]
        mins.append(max(m.minimum for m in measures))
        maxes.append(max(m.maximum for m in measures))
    available = console.width - _GAP * (len(columns) - 1)
    if sum(mins) > available:
        return None
    spare = available - sum(mins)
    wants = [high - low for low, high in zip(mins, maxes, strict=True)]
    widths = list(mins)
    # Columns that lack least are made whole first (their cells on one line); the longest
    # ones get what is left and wrap.
    for index in sorted(range(len(columns)), key=lambda index: wants[index]):
        given = min(wants[index], spare)
        widths[index] += given
        spare -= given
    return widths


def _columns(components: Sequence[Component], rows: list[dict[str, Text]]) -> list[str]:
    """The columns worth showing: Type and Source only when they differ between rows, License
    (the effective license and its category) only when some component has license facts
    (`aiscan verify` reads bytes only), Weights only when some weights header was read."""
    columns = ["Component"]
    for title in ("Type", "Source"):
        if len({row[title].plain for row in rows}) > 1:
            columns.append(title)
    if any(
        c.card is not None or c.license.declared or c.license.detected or c.license.effective
        for c in components
    ):
        columns.append("License")
    if any(row["Weights"].plain for row in rows):
        columns.append("Weights")
    columns.append("Findings")
    return columns


def _row(component: Component, counts: Counter[str]) -> dict[str, Text]:
    from rich.text import Text

    summary = Text()
    for severity in ("error", "warning", "note"):
        if counts[severity]:
            if summary:
                summary.append(", ")
            summary.append(plural(counts[severity], severity), _STYLE[severity])
    name = _plain(component.name)
    if component.version:
        name.append(f"\n@{printable(component.version)}")
    return {
        "Component": name,
        "Type": _plain(component.type),
        "Source": _plain(SOURCE_LABELS.get(component.source, component.source)),
        "License": _plain(
            f"{component.license.effective} ({component.license.category})"
            if component.license.effective
            else component.license.category
        ),
        "Weights": _plain(_weights(component)),
        "Findings": summary or Text("clean", "green"),
    }


def _entries(findings: Sequence[Finding], *, group: bool) -> Iterator[_Shown]:
    """The findings to list, in their order; with `group`, one entry for all of a component's
    obligations under one license (each is in the JSON, SARIF and HTML reports, and `aiscan
    licenses show KEY` gives every clause)."""
    obligations: dict[tuple[str | None, str], list[Finding]] = {}
    for finding in findings:
        if group and finding.rule == "license.obligation" and finding.evidence.get("license"):
            obligations.setdefault((finding.component, finding.evidence["license"]), []).append(
                finding
            )
    listed: set[tuple[str | None, str]] = set()
    for finding in findings:
        key = (finding.component, str(finding.evidence.get("license")))
        if key not in obligations or finding.rule != "license.obligation":
            yield _Shown(finding, finding.message)
            continue
        if key in listed:
            continue
        listed.add(key)
        group_of = obligations[key]
        if len(group_of) == 1:
            yield _Shown(finding, finding.message)
            continue
        ids = ", ".join(dict.fromkeys(str(f.evidence.get("obligation")) for f in group_of))
        license_key = key[1]
        yield _Shown(
            finding,
            f"{license_key}: {ids} (`aiscan licenses show {license_key}` has each clause; "
            "-v lists them here)",
            count=len(group_of),
        )


def _print_finding(
    console: Console, entry: _Shown, names: dict[str | None, str], *, verbose: bool
) -> None:
    from rich.padding import Padding
    from rich.text import Text

    finding = entry.finding
    head = Text()
    head.append(finding.severity, _STYLE[finding.severity])
    if finding.waived is not None:
        head.append(" (waived)", "dim")
    elif finding.in_baseline:
        head.append(" (in baseline)", "dim")
    head.append("  ")
    head.append(printable(finding.rule), "bold")
    if entry.count > 1:
        head.append(f" ×{entry.count}")
    subject = names.get(finding.component, finding.component)
    if subject:
        head.append("  ")
        head.append(printable(subject))
    console.print(head)
    body: list[RenderableType] = [_plain(entry.message)]
    waiver = finding.waived
    if waiver is not None and (verbose or finding.severity != "note"):
        until = f" until {waiver.expires.isoformat()}" if waiver.expires else ""
        by = f", approved by {waiver.approved_by}" if waiver.approved_by else ""
        body.append(Text(printable(f"waived{until}{by}: {waiver.reason}"), "dim"))
    for renderable in body:
        console.print(Padding(renderable, (0, 0, 0, _INDENT), expand=False))


def _summary(result: ScanResult, *, hidden: int, floor: Severity) -> list[str]:
    """The closing lines: what was hashed, which policy judged, the counts and the exit code."""
    lines = []
    digests = [f for c in result.components for f in c.files if f.sha256 is not None]
    if digests:
        cached = sum(f.from_cache for f in digests)
        lines.append(
            f"hashed: {len(digests)} file(s), {cached} of them from the hash cache "
            "(unchanged device, inode, size, mtime and ctime)"
        )
    policy = f"policy: {result.policy or 'default'}"
    if result.waived_count:
        policy += f" — it waived {plural(result.waived_count, 'finding')}"
    if result.rules_off:
        policy += f"; rules off: {', '.join(result.rules_off)}"
    lines.append(policy)
    baselined = sum(f.in_baseline and f.waived is None for f in result.findings)
    counts = ", ".join(
        plural(result.count(severity), severity) for severity in ("error", "warning", "note")
    )
    extra = f", {baselined} in the baseline" if baselined else ""
    if hidden:
        extra += (
            f"; {plural(hidden, 'finding')} below {floor} not shown (--severity note lists them)"
        )
    lines.append(f"{counts}{extra}; failing on {result.fail_on} → exit {result.exit_code}")
    return lines


def _weights(component: Component) -> str:
    """Parameters and number formats of the weights headers read, and what `verify` checked:
    safetensors dtypes, a GGUF's quantisation (`general.file_type`, else its tensor types)."""
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
    weights = f"{_parameters(parameters)} params {'/'.join(sorted(kinds))}" if read else ""
    hashed = [f for f in component.files if f.sha256 is not None or f.verified is not None]
    if hashed:
        verified = sum(f.verified is True for f in hashed)
        mismatched = sum(f.verified is False for f in hashed)
        cached = sum(f.from_cache for f in hashed)
        weights += f"\n{verified}/{len(component.files)} files verified" + (
            f", {mismatched} mismatched" if mismatched else ""
        )
        weights += f" ({cached} from the hash cache)" if cached else ""
    return weights.strip("\n")


def _parameters(count: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


def _bold(value: str, color: bool) -> Text:
    from rich.text import Text

    return Text(value, "bold" if color else "")


def _plain(value: str) -> Text:
    """A cell shown as written: never parsed as rich markup (a card's `[link=…]` stays text),
    control characters escaped."""
    from rich.text import Text

    return Text(printable(value))
