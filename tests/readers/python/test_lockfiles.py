"""Lock files: uv.lock, poetry.lock, pylock.toml, Pipfile.lock; unknown versions not guessed."""

from __future__ import annotations

import json

import pytest

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


# --- wrong-typed and deeply nested lock files: problems, never tracebacks ---------------------

PIPFILE_META = {"_meta": {"pipfile-spec": 6}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "not a Pipfile.lock: not a JSON object"),
        ({"_meta": [6]}, "Pipfile.lock pipfile-spec None is unknown; not read"),
        ({**PIPFILE_META, "default": ["flask"]}, "must be an object of packages; not read"),
        ({**PIPFILE_META, "default": {"flask": "==3.0"}}, "entry is not an object; not read"),
        ({**PIPFILE_META, "default": {"flask": {"version": ["==3"]}}}, "version is not a string"),
        ({**PIPFILE_META, "default": {"flask": {"hashes": 5}}}, "hashes is not a list of strings"),
        ({**PIPFILE_META, "default": {"flask": {"hashes": [5]}}}, "hashes is not a list"),
        ({**PIPFILE_META, "default": {"a b!": {}}}, "not a valid package name; not read"),
    ],
    ids=[
        "array",
        "meta-array",
        "default-array",
        "entry-string",
        "version-array",
        "hashes-number",
        "hashes-numbers",
        "bad-name",
    ],
)
def test_wrong_typed_pipfile_lock_is_a_problem(tmp_path, document, message):
    (tmp_path / "Pipfile.lock").write_text(json.dumps(document))
    declared = read_lock_file(tmp_path / "Pipfile.lock")
    assert declared.packages == ()
    (problem,) = declared.problems
    assert message in problem.message


def test_a_wrong_typed_pipfile_entry_leaves_the_others_read(tmp_path):
    document = {**PIPFILE_META, "default": {"bad": [], "flask": {"version": "==3.0.0"}}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(document))
    declared = read_lock_file(tmp_path / "Pipfile.lock")
    assert [p.name for p in declared.packages] == ["flask"]
    assert [p.location for p in declared.problems] == ["Pipfile.lock [default] bad"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("uv.lock", 'version = 1\npackage = "x"', "`package` is not an array of tables"),
        ("uv.lock", "version = 1\npackage = [1]", "package 1 is not a table with a name"),
        ("uv.lock", "version = 1\n[[package]]\nname = 3", "package 1 is not a table with a name"),
        (
            "uv.lock",
            'version = 1\n[[package]]\nname = "a"\ndependencies = [1]',
            "malformed lock file (AttributeError: ",
        ),
        ("poetry.lock", "metadata = 3", "poetry.lock lock-version '' is unknown"),
        (
            "poetry.lock",
            '[[package]]\nversion = "1"\n[metadata]\nlock-version = "2.0"\n',
            "package 1 is not a table with a name",
        ),
    ],
    ids=[
        "uv-package-string",
        "uv-package-numbers",
        "uv-name-number",
        "uv-dependency-number",
        "poetry-metadata-number",
        "poetry-nameless",
    ],
)
def test_wrong_typed_toml_lock_files_are_problems(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    declared = read_lock_file(tmp_path / name)
    assert declared.packages == ()
    (problem,) = declared.problems
    assert message in problem.message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("Pipfile.lock", "[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
        ("uv.lock", "x = " + "[" * 100_000 + "]" * 100_000, "invalid TOML: nested too deeply"),
        ("poetry.lock", "x = " + "{a = " * 10_000 + "1" + "}" * 10_000, "invalid TOML"),
        ("pylock.toml", "x = " + "[" * 100_000 + "]" * 100_000, "invalid TOML: nested too deeply"),
    ],
    ids=["pipfile", "uv", "poetry-inline-tables", "pylock"],
)
def test_deeply_nested_lock_files_are_problems(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    (problem,) = read_lock_file(tmp_path / name).problems
    assert message in problem.message
