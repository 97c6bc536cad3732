"""`aiscan diff` on SPDX 2.3 JSON and SPDX 3.0.1 JSON-LD BOMs, alone and mixed with CycloneDX.

Documents come from the real writers (`aiscan bom --format …`); only the general-SPDX test
writes a document by hand, as another tool would.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from tests.conftest import make_model_dir, run_cli, write_safetensors

FINDINGS = ("new-finding", "resolved-finding")


def _bom(tmp_path, name, folder, output_format):
    out = tmp_path / name
    result = run_cli("bom", folder, "--format", output_format, "-o", out)
    assert result.exit_code == 0, result.stderr
    return out


def _diff(old, new):
    result = run_cli("diff", old, new, "--format", "json")
    return result, json.loads(result.stdout)["changes"]


def _facts(changes):
    """The changes that are not findings, as (kind, component, old, new)."""
    return {
        (c["kind"], c["component"], c["old"], c["new"])
        for c in changes
        if c["kind"] not in FINDINGS
    }


def _readme_hash(folder):
    return hashlib.sha256((folder / "README.md").read_bytes()).hexdigest()


@pytest.mark.parametrize("output_format", ["spdx-json", "spdx3-jsonld"])
def test_license_change_in_the_card(tmp_path, output_format):
    folder = make_model_dir(tmp_path / "models", "m", card={"license": "apache-2.0"})
    old_readme = _readme_hash(folder)
    old = _bom(tmp_path, "old.json", tmp_path / "models", output_format)
    make_model_dir(tmp_path / "models", "m", card={"license": "cc-by-nc-4.0"})
    new = _bom(tmp_path, "new.json", tmp_path / "models", output_format)
    result, changes = _diff(old, new)
    assert result.exit_code == 1  # non-commercial terms break the default policy
    assert _facts(changes) == {
        ("declared", "model:m", "Apache-2.0", "CC-BY-NC-4.0"),
        ("effective", "model:m", "Apache-2.0", "CC-BY-NC-4.0"),
        ("hash", "model:m/README.md", old_readme, _readme_hash(folder)),
    }
    new_findings = {(c["component"], c["new"]) for c in changes if c["kind"] == "new-finding"}
    assert ("model:m", "license.noncommercial (error)") in new_findings


@pytest.mark.parametrize("output_format", ["spdx-json", "spdx3-jsonld"])
def test_new_weight_bytes_are_a_hash_change_only(tmp_path, output_format):
    folder = make_model_dir(tmp_path / "models", "m")
    old = _bom(tmp_path, "old.json", tmp_path / "models", output_format)
    before = json.loads(run_cli("diff", old, old, "--format", "json").stdout)
    assert before["changes"] == []
    write_safetensors(folder / "model.safetensors", {"weight": np.ones((2, 2), dtype=np.float32)})
    new = _bom(tmp_path, "new.json", tmp_path / "models", output_format)
    result, changes = _diff(old, new)
    assert result.exit_code == 1  # the same (unversioned) model now has other bytes
    assert json.loads(result.stdout)["integrity_drift"] is True
    assert [(c["kind"], c["component"]) for c in changes] == [("hash", "model:m/model.safetensors")]
    assert changes[0]["old"] != changes[0]["new"]


@pytest.mark.parametrize("output_format", ["spdx-json", "spdx3-jsonld"])
def test_added_model(tmp_path, output_format):
    make_model_dir(tmp_path / "models", "m")
    old = _bom(tmp_path, "old.json", tmp_path / "models", output_format)
    make_model_dir(tmp_path / "models", "extra", card={"license": "mit"})
    new = _bom(tmp_path, "new.json", tmp_path / "models", output_format)
    result, changes = _diff(old, new)
    assert result.exit_code == 0
    assert _facts(changes) == {("added", "model:extra", None, None)}
    assert {c["component"] for c in changes if c["kind"] in FINDINGS} <= {"model:extra"}


@pytest.mark.parametrize("old_format", ["spdx-json", "spdx3-jsonld"])
def test_spdx_against_cyclonedx(tmp_path, old_format):
    """Licenses are SPDX ids on one side and knowledge-base keys on the other: the same scan
    shows no change, and a real change is shown in SPDX terms."""
    folder = make_model_dir(tmp_path / "models", "m", card={"license": "llama2"})
    old = _bom(tmp_path, "old.json", tmp_path / "models", old_format)
    same = _bom(tmp_path, "same.cdx.json", tmp_path / "models", "cyclonedx-json")
    assert _diff(old, same)[1] == [] and _diff(same, old)[1] == []
    write_safetensors(folder / "model.safetensors", {"weight": np.ones((2, 2), dtype=np.float32)})
    make_model_dir(tmp_path / "models", "m", card={"license": "mit"}, weights=None)  # card only
    new = _bom(tmp_path, "new.cdx.json", tmp_path / "models", "cyclonedx-json")
    result, changes = _diff(old, new)
    assert result.exit_code == 1  # new bytes under the same version: integrity drift
    llama = "LicenseRef-scancode-llama-2-license-2023"
    assert {(k, c, o, n) for k, c, o, n in _facts(changes) if k != "hash"} == {
        ("declared", "model:m", llama, "MIT"),
        ("effective", "model:m", llama, "MIT"),
    }
    assert {c for k, c, _, _ in _facts(changes) if k == "hash"} == {
        "model:m/README.md",
        "model:m/model.safetensors",
    }
    assert any(
        c["kind"] == "resolved-finding" and "license.mau-threshold" in c["old"] for c in changes
    )


def test_spdx2_against_spdx3_and_report(tmp_path):
    make_model_dir(tmp_path / "models", "m", card={"license": "apache-2.0", "datasets": ["a/b"]})
    spdx2 = _bom(tmp_path, "b.spdx.json", tmp_path / "models", "spdx-json")
    spdx3 = _bom(tmp_path, "b.spdx3.json", tmp_path / "models", "spdx3-jsonld")
    assert _diff(spdx2, spdx3)[1] == [] and _diff(spdx3, spdx2)[1] == []
    report = tmp_path / "report.json"
    run_cli("scan", tmp_path / "models", "--format", "json", "-o", report)
    # a BOM also lists the dataset the card names, marked as only named: not a change
    assert _diff(report, spdx3)[1] == [] and _diff(spdx2, report)[1] == []


def _general_spdx2(version: str, digest: str) -> dict:
    """An SPDX 2.3 document as another tool might write it: a File element with CONTAINS,
    a purl, and a package name that differs from the purl's."""
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "other tool",
        "documentNamespace": f"https://example.org/{version}",
        "packages": [
            {
                "SPDXID": f"SPDXRef-torch-{version}",
                "name": "PyTorch",
                "versionInfo": version,
                "primaryPackagePurpose": "LIBRARY",
                "licenseConcluded": "BSD-3-Clause",
                "licenseDeclared": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:pypi/torch@{version}",
                    }
                ],
            }
        ],
        "files": [
            {
                "SPDXID": "SPDXRef-init",
                "fileName": "./torch/__init__.py",
                "checksums": [
                    {"algorithm": "SHA1", "checksumValue": "0" * 40},
                    {"algorithm": "SHA256", "checksumValue": digest},
                ],
            }
        ],
        "relationships": [
            {
                "spdxElementId": f"SPDXRef-torch-{version}",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": "SPDXRef-init",
            }
        ],
    }


def test_any_spdx2_document_is_keyed_by_purl(tmp_path):
    old, new = tmp_path / "old.spdx.json", tmp_path / "new.spdx.json"
    old.write_text(json.dumps(_general_spdx2("2.3.0", "a" * 64)))
    new.write_text(json.dumps(_general_spdx2("2.4.0", "b" * 64)))
    result, changes = _diff(old, new)
    assert result.exit_code == 0
    assert [(c["kind"], c["component"], c["old"], c["new"]) for c in changes] == [
        ("version", "library:torch", "2.3.0", "2.4.0"),
        ("hash", "library:torch/torch/__init__.py", "a" * 64, "b" * 64),
    ]


@pytest.mark.parametrize(
    "document",
    [
        {"spdxVersion": "SPDX-2.2", "packages": []},
        {"@context": "https://example.org/context.jsonld", "@graph": []},
        [],
    ],
)
def test_unknown_json_document_is_a_usage_error(tmp_path, document):
    model = make_model_dir(tmp_path / "models", "m")
    bom = _bom(tmp_path, "b.spdx.json", model.parent, "spdx-json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(document))
    result = run_cli("diff", bom, other)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "\n" not in message and str(other) in message
    assert "SPDX 2.3 JSON" in message and "SPDX 3.0.1 JSON-LD" in message
