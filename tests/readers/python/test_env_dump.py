"""The dump's shortcuts read what `importlib.metadata` would: headers, RECORD, license files."""

from __future__ import annotations

from importlib import metadata

import pytest

from scanner.readers.python import env_dump

HEADERS = "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"
METADATA = [
    HEADERS + "License: MIT\n\nA long description.\n\nLicense: not a header\n",
    HEADERS + "License: Apache License\n        Version 2.0\n        |\n        Terms\n\nBody\n",
    HEADERS.replace("\n", "\r\n") + "License: BSD\r\n\r\nBody\r\n",
    HEADERS + "Classifier: A\nClassifier: B\nnot a header line\nLicense: late\n\nBody",
    HEADERS + "License: no body and no final line end",
    HEADERS + "\n\n\nLicense: after blank lines\n",
    "",
]


@pytest.mark.parametrize("text", METADATA)
def test_the_headers_are_those_importlib_metadata_parses(tmp_path, text):
    folder = tmp_path / "pkg-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(text, "utf-8", newline="")
    dist = metadata.PathDistribution(folder)
    ours, theirs = env_dump.metadata_headers(dist), dist.metadata
    for name in ("Name", "Version", "License", "Classifier", "Metadata-Version"):
        assert ours.get_all(name) == theirs.get_all(name), name


RECORDS = [
    "pkg-1.0.dist-info/licenses/LICENSE,,\npkg/__init__.py,sha256=x,1\n",
    'pkg-1.0.dist-info/licenses/A,,\n"pkg-1.0.dist-info/licenses/with,comma",,\n',
    "pkg-1.0.dist-info/./licenses//B,,\npkg-1.0.dist-info/licenses/sub/C,,\n",
    "pkg-1.0.dist-info/licenses/../../../etc/passwd,,\n",
    "other-1.0.dist-info/licenses/D,,\nlicenses/E,,\n",
    "",
]


@pytest.mark.parametrize("record", RECORDS)
def test_license_files_from_record_are_those_of_dist_files(tmp_path, record, monkeypatch):
    folder = tmp_path / "pkg-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(HEADERS, "utf-8")
    (folder / "RECORD").write_text(record, "utf-8")
    dist = metadata.PathDistribution(folder)
    ours = env_dump.shipped_license_files(dist)
    monkeypatch.setattr(env_dump, "_record_names", lambda *_: None)
    assert ours == env_dump.shipped_license_files(dist)


def test_a_listing_never_rules_out_a_file_that_is_there(tmp_path):
    folder = tmp_path / "pkg-1.0.dist-info"
    (folder / "licenses").mkdir(parents=True)
    (folder / "METADATA").write_text(HEADERS, "utf-8")
    (folder / "License.TXT").write_text("top", "utf-8")
    (folder / "licenses" / "COPYING").write_text("inner", "utf-8")
    dist = metadata.PathDistribution(folder)
    listings: dict = {}
    for present in ("License.TXT", "licenses/COPYING", "licenses/../License.TXT", "./License.TXT"):
        assert not env_dump._absent(dist, present, listings), present
    for absent in ("NOTICE", "licenses/NOTICE", "nothing/COPYING"):
        assert env_dump._absent(dist, absent, listings), absent
    found = env_dump.license_files(dist, None)
    assert found == [["COPYING", "inner"]]
    assert env_dump.license_files(dist, ["License.TXT"]) == [["License.TXT", "top"]]
