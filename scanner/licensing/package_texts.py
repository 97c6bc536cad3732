"""What the license texts shipped in a Python distribution say, part by part.

A distribution's license file (or a text pasted into its `License` field) is often several texts
in one: the package's own license, then "This binary distribution of SciPy can also bundle the
following software" or "Licenses for Third-Party Components" and the licenses of everything
vendored; sometimes a section of "Alternative licenses" some files may be used under instead.
Only the first part is the package's license. Bundled texts are evidence of what ships inside
the wheel, and an alternative offered "at your option" adds no duty, so neither becomes part of
the package's own license.

Short license notices are recognised here too, because a package file often carries the notice
and not the full text: "under the terms of the GNU Lesser General Public License ... either
version 3 of the License, or (at your option) any later version" is `LGPL-3.0-or-later`, which a
full GPL text alone could never say. Exceptions (GCC runtime, linking, Classpath, bootloader,
FOSS) are recognised by their wording and kept as SPDX `WITH` terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.licensing.knowledge_base import normalize_text

_BUNDLED_PATH = re.compile(
    r"(?i)(?:^|[/\\._-])(?:_?vendor(?:ed)?|third[_-]?party|3rd[_-]?party|bundled?|"
    r"external)(?:[/\\._-]|$)"
)
"""License files under such a path or name (`LICENSES_bundled.txt`, `LICENSES.third-party`,
`vendor/x/LICENSE`, `third_party/LICENSE`) describe something the package ships, not the package."""

_BUNDLED_HEADING = re.compile(r"\b(?:bundl\w*|third party|3rd party|vendor\w*)\b")
_ALTERNATIVE_HEADING = re.compile(r"\balternative licen")
_HEADING_LINES = 3
_HEADING_CHARS = 300
"""A paragraph this short that mentions bundling or third parties introduces the bundled part;
a long paragraph that says "third party" is a clause of a license (GPL, Apache) instead."""

_COMPONENT_START = re.compile(r"(?m)^[ \t]*Name:[ \t]*(\S.*)$")
_COMPONENT_LICENSE = re.compile(r"(?m)^[ \t]*License:[ \t]*(\S.*)$")
"""numpy-style bundled blocks: `Name: OpenBLAS` ... `License: BSD-3-Clause`."""

_GNU_NOTICE = re.compile(
    r"\b(?:under|of|with) (?:the )?(?:terms of (?:the )?)?"
    r"gnu (?:(lesser|library|affero) )?general public license"
    r"(?: as published by the free software foundation)?"
    r" (?:either )?version (\d)(?: (\d))?(?: of the license)?"
    r"( or at your option any later version| or any later version| or later)?"
)
_GNU_VERSIONS = frozenset({"GPL-2.0", "GPL-3.0", "LGPL-2.0", "LGPL-2.1", "LGPL-3.0", "AGPL-3.0"})
_HOW_TO_APPLY = re.compile(
    r"how to apply these terms to your new .*?(?:instead of this license|that s all there is to it|$)"
)
"""A notice says the work is under ("under the terms of", "licensed under", "in compliance with")
a GNU license; a list of licenses naming them (MPL-2.0's "Secondary License" definition) is no
notice. The GNU texts end with a sample notice ("either version 2 of the License, or (at your option)
any later version") for authors to copy: it is not the package's notice."""
_NOTICES = {
    # Short notices that name a license without carrying its text (normalised wording).
    "Apache-2.0": "licensed under the apache license version 2 0",
    "MPL-2.0": "mozilla public license version 2 0",
    "PSF-2.0": "python software foundation license version 2",
    "LicenseRef-scancode-matplotlib-1.3.0": "license agreement for matplotlib versions 1 3 0",
    "OFL-1.1": "sil open font license version 1 1",
    "FTL": "the freetype project license",
}

EXCEPTION_TEXTS = {
    # Exception id → phrases that all occur in its text (normalised). Ids are SPDX exception ids
    # (license-expression knows them) or ScanCode's; `LicenseRef-aiscan-openssl-exception` stands
    # for the many wordings of "permission to link this program with the OpenSSL library".
    "GCC-exception-3.1": ("gcc runtime library exception", "version 3 1"),
    "GCC-exception-2.0": (
        "unlimited permission to link the compiled version of this",
        "into combinations with other programs",
    ),
    "Bootloader-exception": ("link or embed compiled bootloader",),
    "Classpath-exception-2.0": (
        "linking this library statically or dynamically with other modules is making a combined",
        "permission to link this library with independent modules",
    ),
    "Universal-FOSS-exception-1.0": ("universal foss exception version 1 0",),
    "LLVM-exception": ("llvm exceptions to the apache 2 0 license",),
    "LicenseRef-aiscan-openssl-exception": ("permission to link", "with the openssl library"),
}


@dataclass(frozen=True)
class TextParts:
    """A license text cut into what governs the package and what describes other things."""

    own: str
    alternative: str
    bundled: str


def is_bundled_path(name: str) -> bool:
    """Whether a license file's path says it belongs to vendored or third-party code."""
    return _BUNDLED_PATH.search(name) is not None


def split_text(text: str) -> TextParts:
    """Cut `text` at its first short paragraph about bundled or third-party software (the rest
    is bundled) and at short "Alternative licenses" headings (what follows, up to the bundled
    part, is an alternative)."""
    own: list[str] = []
    alternative: list[str] = []
    current = own
    paragraphs = re.split(r"\n[ \t]*\n", text)
    for index, paragraph in enumerate(paragraphs):
        stripped = paragraph.strip()
        short = len(stripped) <= _HEADING_CHARS and stripped.count("\n") < _HEADING_LINES
        words = normalize_text(stripped) if short else ""
        if short and _BUNDLED_HEADING.search(words):
            return TextParts(
                "\n\n".join(own), "\n\n".join(alternative), "\n\n".join(paragraphs[index:])
            )
        if short and own and _ALTERNATIVE_HEADING.search(words):
            current = alternative
        current.append(paragraph)
    return TextParts("\n\n".join(own), "\n\n".join(alternative), "")


_ADDITIONALLY = re.compile(
    r"\badditionally (?:licensed|available|offered) (?:with|under) (?:the terms of )?(?:the )?"
    r"([a-z0-9 ]{2,40}?) licen[cs]e\b"
)
"""A part offered under another license too ("the PyInstaller.isolated submodule ... is
additionally licensed with the MIT license"): a choice for those files, no added term."""


def additional_offers(words: str) -> list[str]:
    """The license names (as `normalize_text` folds them) a text says some of its files are
    additionally licensed under, at the user's option."""
    return [match.group(1).strip() for match in _ADDITIONALLY.finditer(words)]


def notice_licenses(words: str) -> list[str]:
    """SPDX ids of the license notices in a text (as `normalize_text` folds it): GNU notices with
    their version and whether a later version may be chosen, and the short notices of
    `_NOTICES`."""
    words = _HOW_TO_APPLY.sub(" ", words)
    found: list[str] = []
    for match in _GNU_NOTICE.finditer(words):
        kind, major, minor, later = match.groups()
        family = {"lesser": "LGPL", "library": "LGPL", "affero": "AGPL"}.get(kind or "", "GPL")
        version = f"{family}-{major}.{minor or 0}"
        spdx = f"{version}-{'or-later' if later else 'only'}"
        if version in _GNU_VERSIONS and spdx not in found:
            found.append(spdx)
    for spdx, phrase in _NOTICES.items():
        if phrase in words and spdx not in found:
            found.append(spdx)
    return found


def exceptions_in(words: str) -> list[str]:
    """The exceptions whose wording occurs in a text (as `normalize_text` folds it)."""
    return [
        exception
        for exception, phrases in EXCEPTION_TEXTS.items()
        if all(phrase in words for phrase in phrases)
    ]


@dataclass(frozen=True)
class BundledComponent:
    """One thing a license text says is bundled: its name when given, and its license as the
    text states it (`License:` line) or as recognised."""

    name: str | None
    license: str | None
    text: str


def bundled_components(bundled: str) -> list[BundledComponent]:
    """The bundled part as numpy-style `Name:` blocks, or as one block when it has none."""
    starts = list(_COMPONENT_START.finditer(bundled))
    if not starts:
        return [BundledComponent(None, None, bundled)] if bundled.strip() else []
    blocks = []
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(bundled)
        block = bundled[start.start() : end]
        stated = _COMPONENT_LICENSE.search(block)
        blocks.append(
            BundledComponent(
                start.group(1).strip(), stated.group(1).strip() if stated else None, block
            )
        )
    return blocks
