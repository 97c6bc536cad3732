"""The `aiscan` console command: run the command line, then leave without tearing Python down.

Once a command has finished and its output is flushed, what is left of the process is memory
the operating system takes back anyway; Python's own exit frees ~300 modules object by object
first, 15 ms of every run (a tenth of a folder scan). So the exit code is taken from the
command, exit functions are run (temporary folders, weak-reference finalisers, logging), the
standard streams flushed, and the process ends with `os._exit`. Whenever that could lose work
(another thread still running, a stream that cannot be flushed) the ordinary exit is taken.
Tests call `scanner.cli.main.main` in-process and never come here.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

from scanner.cli.main import main


def run() -> NoReturn:
    """`aiscan …`: the command's exit code, without the interpreter's teardown."""
    try:
        main()
        code: str | int | None = 0
    except SystemExit as exit_:
        code = exit_.code
    if not isinstance(code, int) or threading.active_count() > 1:
        sys.exit(code)  # a message for stderr, or threads to wait for: Python's own exit
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed pipe or stream: the ordinary exit reports it as before
    os._exit(code)
