"""Normalises the license metadata of Python distributions to SPDX expressions.

Packages describe their license in four places of differing precision: PEP 639
`License-Expression` (SPDX, exact), the free-text `License` field ("Apache 2.0", "BSD",
"GPLv3+", or a whole pasted license text), Trove classifiers ("License :: OSI Approved :: MIT
License") and license files shipped in the distribution. Each is read in that order and recorded
as evidence; the first precise answer wins. Names that only give a family ("BSD", "GPL") become
`LicenseRef-aiscan-<family>-unspecified`: the family's category is known, the exact terms are
not. Anything else stays unknown; nothing is guessed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from scanner.inventory import Evidence, LicenseFacts
from scanner.licensing.expressions import category_rank
from scanner.licensing.knowledge_base import LicenseKnowledgeBase, normalize_name

_FAMILIES = {
    # Family refs: the name says which family but not which version or variant.
    "LicenseRef-aiscan-BSD-unspecified": "permissive",
    "LicenseRef-aiscan-GPL-unspecified": "strong-copyleft",
    "LicenseRef-aiscan-LGPL-unspecified": "weak-copyleft",
    "LicenseRef-aiscan-AGPL-unspecified": "strong-copyleft",
    "LicenseRef-aiscan-public-domain": "permissive",
    "LicenseRef-aiscan-proprietary": "proprietary",
}

_NAMES = {
    # License field values and classifier abbreviations seen on PyPI, by `normalize_name` form.
    "LicenseRef-aiscan-BSD-unspecified": ("bsd", "bsd license", "bsd like", "bsd style"),
    "LicenseRef-aiscan-GPL-unspecified": ("gpl", "gnu gpl", "gnu general public license gpl"),
    "LicenseRef-aiscan-LGPL-unspecified": ("lgpl", "gnu lgpl"),
    "LicenseRef-aiscan-public-domain": ("public domain", "public domain dedication"),
    "LicenseRef-aiscan-proprietary": ("proprietary", "other proprietary license", "commercial"),
    "Apache-2.0": (
        "apache",
        "apache 2",
        "apache 2 0",
        "apache2",
        "apache license",
        "apache license 2",
        "apache license 2 0",
        "apache license version 2 0",
        "apache software license",
        "apache software license 2 0",
        "apache software license version 2 0",
        "asl 2 0",
        "asl2",
    ),
    "MIT": ("mit", "mit license", "the mit license", "mit licence", "expat", "expat license"),
    "BSD-3-Clause": (
        "bsd 3",
        "bsd 3 clause",
        "bsd 3 clause license",
        "3 clause bsd",
        "3 clause bsd license",
        "new bsd",
        "new bsd license",
        "modified bsd",
        "modified bsd license",
        "revised bsd",
        "bsd new",
    ),
    "BSD-2-Clause": ("bsd 2 clause", "2 clause bsd", "simplified bsd", "freebsd", "bsd 2"),
    "GPL-2.0-only": ("gplv2", "gpl v2", "gpl 2", "gpl 2 0", "gnu gpl v2", "gplv2 only"),
    "GPL-2.0-or-later": ("gplv2+", "gpl v2+", "gpl 2+", "gplv2 or later", "gpl 2 0 or later"),
    "GPL-3.0-only": (
        "gplv3",
        "gpl v3",
        "gpl 3",
        "gpl 3 0",
        "gnu gpl v3",
        "gnu gplv3",
        "gplv3 only",
    ),
    "GPL-3.0-or-later": ("gplv3+", "gpl v3+", "gpl 3+", "gplv3 or later", "gpl 3 0 or later"),
    "LGPL-2.0-only": ("lgplv2",),
    "LGPL-2.0-or-later": ("lgplv2+",),
    "LGPL-2.1-only": ("lgplv2 1", "lgpl 2 1", "lgpl v2 1"),
    "LGPL-2.1-or-later": ("lgplv2 1+", "lgpl 2 1+", "lgpl v2 1+"),
    "LGPL-3.0-only": ("lgplv3", "lgpl v3", "lgpl 3", "lgpl 3 0"),
    "LGPL-3.0-or-later": ("lgplv3+", "lgpl v3+", "lgpl 3+"),
    "AGPL-3.0-only": ("agplv3", "agpl v3", "agpl 3"),
    "AGPL-3.0-or-later": ("agplv3+", "agpl v3+"),
    "MPL-2.0": ("mpl 2 0", "mpl2", "mpl 2", "mozilla public license 2 0"),
    "PSF-2.0": (
        "psf",
        "psf license",
        "psfl",
        "psf 2 0",
        "python software foundation license",
        "python software foundation",
    ),
    "ISC": ("isc", "isc license", "iscl", "isc license iscl"),
    "HPND": ("hpnd", "historical permission notice and disclaimer"),
    "Zlib": ("zlib", "zlib libpng license", "zlib license"),
    "CC0-1.0": ("cc0", "cc0 1 0", "cc0 1 0 universal cc0 1 0 public domain dedication"),
    "Unlicense": ("unlicense", "the unlicense", "the unlicense unlicense"),
    "BSL-1.0": ("boost", "boost software license 1 0", "boost software license 1 0 bsl 1 0"),
    "EPL-2.0": ("epl 2 0", "eclipse public license 2 0", "eclipse public license 2 0 epl 2 0"),
    "UPL-1.0": ("upl", "universal permissive license upl"),
    "MIT-0": ("mit 0", "mit no attribution license mit 0"),
}
_BY_NAME = {alias: spdx for spdx, aliases in _NAMES.items() for alias in aliases}

_CLASSIFIERS = {
    # Trove license classifiers whose text is not a name in `_NAMES` (after "License :: ").
    "OSI Approved :: Apache Software License": "Apache-2.0",
    "OSI Approved :: BSD License": "LicenseRef-aiscan-BSD-unspecified",
    "OSI Approved :: GNU General Public License (GPL)": "LicenseRef-aiscan-GPL-unspecified",
    "OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "OSI Approved :: GNU Library or Lesser General Public License (LGPL)": (
        "LicenseRef-aiscan-LGPL-unspecified"
    ),
    "OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "OSI Approved :: MIT License": "MIT",
    "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "OSI Approved :: ISC License (ISCL)": "ISC",
    "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "OSI Approved :: zlib/libpng License": "Zlib",
    "OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "Public Domain": "LicenseRef-aiscan-public-domain",
    "Other/Proprietary License": "LicenseRef-aiscan-proprietary",
}

_TEXT_MARKERS = {
    # License texts the knowledge base has no entry for, recognised by their title line.
    "PSF-2.0": "python software foundation license version 2",
    "MPL-2.0": "mozilla public license version 2 0",
    "ISC": "permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted",
}

_SCANCODE_CATEGORIES = {
    "Permissive": "permissive",
    "Public Domain": "permissive",
    "Copyleft Limited": "weak-copyleft",
    "Copyleft": "strong-copyleft",
    "Proprietary Free": "proprietary",
    "Commercial": "proprietary",
    "Free Restricted": "restricted",
    "Source-available": "restricted",
}

_NO_VALUE = frozenset({"", "unknown", "none", "n a", "other", "see license", "license"})
_LONG_TEXT = 120
"""A License field longer than this (or spanning lines) is a pasted license text, not a name."""


@cache
def _scancode_index() -> tuple[dict[str, str], dict[str, str]]:
    """From ScanCode's license index shipped with license-expression: every SPDX id and alias
    (lower case) → its canonical SPDX id, and canonical id (lower case) → aiscan category.

    A plain dictionary instead of license-expression's SPDX `Licensing`, which takes longer to
    build than reading a whole environment's metadata.
    """
    from importlib.resources import files

    index = json.loads(
        files("license_expression").joinpath("data/scancode-licensedb-index.json").read_text()
    )
    canonical: dict[str, str] = {}
    categories: dict[str, str] = {}
    for entry in index:
        spdx = entry.get("spdx_license_key")
        if not spdx or spdx.startswith("LicenseRef-"):
            continue
        category = _SCANCODE_CATEGORIES.get(entry.get("category") or "", "unknown")
        categories.setdefault(spdx.lower(), category)
        for key in (spdx, *(entry.get("other_spdx_license_keys") or [])):
            if not key.startswith("LicenseRef-"):
                canonical.setdefault(key.lower(), spdx)
    return canonical, categories


def spdx_expression(value: str) -> str | None:
    """`value` as a canonical SPDX expression when every symbol is a known SPDX id, else None."""
    canonical, _ = _scancode_index()
    single = canonical.get(value.strip().lower())
    if single is not None:
        return single
    from license_expression import ExpressionError, LicenseSymbol, Licensing

    licensing = Licensing()
    try:
        parsed = licensing.parse(value, validate=False)
    except (ExpressionError, TypeError, ValueError):
        return None
    if parsed is None:
        return None
    mapping = {}
    for symbol in licensing.license_symbols(parsed, unique=True):
        known = canonical.get(symbol.key.lower())
        if known is None:
            return None
        mapping[symbol] = LicenseSymbol(known)
    return str(parsed.subs(mapping))


def license_category(expression: str | None, kb: LicenseKnowledgeBase) -> str:
    """Category of an SPDX expression: AND takes the most, OR the least restrictive term.

    A symbol's category comes from the knowledge base when it has an entry with that SPDX id,
    else from ScanCode's license index shipped with license-expression.
    """
    if not expression:
        return "unknown"
    from license_expression import Licensing

    licensing = Licensing()

    def symbol_category(key: str) -> str:
        if key in _FAMILIES:
            return _FAMILIES[key]
        kb_key = kb.identify_name(key)
        if kb_key is not None:
            return kb[kb_key].category
        return _scancode_index()[1].get(key.lower(), "unknown")

    def walk(node) -> str:
        if isinstance(node, licensing.AND | licensing.OR):
            categories = [walk(arg) for arg in node.args]
            pick = max if isinstance(node, licensing.AND) else min
            return pick(categories, key=category_rank)
        return symbol_category(node.key)

    return walk(licensing.parse(expression, validate=False))


@dataclass(frozen=True)
class _Reading:
    """What one metadata value says, and whether it names exact terms."""

    source: str
    value: str
    expression: str | None
    precise: bool


def _from_text(text: str, kb: LicenseKnowledgeBase) -> str | None:
    """Recognise a pasted or shipped license text; several matches are ANDed."""
    found: list[str] = []
    for key in kb.identify_text(text):
        spdx = kb[key].spdx_ref
        if spdx not in found:
            found.append(spdx)
    folded = normalize_name(text[:4000])
    for spdx, marker in _TEXT_MARKERS.items():
        if marker in folded and spdx not in found:
            found.append(spdx)
    return " AND ".join(found) if found else None


def name_to_spdx(value: str, kb: LicenseKnowledgeBase) -> str | None:
    """Map a license name as written in package metadata to an SPDX expression (or family ref)."""
    normalized = normalize_name(value)
    if normalized in _BY_NAME:
        return _BY_NAME[normalized]
    exact = spdx_expression(value)
    if exact is not None:
        return exact
    key = kb.identify_name(value)
    if key is not None:
        return kb[key].spdx_ref
    return None


def _classifier(classifier: str, kb: LicenseKnowledgeBase) -> str | None:
    text = classifier.removeprefix("License ::").strip()
    if text in _CLASSIFIERS:
        return _CLASSIFIERS[text]
    name = text.removeprefix("OSI Approved ::").strip()
    if "(" in name and name.endswith(")"):
        abbreviation = name[name.rindex("(") + 1 : -1]
        found = name_to_spdx(abbreviation, kb)
        if found is not None:
            return found
    return name_to_spdx(name, kb) if name != "OSI Approved" else None


def classifiers_to_spdx(value: str, kb: LicenseKnowledgeBase) -> str | None:
    """A package's license classifiers as declared (one `; `-joined value, as
    `resolve_package_license` records them) in SPDX terms, None unless every one maps."""
    classifiers = [c.strip() for c in value.split(";")]
    if not all(c.startswith("License ::") for c in classifiers):
        return None
    mapped = [_classifier(c, kb) for c in classifiers]
    known = [e for e in mapped if e is not None]
    return " AND ".join(dict.fromkeys(known)) if known and len(known) == len(mapped) else None


def _readings(
    license_expression: str | None,
    license_field: str | None,
    classifiers: Sequence[str],
    license_files: Sequence[tuple[str, str]],
    kb: LicenseKnowledgeBase,
) -> list[_Reading]:
    readings: list[_Reading] = []
    if license_expression and license_expression.strip():
        value = license_expression.strip()
        readings.append(_Reading("License-Expression", value, spdx_expression(value), True))
    field = (license_field or "").strip()
    if field and normalize_name(field) not in _NO_VALUE:
        if "\n" in field or len(field) > _LONG_TEXT:
            shown = field.splitlines()[0][:80] + " …"
            readings.append(_Reading("License (text)", shown, _from_text(field, kb), True))
        else:
            expression = name_to_spdx(field, kb)
            precise = expression is not None and expression not in _FAMILIES
            readings.append(_Reading("License", field, expression, precise))
    license_classifiers = [c for c in classifiers if c.startswith("License ::")]
    mapped = [(c, _classifier(c, kb)) for c in license_classifiers]
    known = [e for _, e in mapped if e is not None]
    if license_classifiers:
        # Several classifiers rarely say whether they are alternatives; AND never understates.
        joined = " AND ".join(dict.fromkeys(known)) if len(known) == len(mapped) else None
        precise = joined is not None and not any(e in _FAMILIES for e in known)
        readings.append(_Reading("classifiers", "; ".join(license_classifiers), joined, precise))
    if not any(r.expression and r.precise for r in readings):
        # Recognising texts is the slow part; it is only needed when the metadata is vague.
        for name, text in license_files:
            readings.append(_Reading(f"license file {name}", name, _from_text(text, kb), True))
    return readings


def resolve_package_license(
    *,
    license_expression: str | None,
    license_field: str | None,
    classifiers: Sequence[str],
    license_files: Sequence[tuple[str, str]],
    kb: LicenseKnowledgeBase,
) -> LicenseFacts:
    """The license facts of one distribution from its metadata, with evidence for each value.

    `declared` holds the metadata values as written, `detected` what the license files were
    recognised as (read only when the metadata gives no precise answer), `effective` the first
    precise SPDX expression in the order above (or a family ref when nothing more precise exists).
    """
    readings = _readings(license_expression, license_field, classifiers, license_files, kb)
    evidence = tuple(
        Evidence(r.source, f"{r.value} → {r.expression or 'not recognised'}") for r in readings
    )
    precise = [r for r in readings if r.expression and r.precise]
    vague = [r for r in readings if r.expression and not r.precise]
    chosen = next(iter(precise or vague), None)
    effective = chosen.expression if chosen else None
    detected = tuple(
        dict.fromkeys(
            r.expression for r in readings if r.source.startswith("license file") and r.expression
        )
    )
    declared = tuple(
        r.value
        for r in readings
        if not r.source.startswith("license file") and r.source != "License (text)"
    )
    if chosen is not None:
        evidence += (Evidence("conclusion", f"{effective} (from {chosen.source})"),)
    return LicenseFacts(
        declared=declared,
        detected=detected,
        effective=effective,
        category=license_category(effective, kb),
        evidence=evidence,
    )
