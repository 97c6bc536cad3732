"""Prints the metadata of every distribution of the interpreter running it, as JSON lines.

aiscan runs this file's source with another interpreter (`python -I -c`), so it must work on
any Python 3.8+ with the standard library alone, and it must never import the packages it
describes: `importlib.metadata` reads their `.dist-info` / `.egg-info` folders only.
"""

import json
import os
import platform
import sys

LICENSE_FILE_LIMIT = 65536
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Any one metadata file read (METADATA with its long description, RECORD, a license)."""
MAX_LICENSE_FILES = 32
"""Enough for every license a real wheel ships (docutils has four, scipy one with all bundled
texts); a metadata folder with thousands stays bounded."""
FALLBACK_LICENSE_FILES = (
    "LICENSE",
    "LICENSE.txt",
    "LICENSE.md",
    "LICENCE",
    "COPYING",
    "NOTICE",
    "NOTICE.txt",
    "NOTICE.md",
)


def marker_environment():
    """The PEP 508 marker variables of this interpreter (as packaging computes them)."""
    version = sys.implementation.version
    implementation_version = f"{version.major}.{version.minor}.{version.micro}"
    if version.releaselevel != "final":
        implementation_version += version.releaselevel[0] + str(version.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def read_text(dist, name):
    try:
        text = dist.read_text(name)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return text[:LICENSE_FILE_LIMIT] if text else None


def metadata_headers(dist):
    """The distribution's metadata as `dist.metadata` parses it, but of the headers only: the
    body is the long description (most of the file), which aiscan never reads and the email
    parser would go through line by line. The headers end at the first empty line, where the
    parser stops reading headers too (a text with carriage returns is parsed whole, as the
    parser knows more line ends than one). Python 3.10 and later re-indent multi-line values
    (`importlib.metadata._adapters.Message`), and so does this where they do."""
    import email

    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("")
    if text and "\r" not in text:
        end = text.find("\n\n")
        if end >= 0:
            text = text[: end + 1]
    message = email.message_from_string(text or "")
    try:
        from importlib.metadata import _adapters  # type: ignore[attr-defined]
    except ImportError:  # Python 3.8 and 3.9: `dist.metadata` is the email message itself
        return message
    return _adapters.Message(message)


def _record_names(dist, folder):
    """The file names RECORD lists, as `dist.files` gives them (`PurePosixPath` forms), of the
    lines that may name a file under `licenses/`: `dist.files` makes a path object of every
    line (tens of thousands in a large environment) and, on recent Pythons, checks that each
    file exists. None: no RECORD, so `dist.files` (which then reads egg-info lists) decides."""
    import csv
    from pathlib import PurePosixPath

    if not folder.name.endswith(".dist-info"):
        return None
    text = dist.read_text("RECORD")
    if not text:
        return None
    lines = text.splitlines()
    if '"' not in text:  # no quoted field spans lines: each line is a row of its own
        lines = [line for line in lines if "licenses" in line]
    return [str(PurePosixPath(row[0])) for row in csv.reader(lines) if row]


def shipped_license_files(dist):
    """Every file RECORD lists under the metadata folder's `licenses/` (PEP 639), as names
    relative to that folder: a wheel may ship its own license beside the bundled ones."""
    folder = getattr(dist, "_path", None)
    if folder is None:
        return []
    try:
        listed = _record_names(dist, folder)
        if listed is None:
            listed = [str(entry) for entry in dist.files or []]
    except Exception:  # a broken RECORD must not hide the metadata
        return []
    prefix = folder.name + "/licenses/"
    names = []
    for entry in listed:
        posix = entry.replace("\\", "/")
        if not posix.startswith(prefix) or ".." in posix.split("/"):
            continue
        names.append(posix[len(prefix) :])
    return sorted(names)


def _listing(listings, folder, name):
    """The names in `folder`/`name`, lower-cased (a file system may ignore case), listed once;
    None: not a readable folder."""
    if name not in listings:
        try:
            found = os.listdir(os.path.join(str(folder), name))  # noqa: PTH118, PTH208 (speed)
            listings[name] = {n.lower() for n in found}
        except (OSError, TypeError, ValueError):
            listings[name] = None
    return listings[name]


def _absent(dist, candidate, listings):
    """Whether `candidate` (a name, or `licenses/` and a name) is certainly not in the
    metadata folder, by its listing: trying the eight usual names in two places each costs a
    failed open apiece. Names that are not plain ASCII file names are tried, never ruled out."""
    folder = getattr(dist, "_path", None)
    parts = candidate.split("/")
    if folder is None or len(parts) > 2 or not candidate.isascii() or "\\" in candidate:
        return False
    if any(part in ("", ".", "..") for part in parts):
        return False
    top = _listing(listings, folder, "")
    if top is None:
        return False
    if parts[0].lower() not in top:
        return True
    inner = _listing(listings, folder, parts[0]) if len(parts) == 2 else None
    return inner is not None and parts[1].lower() not in inner


def license_files(dist, declared):
    """Every license file: those named by License-File (PEP 639 puts them under licenses/), the
    usual names in the metadata folder when none is named, and whatever else RECORD lists under
    licenses/, up to MAX_LICENSE_FILES."""
    names = list(declared or FALLBACK_LICENSE_FILES)
    names += [n for n in shipped_license_files(dist) if n not in names]
    found = []
    listings: dict = {}
    for name in names:
        for candidate in ("licenses/" + name, name):
            if _absent(dist, candidate, listings):
                continue
            text = read_text(dist, candidate)
            if text:
                found.append([name, text])
                break
        if len(found) >= MAX_LICENSE_FILES:
            break
    return found


def describe(dist):
    path = getattr(dist, "_path", None)
    entry: dict = {"path": str(path) if path is not None else None}
    try:
        meta = metadata_headers(dist)
        if meta is None or meta.get("Name") is None:
            raise ValueError("no METADATA or PKG-INFO file")
    except Exception as exc:  # a broken folder must not hide the others
        entry["error"] = f"unreadable metadata: {exc}"
        entry["name"] = path.name.split("-")[0] if path is not None else None
        return entry
    entry.update(
        name=meta.get("Name"),
        version=meta.get("Version"),
        metadata_version=meta.get("Metadata-Version"),
        license_expression=meta.get("License-Expression"),
        license=meta.get("License"),
        classifiers=meta.get_all("Classifier") or [],
        requires_dist=meta.get_all("Requires-Dist") or [],
        author=meta.get("Author"),
        author_email=meta.get("Author-email"),
        maintainer=meta.get("Maintainer"),
        maintainer_email=meta.get("Maintainer-email"),
        license_files=license_files(dist, meta.get_all("License-File")),
    )
    return entry


def regular_text(path):
    """The text of `path` as `Path.read_text(encoding="utf-8")` gives it (universal newlines),
    if it is a regular file of at most MAX_FILE_BYTES: a FIFO named METADATA would block the
    dump until aiscan gives up on it, a link to /dev/zero would read forever. Opened without
    blocking, then checked, so neither is ever read."""
    import stat

    fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file; not read")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(f"{path} is larger than {MAX_FILE_BYTES} bytes; not read")
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def regular_files_only(dist):
    """`dist` reading its metadata folder through `regular_text` (everything `describe` reads,
    `dist.files` included, goes through `read_text`); a distribution that is not a folder on
    disk (a zipped egg) as importlib found it."""
    import pathlib
    from importlib.metadata import PathDistribution

    if not isinstance(dist, PathDistribution) or not isinstance(
        getattr(dist, "_path", None), pathlib.Path
    ):
        return dist

    class RegularFilesDistribution(PathDistribution):
        def read_text(self, filename):
            try:
                return regular_text(self._path.joinpath(filename))
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
                return None  # what PathDistribution.read_text answers for these

    return RegularFilesDistribution(dist._path)


def main():
    """One JSON object per line: the interpreter first, then each distribution as soon as it
    is read, so that aiscan matches the license texts of the first while the rest are read.
    (JSON escapes every line break inside a string: a line is one object.)"""
    from importlib import metadata  # here, not above: aiscan imports `describe` on every run

    interpreter = {
        "python": sys.executable,
        "version": platform.python_version(),
        "markers": marker_environment(),
        "paths": sys.path,
    }
    sys.stdout.write(json.dumps(interpreter) + "\n")
    for dist in metadata.distributions():
        sys.stdout.write(json.dumps(describe(regular_files_only(dist))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
