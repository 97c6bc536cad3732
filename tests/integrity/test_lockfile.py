"""The aiscan-lock/1 format: written sorted, read strictly."""

from __future__ import annotations

import json

import pytest

from scanner.integrity.lockfile import (
    SCHEMA,
    LockedComponent,
    LockedFile,
    LockFileError,
    load_lockfile,
    render_lockfile,
)

SHA = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_round_trip(tmp_path):
    component = LockedComponent(
        ref="model:local/m",
        name="m",
        revision=None,
        location="/models/m",
        files={"b.json": LockedFile("b.json", 2, "0" * 64), "a.bin": LockedFile("a.bin", 1, SHA)},
    )
    path = tmp_path / "aiscan.lock"
    path.write_text(render_lockfile([component], "aiscan test"))
    document = json.loads(path.read_text())
    assert document["schema"] == SCHEMA
    assert [f["path"] for f in document["components"][0]["files"]] == ["a.bin", "b.json"]
    loaded = load_lockfile(path)
    assert loaded.components["model:local/m"].files["a.bin"] == LockedFile("a.bin", 1, SHA)


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"schema": "other/1", "components": []}),
        json.dumps({"schema": SCHEMA, "components": {}}),
        json.dumps({"schema": SCHEMA, "components": [{"files": []}]}),
        json.dumps({"schema": SCHEMA, "components": [{"ref": "r", "files": [{"path": "a"}]}]}),
        json.dumps(
            {
                "schema": SCHEMA,
                "components": [{"ref": "r", "files": [{"path": "a", "size": 1, "sha256": "ABC"}]}],
            }
        ),
        json.dumps({"schema": SCHEMA, "components": [{"ref": "r", "files": []}] * 2}),
        json.dumps({"schema": SCHEMA, "components": [{"ref": "r", "name": 5, "files": []}]}),
        "[" * 10_000 + "]" * 10_000,
    ],
)
def test_invalid_lock_files_are_usage_errors(tmp_path, document):
    path = tmp_path / "aiscan.lock"
    path.write_text(document)
    with pytest.raises(LockFileError) as info:
        load_lockfile(path)
    assert info.value.exit_code == 2
    assert str(path) in str(info.value)
