"""The JSON report contract, `aiscan-report/1` (ARCHITECTURE.md), and reading a saved report
back: `read_report` into the ScanResult it was rendered from, `decode_report` into BOM facts."""

from __future__ import annotations

import copy
import hashlib
import json
import re

import pytest

from scanner import __version__
from scanner.errors import UsageError
from scanner.formats.decoded import BomDecodeError
from scanner.formats.json import (
    JsonFormat,
    decode_report,
    decoded_result,
    parse_report,
    read_report,
    report_document,
)
from scanner.inventory import Component, FileEntry, LicenseText, PickleScan, ScanResult
from tests.conftest import (
    GPL3_OPENING,
    component,
    fake_commit,
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    scan_json,
)
from tests.formats.test_cyclonedx import llama_chain
from tests.formats.test_decoded import decodable_result

COMPONENT_FIELDS = {
    "ref",
    "type",
    "name",
    "version",
    "purl",
    "source",
    "location",
    "license",
    "base_models",
    "datasets",
    "files",
}
LICENSE_FIELDS = {"declared", "detected", "effective", "category", "evidence"}
FILE_FIELDS = {"path", "size", "sha256", "format", "verified"}
FINDING_FIELDS = {"rule", "severity", "component", "message", "evidence", "waived"}
FINDING_EXTENSIONS = {"baseline", "fingerprint"}
"""Additive fields documented in the README's JSON report section."""
SUMMARY_FIELDS = {"components", "errors", "warnings", "notes", "waived", "exit_code"}
CATEGORIES = {
    "permissive",
    "weak-copyleft",
    "strong-copyleft",
    "restricted",
    "non-commercial",
    "research-only",
    "proprietary",
    "unknown",
}


def _mixed_scan(tmp_path):
    """A model folder (non-commercial, so exit 1), a fine-tune and an HF cache."""
    hub = tmp_path / "hub"
    make_hf_cache(hub, "meta-llama/Llama-2-7b-hf", model_repo_files("llama2"))
    make_hf_cache(hub, "acme/data", {"README.md": "---\nlicense: mit\n---\n"}, repo_type="dataset")
    models = tmp_path / "models"
    make_model_dir(models, "nc", card={"license": "cc-by-nc-4.0", "datasets": ["acme/data"]})
    make_model_dir(
        models,
        "tune",
        card={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"},
        files={"pytorch_model.bin": b"\x80\x02."},
    )
    return scan_json(models, hub)


def test_top_level(tmp_path):
    _result, report = _mixed_scan(tmp_path)
    assert report["schema"] == "aiscan-report/1"
    assert report["tool"] == {"name": "aiscan", "version": __version__}
    assert report["targets"] == [str(tmp_path / "models"), str(tmp_path / "hub")]
    assert isinstance(report["components"], list)
    assert isinstance(report["findings"], list)


def test_component_fields(tmp_path):
    _, report = _mixed_scan(tmp_path)
    assert len(report["components"]) == 4
    for c in report["components"]:
        assert set(c) >= COMPONENT_FIELDS, COMPONENT_FIELDS - set(c)
        assert c["type"] in {"model", "dataset", "library", "file"}
        assert c["source"] in {"modeldir", "hfcache"}
        assert isinstance(c["name"], str) and c["name"]
        assert isinstance(c["location"], str) and c["location"]
        assert set(c["license"]) >= LICENSE_FIELDS
        assert isinstance(c["license"]["declared"], list)
        assert isinstance(c["license"]["detected"], list)
        assert c["license"]["category"] in CATEGORIES
        for evidence in c["license"]["evidence"]:
            assert set(evidence) == {"source", "value"}
        assert isinstance(c["base_models"], list)
        assert isinstance(c["datasets"], list)
        for f in c["files"]:
            assert set(f) >= FILE_FIELDS
            assert f["format"] in {"safetensors", "pickle", "gguf", "onnx", "other"}
            assert f["verified"] in (True, False, None)
            assert f["sha256"] is None or (len(f["sha256"]) == 64 and int(f["sha256"], 16) >= 0)
            assert isinstance(f["size"], int)


def test_refs_are_unique(tmp_path):
    _, report = _mixed_scan(tmp_path)
    refs = [c["ref"] for c in report["components"]]
    assert len(refs) == len(set(refs))


def test_refs_stay_unique_for_same_named_folders(tmp_path):
    make_model_dir(tmp_path / "one", "model")
    make_model_dir(tmp_path / "two", "model")
    _, report = scan_json(tmp_path / "one" / "model", tmp_path / "two" / "model")
    refs = [c["ref"] for c in report["components"]]
    assert len(refs) == 2
    assert len(set(refs)) == 2


def test_overlapping_targets_report_a_folder_once(tmp_path):
    folder = make_model_dir(tmp_path / "store", "m")
    _, report = scan_json(tmp_path / "store", folder)
    assert len(report["components"]) == 1


def test_model_folder_component(tmp_path):
    _, report = _mixed_scan(tmp_path)
    nc = component(report, "nc")
    assert nc["type"] == "model"
    assert nc["source"] == "modeldir"
    assert nc["location"] == str(tmp_path / "models" / "nc")
    assert nc["license"]["declared"] == ["cc-by-nc-4.0"]
    assert nc["license"]["effective"] == "cc-by-nc-4.0"
    assert nc["license"]["category"] == "non-commercial"
    assert {"source": "README.md front matter", "value": "license: cc-by-nc-4.0"} in nc["license"][
        "evidence"
    ]
    assert nc["datasets"] == ["acme/data"]
    assert nc["base_models"] == []
    weights = {f["path"]: f for f in nc["files"]}["model.safetensors"]
    assert weights["format"] == "safetensors"
    assert weights["size"] == (tmp_path / "models" / "nc" / "model.safetensors").stat().st_size


def test_hfcache_component_ref_purl_and_version(tmp_path):
    _, report = _mixed_scan(tmp_path)
    llama = component(report, "meta-llama/Llama-2-7b-hf")
    commit = llama["version"]
    assert len(commit) == 40 and int(commit, 16) >= 0
    assert llama["ref"] == f"model:hf/meta-llama/Llama-2-7b-hf@{commit}"
    assert llama["purl"] == f"pkg:huggingface/meta-llama/Llama-2-7b-hf@{commit}"
    assert llama["source"] == "hfcache"
    data = component(report, "acme/data")
    assert data["type"] == "dataset"
    assert data["ref"] == f"dataset:hf/acme/data@{data['version']}"


def test_fine_tune_base_models_and_inherited_license(tmp_path):
    _, report = _mixed_scan(tmp_path)
    tune = component(report, "tune")
    assert tune["base_models"] == ["meta-llama/Llama-2-7b-hf"]
    assert tune["license"]["declared"] == ["apache-2.0"]
    assert "llama2" in tune["license"]["effective"]
    formats = {f["path"]: f["format"] for f in tune["files"]}
    assert formats["pytorch_model.bin"] == "pickle"


def test_finding_fields(tmp_path):
    _, report = _mixed_scan(tmp_path)
    refs = {c["ref"] for c in report["components"]}
    assert report["findings"]
    for f in report["findings"]:
        assert set(f) == FINDING_FIELDS | FINDING_EXTENSIONS
        assert f["baseline"] is False and len(f["fingerprint"]) == 64
        assert f["severity"] in {"error", "warning", "note"}
        assert f["component"] is None or f["component"] in refs
        assert isinstance(f["message"], str) and f["message"]
        assert isinstance(f["evidence"], dict)
        assert f["waived"] is None
    rules = {f["rule"] for f in report["findings"]}
    assert {
        "license.noncommercial",
        "license.conflict-with-base",
        "provenance.unsafe-format",
    } <= rules


def test_summary_counts_match_findings_and_exit_code(tmp_path):
    result, report = _mixed_scan(tmp_path)
    summary = report["summary"]
    assert set(summary) == SUMMARY_FIELDS
    unwaived = [f for f in report["findings"] if f["waived"] is None]
    assert summary["components"] == len(report["components"])
    assert summary["errors"] == sum(f["severity"] == "error" for f in unwaived)
    assert summary["warnings"] == sum(f["severity"] == "warning" for f in unwaived)
    assert summary["notes"] == sum(f["severity"] == "note" for f in unwaived)
    assert summary["waived"] == 0
    assert summary["errors"] >= 2
    assert summary["exit_code"] == result.exit_code == 1


def test_clean_report_exit_code_zero(tmp_path):
    result, report = scan_json(make_model_dir(tmp_path, card={"license": "mit"}))
    assert report["summary"]["errors"] == 0
    assert report["summary"]["exit_code"] == result.exit_code == 0


def test_findings_are_sorted_most_severe_first(tmp_path):
    _, report = _mixed_scan(tmp_path)
    rank = {"error": 0, "warning": 1, "note": 2}
    order = [rank[f["severity"]] for f in report["findings"]]
    assert order == sorted(order)


def test_report_is_stable_between_runs(tmp_path):
    _, first = _mixed_scan(tmp_path)
    _, second = scan_json(tmp_path / "models", tmp_path / "hub")
    assert first == second


def test_hashes_when_present_are_sha256_of_the_bytes(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "mit"})
    _, report = scan_json(folder)
    for f in component(report)["files"]:
        if f["sha256"] is not None:
            assert f["sha256"] == hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest()


def test_multiple_revisions_have_distinct_refs(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "acme/x", model_repo_files("mit"), commit=fake_commit(1))
    make_hf_cache(hub, "acme/x", model_repo_files("mit"), commit=fake_commit(2), refs=())
    _, report = scan_json(hub)
    assert sorted(c["version"] for c in report["components"]) == sorted(
        [fake_commit(1), fake_commit(2)]
    )
    assert len({c["ref"] for c in report["components"]}) == 2
    assert findings(report, "license.missing") == []


def test_recognised_license_file_texts_are_in_the_report(tmp_path):
    """`license_texts` (an addition): what `aiscan notice --from` bundles as the own copy."""
    make_model_dir(
        tmp_path / "models", "gpl", card={"license": "gpl-3.0"}, license_text=GPL3_OPENING
    )
    make_model_dir(tmp_path / "models", "plain")
    files = {**model_repo_files("gpl-3.0"), "LICENSE": GPL3_OPENING}
    make_hf_cache(tmp_path / "hub", "acme/gpl", files)
    _, report = scan_json(tmp_path / "models", tmp_path / "hub")
    recorded = [{"file": "LICENSE", "licenses": ["gpl-3.0"], "text": GPL3_OPENING}]
    assert component(report, "gpl")["license_texts"] == recorded
    assert component(report, "acme/gpl")["license_texts"] == recorded
    assert "license_texts" not in component(report, "plain")


# --- reading a saved report -----------------------------------------------------------------


def test_round_trip_reproduces_the_report(tmp_path, kb, default_policy):
    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan

    result = with_file_hashes(run_scan(llama_chain(tmp_path), default_policy, kb), workers=1)
    assert result.findings and any(f.sha256 for c in result.components for f in c.files)
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(result, kb), encoding="utf-8")
    again = read_report(saved)
    assert report_document(again) == report_document(result)
    assert again.exit_code == result.exit_code


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"schema": "other"}), "not an aiscan report"),
        (json.dumps({"schema": "aiscan-report/1", "tool": {}}), "malformed aiscan report"),
    ],
)
def test_bad_reports_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_report(path)


def test_decode_round_trips_the_report(kb):
    result = decodable_result()
    bom = decode_report(json.loads(JsonFormat().render(result, kb)))
    assert bom == decoded_result(result)
    assert bom.license_notation == "aiscan" and bom.fail_on == "error"
    model, library = bom.components
    assert (model.kind, model.declared, model.effective) == ("model", ("apache-2.0",), "apache-2.0")
    assert [(f.path, f.sha256) for f in model.files] == [
        ("model.safetensors", "ab" * 32),
        ("config.json", None),
    ]
    assert [(f.rule, f.counts) for f in library.findings] == [("dependency.license-unknown", False)]
    assert [f.rule for f in bom.findings] == ["scan.nothing-found"]
    assert decode_report({"bomFormat": "CycloneDX"}) is None


def _edited(edit) -> dict:
    document = copy.deepcopy(report_document(decodable_result()))
    edit(document)
    return document


HOSTILE_REPORTS = {
    "version-number": (
        lambda d: d["components"][0].update(version=10**4000),
        "components[0].version must be str",
    ),
    "unknown-type": (
        lambda d: d["components"][0].update(type="robot"),
        "components[0].type must be one of model, dataset, library, file",
    ),
    "declared-string": (
        lambda d: d["components"][0]["license"].update(declared="mit"),
        "'declared' must be a list, not str",
    ),
    "size-boolean": (
        lambda d: d["components"][0]["files"][0].update(size=True),
        "components[0].files[0].size must be int",
    ),
    "severity-list": (
        lambda d: d["findings"][0].update(severity=["error"]),
        "findings[0].severity must be one of error, warning, note",
    ),
    "evidence-list": (lambda d: d["findings"][0].update(evidence=[1]), "findings[0].evidence"),
    "fail-on": (lambda d: d.update(fail_on="fatal"), "fail_on must be one of"),
    "components-object": (lambda d: d.update(components={"a": 1}), "'components' must be a list"),
    "component-string": (lambda d: d.update(components=["a"]), "components[0] must be an object"),
    "no-findings": (lambda d: d.pop("findings"), "'findings' is missing"),
    "no-tool": (lambda d: d.pop("tool"), "'tool' is missing"),
}


@pytest.mark.parametrize("case", HOSTILE_REPORTS)
def test_values_of_the_wrong_type_are_refused_naming_the_field(case):
    edit, message = HOSTILE_REPORTS[case]
    document = _edited(edit)
    with pytest.raises(
        UsageError, match=f"report.json: malformed aiscan report: .*{re.escape(message)}"
    ):
        parse_report(document, "report.json")
    with pytest.raises(BomDecodeError, match=re.escape(message)) as info:
        decode_report(document)
    assert "\n" not in str(info.value)


def test_license_texts_survive_the_round_trip(tmp_path, kb):
    own_copy = LicenseText("LICENSE", GPL3_OPENING, ("gpl-3.0",))
    model = Component(
        ref="model:local/m",
        type="model",
        name="m",
        source="modeldir",
        location=str(tmp_path / "m"),
        license_texts=(own_copy,),
    )
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(ScanResult("0", ("m",), (model,), ()), kb))
    (again,) = read_report(saved).components
    assert again.license_texts == (own_copy,)


def test_pickle_scan_survives_the_round_trip(tmp_path, kb):
    scan = PickleScan(("torch._utils._rebuild_tensor_v2", "os.system"), "not scanned: x", 5)
    entry = FileEntry(path="model.pt", size=10, format="pickle", header=scan)
    model = Component(
        ref="model:local/m",
        type="model",
        name="m",
        source="modeldir",
        location=str(tmp_path / "m"),
        files=(entry,),
    )
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(ScanResult("0", ("m",), (model,), ()), kb))
    assert json.loads(saved.read_text())["components"][0]["files"][0]["pickle"]["streams"] == 5
    (again,) = read_report(saved).components
    assert again.files[0].pickle == scan
