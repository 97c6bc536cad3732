"""The installed environment: metadata dumped inside the target interpreter, nothing imported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.readers.python.environment import read_environment
from tests.conftest import make_venv


def write_dist(site: Path, name: str, version: str, *headers: str, files=None) -> Path:
    """A hand-written `.dist-info` folder: METADATA with the given extra header lines."""
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir(parents=True)
    body = "\n".join(["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *headers])
    (folder / "METADATA").write_text(body + "\n\n", encoding="utf-8")
    for relative, text in (files or {}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> tuple[Path, Path]:
    """A bare venv (no pip) whose site-packages holds hand-written distributions."""
    root = tmp_path_factory.mktemp("venv")
    python, site = make_venv(root)
    write_dist(
        site,
        "alpha",
        "1.0",
        "License-Expression: MIT",
        "Requires-Dist: beta>=1",
        "Requires-Dist: gamma; extra == 'fast'",
        "Requires-Dist: winonly; sys_platform == 'win32'",
        "License-File: LICENSE",
        files={"licenses/LICENSE": "MIT text"},
    )
    write_dist(site, "beta", "2.0", "License: Apache 2.0")
    write_dist(site, "gamma", "3.0", "Classifier: License :: OSI Approved :: MIT License")
    # docutils 0.23 ships four license files; its RECORD lists one not named by License-File.
    write_dist(
        site,
        "delta",
        "0.23",
        "License-File: COPYING.rst",
        files={
            "licenses/COPYING.rst": "Most of the files are in the public domain.",
            "licenses/licenses/BSD-2-Clause.rst": "BSD 2-Clause text",
            "RECORD": "delta-0.23.dist-info/licenses/COPYING.rst,,\n"
            "delta-0.23.dist-info/licenses/licenses/BSD-2-Clause.rst,,\n"
            "delta-0.23.dist-info/licenses/../../../etc/hostname,,\n",
        },
    )
    broken = site / "broken-0.1.dist-info"
    broken.mkdir()
    # A module that would fail loudly if anything imported it.
    (site / "alpha.py").write_text("raise SystemExit('alpha was imported')\n")
    return python, site


def test_reads_another_interpreter(venv):
    python, _ = venv
    environment = read_environment(python)
    by_name = {d.name: d for d in environment.distributions}
    assert {"alpha", "beta", "gamma"} <= set(by_name)
    alpha = by_name["alpha"]
    assert alpha.license_expression == "MIT"
    assert alpha.license_files == (("LICENSE", "MIT text"),)
    assert "beta>=1" in alpha.requires_dist
    assert environment.markers["sys_platform"] == sys.platform
    assert str(python.parent.parent) in environment.python or environment.python


def test_every_license_file_is_read_not_only_the_named_ones(venv):
    python, _ = venv
    delta = next(d for d in read_environment(python).distributions if d.name == "delta")
    assert [name for name, _ in delta.license_files] == [
        "COPYING.rst",
        "licenses/BSD-2-Clause.rst",
    ]


def test_distribution_without_metadata_is_reported_not_dropped(venv):
    python, _ = venv
    broken = [d for d in read_environment(python).distributions if d.error]
    assert [d.name for d in broken] == ["broken"]
    assert "unreadable metadata" in broken[0].error


def test_missing_or_failing_interpreter_is_a_source_error(tmp_path):
    with pytest.raises(SourceError):
        read_environment(tmp_path / "nope")
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(SourceError, match="exit 3"):
        read_environment(fake)


@pytest.mark.parametrize(
    ("fields", "supplier"),
    [
        ({"author": "Pallets"}, "Pallets"),
        ({"author_email": "Kim Davies <kim@example.org>"}, "Kim Davies"),
        ({"author_email": "a@example.org, B Person <b@example.org>"}, "a@example.org, B Person"),
        ({"author": "UNKNOWN", "maintainer": "Team"}, "Team"),
        ({"author": "x" * 500, "maintainer_email": "m@example.org"}, "m@example.org"),
        (
            {"author": "Evil\nPackageSupplier: Organization: forged"},
            "Evil\ufffdPackageSupplier: Organization: forged",
        ),
        ({}, None),
    ],
)
def test_package_supplier_is_one_named_line_or_none(fields, supplier):
    """Author, else Author-email, Maintainer, Maintainer-email: a name, never a newline that
    would forge a tag-value field, never pasted prose."""
    from scanner.readers.python.environment import package_supplier

    assert package_supplier(fields) == supplier


def test_meanwhile_runs_while_the_dump_does(venv, tmp_path):
    python, _ = venv
    calls = []
    environment = read_environment(python, cached=False, meanwhile=lambda: calls.append(1))
    assert calls == [1]
    assert environment == read_environment(python, cached=False)
    # A dump that waits for what `meanwhile` does: it ran before the dump ended.
    flag = tmp_path / "flag"
    waiting = tmp_path / "python"
    waiting.write_text(
        f"#!/bin/sh\nfor i in $(seq 500); do [ -f {flag} ] && exit 3; sleep 0.01; done\nexit 4\n"
    )
    waiting.chmod(0o755)
    with pytest.raises(SourceError, match="exit 3"):
        read_environment(waiting, cached=False, meanwhile=flag.touch)


def test_the_dump_is_read_while_meanwhile_runs(tmp_path):
    """A dump writes more than a pipe holds: its output is read all along, so it finishes
    while `meanwhile` is still at work instead of waiting for it."""
    import time

    flag = tmp_path / "flag"
    chatty = tmp_path / "python"
    chatty.write_text(f"#!/bin/sh\nhead -c 1048576 /dev/zero\ntouch {flag}\nexit 5\n")
    chatty.chmod(0o755)
    seen = []

    def meanwhile():
        deadline = time.monotonic() + 20
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(flag.exists())

    with pytest.raises(SourceError, match="exit 5"):
        read_environment(chatty, cached=False, meanwhile=meanwhile)
    assert seen == [True]


def _scripted(tmp_path: Path, body: str) -> Path:
    """An "interpreter" that ignores its arguments and runs the shell `body`."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


HEADER = '{"python": "/x/python", "version": "3.11.7", "markers": {}, "paths": []}'


def _dist_line(name: str) -> str:
    return json.dumps({"name": name, "version": "1.0", "license_files": [["LICENSE", "text"]]})


def test_each_distribution_is_handed_over_while_the_dump_still_runs(tmp_path):
    """The dump writes a line per distribution as it reads it: `as_read` gets the first
    while the dump waits for it (a dump that was read only at its end would wait in vain)."""
    flag = tmp_path / "flag"
    dump = _scripted(
        tmp_path,
        f"echo '{HEADER}'\necho '{_dist_line('first')}'\n"
        f"for i in $(seq 1000); do [ -f {flag} ] && break; sleep 0.01; done\n"
        f"[ -f {flag} ] || exit 4\necho '{_dist_line('second')}'",
    )
    seen = []

    def as_read(dist):
        seen.append(dist.name)
        flag.touch()

    environment = read_environment(dump, cached=False, as_read=as_read)
    assert seen[0] == "first"
    assert [d.name for d in environment.distributions] == ["first", "second"]
    assert environment.distributions[0].license_files == (("LICENSE", "text"),)
    assert read_environment(dump, cached=False) == environment


def test_nothing_is_handed_over_after_the_dump_ended(tmp_path):
    """Distributions still unread when the dump has ended are the caller's to take from the
    environment (all at once), not `as_read`'s one by one."""
    lines = "\n".join([HEADER, *(_dist_line(f"d{n}") for n in range(50))])
    dump = _scripted(tmp_path, f"cat <<'EOF'\n{lines}\nEOF")
    seen = []
    environment = read_environment(
        dump, cached=False, meanwhile=lambda: __import__("time").sleep(0.5), as_read=seen.append
    )
    assert seen == []
    assert len(environment.distributions) == 50


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("not json", "printed no metadata dump"),
        ("[1, 2]", "not a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "printed no metadata dump"),
    ],
)
def test_a_dump_line_that_is_no_distribution_is_a_one_line_error(tmp_path, line, complaint):
    (tmp_path / "line").write_text(line + "\n")
    dump = _scripted(tmp_path, f"echo '{HEADER}'\ncat {tmp_path / 'line'}")
    seen = []
    with pytest.raises(SourceError, match=complaint) as raised:
        read_environment(dump, cached=False, as_read=seen.append)
    assert "\n" not in str(raised.value)
    assert seen == []


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b'{"a": 1}\n{"b"', b": 2}\n"], [b'{"a": 1}', b'{"b": 2}']),
        ([b"x" * 5, b"y" * 5, b"z\nw", b""], [b"xxxxxyyyyyz", b"w"]),
        ([b"one\n\ntwo", b"\n"], [b"one", b"", b"two"]),
        ([b"no end at all"], [b"no end at all"]),
    ],
)
def test_dump_output_is_cut_into_lines_whatever_its_chunks(chunks, lines):
    import queue
    import time

    from scanner.readers.python.environment import _DumpReader

    reader = object.__new__(_DumpReader)
    reader._chunks = queue.SimpleQueue()
    for chunk in [*chunks, b""]:
        reader._chunks.put(chunk)
    assert list(reader.lines(time.monotonic() + 10)) == lines


def test_a_dump_that_never_ends_is_stopped_at_the_timeout(tmp_path, monkeypatch):
    from scanner.readers.python import environment as environment_module

    monkeypatch.setattr(environment_module, "DUMP_TIMEOUT", 0.5)
    dump = _scripted(tmp_path, f"echo '{HEADER}'\nexec sleep 60")
    with pytest.raises(SourceError, match=r"cannot run .*timed out"):
        read_environment(dump, cached=False)


def test_a_failing_meanwhile_stops_the_dump(tmp_path):
    endless = tmp_path / "python"
    endless.write_text("#!/bin/sh\nsleep 60\n")
    endless.chmod(0o755)

    def fail():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError, match="no"):
        read_environment(endless, cached=False, meanwhile=fail)


def test_a_fifo_or_device_in_a_named_environment_is_a_problem_not_a_hang(tmp_path, monkeypatch):
    """A METADATA that is a FIFO, a license file linked to /dev/zero, a RECORD that is a
    FIFO: the dump reads none of them (each would block it or read forever), says which
    metadata it could not read, and reads the rest of the environment."""
    import os

    from scanner.readers.python import environment as environment_module

    monkeypatch.setattr(environment_module, "DUMP_TIMEOUT", 30)  # a hang fails in 30 s, not 300
    python, site = make_venv(tmp_path / "venv")
    write_dist(site, "good", "1.0", "License: MIT")
    fifo = site / "fifo-1.0.dist-info"
    fifo.mkdir()
    os.mkfifo(fifo / "METADATA")
    zero = write_dist(site, "zero", "1.0", "License-File: LICENSE")
    (zero / "LICENSE").symlink_to("/dev/zero")
    record = write_dist(site, "record", "1.0", "License-Expression: MIT")
    os.mkfifo(record / "RECORD")
    environment = read_environment(python, cached=False)
    by_name = {d.name: d for d in environment.distributions}
    assert by_name["good"].license == "MIT"
    assert "not a regular file" in (by_name["fifo"].error or "")
    assert by_name["zero"].license_files == ()
    assert by_name["record"].license_expression == "MIT"
