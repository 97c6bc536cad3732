"""Maps `--format` names to format classes, importing each only when chosen."""

from __future__ import annotations

from importlib import import_module

from scanner.formats.interface import ReportFormat

FORMATS: dict[str, str] = {
    "table": "scanner.formats.table:TableFormat",
    "json": "scanner.formats.json:JsonFormat",
}


def get_format(name: str) -> ReportFormat:
    """Instantiate the format registered under `name`."""
    module_name, class_name = FORMATS[name].split(":")
    return getattr(import_module(module_name), class_name)()
