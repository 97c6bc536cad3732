"""The provenance rules that need no network: cards, pickle weights, bundled code."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import (
    CARDS,
    card_text,
    component,
    findings,
    make_hf_cache,
    make_model_dir,
    scan_json,
)


def test_complete_card_with_safetensors_has_no_provenance_findings(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "mit", "pipeline_tag": "text-generation"})
    _, report = scan_json(folder)
    assert [f for f in report["findings"] if f["rule"].startswith("provenance.")] == []


def test_card_missing(tmp_path):
    folder = make_model_dir(tmp_path, card=None, files={"config.json": '{"model_type": "bert"}'})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.card-missing")
    assert len(hits) == 1
    assert hits[0]["severity"] == "warning"
    assert hits[0]["component"] == component(report)["ref"]


def test_card_without_license_is_incomplete(tmp_path):
    folder = make_model_dir(tmp_path, card={"pipeline_tag": "text-generation"})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.card-incomplete")
    assert len(hits) == 1
    assert "license" in hits[0]["evidence"]["missing"]


def test_derivative_without_base_model_is_incomplete(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0", "tags": ["gguf", "quantized"]})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.card-incomplete")
    assert len(hits) == 1
    assert hits[0]["evidence"]["missing"] == ["base_model"]


def test_derivative_with_base_model_is_complete(tmp_path):
    folder = make_model_dir(
        tmp_path, card={"license": "apache-2.0", "tags": ["gguf"], "base_model": "org/base"}
    )
    _, report = scan_json(folder)
    assert findings(report, "provenance.card-incomplete") == []


def test_corpus_quantization_card_resolves(tmp_path):
    folder = make_model_dir(tmp_path, card=None)
    shutil.copyfile(
        CARDS / "hugging-quants__Meta-Llama-3.1-8B-Instruct-AWQ-INT4.md", folder / "README.md"
    )
    _, report = scan_json(folder)
    card = component(report)["card"]
    assert card["error"] is None
    assert component(report)["license"]["effective"] == "llama3.1"


def test_invalid_card_is_reported(tmp_path):
    folder = make_model_dir(tmp_path, card="license: [mit\n")
    _, report = scan_json(folder)
    hits = findings(report, "provenance.card-invalid")
    assert len(hits) == 1
    assert hits[0]["severity"] == "warning"
    assert hits[0]["evidence"]["card"] == "README.md"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pytorch_model.bin", b"PK\x03\x04rest-of-zip"),
        ("pytorch_model.bin", b"\x80\x02}q\x00."),
        ("model.pt", b"\x80\x04."),
        ("model.ckpt", b"\x80\x04."),
        ("weights.pkl", b"\x80\x04."),
    ],
    ids=["bin-zip", "bin-pickle", "pt", "ckpt", "pkl"],
)
def test_pickle_weights_are_unsafe(tmp_path, name, content):
    folder = make_model_dir(tmp_path, weights=None, files={name: content})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.unsafe-format")
    assert len(hits) == 1
    assert hits[0]["evidence"]["file"] == name
    assert hits[0]["severity"] == "warning"


def test_raw_bin_is_not_pickle(tmp_path):
    folder = make_model_dir(tmp_path, files={"training_args.bin": b"\x00\x01raw"})
    _, report = scan_json(folder)
    assert findings(report, "provenance.unsafe-format") == []


def test_python_code_is_remote_code(tmp_path):
    folder = make_model_dir(tmp_path, files={"modeling_custom.py": "import os\n"})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.remote-code")
    assert len(hits) == 1
    assert hits[0]["evidence"]["file"] == "modeling_custom.py"


def test_strict_policy_makes_pickle_an_error(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"model.pt": b"\x80\x04."})
    result, report = scan_json(folder, args=["--policy", "strict"])
    hits = findings(report, "provenance.unsafe-format")
    assert len(hits) == 1 and hits[0]["severity"] == "error"
    assert result.exit_code == 1


def test_dataset_repo_gets_no_model_card_rules(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(
        hub,
        "acme/data",
        {"data.csv": "a\n1\n", "README.md": card_text({"license": "mit"})},
        repo_type="dataset",
    )
    _, report = scan_json(hub)
    assert component(report)["type"] == "dataset"
    assert findings(report, "provenance.card-missing") == []
