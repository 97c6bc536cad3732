"""Prints the metadata of every distribution of the interpreter running it, as JSON.

aiscan runs this file's source with another interpreter (`python -I -c`), so it must work on
any Python 3.8+ with the standard library alone, and it must never import the packages it
describes: `importlib.metadata` reads their `.dist-info` / `.egg-info` folders only.
"""

import json
import os
import platform
import sys

LICENSE_FILE_LIMIT = 65536
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


def shipped_license_files(dist):
    """Every file RECORD lists under the metadata folder's `licenses/` (PEP 639), as names
    relative to that folder: a wheel may ship its own license beside the bundled ones."""
    folder = getattr(dist, "_path", None)
    try:
        listed = dist.files or []
    except Exception:  # a broken RECORD must not hide the metadata
        return []
    prefix = (folder.name + "/licenses/") if folder is not None else None
    names = []
    for entry in listed:
        posix = str(entry).replace("\\", "/")
        if prefix is None or not posix.startswith(prefix) or ".." in posix.split("/"):
            continue
        names.append(posix[len(prefix) :])
    return sorted(names)


def license_files(dist, declared):
    """Every license file: those named by License-File (PEP 639 puts them under licenses/), the
    usual names in the metadata folder when none is named, and whatever else RECORD lists under
    licenses/, up to MAX_LICENSE_FILES."""
    names = list(declared or FALLBACK_LICENSE_FILES)
    names += [n for n in shipped_license_files(dist) if n not in names]
    found = []
    for name in names:
        for candidate in ("licenses/" + name, name):
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
        meta = dist.metadata
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


def main():
    from importlib import metadata  # here, not above: aiscan imports `describe` on every run

    json.dump(
        {
            "python": sys.executable,
            "version": platform.python_version(),
            "markers": marker_environment(),
            "distributions": [describe(dist) for dist in metadata.distributions()],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
