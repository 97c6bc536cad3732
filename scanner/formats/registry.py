"""Maps `--format` names to format classes, importing each only when chosen."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.formats.interface import ReportFormat

FORMATS: dict[str, str] = {
    "table": "scanner.formats.table:TableFormat",
    "json": "scanner.formats.json:JsonFormat",
    "sarif": "scanner.formats.sarif:SarifFormat",
    "markdown": "scanner.formats.markdown:MarkdownFormat",
    "html": "scanner.formats.html:HtmlFormat",
    "cyclonedx-json": "scanner.formats.cyclonedx:CycloneDxJsonFormat",
    "cyclonedx-xml": "scanner.formats.cyclonedx:CycloneDxXmlFormat",
    "spdx-json": "scanner.formats.spdx:SpdxJsonFormat",
    "spdx-tv": "scanner.formats.spdx:SpdxTagValueFormat",
    "spdx3-jsonld": "scanner.formats.spdx3:Spdx3JsonLdFormat",
}


BOM_FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tv", "spdx3-jsonld")
"""The formats `aiscan bom` writes: AI-BOMs, each validated against its specification."""
CYCLONEDX_SPEC_VERSIONS = ("1.6", "1.7")
"""Here rather than in `cyclonedx.py` so the CLI can offer them without importing the library."""


def get_format(name: str, **options: object) -> ReportFormat:
    """Instantiate the format registered under `name`; `options` go to its constructor
    (e.g. `spec_version` for CycloneDX, `source_root` and `hashes` for SARIF)."""
    module_name, class_name = FORMATS[name].split(":")
    return getattr(import_module(module_name), class_name)(**options)
