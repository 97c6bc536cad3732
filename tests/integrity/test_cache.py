"""The SQLite hash cache: keyed by file identity, rebuilt when corrupt, bypassable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.integrity.cache import CACHE_FILE, HashCache, default_cache_dir
from scanner.integrity.hashing import FileIdentity
from tests.conftest import make_model_dir, run_cli

IDENTITY = FileIdentity(device=1, inode=2, size=3, mtime_ns=4, ctime_ns=5)


def test_round_trip_and_identity_key(tmp_path):
    warnings: list[str] = []
    cache = HashCache.open(tmp_path, warnings)
    assert cache is not None and warnings == []
    cache.put(IDENTITY, "a" * 64, None)
    cache.close()
    cache = HashCache.open(tmp_path, warnings)
    assert cache.get(IDENTITY) == ("a" * 64, None)
    changed_ctime = FileIdentity(1, 2, 3, 4, 6)
    assert cache.get(changed_ctime) is None
    cache.close()


def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path):
    (tmp_path / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    warnings: list[str] = []
    cache = HashCache.open(tmp_path, warnings)
    assert cache is not None
    assert any("corrupt" in w for w in warnings)
    cache.put(IDENTITY, "b" * 64, "c" * 40)
    assert cache.get(IDENTITY) == ("b" * 64, "c" * 40)
    cache.close()


def test_unusable_cache_folder_disables_the_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    warnings: list[str] = []
    assert HashCache.open(blocker / "sub", warnings) is None
    assert warnings and "disabled" in warnings[0]


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("AISCAN_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "aiscan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "aiscan"


def test_cache_file_that_is_a_directory_disables_the_cache(tmp_path):
    (tmp_path / CACHE_FILE).mkdir()
    warnings: list[str] = []
    assert HashCache.open(tmp_path, warnings) is None
    assert warnings == [f"hash cache disabled: {tmp_path / CACHE_FILE} is a directory"]
    assert (tmp_path / CACHE_FILE).is_dir()  # left alone


def test_cache_file_that_is_a_fifo_disables_the_cache_without_blocking(tmp_path):
    os.mkfifo(tmp_path / CACHE_FILE)
    warnings: list[str] = []
    assert HashCache.open(tmp_path, warnings) is None
    assert warnings == [f"hash cache disabled: {tmp_path / CACHE_FILE} is not a regular file"]


def test_verify_with_the_cache_file_a_directory_warns_once_and_goes_on(tmp_path, monkeypatch):
    model = make_model_dir(tmp_path, "m")
    cache = tmp_path / "cache"
    (cache / CACHE_FILE).mkdir(parents=True)
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(cache))
    result = run_cli("verify", model)
    assert result.exit_code == 0
    assert result.stderr.strip().splitlines() == [
        f"aiscan: warning: hash cache disabled: {cache / CACHE_FILE} is a directory"
    ]


def test_cache_folder_below_a_regular_file_warns_once_and_goes_on(tmp_path, monkeypatch):
    model = make_model_dir(tmp_path, "m")
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    result = run_cli("verify", model)
    assert result.exit_code == 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("aiscan: warning: hash cache disabled: cannot create ")


@pytest.mark.parametrize("existing", [False, True], ids=["empty", "with-a-cache"])
def test_read_only_cache_folder_warns_once_and_goes_on(run_restricted, world_tmp, existing):
    model = make_model_dir(world_tmp, "m")
    cache = world_tmp / "cache"
    cache.mkdir()
    if existing:
        HashCache.open(cache, []).close()
    for path in (cache, *cache.iterdir()):
        path.chmod(0o555 if path.is_dir() else 0o444)
    done = run_restricted("verify", model, env={"AISCAN_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"aiscan: warning: hash cache disabled: cannot open {cache}")
    assert "Traceback" not in done.stderr


def test_entries_older_than_asked_are_hashed_again(tmp_path, monkeypatch):
    """`--rehash-older-than DAYS`: for stores that can change below the file system (a
    restored image keeps inode and times), trust a cached digest only for so long."""
    import sqlite3

    from tests.conftest import make_model_dir, run_cli

    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_model_dir(tmp_path, "m")
    assert "0 of them from the hash cache" in run_cli("verify", folder).stdout
    db = sqlite3.connect(tmp_path / "cache" / "hashes.sqlite3")
    db.execute("UPDATE digests SET hashed_at = hashed_at - 10 * 86400")
    db.commit()
    db.close()
    assert "2 of them from the hash cache" in run_cli("verify", folder).stdout
    fresh = run_cli("verify", folder, "--rehash-older-than", "7").stdout
    assert "0 of them from the hash cache" in fresh
    assert "2 of them" in run_cli("verify", folder, "--rehash-older-than", "7").stdout


def test_a_version_1_cache_is_emptied_not_refused(tmp_path):
    import sqlite3

    from scanner.integrity.cache import CACHE_FILE, HashCache

    db = sqlite3.connect(tmp_path / CACHE_FILE)
    db.execute("CREATE TABLE digests (device INTEGER, inode INTEGER, sha256 TEXT)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    warnings: list[str] = []
    cache = HashCache.open(tmp_path, warnings)
    assert cache is not None and warnings == []
    cache.close()
