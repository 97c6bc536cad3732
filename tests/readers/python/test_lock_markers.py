"""Lock-file markers are evaluated for the target interpreter; Poetry's pyproject tables are read.

Every marker environment here is explicit, so the results do not depend on the machine running
the tests.
"""

from __future__ import annotations

import json

import pytest
from packaging.markers import default_environment

from scanner.inventory import Problem
from scanner.readers.python.environment import Environment
from scanner.readers.python.lock_markers import marker_holds
from scanner.readers.python.lockfiles import read_lock_file
from scanner.readers.python.pyproject import read_pyproject
from scanner.sources.interface import ProjectOptions, SourceContext
from scanner.sources.project import ProjectSource


def environment(platform: str, python: str = "3.12.1") -> dict[str, str]:
    base = dict(default_environment())
    system = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}[platform]
    return {
        **base,
        "sys_platform": platform,
        "platform_system": system,
        "os_name": "nt" if platform == "win32" else "posix",
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
    }


LINUX = environment("linux")
WINDOWS = environment("win32")

UV_LOCK = """version = 1
requires-python = ">=3.9"
resolution-markers = ["python_full_version >= '3.10'", "python_full_version < '3.10'"]

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "click" },
    { name = "numpy", version = "2.0.2", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version < '3.10'" },
    { name = "numpy", version = "2.2.0", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version >= '3.10'" },
]

[package.optional-dependencies]
cuda = [{ name = "nvidia-cuda", marker = "sys_platform == 'linux' and extra == 'extra-4-demo-cuda'" }]

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "colorama", marker = "sys_platform == 'win32'" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.10'"]

[[package]]
name = "numpy"
version = "2.2.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.10'"]

[[package]]
name = "nvidia-cuda"
version = "12.0"
source = { registry = "https://pypi.org/simple" }
"""


def _versions(declarations) -> dict[str, str | None]:
    return {p.name: p.version for p in declarations.packages}


def test_uv_lock_follows_only_edges_whose_markers_hold(tmp_path):
    path = tmp_path / "uv.lock"
    path.write_text(UV_LOCK)
    linux = read_lock_file(path, LINUX)
    assert _versions(linux) == {"click": "8.1.7", "numpy": "2.2.0", "nvidia-cuda": "12.0"}
    assert linux.problems == ()
    by_name = {p.name: p for p in linux.packages}
    assert by_name["click"].dependencies == ()  # the win32-only edge is not followed
    assert by_name["nvidia-cuda"].direct is True  # behind an extra: could be installed
    windows = read_lock_file(path, WINDOWS)
    assert _versions(windows) == {"click": "8.1.7", "colorama": "0.4.6", "numpy": "2.2.0"}
    assert {p.name: p for p in windows.packages}["colorama"].direct is False
    old_python = read_lock_file(path, environment("linux", "3.9.18"))
    assert _versions(old_python)["numpy"] == "2.0.2"  # the other fork's version


def test_uv_lock_invalid_marker_keeps_the_entry_and_is_reported(tmp_path):
    path = tmp_path / "uv.lock"
    path.write_text(UV_LOCK.replace("sys_platform == 'win32'", "sys_platform = 'win32'"))
    declared = read_lock_file(path, LINUX)
    assert "colorama" in _versions(declared)
    (problem,) = declared.problems
    assert problem.location == "uv.lock [package click] colorama"
    assert "invalid marker" in problem.message


def test_poetry_lock_markers_string_and_per_group(tmp_path):
    path = tmp_path / "poetry.lock"
    path.write_text(
        '[[package]]\nname = "colorama"\nversion = "0.4.6"\ngroups = ["main"]\n'
        "markers = \"sys_platform == 'win32'\"\n"
        '[[package]]\nname = "pywin32"\nversion = "306"\ngroups = ["main", "dev"]\n'
        "markers = {main = \"sys_platform == 'win32'\", dev = \"platform_system == 'Windows'\"}\n"
        '[[package]]\nname = "uvloop"\nversion = "0.19.0"\n'
        "markers = {main = \"sys_platform == 'win32'\", dev = \"sys_platform == 'linux'\"}\n"
        '[[package]]\nname = "requests"\nversion = "2.31.0"\n'
        '[[package]]\nname = "broken"\nversion = "1.0"\nmarkers = "os_name ="\n'
        '[metadata]\nlock-version = "2.1"\n'
    )
    linux = read_lock_file(path, LINUX)
    assert set(_versions(linux)) == {"uvloop", "requests", "broken"}
    (problem,) = linux.problems
    assert problem.location == "poetry.lock [package broken]"
    windows = read_lock_file(path, WINDOWS)
    assert set(_versions(windows)) == {"colorama", "pywin32", "uvloop", "requests", "broken"}


def test_pipfile_lock_markers(tmp_path):
    path = tmp_path / "Pipfile.lock"
    path.write_text(
        json.dumps(
            {
                "_meta": {"pipfile-spec": 6},
                "default": {
                    "flask": {"version": "==3.0.0"},
                    "colorama": {"version": "==0.4.6", "markers": "sys_platform == 'win32'"},
                    "odd": {"version": "==1.0", "markers": "python_version >"},
                },
                "develop": {"pytest": {"version": "==8.0.0", "markers": "os_name == 'posix'"}},
            }
        )
    )
    linux = read_lock_file(path, LINUX)
    assert set(_versions(linux)) == {"flask", "odd", "pytest"}
    assert all(p.marker is None for p in linux.packages)  # already evaluated
    (problem,) = linux.problems
    assert problem.location == "Pipfile.lock [default] odd"
    assert set(_versions(read_lock_file(path, WINDOWS))) == {"flask", "colorama", "odd"}


PYLOCK = """lock-version = "1.0"
created-by = "test"
extras = ["gpu"]
dependency-groups = ["dev"]
default-groups = []

[[packages]]
name = "{name}"
version = "1.0"
marker = "{marker}"
[[packages.wheels]]
url = "https://example.invalid/{name}-1.0-py3-none-any.whl"
hashes = {{sha256 = "aa"}}
"""


@pytest.mark.parametrize(
    ("marker", "on_linux", "on_windows"),
    [
        ("sys_platform == 'win32'", False, True),
        ("'gpu' in extras and sys_platform == 'linux'", True, False),
        ("'dev' in dependency_groups", True, True),
        ("'other' in extras", False, False),
    ],
)
def test_pylock_marker(tmp_path, marker, on_linux, on_windows):
    path = tmp_path / "pylock.toml"
    path.write_text(PYLOCK.format(name="pkg", marker=marker))
    assert bool(read_lock_file(path, LINUX).packages) is on_linux
    assert bool(read_lock_file(path, WINDOWS).packages) is on_windows


def test_pylock_invalid_marker_names_the_entry(tmp_path):
    path = tmp_path / "pylock.toml"
    path.write_text(PYLOCK.format(name="pkg", marker="os_name ="))
    (problem,) = read_lock_file(path, LINUX).problems
    assert "packages[0].marker" in problem.message


def test_marker_holds_never_raises():
    assert marker_holds("sys_platform == 'linux'", LINUX, "x") is True
    assert isinstance(marker_holds(["not", "text"], LINUX, "x"), Problem)
    assert isinstance(marker_holds("python_version ~= 'abc'", LINUX, "x"), Problem)


def test_project_uses_the_target_interpreters_markers(tmp_path, kb):
    (tmp_path / "uv.lock").write_text(UV_LOCK)

    def libraries(markers):
        target = Environment(python="python", version="3.12.1", markers=markers, distributions=())
        source = ProjectSource(
            tmp_path,
            SourceContext(kb, project=ProjectOptions(env="on", code=False), environment=target),
        )
        return {c.name for c in source.collect() if c.type == "library"}

    assert "colorama" not in libraries(LINUX)
    assert "colorama" in libraries(WINDOWS)


POETRY_PYPROJECT = """[tool.poetry]
name = "demo"

[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
Flask = "==3.0.0"
numpy = "1.26.4"
torch = { version = "~2.2", extras = ["cuda"], markers = "sys_platform == 'linux'", optional = true }
mylib = { git = "https://example.invalid/mylib.git", tag = "v1" }
local = { path = "../local" }
anything = "*"
multi = [
    { version = "<=1.9", python = "<3.8" },
    { version = "2.0.0", python = ">=3.8" },
]

[tool.poetry.group.dev.dependencies]
pytest = ">=8,<9"
bad = { version = "1.0", markers = "sys_platform =" }
"""


def test_poetry_dependencies_and_groups_are_direct(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(POETRY_PYPROJECT)
    declared = read_pyproject(path)
    by_name: dict[str, list] = {}
    for package in declared.packages:
        by_name.setdefault(package.name, []).append(package)
    assert "python" not in by_name
    assert set(by_name) == {
        "requests", "flask", "numpy", "torch", "mylib", "local", "anything", "multi", "pytest"
    }  # fmt: skip
    assert all(p.direct is True for p in declared.packages)
    (requests,) = by_name["requests"]
    assert (requests.specifier, requests.version) == ("", None)  # ^2.31 is not guessed at
    assert requests.where == "pyproject.toml:6 [tool.poetry.dependencies] ^2.31"
    (flask,) = by_name["flask"]
    assert (flask.specifier, flask.version) == ("==3.0.0", "3.0.0")
    (numpy,) = by_name["numpy"]
    assert (numpy.specifier, numpy.version) == ("==1.26.4", "1.26.4")
    (torch,) = by_name["torch"]
    assert torch.version is None and torch.where.endswith("~2.2")
    assert torch.extras == ("cuda",) and torch.marker == "sys_platform == 'linux'"
    (mylib,) = by_name["mylib"]
    assert mylib.where.endswith("git https://example.invalid/mylib.git@v1")
    assert by_name["anything"][0].where.endswith(" *")
    assert [p.version for p in by_name["multi"]] == [None, "2.0.0"]
    (pytest_dep,) = by_name["pytest"]
    assert pytest_dep.where == "pyproject.toml:19 [tool.poetry.group.dev.dependencies] >=8,<9"
    (problem,) = declared.problems
    assert problem.location == "pyproject.toml:20 [tool.poetry.group.dev.dependencies] bad"
    assert "invalid marker" in problem.message


def test_poetry_bad_tables_are_problems(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.poetry]\ndependencies = ["requests"]\n'
        '[tool.poetry.group.dev.dependencies]\nx = 3\n"not a name!" = "1.0"\n'
    )
    messages = [p.message for p in read_pyproject(path).problems]
    assert len(messages) == 3 and "must be a table" in messages[0]
