"""`provenance.unsafe-format` end to end: every hostile and benign pickle fixture, scanned by the
CLI in a model folder and as a single-file target, gets the verdict its opcodes call for."""

from __future__ import annotations

import pytest

from tests.conftest import findings, make_hf_cache, make_model_dir, scan_json
from tests.pickles import BENIGN, HOSTILE, Fixture, system_call


def _verdict(report, fixture: Fixture):
    (hit,) = findings(report, "provenance.unsafe-format")
    assert hit["evidence"]["file"] == fixture.file
    return hit


def _check(result, report, fixture: Fixture) -> None:
    hit = _verdict(report, fixture)
    if fixture.verdict == "unsafe":
        assert hit["severity"] == "error"
        assert set(fixture.unsafe) <= set(hit["evidence"]["globals"])
        assert result.exit_code == 1
    elif fixture.verdict == "not scanned":
        assert hit["severity"] == "warning"
        assert hit["evidence"]["scanned"] is False and hit["evidence"]["error"]
        assert "could not be scanned" in hit["message"]
    else:
        assert hit["severity"] == "warning" and hit["evidence"]["scanned"] is True
        assert "only tensor-rebuilding globals" in hit["message"]


@pytest.mark.parametrize("fixture", HOSTILE + BENIGN, ids=lambda f: f.name)
def test_in_a_model_folder(tmp_path, fixture):
    folder = make_model_dir(tmp_path, weights=None, files={fixture.file: fixture.build()})
    result, report = scan_json(folder)
    _check(result, report, fixture)


@pytest.mark.parametrize("fixture", HOSTILE + BENIGN, ids=lambda f: f.name)
def test_as_a_single_file_target(tmp_path, fixture):
    path = tmp_path / fixture.file
    path.write_bytes(fixture.build())
    result, report = scan_json(path)
    assert report["components"][0]["type"] == "file"
    _check(result, report, fixture)


def test_a_dataset_repo_pickle_is_judged(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "acme/data", {"data.pkl": system_call(2)}, repo_type="dataset")
    result, report = scan_json(hub)
    (hit,) = findings(report, "provenance.unsafe-format")
    assert hit["severity"] == "error" and hit["evidence"]["globals"] == ["os.system"]
    assert result.exit_code == 1


def test_an_import_found_before_the_scan_stopped_is_an_error(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"model.pkl": system_call(2) + b"\x00"})
    _, report = scan_json(folder)
    (hit,) = findings(report, "provenance.unsafe-format")
    assert hit["severity"] == "error" and hit["evidence"]["globals"] == ["os.system"]
    assert hit["evidence"]["scanned"] is False and "stopped early" in hit["message"]


def test_a_clean_verdict_says_how_many_pickles_were_judged(tmp_path):
    legacy = next(f for f in BENIGN if f.name == "legacy torch file")
    folder = make_model_dir(tmp_path, weights=None, files={legacy.file: legacy.build()})
    _, report = scan_json(folder)
    (hit,) = findings(report, "provenance.unsafe-format")
    assert "its 5 pickles import only tensor-rebuilding globals" in hit["message"]
