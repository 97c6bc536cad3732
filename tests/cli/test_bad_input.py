"""Hostile and broken input: every case ends in a finding or a one-line error with the right exit
code, never a traceback, and nothing skipped is ever reported clean."""

from __future__ import annotations

import json

import pytest

import scanner.readers.model_folder as model_folder
from tests.conftest import (
    component,
    findings,
    make_model_dir,
    raw_safetensors,
    run_cli,
    scan_json,
    tensor_entry,
    write_safetensors,
)


def _card_invalid(report):
    hits = findings(report, "provenance.card-invalid")
    assert len(hits) == 1, report["findings"]
    return hits[0]


def _assert_unreadable(result, report, *words):
    hits = findings(report, "scan.unreadable")
    assert hits, "something could not be read but no scan.unreadable finding was reported"
    assert all(h["severity"] == "error" for h in hits)
    text = " ".join(h["message"] for h in hits)
    for word in words:
        assert word in text
    assert result.exit_code != 0, "a scan that skipped something must not exit 0"
    return hits


def test_missing_path(tmp_path):
    result = run_cli("scan", tmp_path / "does-not-exist", "--format", "json")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "does-not-exist" in result.stderr


def test_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _result, report = scan_json(empty)
    assert report["components"] == []
    (nothing,) = findings(report, "scan.nothing-found")
    assert nothing["severity"] == "error"  # a CI job against a failed mount must not pass
    assert str(empty) in nothing["message"]
    assert report["summary"]["errors"] == 1 and _result.exit_code == 1


def test_nothing_to_verify_or_lock_fails(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    verify = run_cli("verify", folder)
    assert verify.exit_code == 1 and "scan.nothing-found" in verify.stdout
    lock = run_cli("lock", folder, "-o", tmp_path / "aiscan.lock")
    assert lock.exit_code == 1 and not (tmp_path / "aiscan.lock").exists()
    policy = tmp_path / "empty-ok.yaml"
    policy.write_text("rules:\n  scan.nothing-found: warning\n")
    assert run_cli("verify", folder, "--policy", policy).exit_code == 0


def test_python_option_must_be_an_executable(tmp_path):
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0\n")
    for path in (text, tmp_path / "missing"):
        result = run_cli("scan", tmp_path, "--python", path)
        assert result.exit_code == 2 and "not an executable file" in result.stderr


def test_folder_with_only_non_model_files(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    _, report = scan_json(folder)
    assert findings(report, "scan.nothing-found")


def test_card_with_malformed_yaml_names_the_line(tmp_path):
    card = "license: mit\nbase_model: org/base\nfoo: bar: baz\npipeline_tag: x\n"
    # card lines: 1 '---', 2 license, 3 base_model, 4 the broken line
    folder = make_model_dir(tmp_path, card=card)
    _result, report = scan_json(folder)
    invalid = _card_invalid(report)
    assert "line 4" in invalid["message"]
    assert invalid["severity"] == "warning"
    assert component(report)["license"]["declared"] == []  # nothing from a broken card is used


def test_card_with_python_object_tag_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    card = f'license: !!python/object/apply:os.system ["touch {marker}"]\n'
    folder = make_model_dir(tmp_path, card=card)
    _result, report = scan_json(folder)
    assert not marker.exists(), "the YAML payload was executed"
    invalid = _card_invalid(report)
    assert "python/object/apply" in invalid["message"] or "unsafe" in invalid["message"]
    assert component(report)["license"]["declared"] == []


def test_card_with_python_name_tag_is_refused(tmp_path):
    folder = make_model_dir(tmp_path, card="license: !!python/name:os.getcwd ''\n")
    _, report = scan_json(folder)
    _card_invalid(report)


def test_card_with_20_megabyte_front_matter(tmp_path):
    line = "- padding-tag-to-make-the-front-matter-enormous-xxxxxxxxxxxxxxxx\n"
    front = "license: mit\ntags:\n" + line * (20 * 1024 * 1024 // len(line) + 1)
    folder = make_model_dir(tmp_path, card=front)
    assert (folder / "README.md").stat().st_size > 20 * 1024 * 1024
    _result, report = scan_json(folder)
    invalid = _card_invalid(report)
    assert "too large" in invalid["message"]


def test_card_that_is_not_utf8(tmp_path):
    folder = make_model_dir(tmp_path, card=None)
    (folder / "README.md").write_bytes(
        b"---\nlicense: mit\ndescription: caf\xe9 \xff\xfe\n---\n# Model\n"
    )
    _, report = scan_json(folder)
    invalid = _card_invalid(report)
    assert "UTF-8" in invalid["message"]


def test_card_front_matter_that_is_a_list(tmp_path):
    folder = make_model_dir(tmp_path, card="- license\n- mit\n")
    _, report = scan_json(folder)
    _card_invalid(report)


def test_card_front_matter_never_closed(tmp_path):
    folder = make_model_dir(tmp_path, card=None)
    (folder / "README.md").write_text("---\nlicense: mit\n# no closing line\n")
    _, report = scan_json(folder)
    _card_invalid(report)


def test_card_nested_too_deeply(tmp_path):
    folder = make_model_dir(tmp_path, card="license: mit\ndeep: " + "[" * 5000 + "]" * 5000 + "\n")
    _, report = scan_json(folder)
    _card_invalid(report)


def test_unreadable_file(world_tmp, run_restricted):
    folder = make_model_dir(world_tmp, "model", card={"license": "apache-2.0"})
    for path in (world_tmp, folder):
        path.chmod(0o755)
    (folder / "README.md").chmod(0o644)
    (folder / "model.safetensors").chmod(0)
    done = run_restricted("scan", folder, "--format", "json")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    hits = findings(report, "scan.unreadable")
    assert hits and hits[0]["severity"] == "error"
    assert any("model.safetensors" in h["message"] for h in hits)
    assert report["summary"]["exit_code"] == 1


def test_unreadable_subfolder(world_tmp, run_restricted):
    folder = make_model_dir(world_tmp, "model", card={"license": "apache-2.0"})
    locked = folder / "shards"
    write_safetensors(locked / "part-1.safetensors")
    locked.chmod(0)
    done = run_restricted("scan", folder, "--format", "json")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    hits = findings(report, "scan.unreadable")
    assert any("shards" in h["message"] for h in hits)


def test_directory_symlink_loop(tmp_path):
    folder = make_model_dir(tmp_path, "model")
    (folder / "sub").mkdir()
    (folder / "sub" / "loop").symlink_to("..", target_is_directory=True)
    result, report = scan_json(folder)
    _assert_unreadable(result, report, "loop")


def test_directory_symlink_loop_in_a_store(tmp_path):
    store = tmp_path / "store"
    make_model_dir(store, "model")
    (store / "model" / "again").symlink_to(store, target_is_directory=True)
    result, report = scan_json(store)
    assert [c["name"] for c in report["components"]] == ["model"]
    _assert_unreadable(result, report, "loop")


def test_file_symlink_loop(tmp_path):
    folder = make_model_dir(tmp_path, "model")
    (folder / "a.safetensors").symlink_to("b.safetensors")
    (folder / "b.safetensors").symlink_to("a.safetensors")
    result, report = scan_json(folder)
    hits = _assert_unreadable(result, report)
    assert {h["evidence"].get("file") for h in hits} >= {"a.safetensors", "b.safetensors"}


def test_dangling_symlink(tmp_path):
    folder = make_model_dir(tmp_path, "model")
    (folder / "shard-2.safetensors").symlink_to("gone.safetensors")
    result, report = scan_json(folder)
    _assert_unreadable(result, report, "shard-2.safetensors")


def test_truncated_safetensors(tmp_path):
    full = write_safetensors(tmp_path / "full.safetensors").read_bytes()
    folder = make_model_dir(
        tmp_path, weights=None, files={"model.safetensors": full[: len(full) - 5]}
    )
    result, report = scan_json(folder)
    (hit,) = findings(report, "integrity.truncated")
    assert hit["severity"] == "error"
    assert result.exit_code == 1


def test_garbage_safetensors_header(tmp_path):
    folder = make_model_dir(
        tmp_path, weights=None, files={"model.safetensors": raw_safetensors(b"\x00garbage\xff{]}")}
    )
    result, report = scan_json(folder)
    assert findings(report, "integrity.malformed")
    assert result.exit_code == 1


def test_safetensors_header_length_huge(tmp_path):
    folder = make_model_dir(
        tmp_path, weights=None, files={"model.safetensors": raw_safetensors(b"{}", length=2**40)}
    )
    result, report = scan_json(folder)
    assert findings(report, "integrity.malformed") or findings(report, "integrity.truncated")
    assert result.exit_code == 1


def test_empty_safetensors_file(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"model.safetensors": b""})
    result, report = scan_json(folder)
    assert findings(report, "integrity.truncated")
    assert result.exit_code == 1


def test_weight_file_vanishing_mid_scan(tmp_path, monkeypatch):
    folder = make_model_dir(tmp_path, "model", card={"license": "apache-2.0"})
    write_safetensors(folder / "model-00002.safetensors")
    real = model_folder.read_header
    vanished = []

    def vanish_then_read(path):
        path = type(folder)(path)
        if path.name == "model-00002.safetensors":
            path.unlink()
            vanished.append(path.name)
        return real(path)

    monkeypatch.setattr(model_folder, "read_header", vanish_then_read)
    result, report = scan_json(folder)
    assert vanished == ["model-00002.safetensors"]
    hits = _assert_unreadable(result, report, "model-00002.safetensors")
    assert result.exit_code == 1
    assert report["summary"]["errors"] >= len(hits)


def test_valid_structure_with_hostile_file_names(tmp_path):
    folder = make_model_dir(
        tmp_path, "model", files={"weird name\twith\nnewline.json": "{}", "ünïcødé.txt": "x"}
    )
    result, report = scan_json(folder)
    paths = {f["path"] for f in component(report)["files"]}
    assert "weird name\twith\nnewline.json" in paths
    assert "ünïcødé.txt" in paths
    assert result.exit_code == 0


def test_malformed_tensor_entries_do_not_crash(tmp_path):
    header = {"a": tensor_entry("F32", [2**62, 2**62], 0, 8), "b": {"dtype": None, "shape": None}}
    folder = make_model_dir(
        tmp_path, weights=None, files={"model.safetensors": raw_safetensors(header, b"\x00" * 8)}
    )
    result, report = scan_json(folder)
    assert findings(report, "integrity.malformed")
    assert result.exit_code == 1


def test_virtual_environment_as_target_points_to_python_flag(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    result, report = scan_json(venv)
    assert result.exit_code == 1
    (found,) = report["findings"]
    assert found["rule"] == "scan.nothing-found" and found["severity"] == "error"
    assert f"--python {venv / 'bin' / 'python'}" in found["message"]


def test_wrong_typed_pyproject_tables_are_findings_not_crashes(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        'project = "x"\n[tool]\npoetry = 3\n[dependency-groups]\ndev = "pytest"\n'
    )
    result, report = scan_json(project, args=["--no-env"])
    messages = [f["message"] for f in findings(report, "scan.unreadable")]
    assert any("[project]: must be a table, not str" in m for m in messages), messages
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "output_format", ["table", "json", "sarif", "markdown", "html", "spdx-json"]
)
def test_a_lone_surrogate_in_a_card_renders_in_every_format(tmp_path, output_format):
    folder = make_model_dir(
        tmp_path,
        card='---\nlicense: mit\nbase_model: "acme/\\ud800-base"\ntags: ["\\udfff"]\n---\n',
    )
    result = run_cli("scan", folder, "--format", output_format)
    assert result.exit_code in (0, 1), result.stderr
    assert "\ufffd" in result.stdout


def test_a_bug_exits_3_with_its_traceback(tmp_path, monkeypatch):
    """Only a bug may print a traceback, and then the exit code is 3, never 1 (violations)."""
    import scanner.pipeline.scan as pipeline
    from scanner.cli.main import main
    from tests.conftest import _runner

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "resolve_licenses", broken)
    result = _runner().invoke(main, ["scan", str(make_model_dir(tmp_path))])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("aiscan: error: internal error")
