"""The project source's model inventories: `aiscan.lock`, `*.cdx.json` and `bom.json` at the root
name the models its code may load; one that cannot be read is `scan.unreadable`, never ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import findings, scan_json

PINNED = "0123456789abcdef0123456789abcdef01234567"


def _project(root: Path, inventory: str, content: str | None) -> Path:
    root.mkdir()
    (root / "train.py").write_text(
        "from transformers import AutoModel\n"
        f"m = AutoModel.from_pretrained('org/declared', revision='{PINNED}')\n"
    )
    if content is not None:
        (root / inventory).write_text(content)
    return root


def _cyclonedx_naming(name: str) -> str:
    model = {"type": "machine-learning-model", "name": name}
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "components": [{"type": "application", "name": "app", "components": [model]}],
        }
    )


@pytest.mark.parametrize(
    "inventory,content",
    [
        ("bom.json", _cyclonedx_naming("org/declared")),
        ("model.cdx.json", _cyclonedx_naming("ORG/Declared")),
        (
            "aiscan.lock",
            json.dumps(
                {
                    "schema": "aiscan-lock/1",
                    "components": [
                        {"ref": "model:hf/org/declared", "name": "org/declared", "files": []}
                    ],
                }
            ),
        ),
    ],
)
def test_an_inventory_declares_the_models_it_names(tmp_path, inventory, content):
    result, report = scan_json(_project(tmp_path / "proj", inventory, content))
    assert report["findings"] == [], report["findings"]
    (reference,) = [c for c in report["components"] if c["source"] == "code"]
    assert reference["code_reference"]["declared_in"] == [inventory]
    assert result.exit_code == 0


HOSTILE = {
    "10000-deep": (
        '{"bomFormat": "CycloneDX", "components": '
        + '[{"type": "library", "name": "x", "components": ' * 10_000
        + "[]"
        + "}]" * 10_000
        + "}",
        "nested too deeply to read",
    ),
    "huge-integer": (
        '{"bomFormat": "CycloneDX", "components": [{"type": "library", "name": '
        + "9" * 5000
        + "}]}",
        "not valid JSON",
    ),
    "wrong-types": (
        json.dumps(
            {"bomFormat": "CycloneDX", "components": [{"type": "library", "name": 10**4000}]}
        ),
        "malformed CycloneDX BOM: components[0].name must be a string",
    ),
    "not-json": ("{", "not valid JSON"),
    "not-cyclonedx": (json.dumps({"spdxVersion": "SPDX-2.3"}), "not a CycloneDX JSON BOM"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_broken_bom_is_reported_not_skipped(tmp_path, case):
    content, message = HOSTILE[case]
    result, report = scan_json(_project(tmp_path / "proj", "bom.json", content))  # no traceback
    (hit,) = findings(report, "scan.unreadable")
    assert hit["component"] == "file:inventory/bom.json"
    assert hit["message"].startswith("bom.json: ") and message in hit["message"]
    assert hit["message"].endswith("its models are not read") and len(hit["message"]) < 400
    assert findings(report, "provenance.undeclared-model")  # and so the model is undeclared
    assert result.exit_code == 1  # scan.unreadable is an error finding, as for any unreadable file


def test_a_broken_lock_file_is_reported(tmp_path):
    lock = json.dumps({"schema": "aiscan-lock/1", "components": [{"name": "org/declared"}]})
    _, report = scan_json(_project(tmp_path / "proj", "aiscan.lock", lock))
    (hit,) = findings(report, "scan.unreadable")
    assert hit["message"] == (
        "aiscan.lock: components[0]: needs a string 'ref'; its models are not read"
    )


def test_an_inventory_that_is_not_a_file_or_leads_outside_is_reported(tmp_path):
    root = _project(tmp_path / "proj", "bom.json", None)
    (root / "bom.json").mkdir()
    outside = tmp_path / "elsewhere.cdx.json"
    outside.write_text(_cyclonedx_naming("org/declared"))
    (root / "linked.cdx.json").symlink_to(outside)
    _, report = scan_json(root)
    rules = {(f["rule"], f["component"]) for f in report["findings"]}
    assert ("scan.unreadable", "file:inventory/bom.json") in rules
    assert ("scan.link-outside-target", "file:inventory/linked.cdx.json") in rules
