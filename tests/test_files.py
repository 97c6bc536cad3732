"""`load_json_file`: every way a user's JSON file goes wrong is one error line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import UsageError
from scanner.files import load_json_file


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "cannot read BOM"),
        ("{", "is not valid JSON"),
        ("[" * 10_000 + "]" * 10_000, "is nested too deeply to read"),
        ("9" * 5000, "is not valid JSON"),  # past Python's integer-string limit
    ],
)
def test_bad_files_are_one_line_usage_errors(tmp_path, content, message):
    path = tmp_path / "bom.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message) as info:
        load_json_file(path, "BOM")
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_outputs_are_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """Disk full while rewriting must leave the previous report, lock or BOM intact."""
    import os

    from scanner.files import write_atomically

    report = tmp_path / "report.json"
    report.write_text("previous, valid\n")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_atomically(report, "new")
    assert report.read_text() == "previous, valid\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left


def test_outputs_write_through_links_and_into_devices(tmp_path):
    import stat

    from scanner.files import write_atomically

    (tmp_path / "link.json").symlink_to("real.json")
    write_atomically(tmp_path / "link.json", "through")
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "real.json").read_text() == "through"
    write_atomically(Path("/dev/null"), "discarded")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode), "/dev/null must stay a device"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_is_one_line_and_exit_3(tmp_path):
    import subprocess
    import sys

    from tests.conftest import make_model_dir

    folder = make_model_dir(tmp_path)
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(folder)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 3
    assert (
        done.stderr.strip()
        == "aiscan: error: cannot write to standard output: No space left on device"
    )
