"""Lock files: uv.lock, poetry.lock, pylock.toml, Pipfile.lock; unknown versions not guessed."""

from __future__ import annotations

import json

from scanner.readers.python.lockfiles import read_lock_file

UV_LOCK = """version = 1
requires-python = ">=3.10"
[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "requests" }]
[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3" }]
[[package]]
name = "urllib3"
version = "2.2.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_uv_lock_roots_and_graph(tmp_path):
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    declared = read_lock_file(tmp_path / "uv.lock")
    by_name = {p.name: p for p in declared.packages}
    assert set(by_name) == {"requests", "urllib3"}
    assert by_name["requests"].direct is True and by_name["urllib3"].direct is False
    assert by_name["requests"].dependencies == ("urllib3",)
    assert by_name["urllib3"].version == "2.2.0"


def test_unknown_lock_versions_are_problems(tmp_path):
    (tmp_path / "uv.lock").write_text(UV_LOCK.replace("version = 1\n", "version = 99\n", 1))
    declared = read_lock_file(tmp_path / "uv.lock")
    assert declared.packages == () and "99" in declared.problems[0].message
    (tmp_path / "poetry.lock").write_text('[metadata]\nlock-version = "7.0"\n')
    assert "unknown" in read_lock_file(tmp_path / "poetry.lock").problems[0].message
    (tmp_path / "Pipfile.lock").write_text(json.dumps({"_meta": {"pipfile-spec": 42}}))
    assert read_lock_file(tmp_path / "Pipfile.lock").problems


def test_poetry_lock(tmp_path):
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "Requests"\nversion = "2.31.0"\n'
        '[package.dependencies]\nidna = ">=2"\n[metadata]\nlock-version = "2.0"\n'
    )
    (package,) = read_lock_file(tmp_path / "poetry.lock").packages
    assert (package.name, package.version, package.dependencies) == (
        "requests",
        "2.31.0",
        ("idna",),
    )


def test_pylock_valid_and_invalid(tmp_path):
    path = tmp_path / "pylock.toml"
    path.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n[[packages]]\nname = "requests"\n'
        'version = "2.31.0"\n[[packages.wheels]]\n'
        'url = "https://example.invalid/requests-2.31.0-py3-none-any.whl"\n'
        'hashes = {sha256 = "aa"}\n'
    )
    (package,) = read_lock_file(path).packages
    assert (package.name, package.version) == ("requests", "2.31.0")
    path.write_text('lock-version = "9.0"\ncreated-by = "x"\npackages = []\n')
    assert read_lock_file(path).problems
    path.write_text("not toml [")
    assert "invalid TOML" in read_lock_file(path).problems[0].message


def test_pipfile_lock(tmp_path):
    (tmp_path / "Pipfile.lock").write_text(
        json.dumps(
            {
                "_meta": {"pipfile-spec": 6},
                "default": {"flask": {"version": "==3.0.0", "hashes": ["sha256:aa"]}},
                "develop": {"pytest": {"version": "==8.0.0"}},
            }
        )
    )
    by_name = {p.name: p for p in read_lock_file(tmp_path / "Pipfile.lock").packages}
    assert by_name["flask"].version == "3.0.0" and by_name["flask"].hashes == ("sha256:aa",)
    assert by_name["pytest"].where == "Pipfile.lock [develop]"
