"""Package license normalisation: each metadata field in order, evidence, never a guess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.licensing.knowledge_base import default_knowledge_base
from scanner.licensing.python_licenses import license_category, resolve_package_license

MIT_TEXT = (
    "Copyright (c) 2020 Someone\n\nPermission is hereby granted, free of charge, to any person "
    'obtaining a copy of this software and associated documentation files (the "Software"), to '
    "deal in the Software without restriction, including without limitation the rights to use, "
    "copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and "
    "to permit persons to whom the Software is furnished to do so, subject to the following "
    "conditions:\n\nThe above copyright notice and this permission notice shall be included in "
    'all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", '
    "WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES "
    "OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL "
    "THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER "
    "IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE "
    "SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
)


def resolve(**fields):
    values = {
        "license_expression": None,
        "license_field": None,
        "classifiers": (),
        "license_files": (),
    }
    values.update(fields)
    return resolve_package_license(kb=default_knowledge_base(), **values)


def test_license_expression_wins_and_is_canonical():
    facts = resolve(
        license_expression="mit OR apache-2.0",
        license_field="GPL",
        classifiers=["License :: OSI Approved :: BSD License"],
    )
    assert facts.effective == "MIT OR Apache-2.0"
    assert facts.category == "permissive"
    assert [e.source for e in facts.evidence][:3] == [
        "License-Expression",
        "License",
        "classifiers",
    ]
    assert facts.evidence[-1].value.endswith("(from License-Expression)")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("Apache 2.0", "Apache-2.0"),
        ("Apache Software License", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("MIT License", "MIT"),
        ("GPLv3+", "GPL-3.0-or-later"),
        ("GPLv2", "GPL-2.0-only"),
        ("LGPLv2.1+", "LGPL-2.1-or-later"),
        ("new BSD", "BSD-3-Clause"),
        ("BSD-2-Clause", "BSD-2-Clause"),
        ("PSF", "PSF-2.0"),
        ("MPL 2.0", "MPL-2.0"),
        ("BSD-3-Clause OR Apache-2.0", "BSD-3-Clause OR Apache-2.0"),
    ],
)
def test_license_field_aliases(field, expected):
    assert resolve(license_field=field).effective == expected


def test_bare_bsd_is_a_family_not_a_guess_and_a_file_refines_it():
    vague = resolve(license_field="BSD")
    assert vague.effective == "LicenseRef-aiscan-BSD-unspecified"
    assert vague.category == "permissive"
    bsd3 = re.sub(
        r"\{\{|\}\}|\[\[|\]\]",
        "",
        (Path(__file__).parents[2] / "licenses/reference/bsd-3-clause.txt").read_text("utf-8"),
    )
    refined = resolve(license_field="BSD", license_files=[("LICENSE", bsd3)])
    assert refined.effective == "BSD-3-Clause"
    assert refined.detected == ("BSD-3-Clause",)


def test_pasted_license_text_in_license_field():
    facts = resolve(license_field=MIT_TEXT)
    assert facts.effective == "MIT"
    assert facts.evidence[0].source == "License (text)"


def test_classifiers_and_several_are_anded():
    facts = resolve(
        classifiers=[
            "Programming Language :: Python",
            "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        ]
    )
    assert facts.effective == "GPL-3.0-or-later"
    assert facts.category == "strong-copyleft"
    both = resolve(
        classifiers=[
            "License :: OSI Approved :: MIT License",
            "License :: OSI Approved :: Apache Software License",
        ]
    )
    assert both.effective == "MIT AND Apache-2.0"


def test_unknown_stays_unknown():
    facts = resolve(license_field="UNKNOWN", classifiers=["License :: OSI Approved"])
    assert facts.effective is None
    assert facts.category == "unknown"
    odd = resolve(license_field="Some Custom Terms v7")
    assert odd.effective is None
    assert odd.declared == ("Some Custom Terms v7",)


def test_invalid_license_expression_falls_through():
    facts = resolve(license_expression="Totally-Not-SPDX", license_field="MIT")
    assert facts.effective == "MIT"
    assert "not recognised" in facts.evidence[0].value


def test_category_of_ids_outside_the_knowledge_base():
    kb = default_knowledge_base()
    assert license_category("PSF-2.0", kb) == "permissive"
    assert license_category("GPL-2.0-or-later", kb) == "strong-copyleft"
    assert license_category("MIT OR GPL-3.0-only", kb) == "permissive"
    assert license_category("MIT AND GPL-3.0-only", kb) == "strong-copyleft"
