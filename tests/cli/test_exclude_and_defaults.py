"""`--exclude` patterns and the `defaults:` of the local aiscan.yaml (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.errors import UsageError
from scanner.files import Excludes
from tests.conftest import (
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    run_cli,
    scan_json,
)


def _names(report: dict) -> list[str]:
    return sorted(c["name"] for c in report["components"])


@pytest.mark.parametrize(
    ("pattern", "path", "folder", "skipped"),
    [
        ("vendor/", "t/vendor", True, True),
        ("vendor/", "t/a/vendor", True, True),
        ("vendor/", "t/vendor", False, False),  # a file named vendor is not the folder
        ("*.bin", "t/m/pytorch_model.bin", False, True),
        ("/drafts", "t/drafts", True, True),
        ("/drafts", "t/a/drafts", True, False),
        ("a/**/b", "t/a/x/y/b", True, True),
        ("*", "t", True, False),  # the target itself is never left out
        ("*.bin", "elsewhere/x.bin", False, False),  # not below the target
    ],
)
def test_patterns_mean_what_they_mean_in_gitignore(
    pattern: str, path: str, folder: bool, skipped: bool
) -> None:
    assert Excludes((pattern,)).below(Path("t")).skips(Path(path), folder=folder) is skipped


def test_a_negated_pattern_puts_a_file_back() -> None:
    excludes = Excludes(("*.bin", "!keep.bin")).below(Path("t"))
    assert excludes.skips(Path("t/m/x.bin"), folder=False)
    assert not excludes.skips(Path("t/m/keep.bin"), folder=False)


def test_without_patterns_nothing_is_skipped() -> None:
    assert not Excludes().below(Path("t")).skips(Path("t/anything"), folder=True)
    assert not Excludes(("x",)).skips(Path("t/x"), folder=False)  # no target yet


def test_scan_leaves_out_model_folders_and_files(tmp_path: Path) -> None:
    make_model_dir(tmp_path, "keep")
    make_model_dir(tmp_path / "vendor", "third-party")
    make_model_dir(tmp_path, "drafts")
    make_model_dir(tmp_path, "nested/drafts")
    _, report = scan_json(tmp_path, args=("--exclude", "vendor/", "--exclude", "/drafts"))
    assert _names(report) == ["keep", "nested/drafts"]


def test_excluded_files_of_a_model_are_not_read(tmp_path: Path) -> None:
    make_model_dir(tmp_path, "m", files={"pytorch_model.bin": b"not a pickle"})
    _, report = scan_json(tmp_path / "m", args=("--exclude", "*.bin", "--no-code"))
    (model,) = report["components"]
    assert [f["path"] for f in model["files"]] == ["README.md", "model.safetensors"]


def test_excluded_code_and_dependency_files_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('AutoModel.from_pretrained("acme/kept")\n')
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "old.py").write_text('AutoModel.from_pretrained("acme/dropped")\n')
    (tmp_path / "requirements-dev.txt").write_text("left-out==1.0\n")
    (tmp_path / "requirements.txt").write_text("kept-package==1.0\n")
    _, report = scan_json(
        tmp_path,
        args=("--exclude", "scripts/", "--exclude", "requirements-dev.txt", "--no-env"),
    )
    names = _names(report)
    assert "acme/kept" in names and "kept-package" in names
    assert "acme/dropped" not in names and "left-out" not in names


def test_cached_repos_are_excluded_by_folder_name(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    make_hf_cache(cache, "acme/small", model_repo_files())
    make_hf_cache(cache, "acme/huge", model_repo_files())
    _, report = scan_json(cache, args=("--exclude", "models--acme--huge/"))
    assert _names(report) == ["acme/small"]


def test_verify_with_a_lock_does_not_expect_excluded_files(tmp_path: Path) -> None:
    store = tmp_path / "store"
    make_model_dir(store, "a", files={"extra.bin": b"x" * 10})
    make_model_dir(store, "b")
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", store, "-o", lock, "--no-cache").exit_code == 0
    result = run_cli(
        "verify", store, "--lock", lock, "--exclude", "extra.bin", "--exclude", "/b/",
        "--no-cache", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    paths = [f["path"] for c in report["components"] for f in c["files"]]
    assert "extra.bin" not in paths
    assert all(c["name"] != "b" for c in report["components"])
    # Without the patterns the same lock still catches a missing file.
    (store / "a" / "extra.bin").unlink()
    assert run_cli("verify", store, "--lock", lock, "--no-cache").exit_code == 1


def test_exclude_with_a_saved_report_is_a_usage_error(tmp_path: Path) -> None:
    saved = tmp_path / "r.json"
    make_model_dir(tmp_path, "m")
    run_cli("scan", tmp_path / "m", "-f", "json", "-o", saved)
    result = run_cli("report", "--from", saved, "-o", tmp_path / "r.html", "--exclude", "x")
    assert result.exit_code == 2
    assert "--exclude applies to a scan" in result.stderr


# --- defaults: ------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with two model folders, one of them under vendor/."""
    make_model_dir(tmp_path / "models", "ours")
    make_model_dir(tmp_path / "models" / "vendor", "theirs", card={"license": "cc-by-nc-4.0"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(folder: Path, text: str) -> None:
    (folder / "aiscan.yaml").write_text(text, encoding="utf-8")


def test_defaults_apply_to_every_command_that_has_the_option(project: Path) -> None:
    _config(project, "defaults:\n  exclude: [vendor/]\n  fail-on: warning\n")
    result, report = scan_json("models")
    assert _names(report) == ["ours"]
    assert report["fail_on"] == "warning"
    assert "aiscan: defaults from" in result.stderr
    assert "--exclude vendor/" in result.stderr and "--fail-on warning" in result.stderr
    verified = run_cli("verify", "models", "--format", "json", "--no-cache")
    assert [c["name"] for c in json.loads(verified.stdout)["components"]] == ["ours"]


def test_the_command_line_and_environment_win_over_defaults(project: Path) -> None:
    _config(project, "defaults:\n  fail-on: note\n")
    _, report = scan_json("models", args=("--fail-on", "error"))
    assert report["fail_on"] == "error"
    result = run_cli("scan", "models", "-f", "json", env={"AISCAN_FAIL_ON": "warning"})
    assert json.loads(result.stdout)["fail_on"] == "warning"
    assert "defaults from" not in result.stderr  # nothing of this run came from them


def test_a_command_section_wins_over_shared_keys(project: Path) -> None:
    _config(project, "defaults:\n  format: json\n  scan:\n    format: sarif\n")
    assert json.loads(run_cli("scan", "models").stdout)["version"] == "2.1.0"  # SARIF
    verified = run_cli("verify", "models", "--no-cache")
    assert json.loads(verified.stdout)["schema"] == "aiscan-report/1"
    bom = run_cli("bom", "models", "--no-hash")  # json is no BOM format: bom keeps its own
    assert json.loads(bom.stdout)["bomFormat"] == "CycloneDX"


def test_a_shared_value_applies_where_the_option_accepts_it(project: Path) -> None:
    _config(project, "defaults:\n  format: sarif\n")
    assert json.loads(run_cli("scan", "models").stdout)["version"] == "2.1.0"
    assert "Component" in run_cli("verify", "models", "--no-cache").stdout  # the table


def test_paths_in_defaults_are_relative_to_the_file(project: Path) -> None:
    (project / "ci").mkdir()
    _config(project, "defaults:\n  scan:\n    output: ci/report.json\n    format: json\n")
    result = run_cli("scan", "models")
    assert result.exit_code in (0, 1)
    assert json.loads((project / "ci" / "report.json").read_text())["schema"] == "aiscan-report/1"


def test_pyproject_defaults(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n\n[tool.aiscan.defaults]\nexclude = ["vendor/"]\n'
    )
    _, report = scan_json("models")
    assert "theirs" not in _names(report)


def test_quiet_runs_do_not_announce_defaults(project: Path) -> None:
    _config(project, "defaults:\n  exclude: [vendor/]\n")
    assert "defaults from" not in run_cli("scan", "models", "-q").stderr


def test_help_shows_a_configured_default(project: Path) -> None:
    _config(project, "defaults:\n  scan:\n    format: markdown\n")
    assert "default: markdown" in " ".join(run_cli("scan", "--help").stdout.split())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("defaults:\n  fromage: 1\n", "defaults.fromage: no command has an option --fromage"),
        (
            "defaults:\n  verify:\n    summary: x.md\n",
            "defaults.verify.summary: `aiscan verify` has no option --summary",
        ),
        ("defaults:\n  jobs: zero\n", "defaults.jobs: Invalid value for '--jobs'"),
        ("defaults:\n  format: sarf\n", "defaults.format: Invalid value for '--format'"),
        ("defaults:\n  hub: maybe\n", "defaults.hub: must be true or false"),
        ("defaults:\n  policy: strict\n", "no command has an option --policy"),
        ("defaults:\n  scan: [1]\n", "defaults.scan: must map options of `aiscan scan`"),
        ("defaults: 3\n", "aiscan.yaml:1: must map option names"),
        ("defaults:\n  exclude: {a: 1}\n", "defaults.exclude: must be a value or a list of values"),
    ],
)
def test_bad_defaults_are_one_line_and_exit_2(project: Path, text: str, message: str) -> None:
    _config(project, text)
    result = run_cli("scan", "models")
    assert result.exit_code == 2
    assert result.stderr.startswith("aiscan: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_defaults_inside_a_scanned_target_are_ignored(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "stranger"
    make_model_dir(target, "m")
    _config(target, "defaults:\n  exclude: ['*']\n")
    monkeypatch.chdir(tmp_path)
    _, report = scan_json("stranger")
    assert _names(report) == ["m"]


def test_invalid_patterns_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        Excludes(("a\\",))
