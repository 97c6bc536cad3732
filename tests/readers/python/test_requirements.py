"""requirements*.txt: includes, hashes, markers, extras, and bad input as problems."""

from __future__ import annotations

import os

from scanner.readers.python.requirements import read_requirements
from tests.conftest import measured


def test_includes_hashes_markers_extras(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "-r base.txt\n"
        "requests[socks]==2.31.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        'numpy>=1.0; python_version < "3.8"\n'
        "-e .\n"
        "--index-url https://example.invalid/simple\n"
    )
    (tmp_path / "base.txt").write_text("flask\n")
    declared = read_requirements(tmp_path / "requirements.txt", tmp_path)
    by_name = {p.name: p for p in declared.packages}
    assert set(by_name) == {"flask", "requests", "numpy"}
    assert by_name["requests"].version == "2.31.0"
    assert by_name["requests"].extras == ("socks",)
    assert by_name["requests"].hashes == ("sha256:aaaa", "sha256:bbbb")
    assert by_name["requests"].where == "requirements.txt:2"
    assert by_name["numpy"].marker == 'python_version < "3.8"'
    assert by_name["flask"].where == "base.txt:1"
    assert declared.problems == ()


def test_broken_lines_and_circular_includes_are_problems(tmp_path):
    (tmp_path / "requirements.txt").write_text("-r dev.txt\nthis is broken ===\nok-pkg\n")
    (tmp_path / "dev.txt").write_text("-r requirements.txt\n")
    declared = read_requirements(tmp_path / "requirements.txt", tmp_path)
    assert [p.name for p in declared.packages] == ["ok-pkg"]
    messages = " | ".join(f"{p.location}: {p.message}" for p in declared.problems)
    assert "requirements.txt:2" in messages
    assert "circular -r include" in messages


def test_missing_include_and_binary_file(tmp_path):
    (tmp_path / "requirements.txt").write_text("-r nowhere.txt\n")
    declared = read_requirements(tmp_path / "requirements.txt", tmp_path)
    assert "cannot read" in declared.problems[0].message
    (tmp_path / "requirements-bin.txt").write_bytes(b"\xff\xfe\x00\x01")
    assert read_requirements(tmp_path / "requirements-bin.txt", tmp_path).problems


def test_an_include_of_dev_zero_is_a_problem_quickly(tmp_path):
    (tmp_path / "requirements.txt").write_text("-r /dev/zero\nflask\n")
    declared = measured(
        f"[p.message for p in read_requirements(Path({str(tmp_path)!r}) / 'requirements.txt',"
        f" Path({str(tmp_path)!r})).problems]",
        imports=(
            "from pathlib import Path\n"
            "from scanner.readers.python.requirements import read_requirements"
        ),
        seconds=2,
        megabytes=100,
    )
    assert declared == ["/dev/zero is outside the scanned target; not read"]


def test_an_include_that_is_not_a_regular_file_is_a_problem(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "requirements.txt").write_text("-r pipe.txt\nflask\n")
    declared = read_requirements(tmp_path / "requirements.txt", tmp_path)
    assert [p.name for p in declared.packages] == ["flask"]
    (problem,) = declared.problems
    assert problem.message == "cannot read requirements file: not a regular file (a FIFO)"
