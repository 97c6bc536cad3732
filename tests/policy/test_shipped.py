"""The shipped policies are read from a parsed cache while `rules/` is unchanged, and from
their YAML whenever the cache is missing, stale, damaged or cannot be written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scanner.policy import load as load_module
from scanner.policy.load import load_policy
from scanner.policy.shipped import shipped_document, shipped_folder


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(folder))
    return folder


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yaml").write_text("fail_on: warning\n")
    (folder / "b.yaml").write_text("extends: a\nrules: {license.unresolved: error}\n")
    return folder


class Reader:
    """load_module's YAML reader, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path: Path) -> dict:
        self.calls.append(path.name)
        return load_module._read_yaml_policy(path)


def test_the_second_reading_comes_from_the_cache(tmp_path, cache):
    rules = _rules(tmp_path)
    first, second = Reader(), Reader()
    assert shipped_document(rules / "b.yaml", first) == {
        "extends": "a",
        "rules": {"license.unresolved": "error"},
    }
    assert first.calls == ["a.yaml", "b.yaml"]  # every shipped policy, cached at once
    assert shipped_document(rules / "a.yaml", second) == {"fail_on": "warning"}
    assert second.calls == []
    (written,) = (cache / "compiled").iterdir()
    assert written.name.startswith("policies-")


def test_an_edited_policy_is_read_again(tmp_path, cache):
    rules = _rules(tmp_path)
    shipped_document(rules / "a.yaml", Reader())
    (rules / "a.yaml").write_text("fail_on: note\n")
    os.utime(rules / "a.yaml", ns=(1, 1))  # a different stamp even within the clock's tick
    again = Reader()
    assert shipped_document(rules / "a.yaml", again) == {"fail_on": "note"}
    assert "a.yaml" in again.calls


@pytest.mark.parametrize(
    "damage",
    [b"", b"{", b"[]", b'{"format": 1}', b'{"format": 1, "fingerprint": 3, "documents": 4}'],
)
def test_a_damaged_cache_means_the_yaml_is_read(tmp_path, cache, damage):
    rules = _rules(tmp_path)
    shipped_document(rules / "a.yaml", Reader())
    (target,) = (cache / "compiled").iterdir()
    target.write_bytes(damage)
    again = Reader()
    assert shipped_document(rules / "a.yaml", again) == {"fail_on": "warning"}
    assert again.calls
    assert json.loads(target.read_bytes())["documents"]["a.yaml"] == {"fail_on": "warning"}


def test_a_cache_folder_that_cannot_be_written_is_no_error(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(blocked))
    rules = _rules(tmp_path)
    assert shipped_document(rules / "a.yaml", Reader()) == {"fail_on": "warning"}


def test_a_document_json_cannot_hold_is_never_cached(tmp_path, cache):
    rules = _rules(tmp_path)
    (rules / "c.yaml").write_text(
        "waivers:\n  - {rule: license.unresolved, component: x, reason: y, expires: 2030-01-01}\n"
    )
    shipped_document(rules / "a.yaml", Reader())
    assert not (cache / "compiled").exists()
    again = Reader()
    shipped_document(rules / "c.yaml", again)
    assert again.calls  # the date stays a date: read from the YAML every time


def test_shipped_policies_load_the_same_from_the_cache(kb, cache):
    """Every shipped policy, built from its YAML and then from the cache, is the same policy."""
    for path in sorted(shipped_folder().glob("*.yaml")):
        from_yaml = load_policy(path.stem, kb)
        assert (cache / "compiled").is_dir()
        assert load_policy(path.stem, kb) == from_yaml


def test_a_broken_sibling_keeps_nothing_and_blames_nothing(tmp_path, cache):
    """A shipped policy that cannot be read stops the caching, not the policy asked for."""
    rules = _rules(tmp_path)
    (rules / "z.yaml").write_text("fail_on: [unclosed\n")
    reader = Reader()
    assert shipped_document(rules / "a.yaml", reader) == {"fail_on": "warning"}
    assert not (cache / "compiled").exists()


def test_without_a_home_folder_the_yaml_is_read(tmp_path, monkeypatch):
    """No cache folder to find (no $HOME, no AISCAN_CACHE_DIR): the YAML, every time."""
    from scanner import resources

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(resources, "user_cache_dir", no_home)
    folder = _rules(tmp_path)
    read = Reader()
    for _ in range(2):
        assert shipped_document(folder / "a.yaml", read) == {"fail_on": "warning"}
    assert read.calls == ["a.yaml", "a.yaml"]
