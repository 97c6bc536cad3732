"""LM Studio's models folder: one model per `<publisher>/<repo>` folder, named by that Hub id,
its GGUF declarations read, and what does not fit the layout reported."""

from __future__ import annotations

import json

import pytest

from scanner.sources.lmstudio import default_lmstudio_models, lmstudio_models_folder
from tests.conftest import (
    component,
    effective_keys,
    findings,
    rules_of,
    run_cli,
    scan_json,
    tree_state,
    write_card,
    write_gguf,
)

REPO_ID = "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF"
LLAMA31 = {
    "general.license": "llama3.1",
    "general.base_model.count": 1,
    "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3.1-8B-Instruct",
}


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def lmstudio_home(tmp_path, metadata=LLAMA31, *, home=".lmstudio"):
    """`~/.lmstudio` after downloading two quantisations of one repo in LM Studio."""
    root = tmp_path / "home" / home
    folder = root / "models" / REPO_ID
    for quant in ("Q4_K_M", "Q8_0"):
        write_gguf(folder / f"Meta-Llama-3.1-8B-Instruct-{quant}.gguf", metadata)
    return root


def test_a_repo_folder_is_one_model_named_by_its_hub_id(tmp_path):
    home = lmstudio_home(tmp_path)
    before = tree_state(home)
    _, report = scan_json(home / "models")
    model = component(report, REPO_ID)
    assert model["source"] == "lmstudio"
    assert model["purl"] == f"pkg:huggingface/{REPO_ID}"
    assert [f["path"] for f in model["files"]] == [
        "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
        "Meta-Llama-3.1-8B-Instruct-Q8_0.gguf",
    ]
    assert model["base_models"] == ["meta-llama/Meta-Llama-3.1-8B-Instruct"]
    assert effective_keys(model["license"]["effective"]) == {"llama3.1"}
    # LM Studio downloads the weights alone: no card is no finding, the license is what counts
    assert "provenance.card-missing" not in rules_of(report)
    assert tree_state(home) == before


@pytest.mark.parametrize("home", [".lmstudio", ".cache/lm-studio"])
def test_the_home_and_the_older_cache_folder_are_recognised(tmp_path, home):
    root = lmstudio_home(tmp_path, home=home)
    for target in (root, root / "models"):
        _, report = scan_json(target)
        assert component(report, REPO_ID)["source"] == "lmstudio"


def test_the_home_pointer_file_moves_the_default_folder(tmp_path):
    custom = tmp_path / "elsewhere" / "lms"
    write_gguf(custom / "models" / "acme" / "tiny-GGUF" / "tiny.gguf", {"general.license": "mit"})
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".lmstudio-home-pointer").write_text(f"{custom}\n")
    assert default_lmstudio_models()[0] == custom / "models"
    assert lmstudio_models_folder(custom / "models") == custom / "models"
    _, report = scan_json(custom / "models")
    assert component(report, "acme/tiny-GGUF")["source"] == "lmstudio"


def test_a_model_without_a_license_anywhere_is_license_missing(tmp_path):
    home = lmstudio_home(tmp_path, metadata={})
    result, report = scan_json(home / "models")
    assert findings(report, "license.missing", component=f"model:lmstudio/{REPO_ID}")
    assert result.exit_code == 1


def test_a_card_in_the_folder_is_read_as_in_any_model_folder(tmp_path):
    home = lmstudio_home(tmp_path, metadata={})
    write_card(home / "models" / REPO_ID, {"license": "apache-2.0"})
    _, report = scan_json(home / "models")
    model = component(report, REPO_ID)
    assert effective_keys(model["license"]["effective"]) == {"apache-2.0"}


def test_files_outside_the_layout_and_links_out_are_reported(tmp_path):
    home = lmstudio_home(tmp_path)
    (home / "models" / "loose.gguf").write_bytes(b"GGUF")
    outside = tmp_path / "outside"
    write_gguf(outside / "x.gguf")
    (home / "models" / "acme").mkdir()
    (home / "models" / "acme" / "linked").symlink_to(outside)
    _, report = scan_json(home / "models")
    store = component(report, "LM Studio models")
    assert store["type"] == "file"
    messages = " ".join(f["message"] for f in report["findings"])
    assert "outside any <publisher>/<repo> folder" in messages
    assert findings(report, "scan.link-outside-target", component="file:lmstudio/models")


def test_verify_reads_the_folder(tmp_path):
    home = lmstudio_home(tmp_path)
    result = run_cli("verify", home / "models", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert all(f["sha256"] for f in component(report, REPO_ID)["files"])


def test_a_models_folder_of_another_name_is_a_plain_folder(tmp_path):
    """Not LM Studio's by its place: its repo folders are still model folders, named by path."""
    write_gguf(tmp_path / "mine" / "acme" / "tiny-GGUF" / "tiny.gguf")
    assert lmstudio_models_folder(tmp_path / "mine") is None
    _, report = scan_json(tmp_path / "mine")
    assert component(report, "acme/tiny-GGUF")["source"] == "modeldir"
