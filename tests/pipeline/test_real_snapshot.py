"""Integration test on a real Hugging Face snapshot: sentence-transformers/all-MiniLM-L6-v2.

CI unpacks it with `.ci/fetch-snapshot`; point AISCAN_TEST_SNAPSHOT elsewhere to use another
copy. The expected facts are measured independently with `safetensors.safe_open`, not copied
from aiscan's output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from tests.conftest import REAL_SNAPSHOT, component, errors, scan_json, tree_state

SNAPSHOT = REAL_SNAPSHOT

WEIGHTS_SIZE = 90_868_376
PARAMETERS = 22_713_728  # measured with safe_open: 103 F32 tensors + 1 I64 (position_ids)
TENSORS = 104


@pytest.fixture(scope="module")
def snapshot() -> Path:
    if not (SNAPSHOT / "model.safetensors").is_file():
        pytest.skip(f"real snapshot not found at {SNAPSHOT}; run .ci/fetch-snapshot")
    return SNAPSHOT


@pytest.fixture(scope="module")
def reference(snapshot):
    """Header facts measured with the reference safetensors reader."""
    with safe_open(str(snapshot / "model.safetensors"), "np") as handle:
        names = list(handle.keys())
        shapes = {n: handle.get_slice(n).get_shape() for n in names}
        dtypes = {n: handle.get_slice(n).get_dtype() for n in names}
        metadata = handle.metadata() or {}
    return {
        "tensors": len(names),
        "parameters": sum(int(np.prod(s, dtype=np.int64)) for s in shapes.values()),
        "dtypes": {d: list(dtypes.values()).count(d) for d in set(dtypes.values())},
        "metadata": metadata,
    }


@pytest.fixture(scope="module")
def scanned(snapshot):
    before = tree_state(snapshot)
    result, report = scan_json(snapshot)
    after = tree_state(snapshot)
    return result, report, before, after


def test_reference_matches_the_published_model(reference):
    assert reference["tensors"] == TENSORS
    assert reference["parameters"] == PARAMETERS
    assert reference["dtypes"] == {"F32": 103, "I64": 1}


def test_license_is_apache(scanned):
    result, report, _, _ = scanned
    c = component(report)
    assert c["license"]["declared"] == ["apache-2.0"]
    assert c["license"]["effective"] == "apache-2.0"
    assert c["license"]["category"] == "permissive"
    assert errors(report) == []
    assert result.exit_code == 0


def test_weights_header_facts(scanned, reference):
    _, report, _, _ = scanned
    files = {f["path"]: f for f in component(report)["files"]}
    weights = files["model.safetensors"]
    assert weights["format"] == "safetensors"
    assert weights["size"] == WEIGHTS_SIZE
    header = weights["safetensors"]
    assert header["parameters"] == reference["parameters"] == PARAMETERS
    assert header["tensors"] == reference["tensors"] == TENSORS
    assert header["dtypes"] == reference["dtypes"]
    assert "F32" in header["dtypes"]
    assert header["metadata"] == reference["metadata"]
    assert header["defects"] == []


def test_card_facts(scanned):
    _, report, _, _ = scanned
    c = component(report)
    assert c["card"]["library_name"] == "sentence-transformers"
    assert "s2orc" in c["datasets"]
    assert c["base_models"] == []


def test_every_file_is_listed(scanned, snapshot):
    _, report, _, _ = scanned
    listed = {f["path"] for f in component(report)["files"]}
    on_disk = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()}
    assert listed == on_disk


def test_scanning_does_not_modify_the_folder(scanned):
    _, _, before, after = scanned
    assert after == before
