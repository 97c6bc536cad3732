"""GGUF files in model folders end to end: header facts in the report and the table, defects as
`integrity.*` findings in `scan` and `verify`, hostile files skipped with a finding."""

from __future__ import annotations

import json
import os
import time

import pytest

from scanner.formats.json import JsonFormat, read_report, report_document
from tests.conftest import (
    GGUF_DEFAULT_PARAMETERS,
    component,
    findings,
    make_model_dir,
    run_cli,
    scan_json,
    write_gguf,
)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))


def gguf_folder(tmp_path, metadata=None, *, card=None, content: bytes | None = None):
    folder = make_model_dir(tmp_path, "tinyllama-gguf", card=card, weights=None)
    path = folder / "model.Q4_K_M.gguf"
    if content is None:
        write_gguf(path, metadata)
    else:
        path.write_bytes(content)
    return folder


def gguf_entry(report_component):
    (entry,) = [f for f in report_component["files"] if f["format"] == "gguf"]
    return entry


def test_gguf_header_facts_are_in_the_report(tmp_path):
    metadata = {
        "general.name": "TinyLlama",
        "general.file_type": 15,
        "general.quantized_by": "someone",
        "general.source.hugginface.repository": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    }
    _, report = scan_json(gguf_folder(tmp_path, metadata, card={"license": "apache-2.0"}))
    entry = gguf_entry(component(report))
    assert entry["format"] == "gguf"
    header = entry["gguf"]
    assert header["version"] == 3
    assert header["tensors"] == 2
    assert header["parameters"] == GGUF_DEFAULT_PARAMETERS
    assert header["quantization"] == "Q4_K_M"
    assert header["file_type"] == 15
    assert header["tensor_types"] == {"F32": 2}
    assert header["architecture"] == "llama"
    assert header["name"] == "TinyLlama"
    assert header["quantized_by"] == "someone"
    assert header["source"] == {"hugginface.repository": "TinyLlama/TinyLlama-1.1B-Chat-v1.0"}
    assert header["defects"] == []
    assert not findings(report, "integrity.malformed")


def test_the_table_shows_parameters_and_quantisation(tmp_path):
    folder = gguf_folder(tmp_path, {"general.file_type": 15}, card={"license": "mit"})
    result = run_cli("scan", folder)
    assert f"{GGUF_DEFAULT_PARAMETERS} params Q4_K_M" in result.stdout


def test_the_table_falls_back_to_tensor_types(tmp_path):
    result = run_cli("scan", gguf_folder(tmp_path, card={"license": "mit"}))
    assert f"{GGUF_DEFAULT_PARAMETERS} params F32" in result.stdout


def test_a_truncated_gguf_is_an_integrity_error_in_scan_and_verify(tmp_path):
    folder = gguf_folder(tmp_path, card={"license": "mit"})
    path = folder / "model.Q4_K_M.gguf"
    path.write_bytes(path.read_bytes()[:-20])
    result, report = scan_json(folder)
    assert result.exit_code == 1
    (truncated,) = findings(report, "integrity.truncated")
    assert truncated["evidence"]["file"] == "model.Q4_K_M.gguf"
    assert "bytes are missing" in truncated["message"]
    verify = run_cli("verify", folder, "--format", "json")
    assert verify.exit_code == 1
    verified = json.loads(verify.stdout)
    assert [f["rule"] for f in findings(verified, severity="error")] == ["integrity.truncated"]
    entry = gguf_entry(verified["components"][0])
    assert entry["sha256"] is None  # a broken file is not hashed


def test_a_sound_gguf_is_hashed_by_verify(tmp_path):
    folder = gguf_folder(tmp_path, card={"license": "mit"})
    verify = run_cli("verify", folder, "--format", "json")
    assert verify.exit_code == 0
    entry = gguf_entry(json.loads(verify.stdout)["components"][0])
    assert entry["sha256"] and entry["gguf"]["defects"] == []


def test_a_file_that_only_claims_to_be_gguf_is_malformed(tmp_path):
    folder = gguf_folder(tmp_path, card={"license": "mit"}, content=b"PK\x03\x04 not a gguf")
    _, report = scan_json(folder)
    (malformed,) = findings(report, "integrity.malformed")
    assert "not a GGUF file" in malformed["message"]


def test_a_fifo_named_gguf_is_skipped_with_a_finding(tmp_path):
    folder = make_model_dir(tmp_path, "store", card={"license": "mit"})
    os.mkfifo(folder / "x.gguf")
    started = time.monotonic()
    _, report = scan_json(folder)
    assert time.monotonic() - started < 30
    (skipped,) = findings(report, "scan.unreadable")
    assert "x.gguf" in skipped["message"] and "FIFO" in skipped["message"]


def test_a_fifo_named_gguf_given_as_target_is_one_line(tmp_path):
    fifo = tmp_path / "x.gguf"
    os.mkfifo(fifo)
    result = run_cli("scan", fifo)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1


def test_gguf_facts_survive_a_saved_report(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    metadata = {
        "general.license": "mit",
        "general.base_model.0.name": "Base",
        "general.base_model.0.repo_url": "https://huggingface.co/acme/base",
        "general.file_type": 7,
    }
    result = run_scan(
        [gguf_folder(tmp_path, metadata, card={"license": "mit"})], default_policy, kb
    )
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(result, kb), encoding="utf-8")
    again = read_report(saved)
    assert report_document(again) == report_document(result)
    (header,) = [f.gguf for f in again.components[0].files if f.gguf is not None]
    assert header.quantization == "Q8_0"
    assert header.base_models[0].repo_url == "https://huggingface.co/acme/base"
