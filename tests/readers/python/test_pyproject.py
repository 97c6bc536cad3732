"""pyproject.toml: PEP 621 dependencies, optional dependencies, PEP 735 groups."""

from __future__ import annotations

import pytest

from scanner.readers.python.pyproject import MAX_GROUP_DEPTH, read_pyproject
from tests.conftest import measured


def test_dependencies_optional_and_groups(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[project]\n"
        'name = "demo"\n'
        'dependencies = ["torch>=2", "transformers[torch]==4.40.0"]\n'
        "[project.optional-dependencies]\n"
        "gpu = [\"vllm; sys_platform == 'linux'\"]\n"
        "[dependency-groups]\n"
        'dev = ["pytest", {include-group = "lint"}]\n'
        'lint = ["ruff"]\n'
    )
    declared = read_pyproject(path)
    found = {(p.name, p.where.split(" ")[1]) for p in declared.packages}
    assert ("torch", "[project.dependencies]") in found
    assert ("vllm", "[project.optional-dependencies.gpu]") in found
    assert ("ruff", "[dependency-groups.dev]") in found
    transformers = next(p for p in declared.packages if p.name == "transformers")
    assert transformers.version == "4.40.0" and transformers.extras == ("torch",)
    assert transformers.where.startswith("pyproject.toml:3")


def test_invalid_toml_and_bad_entries_are_problems(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    assert "invalid TOML" in read_pyproject(path).problems[0].message
    path.write_text('[project]\ndependencies = ["ok", "not a req !!", 3]\n')
    declared = read_pyproject(path)
    assert [p.name for p in declared.packages] == ["ok"]
    assert len(declared.problems) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[dependency-groups]\ndev = "pytest"', "must be a list of requirements"),
        ("[dependency-groups]\ndev = {pytest = 1}", "must be a list of requirements"),
        ('[dependency-groups]\ndev = [{include-group = "nope"}]', "includes unknown group 'nope'"),
        ("[dependency-groups]\ndev = [[1]]", "unsupported entry [1]"),
        ('[project]\ndependencies = [1, ["flask"]]', "not a requirement: 1"),
        ("[project.optional-dependencies]\nx = [{a = 1}]", "not a requirement: {'a': 1}"),
        ("[tool.poetry.dependencies]\nflask = [1]", "unsupported entry 1"),
        ("[tool.poetry.dependencies]\nflask = {markers = 3}", "invalid marker 3"),
        ("x = " + "[" * 100_000 + "]" * 100_000, "invalid TOML: nested too deeply"),
    ],
    ids=[
        "group-string",
        "group-table",
        "unknown-include",
        "group-nested-array",
        "dependencies-numbers",
        "optional-table",
        "poetry-list-number",
        "poetry-marker-number",
        "deep",
    ],
)
def test_wrong_typed_fields_are_problems_not_letters_or_tracebacks(tmp_path, text, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    declared = read_pyproject(path)
    assert declared.packages == ()
    assert any(message in problem.message for problem in declared.problems), declared.problems


def test_poetry_extras_that_are_not_strings_are_left_out(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry.dependencies]\nflask = {version = "3.0.0", extras = [1, "x"]}\n')
    (package,) = read_pyproject(path).packages
    assert package.extras == ("x",)


def test_include_groups_that_fan_out_are_expanded_once_each(tmp_path):
    # Each group includes the next twice: expanded naively, 2**40 requirement strings.
    groups = "".join(
        f'g{i} = ["p{i}", {{include-group = "g{i + 1}"}}, {{include-group = "g{i + 1}"}}]\n'
        for i in range(40)
    )
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[dependency-groups]\n{groups}g40 = ["last"]\n')
    declared = measured(
        f"len(read_pyproject(Path({str(path)!r})).packages)",
        imports="from pathlib import Path\nfrom scanner.readers.python.pyproject import read_pyproject",
        seconds=2,
        megabytes=100,
    )
    assert declared < 41 * 41


def test_a_chain_of_thousands_of_include_groups_is_a_problem(tmp_path):
    groups = "".join(f'g{i} = [{{include-group = "g{i + 1}"}}]\n' for i in range(3_000))
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[dependency-groups]\n{groups}g3000 = ["last"]\n')
    problems = {problem.message for problem in read_pyproject(path).problems}
    assert problems == {f"include-group nested more than {MAX_GROUP_DEPTH} deep; not read"}
