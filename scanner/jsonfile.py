"""Reads JSON files users point aiscan at (reports, baselines, lock files, BOMs).

One place for the ways such a file goes wrong, so every command words them alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scanner.errors import UsageError


def load_json_file(path: Path, what: str, error: type[UsageError] = UsageError) -> Any:
    """Parse `path`; an unreadable or invalid file is `error` naming `what` it should be."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{what} {path} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # The parser recurses once per level of nesting; no real document nests this deep.
        raise error(f"{what} {path} is nested too deeply to read") from exc
