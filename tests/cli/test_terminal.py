"""The terminal table in a real pseudo-terminal: it fits the width, breaks no word, cuts no
value a user copies, and colours only when it should."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import make_hf_cache, make_model_dir, model_repo_files, subprocess_env

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_in_terminal(args: list[str], columns: int, **env: str) -> str:
    """Run `aiscan ARGS` with a pseudo-terminal of `columns` as stdout; return what it drew."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {**subprocess_env(), **env}
    environment.pop("COLUMNS", None)  # the terminal's own size must be what counts
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner", *args],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=environment,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    process.wait(timeout=60)
    assert b"Traceback" not in process.stderr.read()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.fixture(scope="module")
def mixed_targets(tmp_path_factory):
    """Long folder names, an HF cache revision (a 40-digit commit) and failing findings."""
    root = tmp_path_factory.mktemp("terminal")
    make_model_dir(
        root / "models", "a-noncommercial-diffusion-model", card={"license": "cc-by-nc-4.0"}
    )
    make_model_dir(root / "models", "llama3-instruct-finetune", card={"license": "llama3"})
    cache = root / "hub"
    _, commit = make_hf_cache(
        cache, "example-org/a-rather-long-model-name", model_repo_files("mit")
    )
    return [str(root / "models"), str(cache)], commit


@pytest.mark.parametrize("columns", [80, 200])
def test_the_table_fits_the_terminal_and_breaks_no_word(mixed_targets, columns):
    targets, commit = mixed_targets
    drawn = run_in_terminal(["scan", *targets], columns, NO_COLOR="")
    assert "\x1b[" in drawn  # a terminal is coloured
    lines = [_ANSI.sub("", line) for line in drawn.splitlines()]
    assert max(len(line) for line in lines) <= columns
    for value in (
        "a-noncommercial-diffusion-model",
        "llama3-instruct-finetune",
        "example-org/a-rather-long-model-name",
        commit,
        "license.noncommercial",
        "license.acceptable-use-policy",
        "non-commercial",
        "restricted",
    ):
        assert any(value in line for line in lines), f"{value!r} broken or cut:\n" + "\n".join(
            lines
        )
    assert "…" not in drawn
    if columns == 200:
        assert any(line.startswith("Component") and "License" in line for line in lines)


def test_no_color_on_a_terminal_is_plain_and_still_honours_its_width(mixed_targets):
    targets, _ = mixed_targets
    drawn = run_in_terminal(["scan", *targets], 100, NO_COLOR="1")
    assert "\x1b[" not in drawn
    assert max(len(line) for line in drawn.splitlines()) <= 100
    assert max(len(line) for line in drawn.splitlines()) > 80


def test_color_never_beats_a_terminal(mixed_targets):
    targets, _ = mixed_targets
    assert "\x1b[" not in run_in_terminal(["scan", *targets, "--color", "never"], 80, NO_COLOR="")
