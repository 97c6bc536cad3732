"""A named interpreter's dump kept between runs: reused while unchanged, never trusted blindly."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from scanner.readers.python import dump_cache, environment
from scanner.readers.python.environment import read_environment
from tests.conftest import make_venv
from tests.readers.python.test_environment import write_dist

PAST = time.time() - 60


def age(root: Path) -> None:
    """Every file and folder below `root` (and `root`) a minute old, so a stamp taken now is
    well past the times it holds."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.utime(Path(folder, name), (PAST, PAST), follow_symlinks=False)
    os.utime(root, (PAST, PAST))


@pytest.fixture
def venv(tmp_path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "venv"
    python, site = make_venv(root)
    write_dist(site, "alpha", "1.0", "License: MIT", files={"LICENSE": "MIT text"})
    age(root)
    return python, site


@pytest.fixture
def dumps(monkeypatch) -> list[str]:
    """The interpreters the dump was run in."""
    runs: list[str] = []
    run = environment._run_dump

    def counted(interpreter, script, *callbacks):
        runs.append(interpreter)
        return run(interpreter, script, *callbacks)

    monkeypatch.setattr(environment, "_run_dump", counted)
    return runs


def licenses(python: Path) -> dict[str, str | None]:
    return {d.name: d.license for d in read_environment(python).distributions}


def test_an_unchanged_environment_is_read_from_the_kept_dump(venv, dumps):
    python, _ = venv
    first = read_environment(python)
    assert read_environment(python) == first
    assert len(dumps) == 1
    kept = list((Path(os.environ["AISCAN_CACHE_DIR"]) / "environments").glob("*.json"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text("utf-8"))["python"] == str(python)


@pytest.mark.parametrize(
    "change",
    [
        "metadata edited",
        "same size, other time",
        "license file edited",
        "distribution added",
        "distribution removed",
        "pth file added",
    ],
)
def test_a_changed_environment_is_dumped_again(venv, dumps, change, monkeypatch):
    python, site = venv
    monkeypatch.setattr(dump_cache, "RACY_SECONDS", 0)  # a dump right after the change is kept
    assert licenses(python) == {"alpha": "MIT"}
    folder = site / "alpha-1.0.dist-info"
    metadata = folder / "METADATA"
    if change == "metadata edited":
        metadata.write_text(metadata.read_text("utf-8").replace("MIT", "BSD-3-Clause"), "utf-8")
    elif change == "same size, other time":
        metadata.write_text(metadata.read_text("utf-8").replace("MIT", "BSD"), "utf-8")
    elif change == "license file edited":
        (folder / "LICENSE").write_text("BSD-3-Clause text", "utf-8")
    elif change == "distribution added":
        write_dist(site, "beta", "2.0", "License: Apache-2.0")
    elif change == "distribution removed":
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    else:
        (site / "extra.pth").write_text("/nowhere\n", "utf-8")
    if change == "same size, other time":
        os.utime(metadata, (PAST + 1, PAST + 1))
    after = read_environment(python)
    assert len(dumps) == 2
    assert read_environment(python) == after
    assert len(dumps) == 2  # and kept again


def test_a_dump_taken_right_after_a_change_is_not_trusted(venv, dumps):
    python, site = venv
    write_dist(site, "beta", "2.0", "License: Apache-2.0")  # now: within the clock's tick
    read_environment(python)
    read_environment(python)
    assert len(dumps) == 2


@pytest.mark.parametrize(
    "damage", ["", "{", "null", "[]", '{"format": 1}', "document", "distributions", "taken"]
)
def test_a_damaged_kept_dump_means_dumping_again(venv, dumps, damage):
    python, _ = venv
    expected = read_environment(python)
    (target,) = (Path(os.environ["AISCAN_CACHE_DIR"]) / "environments").glob("*.json")
    kept = json.loads(target.read_text("utf-8"))
    if damage == "document":
        kept["document"] = "x"
    elif damage == "distributions":
        kept["document"]["distributions"] = [1, 2]
    elif damage == "taken":
        kept["taken"] = "yesterday"
    text = json.dumps(kept) if damage in ("document", "distributions", "taken") else damage
    target.write_text(text, "utf-8")
    assert read_environment(python) == expected
    assert len(dumps) == 2


def test_uncached_reads_neither_use_nor_keep_a_dump(venv, dumps):
    python, _ = venv
    read_environment(python, cached=False)
    read_environment(python, cached=False)
    assert len(dumps) == 2
    assert not (Path(os.environ["AISCAN_CACHE_DIR"]) / "environments").exists()


def test_a_cache_folder_that_cannot_be_written_only_means_dumping(
    venv, dumps, tmp_path, monkeypatch
):
    python, _ = venv
    (tmp_path / "file").write_text("not a folder", "utf-8")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert licenses(python) == licenses(python) == {"alpha": "MIT"}
    assert len(dumps) == 2


def test_the_stamp_holds_the_interpreter_and_its_path_folders(venv):
    python, site = venv
    document = environment._run_dump(str(python), dump_cache_script())
    assert str(site) in document["paths"]
    before, _ = dump_cache.stamp(str(python), "code", document)
    assert dump_cache.stamp(str(python), "other code", document)[0] != before
    os.utime(site, (PAST + 5, PAST + 5))
    assert dump_cache.stamp(str(python), "code", document)[0] != before


def dump_cache_script() -> str:
    return Path(environment.env_dump.__file__).read_text("utf-8")


def test_a_kept_dump_calls_no_meanwhile(venv, dumps):
    python, _ = venv
    read_environment(python)
    calls: list[object] = []
    read_environment(python, meanwhile=lambda: calls.append(1), as_read=calls.append)
    assert calls == []
    assert len(dumps) == 1
