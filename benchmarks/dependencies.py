"""Compares aiscan's package licenses and speed with pip-licenses on real environments.

Goals (issue 6): reading an environment of 100+ distributions takes no longer than
pip-licenses on the same environment, and aiscan's license agrees with pip-licenses' on at
least 95 % of packages, every disagreement explained. Needs `pip install pip-licenses`.
Run: `python benchmarks/dependencies.py [--python PATH]` (default: the running interpreter).

The large environment is built from the running one: a `venv --without-pip` whose
site-packages holds a copy of every installed `.dist-info` folder, each also copied under
a second name, so the metadata is real and the count passes 100.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_seconds

RUNS = 5


def pip_licenses(python: str) -> list[str]:
    exe = shutil.which("pip-licenses", path=str(Path(sys.executable).parent)) or "pip-licenses"
    return [exe, "--python", python, "--format=json", "--with-system", "--with-license-file"]


def aiscan(python: str, empty: Path) -> list[str]:
    exe = str(Path(sys.executable).parent / "aiscan")
    return [exe, "scan", str(empty), "--python", python, "--no-code", "--no-deps", "-f", "json"]


def build_large_env(source_site: Path, root: Path) -> tuple[str, int]:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = str(root / "bin" / "python")
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    count = 0
    for info in sorted(source_site.glob("*.dist-info")):
        shutil.copytree(info, site / info.name)
        twin = site / f"copy{info.name}"
        shutil.copytree(info, twin)
        metadata = twin / "METADATA"
        if metadata.is_file():
            text = metadata.read_text(encoding="utf-8", errors="replace")
            metadata.write_text(re.sub(r"(?m)^Name: ", "Name: copy", text, count=1))
        count += 2
    return python, count


def normalise(value: str) -> set[str]:
    """pip-licenses' license string as a set of SPDX symbols, read the way aiscan reads names."""
    from license_expression import Licensing

    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.licensing.python_licenses import _classifier, name_to_spdx

    kb = default_knowledge_base()
    found = name_to_spdx(value, kb)
    if found is None:
        parts = [
            _classifier(f"License :: OSI Approved :: {p}", kb) or name_to_spdx(p, kb)
            for p in value.split("; ")
        ]
        if any(p is None for p in parts):
            return {f"?{value}"}
        found = " AND ".join(parts)  # type: ignore[arg-type]
    licensing = Licensing()
    return {s.key for s in licensing.license_symbols(licensing.parse(found, validate=False))}


def agreement(python: str, empty: Path) -> int:
    theirs = {
        p["Name"].lower(): p["License"]
        for p in json.loads(subprocess.check_output(pip_licenses(python)))
    }
    report = json.loads(
        subprocess.run(aiscan(python, empty), capture_output=True, check=False).stdout
    )
    from license_expression import Licensing

    licensing = Licensing()
    agree = refined = 0
    disagreements = []
    for c in report["components"]:
        if c["type"] != "library" or c["name"].lower() not in theirs:
            continue
        effective = c["license"]["effective"]
        ours = (
            {s.key for s in licensing.license_symbols(licensing.parse(effective, validate=False))}
            if effective
            else set()
        )
        their_value = theirs[c["name"].lower()]
        their_set = normalise(their_value)
        conclusion = next(
            (e["value"] for e in c["license"]["evidence"] if e["source"] == "conclusion"), "-"
        )
        if ours == their_set:
            agree += 1
        elif their_set & {"LicenseRef-aiscan-BSD-unspecified"} and any(
            s.startswith("BSD-") for s in ours
        ):
            refined += 1  # pip-licenses says "BSD License"; aiscan read which BSD in the file
            disagreements.append((c["name"], their_value, effective, conclusion, "refined"))
        else:
            disagreements.append((c["name"], their_value, effective, conclusion, "differs"))
    total = agree + refined + sum(1 for d in disagreements if d[4] == "differs")
    print(f"packages compared: {total}")
    print(f"  same license:                      {agree} ({agree / total:.1%})")
    print(f"  same, aiscan more precise (BSD-x): {refined}")
    print(f"  agreement incl. refinements:       {(agree + refined) / total:.1%}")
    for name, their_value, effective, conclusion, kind in disagreements:
        print(f"  {kind:8} {name}: pip-licenses {their_value!r}; aiscan {effective} ← {conclusion}")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    site = Path(
        subprocess.check_output(
            [args.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp, "empty")
        empty.mkdir()
        print(f"== agreement on {args.python}")
        agreement(args.python, empty)
        large, count = build_large_env(site, Path(tmp, "large"))
        for label, python in (("this environment", args.python), (f"{count} dists", large)):
            ours = median_seconds(aiscan(python, empty), RUNS)
            theirs = median_seconds(pip_licenses(python), RUNS)
            print(
                f"== speed, {label}: aiscan {ours:.3f} s, pip-licenses {theirs:.3f} s "
                f"(median of {RUNS}) → ratio {ours / theirs:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
