"""Renders knowledge-base entries for `aiscan licenses list` and `aiscan licenses show`."""

from __future__ import annotations

import io
import json
from typing import Any

from scanner.licensing.knowledge_base import Clause, LicenseEntry, LicenseKnowledgeBase


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


def _console(buffer: io.StringIO, color: bool):
    from rich.console import Console

    return Console(
        file=buffer, force_terminal=color, no_color=not color, width=None if color else 120
    )


def render_license_list(kb: LicenseKnowledgeBase, output_format: str, *, color: bool) -> str:
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
    from rich.table import Table

    table = Table(title=f"{len(kb)} licenses in the aiscan knowledge base", title_justify="left")
    table.add_column("Key", no_wrap=True)
    for column in ("Name", "Category", "SPDX / LicenseRef id", "Commercial"):
        table.add_column(column, overflow="fold")
    for entry in kb.entries.values():
        table.add_row(
            entry.key,
            entry.name,
            entry.category,
            entry.spdx_ref,
            "yes" if entry.commercial_use else "no",
        )
    buffer = io.StringIO()
    _console(buffer, color).print(table)
    return buffer.getvalue()


def render_license(entry: LicenseEntry, output_format: str, *, show_text: bool, color: bool) -> str:
    """One entry, clause by clause, each with the section it comes from."""
    document = entry_document(entry)
    if output_format == "json":
        if show_text:
            document["text"] = entry.text
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    from rich.markup import escape

    buffer = io.StringIO()
    console = _console(buffer, color)
    console.print(f"[bold]{escape(entry.name)}[/bold] ({entry.key})")
    console.print(
        f"  id: {entry.spdx_ref}    category: {entry.category}    "
        f"commercial use: {'yes' if entry.commercial_use else 'no'}    "
        f"derivatives inherit: {'yes' if entry.derivatives_inherit else 'no'}"
    )
    if entry.url:
        console.print(f"  url: {escape(entry.url)}")
    text_state = (
        f"bundled ({entry.text_source})"
        if entry.text_file
        else f"not bundled; see {entry.text_source}"
    )
    console.print(f"  text: {escape(text_state or '')}")
    for title, clauses in (
        ("Conditions", entry.conditions),
        ("Obligations", entry.obligations),
        ("Restrictions", entry.restrictions),
    ):
        console.print(f"\n[bold]{title}[/bold]" + ("" if clauses else ": none"))
        for clause in clauses:
            extra = "".join(f" {k}={v:,}" for k, v in clause.parameters.items())
            console.print(
                f"  • {escape(f'[{clause.id}]')} §{escape(clause.section)}{extra}: {escape(clause.summary)}"
            )
            if clause.text:
                console.print(f'      text: "{escape(clause.text)}"')
            if clause.url:
                console.print(f"      url: {escape(clause.url)}")
    if show_text:
        console.print()
        console.print(
            escape(entry.text or f"(text not bundled; see {entry.text_source})"), markup=False
        )
    return buffer.getvalue()
