"""A persistent cache of file digests, so re-verifying an unchanged store costs a `stat` per file.

Keyed by device, inode, size, mtime_ns and ctime_ns: rewriting a file changes its mtime, and
anything that resets the mtime (touch -d, a restored backup) still changes the ctime, which only
the kernel sets. The cache lives in the user's cache folder, never in the store being verified.
SQLite (standard library) in WAL mode keeps concurrent runs safe; a corrupt cache file is only a
cache, so it is rebuilt with a warning instead of failing the run, and a cache that cannot be
opened at all (a read-only folder, `hashes.sqlite3` a directory) is left alone, with a warning,
and the run goes on without it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import time
from pathlib import Path

from scanner.integrity.hashing import FileIdentity
from scanner.resources import user_cache_dir

CACHE_FILE = "hashes.sqlite3"
_SCHEMA_VERSION = 2
"""2 added `hashed_at`; a version-1 cache (no dates) is emptied and refilled."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    git_sha1 TEXT,
    hashed_at INTEGER NOT NULL,
    PRIMARY KEY (device, inode, size, mtime_ns, ctime_ns)
) WITHOUT ROWID
"""


def default_cache_dir() -> Path:
    """$AISCAN_CACHE_DIR, else $XDG_CACHE_HOME/aiscan, else ~/.cache/aiscan."""
    return user_cache_dir()


class HashCache:
    """Digests of files already read in full, looked up by file identity.

    Used from one thread only (the one collecting results); hashing threads never touch it.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._pending = 0

    @classmethod
    def open(cls, folder: Path, warn: list[str]) -> HashCache | None:
        """Open or create the cache; None (with one warning) when it cannot be used at all.

        Only a file SQLite says is not a database (or not ours) is rebuilt: a cache that cannot
        be opened or written (sqlite3.OperationalError: a read-only folder, a full disk, a lock)
        is not corrupt, and deleting it would lose a good cache or fail in turn.
        """
        path = folder / CACHE_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            warn.append(f"hash cache disabled: cannot create {folder}: {exc.strerror or exc}")
            return None
        kind = _not_a_file(path)
        if kind is not None:
            warn.append(f"hash cache disabled: {path} is {kind}")
            return None
        try:
            return cls(_connect(path), path)
        except sqlite3.OperationalError as exc:
            warn.append(f"hash cache disabled: cannot open {path}: {exc}")
            return None
        except sqlite3.DatabaseError as exc:
            warn.append(f"hash cache {path} is corrupt ({exc}); rebuilding it")
        except OSError as exc:
            warn.append(f"hash cache disabled: {path}: {exc.strerror or exc}")
            return None
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(f"{path}{suffix}").unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                warn.append(f"hash cache disabled: cannot remove {path}{suffix}: {exc.strerror}")
                return None
        try:
            return cls(_connect(path), path)
        except (sqlite3.DatabaseError, OSError) as exc:
            warn.append(f"hash cache disabled: cannot rebuild {path}: {exc}")
            return None

    def get(
        self, identity: FileIdentity, *, hashed_since: float = 0.0
    ) -> tuple[str, str | None] | None:
        """The recorded (sha256, git_sha1) of a file with exactly this identity, if any, and
        if it was read in full at or after `hashed_since` (seconds since the epoch)."""
        try:
            row = self._db.execute(
                "SELECT sha256, git_sha1 FROM digests WHERE device=? AND inode=? AND size=?"
                " AND mtime_ns=? AND ctime_ns=? AND hashed_at>=?",
                (*_key(identity), int(hashed_since)),
            ).fetchone()
        except sqlite3.DatabaseError:
            return None
        return (row[0], row[1]) if row else None

    def put(self, identity: FileIdentity, sha256: str, git_sha1: str | None) -> None:
        """Record a digest of a file read in full; committed in batches and on close."""
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*_key(identity), sha256, git_sha1, int(time.time())),
            )
            self._pending += 1
            if self._pending >= 256:
                self._db.commit()
                self._pending = 0
        except sqlite3.DatabaseError:
            pass  # a cache that cannot record only costs a re-hash next time

    def close(self) -> None:
        with contextlib.suppress(sqlite3.DatabaseError):
            self._db.commit()
        self._db.close()


def _not_a_file(path: Path) -> str | None:
    """What `path` is when it exists but is no regular file (SQLite would fail on it, or block
    on a FIFO), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # missing (created on connect) or unreachable (connect says why)
    if stat.S_ISREG(mode):
        return None
    return "a directory" if stat.S_ISDIR(mode) else "not a regular file"


def _key(identity: FileIdentity) -> tuple[int, int, int, int, int]:
    return (identity.device, identity.inode, identity.size, identity.mtime_ns, identity.ctime_ns)


def _connect(path: Path) -> sqlite3.Connection:
    """Connect and check the schema; raises sqlite3.DatabaseError for a file that is not ours."""
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            db.execute("DROP TABLE IF EXISTS digests")
        elif version not in (0, _SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"unknown cache schema version {version}")
        db.execute(_SCHEMA)
        db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        db.execute("SELECT count(*) FROM digests LIMIT 1").fetchone()
        db.commit()
    except BaseException:
        db.close()
        raise
    return db
