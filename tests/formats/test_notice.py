"""`aiscan notice`: the attribution bundle with exact notice texts and full license texts."""

from __future__ import annotations

import json
import shutil

import pytest

from scanner.formats.notice import write_notice_bundle
from scanner.inventory import Component, LicenseFacts, LicenseText, ScanResult
from tests.conftest import GPL3_OPENING, make_hf_cache, make_model_dir, model_repo_files, run_cli


def _model(name: str, effective: str, *license_texts: LicenseText) -> Component:
    """A model component as a saved report holds it: its folder need not exist."""
    return Component(
        ref=f"model:local/{name}",
        type="model",
        name=name,
        source="modeldir",
        location=f"/nonexistent/{name}",
        license=LicenseFacts(effective=effective),
        license_texts=license_texts,
    )


def test_llama3_finetune_bundle_has_built_with_and_license_text(tmp_path):
    store = tmp_path / "store"
    make_model_dir(
        store, "tune", card={"license": "llama3", "base_model": "meta-llama/Meta-Llama-3-8B"}
    )
    out = tmp_path / "THIRD_PARTY_NOTICES"
    result = run_cli("notice", store, "-o", out)
    assert result.exit_code == 0, result.stderr
    notice = (out / "NOTICE").read_text(encoding="utf-8")
    assert "Built with Meta Llama 3" in notice
    assert (
        "Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc."
        in notice
    )
    text = (out / "licenses" / "llama3.txt").read_text(encoding="utf-8")
    assert "META LLAMA 3 COMMUNITY LICENSE AGREEMENT" in text


def test_llama31_bundle_says_built_with_llama(tmp_path):
    make_model_dir(tmp_path / "store", "tune", card={"license": "llama3.1"})
    out = tmp_path / "out"
    assert run_cli("notice", tmp_path / "store", "-o", out).exit_code == 0
    notice = (out / "NOTICE").read_text(encoding="utf-8")
    assert "\n  Built with Llama\n" in notice
    assert "Model name" not in notice and "must" not in notice  # notices, not instructions
    assert (out / "licenses" / "llama3.1.txt").stat().st_size > 5000
    assert "Acceptable use policy: licenses/llama3.1-use-policy.md" in notice
    assert "Acceptable Use Policy" in (out / "licenses" / "llama3.1-use-policy.md").read_text(
        encoding="utf-8"
    )


def test_each_entry_names_its_origin_and_every_llama_aup_is_bundled(tmp_path):
    cache = tmp_path / "hub"
    _, commit = make_hf_cache(
        cache,
        "acme/llama2-tune",
        model_repo_files("llama2", {"base_model": "meta-llama/Llama-2-7b-hf"}),
    )
    out = tmp_path / "out"
    assert run_cli("notice", cache, "-o", out).exit_code == 0
    notice = (out / "NOTICE").read_text(encoding="utf-8")
    assert f"Origin: pkg:huggingface/acme/llama2-tune@{commit}" in notice
    assert "Derived from: meta-llama/Llama-2-7b-hf" in notice
    assert (out / "licenses" / "llama2-use-policy.md").is_file()
    assert str(tmp_path) not in notice  # no path of the scanning machine


def test_unbundled_text_is_a_pointer_not_an_invented_text(tmp_path):
    make_model_dir(tmp_path / "store", "m", card={"license": "cc-by-4.0"})
    out = tmp_path / "out"
    assert run_cli("notice", tmp_path / "store", "-o", out).exit_code == 0
    pointer = (out / "licenses" / "cc-by-4.0.txt").read_text(encoding="utf-8")
    assert "not bundled" in pointer and "creativecommons.org" in pointer


def test_unlicensed_component_is_listed_as_a_gap(tmp_path):
    make_model_dir(tmp_path / "store", "m", card={"tags": ["x"]})
    out = tmp_path / "out"
    assert run_cli("notice", tmp_path / "store", "-o", out).exit_code == 0
    assert "No license was found for this component" in (out / "NOTICE").read_text(encoding="utf-8")


def test_package_and_model_notice_files_are_carried_into_the_bundle(tmp_path):
    from tests.pipeline.test_project_scan import make_venv
    from tests.readers.python.test_environment import write_dist

    root = tmp_path / "proj"
    root.mkdir()
    _, site = make_venv(root / ".venv")
    write_dist(
        site,
        "apache-lib",
        "1.0",
        "License-Expression: Apache-2.0",
        "License-File: NOTICE",
        files={"licenses/NOTICE": "Apache Lib\nCopyright 2024 The Apache Lib Authors\n"},
    )
    (root / "requirements.txt").write_text("apache-lib==1.0\n")
    make_model_dir(
        root / "models",
        "gemma-tune",
        card={"license": "gemma"},
        files={"NOTICE": "Gemma is provided under and subject to the Gemma Terms of Use\n"},
    )
    out = tmp_path / "out"
    result = run_cli("notice", root, "-o", out)
    assert result.exit_code == 0, result.stderr
    notice = (out / "NOTICE").read_text(encoding="utf-8")
    assert "NOTICE shipped with apache-lib:" in notice
    assert "    Copyright 2024 The Apache Lib Authors" in notice
    assert "NOTICE shipped with models/gemma-tune:" in notice
    assert "Gemma is provided under and subject to the Gemma Terms of Use" in notice


def test_own_license_text_is_bundled_from_a_saved_report_after_the_folder_is_gone(tmp_path, kb):
    assert kb["gpl-3.0"].text is None, "the case needs a license the knowledge base cannot supply"
    store = tmp_path / "store"
    make_model_dir(store, "gpl-model", card={"license": "gpl-3.0"}, license_text=GPL3_OPENING)
    report = tmp_path / "report.json"
    assert run_cli("scan", store, "--format", "json", "-o", report).exit_code == 0
    shutil.rmtree(store)
    out = tmp_path / "out"
    result = run_cli("notice", "--from", report, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert (out / "licenses" / "gpl-3.0.txt").read_text(encoding="utf-8") == GPL3_OPENING
    assert "(licenses/gpl-3.0.txt)" in (out / "NOTICE").read_text(encoding="utf-8")


def test_writer_uses_the_recorded_text_and_never_another_licenses(tmp_path, kb):
    """Built by hand, with no file on disk: the writer has only the recorded facts. One
    component's recorded copy serves every component under that license."""
    own_gpl = LicenseText("LICENSE", GPL3_OPENING, ("gpl-3.0",))
    own_mpl = LicenseText("LICENSE", "Mozilla Public License Version 2.0\n...", ("mpl-2.0",))
    components = (
        _model("declared-only", "gpl-3.0"),
        _model("with-copy", "gpl-3.0", own_gpl),
        _model("wrong-copy", "bsd-3-clause", own_mpl),
    )
    bundle = write_notice_bundle(ScanResult("0", ("x",), components, ()), tmp_path, kb)
    assert bundle.license_files == ("bsd-3-clause", "gpl-3.0")
    assert (tmp_path / "licenses" / "gpl-3.0.txt").read_text(encoding="utf-8") == GPL3_OPENING
    pointer = (tmp_path / "licenses" / "bsd-3-clause.txt").read_text(encoding="utf-8")
    assert "not bundled" in pointer and "Mozilla" not in pointer


@pytest.fixture
def saved_report(tmp_path):
    """A saved report of a GPL-3.0 model shipping its license file and a NOTICE file."""
    make_model_dir(
        tmp_path / "store",
        "gpl-model",
        card={"license": "gpl-3.0"},
        license_text=GPL3_OPENING,
        files={"NOTICE": "gpl-model\nCopyright 2024 Its Authors\n"},
    )
    report = tmp_path / "report.json"
    assert run_cli("scan", tmp_path / "store", "--format", "json", "-o", report).exit_code == 0
    return report


@pytest.mark.parametrize("blocked", ["NOTICE", "licenses/gpl-3.0.txt"])
def test_a_bundle_file_that_cannot_be_written_is_a_usage_error(tmp_path, saved_report, blocked):
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)
    result = run_cli("notice", "--from", saved_report, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"aiscan: error: cannot write {out / blocked}: ")
    assert len(result.stderr.splitlines()) == 1


def test_an_output_folder_below_a_file_is_a_usage_error(tmp_path, saved_report):
    (tmp_path / "taken").write_text("a file\n")
    result = run_cli("notice", "--from", saved_report, "-o", tmp_path / "taken" / "out")
    assert result.exit_code == 2
    assert result.stderr.startswith("aiscan: error: cannot create ")


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("license_texts", [{"file": "LICENSE", "licenses": ["gpl-3.0"], "text": 7}], "malformed"),
        ("notices", [{"file": "NOTICE", "text": None}], "malformed"),
    ],
)
def test_texts_a_report_cannot_hold_are_usage_errors(tmp_path, saved_report, field, value, message):
    document = json.loads(saved_report.read_text(encoding="utf-8"))
    document["components"][0][field] = value
    saved_report.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("notice", "--from", saved_report, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.startswith("aiscan: error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_lone_surrogate_is_written_as_the_replacement_character(tmp_path, saved_report):
    """JSON can carry `\\ud800`, UTF-8 cannot: every output shows it as U+FFFD, never crashes."""
    document = json.loads(saved_report.read_text(encoding="utf-8"))
    document["components"][0]["notices"] = [{"file": "NOTICE", "text": "lone \ud800 surrogate"}]
    saved_report.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("notice", "--from", saved_report, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "lone \ufffd surrogate" in (tmp_path / "out" / "NOTICE").read_text(encoding="utf-8")
