"""`aiscan diff` over other tools' BOMs: shapes modelled on aisbom-cli (a model per weights file,
its hash on the component), cyclonedx-py (`licenses[].license.acknowledgement: declared`,
PyPI names as the distribution spells them) and syft (`expression` licenses, top-level file
components); and the same scan as report, CycloneDX and SPDX comparing equal."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_model_dir, run_cli


def _write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _diff(old, new):
    result = run_cli("diff", old, new, "--format", "json")
    return result, json.loads(result.stdout)


def aisbom_style(digest: str) -> dict:
    """aisbom-cli: one machine-learning-model component per weights file, hashed itself."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"tools": {"components": [{"type": "application", "name": "aisbom-cli"}]}},
        "components": [
            {
                "type": "machine-learning-model",
                "bom-ref": "model.safetensors",
                "name": "model.safetensors",
                "version": "1.0",
                "hashes": [{"alg": "SHA-256", "content": digest}],
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "properties": [{"name": "aisbom:risk_level", "value": "LOW"}],
            }
        ],
    }


def test_aisbom_hash_change_under_one_version_is_integrity_drift(tmp_path):
    old = _write(tmp_path, "old.cdx.json", aisbom_style("a" * 64))
    new = _write(tmp_path, "new.cdx.json", aisbom_style("b" * 64))
    result, report = _diff(old, new)
    assert result.exit_code == 1
    assert report["integrity_drift"] is True and report["introduces_violation"] is False
    assert report["changes"] == [
        {
            "kind": "hash",
            "component": "model:model.safetensors",
            "old": "a" * 64,
            "new": "b" * 64,
            "detail": None,
        }
    ]
    table = run_cli("diff", old, new).stdout
    assert "INTEGRITY DRIFT" in table
    assert _diff(old, old)[0].exit_code == 0


def test_a_new_version_with_new_bytes_is_not_drift(tmp_path):
    newer = aisbom_style("b" * 64)
    newer["components"][0]["version"] = "2.0"
    result, report = _diff(
        _write(tmp_path, "old.json", aisbom_style("a" * 64)), _write(tmp_path, "new.json", newer)
    )
    assert result.exit_code == 0 and report["integrity_drift"] is False
    assert {c["kind"] for c in report["changes"]} == {"version", "hash"}


def cyclonedx_py_style(packages: dict[str, tuple[str, str]]) -> dict:
    """cyclonedx-py environment: libraries with `acknowledgement: declared` licenses."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"tools": {"components": [{"type": "application", "name": "cyclonedx-py"}]}},
        "components": [
            {
                "type": "library",
                "bom-ref": f"{name}=={version}",
                "name": name,
                "version": version,
                "purl": f"pkg:pypi/{name}@{version}",
                "licenses": [{"license": {"acknowledgement": "declared", "id": license_id}}],
            }
            for name, (version, license_id) in packages.items()
        ],
    }


def syft_style(packages: dict[str, tuple[str, str]]) -> dict:
    """syft: `expression` licenses, PEP 503 names in purls, a top-level file component."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"tools": {"components": [{"type": "application", "name": "syft"}]}},
        "components": [
            *(
                {
                    "type": "library",
                    "bom-ref": f"pkg:pypi/{name}@{version}?package-id=1",
                    "name": name,
                    "version": version,
                    "purl": f"pkg:pypi/{name.lower().replace('.', '-')}@{version}",
                    "licenses": [{"expression": license_id}],
                    "properties": [{"name": "syft:package:foundBy", "value": "python-package"}],
                }
                for name, (version, license_id) in packages.items()
            ),
            {
                "type": "file",
                "bom-ref": "file-1",
                "name": "/site-packages/boolean/boolean.py",
                "hashes": [{"alg": "SHA-256", "content": "c" * 64}],
            },
        ],
    }


PACKAGES = {"boolean.py": ("5.0", "BSD-2-Clause"), "license-expression": ("30.4.4", "Apache-2.0")}


def test_cyclonedx_py_declared_licenses_and_pep503_names_match_syft(tmp_path):
    cdx_py = _write(tmp_path, "py.cdx.json", cyclonedx_py_style(PACKAGES))
    syft = syft_style(PACKAGES)
    syft["components"] = syft["components"][:-1]
    result, report = _diff(cdx_py, _write(tmp_path, "syft.cdx.json", syft))
    assert result.exit_code == 0
    assert report["changes"] == []


def test_a_license_change_and_an_added_package_show_their_license(tmp_path):
    changed = {**PACKAGES, "boolean.py": ("5.0", "MIT"), "idna": ("3.7", "BSD-3-Clause")}
    _, report = _diff(
        _write(tmp_path, "old.json", cyclonedx_py_style(PACKAGES)),
        _write(tmp_path, "new.json", syft_style(changed)),
    )
    facts = {
        (c["kind"], c["component"], c["old"], c["new"], c["detail"]) for c in report["changes"]
    }
    assert facts == {
        ("license", "library:boolean-py", "BSD-2-Clause", "MIT", None),
        ("added", "library:idna", None, "3.7", "BSD-3-Clause"),
        ("added", "file:/site-packages/boolean/boolean.py", None, None, None),
    }


def test_an_aiscan_report_of_an_environment_matches_cyclonedx_py(tmp_path):
    """aiscan's installed-environment report against cyclonedx-py's BOM of the same packages:
    matched by purl with PEP 503 names, licenses compared as one SPDX value each."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for name, (version, license_id) in PACKAGES.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n"
            f"License-Expression: {license_id}\n"
        )
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "requirements.txt").write_text("boolean.py\nlicense-expression\n")
    report = tmp_path / "report.json"
    run_cli("scan", tmp_path, "--format", "json", "-o", report)
    libraries = {
        c["purl"] for c in json.loads(report.read_text())["components"] if c["type"] == "library"
    }
    # aiscan writes the PEP 503 name, cyclonedx-py the distribution's own: still one package
    assert libraries == {"pkg:pypi/boolean-py@5.0", "pkg:pypi/license-expression@30.4.4"}
    result, diff = _diff(report, _write(tmp_path, "py.cdx.json", cyclonedx_py_style(PACKAGES)))
    assert [c for c in diff["changes"] if c["kind"] in ("added", "removed", "license")] == []
    assert result.exit_code == 0


@pytest.mark.parametrize("bom_format", ["cyclonedx-json", "spdx-json", "spdx3-jsonld"])
def test_one_scan_as_report_and_as_bom_shows_no_change(tmp_path, bom_format):
    make_model_dir(
        tmp_path / "models",
        "m",
        card={"license": "apache-2.0", "datasets": ["acme/data"], "base_model": "org/base"},
    )
    report, bom = tmp_path / "report.json", tmp_path / "bom.json"
    run_cli("scan", tmp_path / "models", "--format", "json", "-o", report)
    run_cli("bom", tmp_path / "models", "--format", bom_format, "--no-hash", "-o", bom)
    for old, new in ((report, bom), (bom, report)):
        result, diff = _diff(old, new)
        assert diff["changes"] == [] and result.exit_code == 0


def test_new_findings_are_listed_one_by_one_with_their_message(tmp_path):
    make_model_dir(tmp_path / "v1", "m", card={"license": "apache-2.0"})
    old = tmp_path / "old.json"
    run_cli("scan", tmp_path / "v1", "--format", "json", "-o", old)
    make_model_dir(
        tmp_path / "v1", "m", card={"license": "apache-2.0"}, files={"a.bin": b"\x80\x02}q\x00."}
    )
    (tmp_path / "v1" / "m" / "b.pt").write_bytes(b"\x80\x02}q\x00.")
    new = tmp_path / "new.json"
    run_cli("scan", tmp_path / "v1", "--format", "json", "-o", new)
    messages = [
        f["message"]
        for f in json.loads(new.read_text())["findings"]
        if f["rule"] == "provenance.unsafe-format"
    ]
    assert len(messages) == 2
    _, diff = _diff(old, new)
    listed = [
        c["detail"]
        for c in diff["changes"]
        if c["kind"] == "new-finding" and c["new"].startswith("provenance.unsafe-format")
    ]
    assert sorted(listed) == sorted(messages)


def _with_licenses(name: str, *licenses: dict) -> dict:
    return {
        "type": "library",
        "bom-ref": name,
        "name": name,
        "version": "1.0",
        "purl": f"pkg:pypi/{name}@1.0",
        "licenses": [{"license": {"acknowledgement": "declared", **e}} for e in licenses],
    }


def test_license_notation_is_no_change_between_cyclonedx_py_and_aiscan(tmp_path):
    """cyclonedx-py writes each Trove classifier as a license name beside the License-Expression
    id; aiscan concludes one SPDX id. The same license in those notations is no change (mapped
    as aiscan's SPDX writers map classifiers, simplified with license-expression); a family
    classifier (`BSD License`) agrees with any BSD license; a different license still differs."""
    apache = "License :: OSI Approved :: Apache Software License"
    bsd = "License :: OSI Approved :: BSD License"
    old = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"tools": {"components": [{"type": "application", "name": "cyclonedx-py"}]}},
        "components": [
            _with_licenses("same-twice", {"id": "Apache-2.0"}, {"name": apache}),
            _with_licenses("classifier-only", {"name": apache}),
            _with_licenses("family", {"name": bsd}),
            _with_licenses("family-beside", {"id": "BSD-3-Clause"}, {"name": bsd}),
            _with_licenses("says-nothing", {"id": "MIT"}, {"name": "License :: OSI Approved"}),
            _with_licenses("changed", {"name": "License :: OSI Approved :: MIT License"}),
        ],
    }
    new = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"tools": {"components": [{"type": "application", "name": "syft"}]}},
        "components": [
            {**_with_licenses(name), "licenses": [{"expression": expression}]}
            for name, expression in {
                "same-twice": "Apache-2.0",
                "classifier-only": "Apache-2.0",
                "family": "BSD-2-Clause",
                "family-beside": "BSD-3-Clause",
                "says-nothing": "MIT",
                "changed": "Apache-2.0",
            }.items()
        ],
    }
    result, diff = _diff(_write(tmp_path, "old.json", old), _write(tmp_path, "new.json", new))
    assert [(c["kind"], c["component"], c["old"], c["new"]) for c in diff["changes"]] == [
        ("license", "library:changed", "MIT", "Apache-2.0")
    ]
    assert result.exit_code == 0  # a license change alone breaks no policy of these snapshots


@pytest.mark.parametrize(
    ("before", "after", "families", "same"),
    [
        ("MIT AND Apache-2.0", "Apache-2.0 AND MIT", False, True),
        ("MPL-2.0 AND MPL-2.0", "MPL-2.0", False, True),
        ("LicenseRef-aiscan-BSD-unspecified", "BSD-3-Clause", False, False),
        ("LicenseRef-aiscan-BSD-unspecified", "BSD-3-Clause", True, True),
        ("BSD-3-Clause AND LicenseRef-aiscan-BSD-unspecified", "BSD-3-Clause", True, True),
        ("LicenseRef-aiscan-BSD-unspecified", "MIT", True, False),
        ("LicenseRef-aiscan-GPL-unspecified", "GPL-2.0-only OR MIT", True, False),
        ("MIT", None, True, False),
    ],
)
def test_which_license_spellings_are_the_same(before, after, families, same):
    from scanner.diff import _same_license

    assert _same_license(before, after, families=families) is same
