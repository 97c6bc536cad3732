"""pyproject.toml: PEP 621 dependencies, optional dependencies, PEP 735 groups."""

from __future__ import annotations

from scanner.readers.python.pyproject import read_pyproject


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
