"""Renders knowledge-base entries for `aiscan licenses list` and `aiscan licenses show`."""

from __future__ import annotations

import io
import json
from typing import Any

from scanner.formats.interface import Display
from scanner.licensing.knowledge_base import Clause, LicenseEntry, LicenseKnowledgeBase, cite


def _clause(clause: Clause) -> dict[str, Any]:
    data: dict[str, Any] = {"id": clause.id, "section": clause.section, "summary": clause.summary}
    if clause.text:
        data["text"] = clause.text
    if clause.url:
        data["url"] = clause.url
    data.update(clause.parameters)
    return data


def entry_document(entry: LicenseEntry) -> dict[str, Any]:
    """One entry as plain data."""
    return {
        "key": entry.key,
        "name": entry.name,
        "id": entry.spdx_ref,
        "spdx": entry.spdx,
        "scancode": entry.scancode,
        "url": entry.url,
        "category": entry.category,
        "commercial_use": entry.commercial_use,
        "derivatives_inherit": entry.derivatives_inherit,
        "aliases": list(entry.aliases),
        "text_bundled": entry.text_file is not None,
        "text_source": entry.text_source,
        "conditions": [_clause(c) for c in entry.conditions],
        "obligations": [_clause(c) for c in entry.obligations],
        "restrictions": [_clause(c) for c in entry.restrictions],
    }


def _console(buffer: io.StringIO, display: Display):
    from rich.console import Console

    return Console(
        file=buffer,
        width=max(display.width, 40),
        force_terminal=display.color,
        no_color=not display.color,
        color_system="standard" if display.color else None,
        highlight=False,
    )


def _without_trailing_blanks(text: str) -> str:
    """rich pads every cell to its column's width; trailing blanks only get in a copy's way."""
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def render_license_list(kb: LicenseKnowledgeBase, output_format: str, *, display: Display) -> str:
    """All entries: key, name, category, identifier."""
    if output_format == "json":
        rows = [
            {
                "key": e.key,
                "name": e.name,
                "category": e.category,
                "id": e.spdx_ref,
                "commercial_use": e.commercial_use,
            }
            for e in kb.entries.values()
        ]
        return json.dumps(rows, indent=2) + "\n"
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"{len(kb)} licenses in the aiscan knowledge base",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    # Keys, categories and ids are copied into policies: they never wrap; names do.
    table.add_column("Key", no_wrap=True)
    table.add_column("Name", ratio=1)
    table.add_column("Category", no_wrap=True)
    wide = display.width >= 120  # room for the id and the commercial-use flag too
    if wide:
        table.add_column("SPDX / LicenseRef id", no_wrap=True)
        table.add_column("Commercial use", no_wrap=True)
    for entry in kb.entries.values():
        more = [entry.spdx_ref, "yes" if entry.commercial_use else "no"] if wide else []
        table.add_row(entry.key, entry.name, entry.category, *more)
    buffer = io.StringIO()
    _console(buffer, display).print(table)
    return _without_trailing_blanks(buffer.getvalue())


def render_license(
    entry: LicenseEntry, output_format: str, *, show_text: bool, display: Display
) -> str:
    """One entry, clause by clause, each with the section it comes from."""
    document = entry_document(entry)
    if output_format == "json":
        if show_text:
            document["text"] = entry.text
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    from rich.padding import Padding
    from rich.text import Text

    buffer = io.StringIO()
    console = _console(buffer, display)

    def indented(text: str | Text, depth: int = 1) -> Padding:
        """A block whose wrapped lines stay under its first: hanging indents, never col 0."""
        return Padding(text, (0, 0, 0, 2 * depth), expand=False)

    console.print(Text.assemble((entry.name, "bold"), f" ({entry.key})"))
    flags = [
        f"id: {entry.spdx_ref}",
        f"category: {entry.category}",
        f"commercial use: {'yes' if entry.commercial_use else 'no'}",
        f"derivatives inherit: {'yes' if entry.derivatives_inherit else 'no'}",
    ]
    console.print(indented(Text(" · ".join(flags))))
    if entry.url:
        console.print(indented(Text(f"url: {entry.url}")))
    text_state = (
        f"bundled ({entry.text_source})"
        if entry.text_file
        else f"not bundled; see {entry.text_source}"
    )
    console.print(indented(Text(f"text: {text_state}")))
    if entry.use_policy_file is not None:
        console.print(indented(Text("acceptable use policy: bundled (aiscan notice passes it on)")))
    for title, clauses in (
        ("Conditions", entry.conditions),
        ("Obligations", entry.obligations),
        ("Restrictions", entry.restrictions),
    ):
        console.print()
        console.print(Text(title + ("" if clauses else ": none"), "bold"))
        for clause in clauses:
            extra = "".join(f" {k}={v:,}" for k, v in clause.parameters.items())
            console.print(indented(Text(f"{clause.id} ({cite(clause.section)}){extra}", "bold")))
            console.print(indented(Text(clause.summary), 2))
            if clause.text:
                console.print(indented(Text(f'text: "{clause.text}"'), 2))
            if clause.url:
                console.print(indented(Text(f"url: {clause.url}"), 2))
    if show_text:
        console.print()
        console.print(Text(entry.text or f"(text not bundled; see {entry.text_source})"))
    return _without_trailing_blanks(buffer.getvalue())
