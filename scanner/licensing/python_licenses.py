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
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from scanner.inventory import Evidence, LicenseFacts
from scanner.licensing import package_texts
from scanner.licensing.expressions import category_rank
from scanner.licensing.knowledge_base import LicenseKnowledgeBase, normalize_name, normalize_text

_FAMILIES = {
    # Family refs: the name says which family but not which version or variant.
    "LicenseRef-aiscan-BSD-unspecified": "permissive",
    "LicenseRef-aiscan-GPL-unspecified": "strong-copyleft",
    "LicenseRef-aiscan-LGPL-unspecified": "weak-copyleft",
    "LicenseRef-aiscan-AGPL-unspecified": "strong-copyleft",
    "LicenseRef-aiscan-Artistic-unspecified": "weak-copyleft",
    "LicenseRef-aiscan-public-domain": "permissive",
    "LicenseRef-aiscan-proprietary": "proprietary",
}

_NAMES = {
    # License field values and classifier abbreviations seen on PyPI, by `normalize_name` form.
    "LicenseRef-aiscan-BSD-unspecified": ("bsd", "bsd license", "bsd like", "bsd style"),
    "LicenseRef-aiscan-GPL-unspecified": ("gpl", "gnu gpl", "gnu general public license gpl"),
    "LicenseRef-aiscan-LGPL-unspecified": ("lgpl", "gnu lgpl"),
    "LicenseRef-aiscan-Artistic-unspecified": (
        "artistic",
        "artistic license",
        "the artistic license",
    ),
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
    "GPL-2.0-or-later": (
        "gplv2+",
        "gpl v2+",
        "gpl 2+",
        "gplv2 or later",
        "gpl 2 0 or later",
        "gpl v2 or later",
        "gnu gplv2 or later",
    ),
    "GPL-3.0-only": (
        "gplv3",
        "gpl v3",
        "gpl 3",
        "gpl 3 0",
        "gnu gpl v3",
        "gnu gplv3",
        "gplv3 only",
    ),
    "GPL-3.0-or-later": (
        "gplv3+",
        "gpl v3+",
        "gpl 3+",
        "gplv3 or later",
        "gpl 3 0 or later",
        "gpl v3 or later",
        "gnu gplv3 or later",
    ),
    "LGPL-2.0-only": ("lgplv2",),
    "LGPL-2.0-or-later": ("lgplv2+",),
    "LGPL-2.1-only": ("lgplv2 1", "lgpl 2 1", "lgpl v2 1"),
    "LGPL-2.1-or-later": ("lgplv2 1+", "lgpl 2 1+", "lgpl v2 1+"),
    "LGPL-3.0-only": ("lgplv3", "lgpl v3", "lgpl 3", "lgpl 3 0"),
    "LGPL-3.0-or-later": ("lgplv3+", "lgpl v3+", "lgpl 3+"),
    "AGPL-3.0-only": (
        "agplv3",
        "agpl v3",
        "agpl 3",
        "agpl 3 0",
        "gnu agpl 3 0",
        "gnu affero gpl 3 0",
        "gnu agplv3",
    ),
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

_NO_VALUE = frozenset(
    {"", "unknown", "none", "n a", "other", "see license", "license", "dual license"}
)
"""License field values that name nothing ("Dual License": dual under what is not said)."""
_LONG_NAME = 120
"""A one-line License field longer than this that is no name is tried as a license text."""

_LINKING = "linking"
_FOSS = "foss"
_EXCEPTION_EFFECTS = {
    # What an exception changes for someone who uses the package in their own product.
    "GCC-exception-3.1": _LINKING,
    "GCC-exception-2.0": _LINKING,
    "GCC-exception-2.0-note": _LINKING,
    "Bootloader-exception": _LINKING,
    "Classpath-exception-2.0": _LINKING,
    "LLVM-exception": _LINKING,
    "LGPL-3.0-linking-exception": _LINKING,
    "GPL-3.0-linking-exception": _LINKING,
    "Independent-modules-exception": _LINKING,
    "LicenseRef-aiscan-linking-exception": _LINKING,
    "LicenseRef-aiscan-runtime-exception": _LINKING,
    "Universal-FOSS-exception-1.0": _FOSS,
    "LicenseRef-aiscan-foss-exception": _FOSS,
}
"""A linking or runtime exception lets other programs link, embed or be compiled with the
package's code without becoming covered by its copyleft, so a GPL term WITH one is weak
copyleft: the package's own files stay copyleft, programs using it do not. A FOSS exception
only frees programs that are themselves under an open-source license: for a proprietary product
the GPL still applies, so the category stays what the license's is."""

_NAMED_EXCEPTIONS = (
    # (words in a License field's "with ... exception" part, exception id), first match wins.
    ("classpath", "Classpath-exception-2.0"),
    ("gcc runtime library exception 3 1", "GCC-exception-3.1"),
    ("runtime library exception", "LicenseRef-aiscan-runtime-exception"),
    ("bootloader", "Bootloader-exception"),
    ("universal foss", "Universal-FOSS-exception-1.0"),
    ("foss", "LicenseRef-aiscan-foss-exception"),
    ("llvm", "LLVM-exception"),
    ("openssl", "LicenseRef-aiscan-openssl-exception"),
    ("link", "LicenseRef-aiscan-linking-exception"),
)
_UNNAMED_EXCEPTION = "LicenseRef-aiscan-exception"
"""A License field that says "with exceptions" without which: an exception exists, its terms
are unknown until a license file says them; it changes no category."""

_WITH_PHRASE = re.compile(
    r"(?i)^(?P<license>.+?)\s*[(\[,]?\s*(?:with|plus|\+)\s+"
    r"(?P<exception>.*?\bexceptions?\b.*?)[)\]]?\s*$"
)
_ALTERNATIVES = re.compile(r"(?i)\s+or\s+|\s*/\s*")
_DUAL_PREFIX = re.compile(r"(?i)^\s*(?:dual[ -]licen[sc]ed|dual licen[sc]e)\s*(?:[-:,]|under)?\s*")
_COMMERCIAL = re.compile(r"(?i)\b(?:commercial|proprietary)\b")


_SCANCODE_INDEX = "scancode-licensedb-index.json"
_KEPT_INDEX_FORMAT = 1
"""Bumped when the layout of the kept index (`_scancode_index`) changes."""


@cache
def _scancode_index() -> tuple[dict[str, str], dict[str, str]]:
    """From ScanCode's license index shipped with license-expression: every SPDX id, alias and
    `LicenseRef-scancode-*` key (lower case) → its canonical spelling, and canonical id (lower
    case) → aiscan category.

    A plain dictionary instead of license-expression's SPDX `Licensing`, which takes longer to
    build than reading a whole environment's metadata; kept in the user's cache folder as
    the compiled knowledge base is (`resources.fingerprint`: the index's folder and this
    file, by name, size and modification time), since reading ScanCode's 1 MB index and
    folding it is ~10 ms of every run that concludes a package's license.
    """
    from importlib.util import find_spec

    from scanner.resources import kept_place, read_cache_file, write_cache_file

    # The package's folder from its import spec: importlib.resources would import the package
    # and its own machinery first (~5 ms) to find the same file.
    spec = find_spec("license_expression")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("license_expression, a dependency of aiscan, is not installed")
    folder = Path(spec.origin).with_name("data")
    place = kept_place("scancode", _KEPT_INDEX_FORMAT, (Path(__file__),), folder)
    if place is None:
        return _folded_index(folder)  # no home folder to keep it in
    target, stamp = place
    kept = read_cache_file(target, _KEPT_INDEX_FORMAT, stamp)
    if kept is not None and _is_index(kept.get("canonical")) and _is_index(kept.get("categories")):
        return kept["canonical"], kept["categories"]
    index = _folded_index(folder)
    canonical, categories = index
    write_cache_file(
        target,
        {
            "format": _KEPT_INDEX_FORMAT,
            "fingerprint": stamp,
            "canonical": canonical,
            "categories": categories,
        },
    )
    return index


def _is_index(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _folded_index(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """`_scancode_index` computed from ScanCode's index in license-expression's `folder`."""
    index = json.loads(folder.joinpath(_SCANCODE_INDEX).read_bytes())
    canonical: dict[str, str] = {ref.lower(): ref for ref in _FAMILIES}
    canonical.update({ref.lower(): ref for ref in _EXCEPTION_EFFECTS})
    canonical[_UNNAMED_EXCEPTION.lower()] = _UNNAMED_EXCEPTION
    canonical["licenseref-aiscan-openssl-exception"] = "LicenseRef-aiscan-openssl-exception"
    categories: dict[str, str] = {}
    for entry in index:
        spdx = entry.get("spdx_license_key")
        if not spdx:
            continue
        category = _SCANCODE_CATEGORIES.get(entry.get("category") or "", "unknown")
        categories.setdefault(spdx.lower(), category)
        for key in (spdx, *(entry.get("other_spdx_license_keys") or [])):
            canonical.setdefault(key.lower(), spdx)
    return canonical, categories


def _licensing():
    from scanner.licensing.expressions import _licensing as shared

    return shared()


def _render(node, canonical: dict[str, str]) -> str | None:
    """An expression tree written back with canonical ids, `WITH` and `-or-later` as written;
    None when a symbol is not a known id."""
    licensing = _licensing()
    if isinstance(node, licensing.AND | licensing.OR):
        parts = []
        for arg in node.args:
            text = _render(arg, canonical)
            if text is None:
                return None
            nested = isinstance(arg, licensing.AND | licensing.OR) and type(arg) is not type(node)
            parts.append(f"({text})" if nested else text)
        return (" AND " if isinstance(node, licensing.AND) else " OR ").join(parts)
    if hasattr(node, "exception_symbol"):
        license = canonical.get(node.license_symbol.key.lower())
        exception = canonical.get(node.exception_symbol.key.lower())
        return f"{license} WITH {exception}" if license and exception else None
    return canonical.get(node.key.lower())


def spdx_expression(value: str) -> str | None:
    """`value` as a canonical SPDX expression when every symbol is a known id, else None."""
    canonical, _ = _scancode_index()
    single = canonical.get(value.strip().lower())
    if single is not None:
        return single
    from license_expression import ExpressionError

    try:
        parsed = _licensing().parse(value, validate=False)
    except (ExpressionError, TypeError, ValueError):
        return None
    return None if parsed is None else _render(parsed, canonical)


def _with_category(license_category: str, exception: str) -> str:
    if _EXCEPTION_EFFECTS.get(exception) == _LINKING and license_category == "strong-copyleft":
        return "weak-copyleft"
    return license_category


def license_category(expression: str | None, kb: LicenseKnowledgeBase) -> str:
    """Category of an SPDX expression: AND takes the most, OR the least restrictive term.

    A symbol's category comes from the knowledge base when it has an entry with that SPDX id,
    else from ScanCode's license index shipped with license-expression. A copyleft license
    `WITH` a linking or runtime exception is weak copyleft (`_EXCEPTION_EFFECTS`).
    """
    if not expression:
        return "unknown"
    licensing = _licensing()

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
        if hasattr(node, "exception_symbol"):
            return _with_category(
                symbol_category(node.license_symbol.key), node.exception_symbol.key
            )
        return symbol_category(node.key)

    return walk(licensing.parse(expression, validate=False))


def exception_note(expression: str | None) -> str | None:
    """What the exceptions in an expression mean for a product using the package, in words."""
    if not expression or " WITH " not in expression:
        return None
    notes = []
    for term in _conjuncts(expression):
        license, _, exception = term.partition(" WITH ")
        effect = _EXCEPTION_EFFECTS.get(exception)
        if effect == _LINKING:
            notes.append(
                f"{exception} lets programs link or be built with {license} code without "
                "becoming subject to its copyleft: weak copyleft for users"
            )
        elif effect == _FOSS:
            notes.append(
                f"{exception} lifts the copyleft of {license} only for works under an "
                "open-source license; a proprietary combination stays under it"
            )
        elif exception:
            notes.append(f"{exception} adds permissions to {license}; its category is kept")
    return "; ".join(notes) or None


@dataclass(frozen=True)
class _Reading:
    """What one metadata value or license file says, and whether it names exact terms."""

    source: str
    value: str
    expression: str | None
    precise: bool


def _conjuncts(expression: str) -> list[str]:
    """The top-level AND terms of an expression (an OR group stays one term, parenthesised)."""
    licensing = _licensing()
    parsed = licensing.parse(expression, validate=False)
    args = parsed.args if isinstance(parsed, licensing.AND) else (parsed,)
    terms = []
    for arg in args:
        text = str(arg)
        terms.append(f"({text})" if isinstance(arg, licensing.OR) else text)
    return terms


def _family(license: str) -> str:
    """The family a license id belongs to, for telling a refinement from another license:
    GPL-2.0-only and GPL-3.0-or-later are GPL, BSD-2-Clause and 0BSD are BSD, Matplotlib's
    PSF-based agreement is PSF."""
    upper = license.upper()
    for family in ("AGPL", "LGPL", "GPL", "BSD", "ARTISTIC"):
        if upper.startswith((family, f"LICENSEREF-AISCAN-{family}-")):
            return family
    if upper == "0BSD":
        return "BSD"
    if upper.startswith(("PSF", "PYTHON-", "CNRI-PYTHON", "LICENSEREF-SCANCODE-MATPLOTLIB")):
        return "PSF"
    if "PUBLIC-DOMAIN" in upper or upper in {"CC0-1.0", "UNLICENSE"}:
        return "PUBLIC-DOMAIN"
    return upper


def _version(license: str) -> str:
    return license.removesuffix("-only").removesuffix("-or-later").removesuffix("+")


def _merge_versions(terms: list[str]) -> list[str]:
    """Drop `X-only` where `X-or-later` of the same version is also found: a full GPL text says
    only its version, the notice beside it says whether later versions may be chosen."""
    later = {_version(t.partition(" WITH ")[0]) for t in terms if "-or-later" in t}
    return [t for t in terms if not (t.endswith("-only") and _version(t) in later)]


def _with_exceptions(terms: list[str], exceptions: list[str]) -> list[str]:
    """Attach the exceptions found in the same text to its GNU terms."""
    if not exceptions:
        return terms
    attached = []
    for term in terms:
        if _family(term) in {"GPL", "LGPL", "AGPL"} and " WITH " not in term:
            term = " AND ".join(f"{term} WITH {exception}" for exception in exceptions)
        attached.append(term)
    return attached


_SEPARATOR = re.compile(r"^[ \t]*[-=_*]{10,}[ \t]*$", re.MULTILINE)


@lru_cache(maxsize=4096)
def matched_parts(text: str) -> tuple[str, ...]:
    """The texts a license file is matched as: the whole file and, when a rule of dashes
    sets parts apart (pygit2's COPYING puts a notice and an exception before the full
    license text), each part on its own as well. Kept for the run, as `_split` is."""
    parts = [part for part in _SEPARATOR.split(text) if part.strip()]
    return (text, *parts) if len(parts) > 1 else (text,)


def _text_terms(text: str, kb: LicenseKnowledgeBase) -> list[str]:
    """The licenses a text (or one part of it) is recognised as, each an SPDX term."""
    found: list[str] = []
    for part in matched_parts(text):
        for key in kb.identify_text(part):
            spdx = kb[key].spdx_ref
            if spdx not in found:
                found.append(spdx)
    words = normalize_text(text)
    for spdx in package_texts.notice_licenses(words):
        if spdx not in found:
            found.append(spdx)
    terms = _merge_versions(found)
    return _with_exceptions(terms, package_texts.exceptions_in(words))


def _dedent_field(field: str) -> str:
    """A multi-line METADATA field without the indentation of its continuation lines."""
    first, _, rest = field.partition("\n")
    return f"{first}\n{textwrap.dedent(rest)}" if rest else first


def _exception_id(words: str) -> str:
    canonical, _ = _scancode_index()
    exact = canonical.get(words.strip().lower())
    if exact is not None and "exception" in exact.lower():
        return exact
    folded = normalize_name(words)
    return next((ex for phrase, ex in _NAMED_EXCEPTIONS if phrase in folded), _UNNAMED_EXCEPTION)


def _name_with_exception(value: str, kb: LicenseKnowledgeBase) -> str | None:
    """ "GPLv2 with linking exception", "GNU GPLv2 (with FOSS License Exception)"."""
    match = _WITH_PHRASE.match(value.strip())
    if match is None:
        return None
    license = name_to_spdx(match.group("license"), kb)
    if license is None or " " in license:
        return None
    return f"{license} WITH {_exception_id(match.group('exception'))}"


def _field_name(value: str, kb: LicenseKnowledgeBase) -> tuple[str | None, str | None]:
    """A License field value as an expression, and a note on a commercial alternative dropped.

    "Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License" is AGPL-3.0-only: the
    commercial license is an option a buyer may take, not a term on everyone else.
    """
    whole = name_to_spdx(value, kb) or _name_with_exception(value, kb)
    if whole is not None:
        return whole, None
    stripped = _DUAL_PREFIX.sub("", value).strip()
    parts = [p.strip() for p in _ALTERNATIVES.split(stripped) if p.strip()]
    if len(parts) < 2 and stripped == value.strip():
        return None, None
    open_terms: list[str] = []
    commercial: list[str] = []
    for part in parts:
        found = name_to_spdx(part, kb) or _name_with_exception(part, kb)
        if found is not None and found != "LicenseRef-aiscan-proprietary":
            open_terms.append(f"({found})" if " " in found and " WITH " not in found else found)
        elif _COMMERCIAL.search(part) or found == "LicenseRef-aiscan-proprietary":
            commercial.append(part)
        else:
            return None, None
    if not open_terms:
        return None, None
    note = None
    if commercial:
        note = (
            f"{' or '.join(commercial)} is an alternative offered for sale; the open license "
            f"{' OR '.join(open_terms)} is the one that applies without it"
        )
    return " OR ".join(open_terms), note


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


def _is_precise(expression: str | None) -> bool:
    return expression is not None and not any(ref in expression for ref in _FAMILIES)


@dataclass(frozen=True)
class _Texts:
    """What the license texts of a distribution say: the package's own license terms by text,
    and evidence of bundled and alternative licenses."""

    readings: list[_Reading]
    own: list[str]
    evidence: list[Evidence]


def _read_texts(texts: Sequence[tuple[str, str]], kb: LicenseKnowledgeBase, source: str) -> _Texts:
    readings: list[_Reading] = []
    own: list[str] = []
    evidence: list[Evidence] = []
    for name, text in texts:
        label = f"{source} {name}" if source == "license file" else source
        parts = _split(name, text)
        terms = _text_terms(parts.own, kb) if parts.own.strip() else []
        offered = _offered(parts.own, kb)
        terms = [t for t in terms if t not in offered]
        shown = name if source == "license file" else text.splitlines()[0][:80] + " …"
        expression = " AND ".join(terms) if terms else None
        readings.append(_Reading(label, shown, expression, True))
        own.extend(t for t in terms if t not in own)
        alternative = _text_terms(parts.alternative, kb) if parts.alternative.strip() else []
        alternative += [t for t in offered if t not in alternative]
        if alternative:
            evidence.append(
                Evidence(
                    f"alternative in {name}",
                    f"{' AND '.join(alternative)}, offered at the user's option for some files: "
                    "no term beyond the package's own license",
                )
            )
        for component in package_texts.bundled_components(parts.bundled):
            stated = spdx_expression(component.license) if component.license else None
            found = stated or " AND ".join(_text_terms(component.text, kb)) or None
            what = component.name or "bundled software"
            category = license_category(found, kb) if found else "unknown"
            note = exception_note(found)
            evidence.append(
                Evidence(
                    f"bundled in {name}",
                    f"{what}: {found or component.license or 'license not recognised'} "
                    f"({category}{'; ' + note if note else ''}); bundled code is not the "
                    "package's own license",
                )
            )
    return _Texts(readings, own, evidence)


@lru_cache(maxsize=4096)
def _split(name: str, text: str) -> package_texts.TextParts:
    """A license file's own terms, alternatives and bundled licenses (all bundled in a file
    whose path says it is a vendored package's). Kept for the run: the texts are split once
    to be matched ahead (`texts_to_match`) and once more to be concluded."""
    if package_texts.is_bundled_path(name):
        return package_texts.TextParts("", "", text)
    return package_texts.split_text(text)


def texts_to_match(
    license_field: str | None, license_files: Sequence[tuple[str, str]]
) -> list[str]:
    """The texts `resolve_package_license` may match for a distribution, and each whole
    license file (a source asks whether aiscan has its text), for
    `LicenseKnowledgeBase.identify_all` to answer ahead of them: the License field when it
    may be a pasted text, and every part of a license file that is matched on its own."""
    field = (license_field or "").strip()
    files = (
        [("License field", _dedent_field(field))]
        if "\n" in field or len(field) > _LONG_NAME
        else []
    )
    texts = [text for _, text in license_files]
    for name, text in [*files, *license_files]:
        parts = _split(name, text)
        bundled = [component.text for component in package_texts.bundled_components(parts.bundled)]
        for piece in (parts.own, parts.alternative, *bundled):
            texts.extend(matched_parts(piece) if piece.strip() else ())
    return texts


def _offered(text: str, kb: LicenseKnowledgeBase) -> list[str]:
    """SPDX ids of the licenses `text` says some files are additionally licensed under: their
    full texts in the file are an option, not the package's own terms."""
    offered = []
    for name in package_texts.additional_offers(normalize_text(text)):
        key = kb.identify_name(f"{name} license") or kb.identify_name(name)
        spdx = kb[key].spdx_ref if key else None
        if spdx and spdx not in offered:
            offered.append(spdx)
    return offered


def _refine(declared: str, found: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Combine a declared expression with the terms the package's own texts are recognised as.

    Each declared term is kept unless a text says more: a family ref ("BSD") becomes the texts'
    terms of that family (BSD-3-Clause), an unnamed or generic exception the exception the text
    words, and a declared id of the same family but another version or variant than the text
    (Matplotlib's PSF-based agreement declared as PSF-2.0) becomes what the text is. Returns the
    combined terms, the found terms it used and notes on what was replaced.
    """
    used: list[str] = []
    combined: list[str] = []
    notes: list[str] = []
    for term in _conjuncts(declared):
        if term.startswith("("):
            combined.append(term)
            continue
        license, _, exception = term.partition(" WITH ")
        same = [t for t in found if _family(t.partition(" WITH ")[0]) == _family(license)]
        if not same:
            combined.append(term)
            continue
        used.extend(t for t in same if t not in used)
        text_exceptions = [t.partition(" WITH ")[2] for t in same if " WITH " in t]
        if license in _FAMILIES:
            refined = same
        elif any(_version(t.partition(" WITH ")[0]) == _version(license) for t in same):
            refined = [license]
        else:
            refined = same
            notes.append(f"{license} is declared; the license text is {' AND '.join(same)}")
        if exception and exception not in (_UNNAMED_EXCEPTION,) and not text_exceptions:
            refined = [f"{r.partition(' WITH ')[0]} WITH {exception}" for r in refined]
        elif text_exceptions and (not exception or exception.startswith("LicenseRef-aiscan-")):
            refined = [
                f"{r.partition(' WITH ')[0]} WITH {ex}"
                if _family(r) in {"GPL", "LGPL", "AGPL"}
                else r
                for r in refined
                for ex in dict.fromkeys(text_exceptions)
            ]
        elif exception and " WITH " not in refined[0]:
            refined = [f"{r} WITH {exception}" for r in refined]
        combined.extend(r for r in refined if r not in combined)
    return combined, used, notes


def resolve_package_license(
    *,
    license_expression: str | None,
    license_field: str | None,
    classifiers: Sequence[str],
    license_files: Sequence[tuple[str, str]],
    kb: LicenseKnowledgeBase,
) -> LicenseFacts:
    """The license facts of one distribution from the whole of its metadata, with evidence.

    A valid PEP 639 `License-Expression` is the answer as written. Otherwise the License field
    (when it is a name) and then the classifiers declare the license, and every license text
    (the License field when it is a pasted text, every license file) refines and completes it:
    families become the exact ids the texts show, exceptions the texts word are kept, licenses
    of the package's own texts that nothing declared are added (AND never understates).
    Bundled third-party licenses and alternatives are evidence only. `declared` holds the
    metadata values as written, `detected` the licenses of the package's own texts.
    """
    readings: list[_Reading] = []
    notes: list[str] = []
    field = (license_field or "").strip()
    expression_value = (license_expression or "").strip()
    if expression_value:
        readings.append(
            _Reading(
                "License-Expression", expression_value, spdx_expression(expression_value), True
            )
        )
    pasted: list[tuple[str, str]] = []
    if field and normalize_name(field) not in _NO_VALUE:
        name, note = (None, None) if "\n" in field else _field_name(field, kb)
        if name is not None:
            readings.append(_Reading("License", field, name, _is_precise(name)))
            notes.extend([note] if note else [])
        elif "\n" in field or len(field) > _LONG_NAME:
            pasted.append(("License field", _dedent_field(field)))
        else:
            readings.append(_Reading("License", field, None, False))
    license_classifiers = [c for c in classifiers if c.startswith("License ::")]
    if license_classifiers:
        mapped = [_classifier(c, kb) for c in license_classifiers]
        known = [e for e in mapped if e is not None]
        # Several classifiers rarely say whether they are alternatives; AND never understates.
        joined = " AND ".join(dict.fromkeys(known)) if len(known) == len(mapped) else None
        readings.append(
            _Reading("classifiers", "; ".join(license_classifiers), joined, _is_precise(joined))
        )
    field_texts = _read_texts(pasted, kb, "License (text)")
    file_texts = _read_texts(license_files, kb, "license file")
    readings.extend(field_texts.readings)
    readings.extend(file_texts.readings)
    own = _merge_versions(list(dict.fromkeys([*field_texts.own, *file_texts.own])))
    effective, source = _conclude(readings, own, notes)
    evidence = [
        Evidence(r.source, f"{r.value} → {r.expression or 'not recognised'}") for r in readings
    ]
    evidence.extend(field_texts.evidence)
    evidence.extend(file_texts.evidence)
    evidence.extend(Evidence("note", note) for note in notes)
    if effective is not None:
        evidence.append(Evidence("conclusion", f"{effective} (from {source})"))
        explained = exception_note(effective)
        if explained:
            evidence.append(Evidence("exception", explained))
    declared = tuple(
        r.value
        for r in readings
        if not r.source.startswith("license file") and r.source != "License (text)"
    )
    return LicenseFacts(
        declared=declared,
        detected=tuple(own),
        effective=effective,
        category=license_category(effective, kb),
        evidence=tuple(evidence),
    )


def _conclude(readings: list[_Reading], own: list[str], notes: list[str]) -> tuple[str | None, str]:
    """The effective expression and which readings it comes from."""
    exact = next((r for r in readings if r.source == "License-Expression" and r.expression), None)
    if exact is not None and exact.expression is not None:
        return exact.expression, exact.source
    declarations = [r for r in readings if r.source in ("License", "classifiers") and r.expression]
    chosen = next((r for r in declarations if r.precise), None) or next(iter(declarations), None)
    if chosen is None or chosen.expression is None:
        if not own:
            return None, ""
        return _join(own), "license texts"
    combined, used, replaced = _refine(chosen.expression, own)
    notes.extend(replaced)
    extra = [t for t in own if t not in used and t not in combined]
    sources = [chosen.source] + (["license texts"] if used or extra else [])
    if extra:
        notes.append(
            f"the package's own license texts also say {' AND '.join(extra)}, which "
            f"{chosen.source} does not: added"
        )
    return _join([*combined, *extra]), " + ".join(sources)


def _join(terms: list[str]) -> str:
    """AND together top-level terms; a lone OR group loses its parentheses."""
    if len(terms) == 1:
        only = terms[0]
        return only[1:-1] if only.startswith("(") and only.endswith(")") else only
    return " AND ".join(f"({t})" if " OR " in t and not t.startswith("(") else t for t in terms)
