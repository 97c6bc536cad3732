"""`aiscan notice`: the attribution bundle with exact notice texts and full license texts."""

from __future__ import annotations

from tests.conftest import make_model_dir, run_cli


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
    assert "Display (llama3.1 1.b.i (B)): Built with Llama" in (out / "NOTICE").read_text(
        encoding="utf-8"
    )
    assert (out / "licenses" / "llama3.1.txt").stat().st_size > 5000


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
