"""Package license normalisation: each metadata field in order, evidence, never a guess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.licensing.knowledge_base import default_knowledge_base
from scanner.licensing.python_licenses import license_category, resolve_package_license


def reference_text(key: str) -> str:
    """The SPDX list's full text of a license, as packages ship it (aiscan's replaceable and
    omittable marks removed): the matcher names full texts only, never an excerpt."""
    marked = (Path(__file__).parents[2] / f"licenses/reference/{key}.txt").read_text("utf-8")
    return re.sub(r"\{\{|\}\}|\[\[|\]\]", "", marked)


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
    bsd3 = reference_text("bsd-3-clause")
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


# Metadata of real distributions, field values copied from their wheels (texts cut to the
# paragraphs that matter; the wheels themselves are read by benchmarks/dependencies.py).

PSYCOPG2_LICENSE = """psycopg2 and the LGPL
---------------------

psycopg2 is free software: you can redistribute it and/or modify it
under the terms of the GNU Lesser General Public License as published
by the Free Software Foundation, either version 3 of the License, or
(at your option) any later version.

In addition, as a special exception, the copyright holders give
permission to link this program with the OpenSSL library (or with
modified versions of OpenSSL that use the same license as OpenSSL),
and distribute linked combinations including the two.


Alternative licenses
--------------------

The following BSD-like license applies (at your option) to the files following
the pattern ``psycopg/adapter*.{h,c}`` and ``psycopg/microprotocol*.{h,c}``:

 Permission is granted to anyone to use this software for any purpose,
 including commercial applications, and to alter it and redistribute it
 freely, subject to the following restrictions:

 1. The origin of this software must not be misrepresented; you must not
    claim that you wrote the original software. If you use this
    software in a product, an acknowledgment in the product documentation
    would be appreciated but is not required.

 2. Altered source versions must be plainly marked as such, and must not
    be misrepresented as being the original software.

 3. This notice may not be removed or altered from any source distribution.
"""


def test_psycopg2_lgpl_with_openssl_exception_not_its_zlib_alternative():
    facts = resolve(
        license_field="LGPL with exceptions",
        classifiers=[
            "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)"
        ],
        license_files=[("LICENSE", PSYCOPG2_LICENSE)],
    )
    assert facts.effective == "LGPL-3.0-or-later WITH LicenseRef-aiscan-openssl-exception"
    assert facts.category == "weak-copyleft"
    # The alternative is zlib's text without its "provided 'as-is'" paragraph: similar to
    # Zlib, so not named Zlib, and never part of the package's own license.
    assert "Zlib" not in facts.effective


BSD_2 = reference_text("bsd-2-clause")
ZERO_BSD = """Zero-Clause BSD
===============

Permission to use, copy, modify, and/or distribute this software for
any purpose with or without fee is hereby granted.

THE SOFTWARE IS PROVIDED “AS IS” AND THE AUTHOR DISCLAIMS ALL
WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES
OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE
FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY
DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN
AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT
OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""


def test_docutils_every_license_file_refines_the_classifier_families():
    facts = resolve(
        classifiers=[
            "License :: Public Domain",
            "License :: OSI Approved :: BSD License",
        ],
        license_files=[
            (
                "COPYING.rst",
                "Most of the files included in this project have been placed in the public domain.",
            ),
            ("licenses/BSD-0-Clause.rst", ZERO_BSD),
            ("licenses/BSD-2-Clause.rst", BSD_2),
        ],
    )
    assert facts.effective == "LicenseRef-aiscan-public-domain AND 0BSD AND BSD-2-Clause"
    assert facts.detected == ("0BSD", "BSD-2-Clause")


DATEUTIL_LICENSE = (
    """Copyright 2017- Paul Ganssle <paul@ganssle.io>

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.

The above license applies to all contributions after 2017-12-01, as well as
all contributions that have been re-licensed (see AUTHORS file for the list of
contributors who have re-licensed their code).
--------------------------------------------------------------------------------
dateutil - Extensions to the standard Python datetime module.

"""
    + reference_text("bsd-3-clause")
    + """
The above BSD License Applies to all code, even that also covered by Apache 2.0.
"""
)


def test_python_dateutil_keeps_both_licenses_of_its_file():
    facts = resolve(
        license_field="Dual License",
        classifiers=[
            "License :: OSI Approved :: BSD License",
            "License :: OSI Approved :: Apache Software License",
        ],
        license_files=[("LICENSE", DATEUTIL_LICENSE)],
    )
    assert facts.effective == "BSD-3-Clause AND Apache-2.0"
    assert facts.declared[0].startswith("License :: OSI Approved :: BSD License")


def test_a_part_additionally_licensed_under_mit_is_an_option_not_a_term():
    copying = (
        PYINSTALLER_COPYING
        + """
The PyInstaller.isolated submodule
----------------------------------

By request, the PyInstaller.isolated submodule and its corresponding tests are
additionally licensed with the MIT license so that it may be reused outside of
PyInstaller under GPL 2.0 or MIT terms and conditions -- whichever is the most
suitable to the recipient downstream project.

===========
MIT License
===========

"""
        + MIT_TEXT
    )
    facts = resolve(
        license_field="GPLv2-or-later with a special exception",
        license_files=[("COPYING.txt", copying)],
    )
    assert facts.effective == "GPL-2.0-or-later WITH Bootloader-exception"
    assert any(
        e.source == "alternative in COPYING.txt" and e.value.startswith("MIT, offered")
        for e in facts.evidence
    )


def test_or_commercial_is_the_open_license():
    facts = resolve(
        license_field="Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License"
    )
    assert facts.effective == "AGPL-3.0-only"
    assert facts.category == "strong-copyleft"
    assert any("Artifex Commercial License is an alternative" in e.value for e in facts.evidence)
    assert resolve(license_field="Commercial or Some Custom Terms v7").effective is None


def test_artistic_license_name_is_a_family_not_unknown():
    facts = resolve(
        license_field="Artistic License",
        classifiers=["License :: OSI Approved :: Artistic License"],
    )
    assert facts.effective == "LicenseRef-aiscan-Artistic-unspecified"
    assert facts.category == "weak-copyleft"


_SCIPY_TEXT = (
    """Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers.
All rights reserved.

"""
    + reference_text("bsd-3-clause")
    + """
----

This binary distribution of SciPy can also bundle the following software
(depending on the build):


Name: OpenBLAS
Files: scipy.libs/libscipy_openblas*.so
Description: bundled as a dynamically linked library
Availability: https://github.com/OpenMathLib/OpenBLAS/
License: BSD-3-Clause

Name: GCC runtime library
Files: scipy.libs/libgfortran*.so
Description: dynamically linked to files compiled with gcc
Availability: https://gcc.gnu.org/git/?p=gcc.git;a=tree;f=libgfortran
License: GPL-3.0-or-later WITH GCC-exception-3.1

  GNU GENERAL PUBLIC LICENSE
  Version 3, 29 June 2007
"""
)
# METADATA indents the continuation lines of a multi-line field, blank ones included.
SCIPY_FIELD = _SCIPY_TEXT.replace("\n", "\n" + " " * 9)


def test_scipy_bundled_gcc_runtime_is_evidence_not_its_license():
    facts = resolve(
        license_field=SCIPY_FIELD, classifiers=["License :: OSI Approved :: BSD License"]
    )
    assert facts.effective == "BSD-3-Clause"
    assert facts.category == "permissive"
    bundled = [e.value for e in facts.evidence if e.source == "bundled in License field"]
    assert bundled[0].startswith("OpenBLAS: BSD-3-Clause (permissive)")
    assert bundled[1].startswith(
        "GCC runtime library: GPL-3.0-or-later WITH GCC-exception-3.1 (weak-copyleft"
    )


def test_bundled_path_is_evidence():
    facts = resolve(
        license_expression=None,
        license_field="MIT",
        license_files=[
            ("LICENSE", MIT_TEXT),
            ("vendor/gpl-lib/COPYING", "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"),
        ],
    )
    assert facts.effective == "MIT"
    assert [e.source for e in facts.evidence if e.source.startswith("bundled")] == [
        "bundled in vendor/gpl-lib/COPYING"
    ]


PYGIT2_COPYING = """ pygit2 is Copyright (C) the pygit2 contributors,
 unless otherwise stated. See the AUTHORS.md file for details.

 Note that the only valid version of the GPL as far as this project
 is concerned is _this_ particular version of the license (ie v2, not
 v2.2 or v3.x or whatever), unless explicitly otherwise stated.

----------------------------------------------------------------------

			LINKING EXCEPTION

 In addition to the permissions in the GNU General Public License,
 the authors give you unlimited permission to link the compiled
 version of this library into combinations with other programs,
 and to distribute those combinations without any restriction
 coming from the use of this file.  (The General Public License
 restrictions do apply in other respects; for example, they cover
 modification of the file, and distribution when not linked into
 a combined executable.)

----------------------------------------------------------------------

""" + reference_text("gpl-2.0")

PYINSTALLER_COPYING = """PyInstaller is licensed under the terms of the GNU General Public License
as published by the Free Software Foundation; either version 2 of the License,
or (at your option) any later version.


Bootloader Exception
--------------------

In addition to the permissions in the GNU General Public License, the
authors give you unlimited permission to link or embed compiled bootloader
and related files into combinations with other programs, and to distribute
those combinations without any restriction coming from the use of those
files.
"""

MYSQL_LICENSE = (
    """Licensing Information

   This release of MySQL Connector/Python 26.10.0 Community is brought to
   you by the MySQL team at Oracle. This software is released under
   version 2 of the GNU General Public License (GPLv2), as set forth
   below, with the following additional permissions:

   Without limiting the foregoing grant of rights under the GPLv2 and
   additional permission as to separately licensed software, this
   Connector is also subject to the Universal FOSS Exception, version 1.0,
   a copy of which is reproduced below and can also be found along with
   its FAQ at http://oss.oracle.com/licenses/universal-foss-exception.

The following applies to all products licensed under the GNU General
Public License, Version 2.0: You may not use the identified files
except in compliance with the GNU General Public License, Version
2.0 (the "License.")

Licenses for Third-Party Components

   The following sections contain licensing information for libraries that
   may be included with this product.

"""
    + MIT_TEXT
)


@pytest.mark.parametrize(
    ("field", "classifiers", "files", "effective", "category"),
    [
        (
            "GPLv2 with linking exception",
            [],
            [("COPYING", PYGIT2_COPYING), ("AUTHORS.md", "Authors: ...")],
            "GPL-2.0-only WITH GCC-exception-2.0",
            "weak-copyleft",
        ),
        (
            "GPLv2-or-later with a special exception which allows to use PyInstaller to build and "
            "distribute non-free programs (including commercial ones)",
            ["License :: OSI Approved :: GNU General Public License v2 (GPLv2)"],
            [("COPYING.txt", PYINSTALLER_COPYING)],
            "GPL-2.0-or-later WITH Bootloader-exception",
            "weak-copyleft",
        ),
        (
            "GNU GPLv2 (with FOSS License Exception)",
            ["License :: OSI Approved :: GNU General Public License (GPL)"],
            [("LICENSE.txt", MYSQL_LICENSE)],
            "GPL-2.0-only WITH Universal-FOSS-exception-1.0",
            "strong-copyleft",
        ),
        # The License field alone: the exception stays, named as far as the words name it.
        (
            "GPLv2 with linking exception",
            [],
            [],
            "GPL-2.0-only WITH LicenseRef-aiscan-linking-exception",
            "weak-copyleft",
        ),
        (
            "GPL-3.0-or-later WITH GCC-exception-3.1",
            [],
            [],
            "GPL-3.0-or-later WITH GCC-exception-3.1",
            "weak-copyleft",
        ),
        (
            "GPLv3 with Classpath exception",
            [],
            [],
            "GPL-3.0-only WITH Classpath-exception-2.0",
            "weak-copyleft",
        ),
    ],
)
def test_exceptions_are_kept_and_change_the_category(
    field, classifiers, files, effective, category
):
    facts = resolve(license_field=field, classifiers=classifiers, license_files=files)
    assert facts.effective == effective
    assert facts.category == category
    assert any(e.source == "exception" for e in facts.evidence)


def test_license_expression_keeps_with_and_or_later_as_written():
    facts = resolve(license_expression="gpl-3.0-or-later with gcc-exception-3.1 OR mit")
    assert facts.effective == "GPL-3.0-or-later WITH GCC-exception-3.1 OR MIT"
    assert facts.category == "permissive"
    assert license_category(
        "GPL-2.0-or-later WITH Bootloader-exception", default_knowledge_base()
    ) == ("weak-copyleft")


def test_gnu_notice_or_later_beats_the_full_text_version():
    gpl2 = reference_text("gpl-2.0")  # ends with the appendix's sample "or any later" notice
    assert "any later version" in gpl2
    gpl2_title, sample = "", gpl2
    # The sample notice of the GPL's own appendix is not the package's notice.
    assert resolve(license_files=[("COPYING", gpl2)]).effective == "GPL-2.0-only"
    notice = (
        "This program is free software: under the terms of the GNU General Public License as "
        "published by the Free Software Foundation, either version 2 of the License, or (at your "
        "option) any later version.\n\n"
    )
    facts = resolve(license_files=[("COPYING", notice + gpl2_title + sample)])
    assert facts.effective == "GPL-2.0-or-later"


def test_licenses_a_text_only_names_are_no_notice():
    """MPL-2.0 defines its Secondary Licenses by naming three GNU licenses (pathspec ships it)."""
    mpl = (
        "Mozilla Public License Version 2.0\n==================================\n\n1.12. "
        '"Secondary License"\n    means either the GNU General Public License, Version 2.0, the '
        "GNU Lesser General Public License, Version 2.1, the GNU Affero General Public License, "
        "Version 3.0, or any later versions of those licenses.\n"
    )
    facts = resolve(
        classifiers=["License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)"],
        license_files=[("LICENSE", mpl)],
    )
    assert facts.effective == "MPL-2.0"
    third_party = resolve(license_field="MIT", license_files=[("LICENSES.third-party", mpl)])
    assert third_party.effective == "MIT"
    assert third_party.detected == ()


def test_a_file_that_opens_with_bundled_software_is_all_bundled():
    """shapely 2.1.2 ships LICENSE_GEOS beside its BSD-3-Clause LICENSE.txt."""
    geos = (
        "This binary distribution of pygeos also bundles the following software:\n\n"
        "Name: Geometry Engine Open Source (GEOS)\nFiles: libgeos-*.so.*, libgeos_c-*.so.*\n"
        "Availability: https://libgeos.org\nLicense: LGPL-2.1-only\n\n"
        "GNU LESSER GENERAL PUBLIC LICENSE\n Version 2.1, February 1999\n"
    )
    facts = resolve(
        license_field="BSD 3-Clause",
        classifiers=["License :: OSI Approved :: BSD License"],
        license_files=[("LICENSE.txt", BSD_2), ("LICENSE_GEOS", geos)],
    )
    assert "LGPL" not in (facts.effective or "")
    bundled = [e.value for e in facts.evidence if e.source == "bundled in LICENSE_GEOS"]
    assert bundled[0].startswith("Geometry Engine Open Source (GEOS): LGPL-2.1-only")


def test_scancode_index_is_kept_in_the_cache_folder_and_made_again_when_damaged(
    tmp_path, monkeypatch
):
    """ScanCode's index is folded once and kept beside the compiled knowledge base; a kept
    copy that is damaged or not of this fingerprint is folded again, never trusted."""
    import json

    from scanner.licensing import python_licenses

    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path))
    fold = python_licenses._folded_index
    folds = []

    def counted(folder):
        folds.append(folder)
        return fold(folder)

    monkeypatch.setattr(python_licenses, "_folded_index", counted)
    python_licenses._scancode_index.cache_clear()
    try:
        first = python_licenses._scancode_index()
        (kept,) = (tmp_path / "compiled").glob("scancode-*.json")
        python_licenses._scancode_index.cache_clear()
        assert python_licenses._scancode_index() == first and len(folds) == 1
        document = json.loads(kept.read_text("utf-8"))
        for damage in (
            json.dumps({**document, "canonical": {"mit": 7}}),
            json.dumps({**document, "categories": ["x"]}),
            json.dumps({**document, "fingerprint": "another"}),
            json.dumps({**document, "format": 0}),
            "{",
        ):
            kept.write_text(damage, "utf-8")
            python_licenses._scancode_index.cache_clear()
            assert python_licenses._scancode_index() == first
            assert json.loads(kept.read_text("utf-8")) == document  # written whole again
        assert len(folds) == 6
        assert first == fold(folds[0])
    finally:
        python_licenses._scancode_index.cache_clear()
