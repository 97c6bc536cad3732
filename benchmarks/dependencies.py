"""Compares aiscan's package licenses and speed with pip-licenses on real distributions.

Goals (issues 6 and 13): reading an environment of 100+ distributions takes no longer than
pip-licenses on the same environment; aiscan's license is the same as pip-licenses' where
pip-licenses is right, more precise where it is vague, every difference printed; and the
license cases of issue 13 (psycopg2-binary, docutils, matplotlib, ...) are right when read from
their real wheels. Needs `pip install pip-licenses`.

Run: `python benchmarks/dependencies.py [--python PATH] [--find-links DIR ...]`.

- The running interpreter (or `--python`): agreement with pip-licenses, and speed.
- The real distributions: the wheels pinned in `data/real-distributions.txt` and in `CASES`,
  fetched with `pip download --no-deps` (from the configured index, or only from `--find-links`
  folders with `--no-index`). Their `.dist-info` folders, and nothing else, are unpacked into a
  bare venv, so both tools read exactly the metadata and license files the wheels ship and no
  code of theirs is installed or run.
- The large environment for speed is built from the running one: a `venv --without-pip` whose
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
import zipfile
from dataclasses import dataclass
from pathlib import Path

from timing import median_seconds

RUNS = 5
DISTRIBUTIONS = Path(__file__).parent / "data" / "real-distributions.txt"


@dataclass(frozen=True)
class Case:
    """One license case of issue 13: the truth, read by a person from the wheel's own files."""

    requirement: str
    effective: str
    category: str
    why: str
    bundled: tuple[str, ...] = ()
    """Licenses that must appear among the bundled evidence."""


CASES = (
    Case(
        "psycopg2-binary==2.9.13",
        "LGPL-3.0-or-later WITH LicenseRef-aiscan-openssl-exception",
        "weak-copyleft",
        "LICENSE: LGPL 'version 3 of the License, or (at your option) any later version' with "
        "an OpenSSL linking exception; the Zlib text is an alternative for a few files",
    ),
    Case(
        "docutils==0.23",
        "LicenseRef-aiscan-public-domain AND 0BSD AND BSD-2-Clause",
        "permissive",
        "COPYING.rst: public domain except files under 0BSD/BSD-2-Clause; its GPL-3.0-or-later "
        "covers tools/editors/emacs/rst.el only, which the wheel does not ship",
    ),
    Case(
        "matplotlib==3.11.2",
        "LicenseRef-scancode-matplotlib-1.3.0",
        "permissive",
        "LICENSE: 'License agreement for matplotlib versions 1.3.0 and later' (PSF-based), then "
        "'This binary distrubution of Matplotlib can also bundle the following software'",
        bundled=("OFL-1.1", "FTL"),
    ),
    Case(
        "python-dateutil==2.9.0.post0",
        "BSD-3-Clause AND Apache-2.0",
        "permissive",
        "LICENSE: Apache-2.0 for contributions after 2017-12-01, 'The above BSD License Applies "
        "to all code, even that also covered by Apache 2.0'",
    ),
    Case(
        "pymupdf==2.1",
        "AGPL-3.0-only",
        "strong-copyleft",
        "License: 'Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License'",
    ),
    Case(
        "text-unidecode==1.3",
        "LicenseRef-aiscan-Artistic-unspecified",
        "weak-copyleft",
        "License: 'Artistic License' (no version); LICENSE.txt offers GPL or the Artistic License",
    ),
    Case(
        "scipy==1.17.1",
        "BSD-3-Clause",
        "permissive",
        "LICENSE.txt: BSD-3-Clause, then 'This binary distribution of SciPy can also bundle the "
        "following software' (OpenBLAS, LAPACK, the GCC runtime, libquadmath)",
        bundled=("GPL-3.0-or-later WITH GCC-exception-3.1",),
    ),
    Case(
        "pygit2==1.21.0",
        "GPL-2.0-only WITH GCC-exception-2.0",
        "weak-copyleft",
        "COPYING: GPL version 2 only, 'LINKING EXCEPTION' in the words of GCC-exception-2.0",
    ),
    Case(
        "mysql-connector-python==26.10.0",
        "GPL-2.0-only WITH Universal-FOSS-exception-1.0",
        "strong-copyleft",
        "LICENSE.txt: GPLv2 'also subject to the Universal FOSS Exception, version 1.0', which "
        "frees only open-source works combined with it",
    ),
    Case(
        "pyinstaller==6.22.3",
        "GPL-2.0-or-later WITH Bootloader-exception AND Apache-2.0",
        "weak-copyleft",
        "COPYING.txt: GPL 'version 2 of the License, or (at your option) any later version' "
        "with the Bootloader Exception; run-time hooks under Apache-2.0; PyInstaller.isolated "
        "is GPL-2.0 or MIT, a choice",
    ),
)


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

    from scanner.licensing.knowledge_base import default_knowledge_base, normalize_name
    from scanner.licensing.python_licenses import _classifier, _text_terms, name_to_spdx

    kb = default_knowledge_base()
    if normalize_name(value) in ("unknown", ""):
        return set()
    found = name_to_spdx(value, kb)
    if found is None and ("\n" in value or len(value) > 120):
        # pip-licenses prints a pasted License text as it is; recognise it as aiscan would.
        return set(_text_terms(value, kb)) or {f"?{value[:60]}"}
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


def _category(expression: str | None) -> str:
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.licensing.python_licenses import license_category

    return license_category(expression, default_knowledge_base())


def _refines(theirs: set[str], ours: set[str]) -> bool:
    """Whether aiscan's symbols say exactly what pip-licenses' family names leave open: every
    family ref of theirs replaced by ids of that family, everything else the same."""
    from scanner.licensing.python_licenses import _FAMILIES, _family

    families = {s for s in theirs if s in _FAMILIES}
    if not families:
        return False
    rest = theirs - families
    extra = ours - rest
    return (
        rest <= ours
        and bool(extra)
        and {_family(s) for s in extra} <= {_family(f) for f in families}
    )


def agreement(python: str, empty: Path, label: str) -> int:
    theirs = {
        p["Name"].lower(): p["License"]
        for p in json.loads(subprocess.check_output(pip_licenses(python)))
    }
    report = json.loads(
        subprocess.run(aiscan(python, empty), capture_output=True, check=False).stdout
    )
    from license_expression import Licensing

    licensing = Licensing()
    same = refined = answered = same_category = 0
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
        their_expression = (
            " AND ".join(sorted(their_set))
            if not any(s.startswith("?") for s in their_set)
            else None
        )
        conclusion = next(
            (e["value"] for e in c["license"]["evidence"] if e["source"] == "conclusion"), "-"
        )
        if c["license"]["category"] == _category(their_expression):
            same_category += 1
        if ours == their_set:
            same += 1
        elif _refines(their_set, ours):
            refined += 1  # pip-licenses says "BSD License"; aiscan read which BSD in the file
            disagreements.append((c["name"], their_value, effective, conclusion, "refined"))
        elif ours and (not their_set or any(s.startswith("?") for s in their_set)):
            answered += 1  # pip-licenses has no license or an unrecognisable one
            disagreements.append((c["name"], their_value, effective, conclusion, "answered"))
        else:
            disagreements.append((c["name"], their_value, effective, conclusion, "differs"))
    total = len(disagreements) + same
    print(f"== agreement with pip-licenses, {label}: {total} packages")
    print(f"  same license:                         {same} ({same / total:.1%})")
    print(f"  aiscan names the family's exact id:   {refined}")
    print(f"  aiscan answers where pip-licenses has no license: {answered}")
    print(f"  same or refined:                      {(same + refined) / total:.1%}")
    print(f"  same category:                        {same_category} ({same_category / total:.1%})")
    for name, their_value, effective, conclusion, kind in disagreements:
        shown = their_value if len(their_value) <= 100 else their_value[:100] + " …"
        print(f"  {kind:8} {name}: pip-licenses {shown!r}; aiscan {effective} ← {conclusion}")
    return total


def fetch_wheels(requirements: list[str], into: Path, find_links: list[str]) -> list[Path]:
    """`pip download --no-deps` of each pinned requirement (wheels only); one that cannot be
    had is reported and skipped."""
    into.mkdir(parents=True, exist_ok=True)
    index = ["--no-index", *(f"--find-links={d}" for d in find_links)] if find_links else []
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    done = subprocess.run(
        [*command, "-q", "-d", str(into), *index, *requirements], capture_output=True, text=True
    )
    if done.returncode != 0:
        # One missing wheel fails the whole call: fetch one by one to skip only that one.
        for requirement in requirements:
            one = subprocess.run(
                [*command, "-q", "-d", str(into), *index, requirement],
                capture_output=True,
                text=True,
            )
            if one.returncode != 0:
                print(f"  skipped {requirement}: no wheel could be downloaded")
    from packaging.utils import canonicalize_name, parse_wheel_filename

    wanted = {canonicalize_name(r.split("==")[0]): r.split("==")[1] for r in requirements}
    wheels = []
    for wheel in sorted(into.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if wanted.get(name) == str(version):
            wheels.append(wheel)
    return wheels


def metadata_env(wheels: list[Path], root: Path) -> str:
    """A bare venv whose site-packages holds only the wheels' `.dist-info` folders."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = str(root / "bin" / "python")
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                top = member.split("/", 1)[0]
                if top.endswith(".dist-info") and ".." not in member.split("/"):
                    archive.extract(member, site)
    return python


def check_cases(report: dict) -> None:
    """Each case of issue 13 next to its truth: effective terms (in any order), category, and
    the bundled licenses that must be reported as evidence."""
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(c["name"]): c for c in report["components"]}
    right = 0
    print(f"== the license cases of issue 13, read from their real wheels: {len(CASES)}")
    for case in CASES:
        name = canonicalize_name(case.requirement.split("==")[0])
        component = by_name.get(name)
        if component is None:
            print(f"  missing  {case.requirement}: not downloaded")
            continue
        facts = component["license"]
        terms = set((facts["effective"] or "").split(" AND "))
        bundled = " | ".join(
            e["value"] for e in facts["evidence"] if e["source"].startswith("bundled")
        )
        problems = []
        if terms != set(case.effective.split(" AND ")):
            problems.append(f"effective {facts['effective']}, truth {case.effective}")
        if facts["category"] != case.category:
            problems.append(f"category {facts['category']}, truth {case.category}")
        problems += [f"bundled {b} not reported" for b in case.bundled if b not in bundled]
        right += not problems
        verdict = "right" if not problems else "WRONG"
        print(f"  {verdict:8} {case.requirement}: {facts['effective']} [{facts['category']}]")
        print(f"           truth: {case.effective} [{case.category}] ({case.why})")
        for problem in problems:
            print(f"           {problem}")
    print(f"  right: {right}/{len(CASES)}")


def real_distributions(empty: Path, tmp: Path, find_links: list[str], cache: Path) -> None:
    listed = [
        line.strip()
        for line in DISTRIBUTIONS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    requirements = [*listed, *(case.requirement for case in CASES)]
    wheels = fetch_wheels(requirements, cache, find_links)
    python = metadata_env(wheels, tmp / "real")
    agreement(python, empty, f"{len(wheels)} real wheels ({DISTRIBUTIONS.name} and the cases)")
    report = json.loads(
        subprocess.run(aiscan(python, empty), capture_output=True, check=False).stdout
    )
    check_cases(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument(
        "--find-links",
        action="append",
        default=[],
        help="download the real wheels only from this folder (repeatable; implies --no-index)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir(), "aiscan-bench-wheels"),
        help="where downloaded wheels are kept between runs",
    )
    parser.add_argument("--no-speed", action="store_true", help="agreement and cases only")
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
        agreement(args.python, empty, args.python)
        real_distributions(empty, Path(tmp), args.find_links, args.cache)
        if args.no_speed:
            return 0
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
