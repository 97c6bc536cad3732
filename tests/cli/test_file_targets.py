"""`aiscan scan FILE`: a file is checked by its kind with the readers its folder would use, and
a kind aiscan cannot check is a one-line usage error, never "clean" with nothing checked."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.conftest import (
    component,
    effective_keys,
    findings,
    make_model_dir,
    rules_of,
    run_cli,
    scan_json,
    write_card,
    write_gguf,
)
from tests.pickles import system_call


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


def test_a_requirements_file_is_read_as_its_project_reads_it(tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\nnumpy>=1.26\n")
    (project / "train.py").write_text("AutoModel.from_pretrained('org/loaded')\n")
    _, report = scan_json(project / "requirements.txt")
    names = {c["name"]: c for c in report["components"]}
    assert set(names) == {"requests", "numpy"}
    assert names["requests"]["source"] == "requirements"
    assert names["requests"]["version"] == "2.31.0"
    # the file, not the folder: the code beside it is not read
    assert "org/loaded" not in json.dumps(report)
    assert findings(report, "dependency.license-unknown")


def test_pyproject_and_lock_files_are_read_as_dependency_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["click>=8"]\n'
    )
    (tmp_path / "Pipfile.lock").write_text(
        json.dumps(
            {
                "_meta": {"pipfile-spec": 6},
                "default": {"rich": {"version": "==13.7.0"}},
                "develop": {},
            }
        )
    )
    _, from_pyproject = scan_json(tmp_path / "pyproject.toml")
    assert [c["name"] for c in from_pyproject["components"]] == ["click"]
    _, from_lock = scan_json(tmp_path / "Pipfile.lock")
    assert component(from_lock, "rich")["version"] == "13.7.0"


def test_a_model_card_is_its_folders_card(tmp_path):
    folder = make_model_dir(
        tmp_path, "tuned", card={"license": "cc-by-nc-4.0", "base_model": "acme/base"}
    )
    (folder / "pytorch_model.bin").write_bytes(system_call(2))
    result, report = scan_json(folder / "README.md", args=("--policy", "strict"))
    model = component(report, "tuned")
    assert model["type"] == "model"
    assert [f["path"] for f in model["files"]] == ["README.md"]
    assert effective_keys(model["license"]["effective"]) == {"cc-by-nc-4.0"}
    assert model["base_models"] == ["acme/base"]
    assert findings(report, "license.denied")
    # the card alone: the weights beside it are not read (scan the folder for those)
    assert "provenance.unsafe-format" not in rules_of(report)
    assert result.exit_code == 1


def test_an_invalid_card_is_card_invalid(tmp_path):
    write_card(tmp_path / "m", "license: [unclosed\n")
    _, report = scan_json(tmp_path / "m" / "README.md")
    assert findings(report, "provenance.card-invalid")


def test_a_gguf_is_judged_on_the_license_its_metadata_declares(tmp_path):
    path = write_gguf(tmp_path / "model.gguf", {"general.license": "cc-by-nc-4.0"})
    result, report = scan_json(path, args=("--policy", "strict"))
    model = component(report, "model.gguf")
    assert model["type"] == "model"
    assert effective_keys(model["license"]["effective"]) == {"cc-by-nc-4.0"}
    assert findings(report, "license.denied")
    assert result.exit_code == 1
    verified = json.loads(run_cli("verify", path, "--format", "json").stdout)
    (entry,) = component(verified, "model.gguf")["files"]
    assert entry["sha256"]


def test_a_pickle_calling_system_is_the_same_error_as_in_its_folder(tmp_path):
    folder = make_model_dir(tmp_path, "evil", weights=None)
    (folder / "pytorch_model.bin").write_bytes(system_call(2))
    _, in_folder = scan_json(folder, args=("--policy", "strict"))
    result, alone = scan_json(folder / "pytorch_model.bin", args=("--policy", "strict"))
    (folder_hit,) = findings(in_folder, "provenance.unsafe-format")
    (file_hit,) = findings(alone, "provenance.unsafe-format")
    assert file_hit["severity"] == folder_hit["severity"] == "error"
    assert file_hit["message"] == folder_hit["message"]
    assert result.exit_code == 1


@pytest.mark.parametrize("name", ["notes.txt", "config.json", "LICENSE", "model.yaml"])
def test_a_file_of_another_kind_is_a_usage_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("{}")
    result = run_cli("scan", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiscan: error:")
    assert "not a kind of file aiscan checks" in lines[0]
    assert result.stdout == ""


def test_a_fifo_named_like_a_card_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "README.md"
    os.mkfifo(fifo)
    start = time.monotonic()
    result = run_cli("scan", fifo)
    assert time.monotonic() - start < 30
    assert result.exit_code == 3  # an unreadable target, as for any FIFO named as the target
    (line,) = result.stderr.strip().splitlines()
    assert "FIFO" in line
