"""`load_json_file`: every way a user's JSON file goes wrong is one error line, exit 2."""

from __future__ import annotations

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
