"""Property-based fuzzing of the readers of strangers' files: whatever the bytes, each reader
returns its facts (with problems or defects) and never raises.

Inputs are half noise, half near-misses: documents with the right keys and values of any type,
which reach further into a reader than random bytes do. The budget is fixed and the examples
derandomized, so a run is repeatable and the whole file stays within seconds.
"""

from __future__ import annotations

import json
import pickle
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import UsageError
from scanner.inventory import CardFacts, PickleScan, SafetensorsHeader
from scanner.policy.load import Policy, load_policy
from scanner.readers.card import CARD_FIELDS, read_card
from scanner.readers.pickle import scan_pickle
from scanner.readers.python.lockfiles import read_lock_file
from scanner.readers.python.packages import Declarations
from scanner.readers.python.pyproject import read_pyproject
from scanner.readers.python.requirements import read_requirements
from scanner.readers.safetensors import DTYPE_BITS, read_header

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- values of any JSON / YAML / TOML type ---------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
"""Text of any character a UTF-8 file can hold, control characters included."""
HOSTILE_TEXT = st.one_of(
    TEXT, st.sampled_from(["", "\x00", "a\nb", "other", "org/name", "==1.0", "\ufeff", "---"])
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
)


def values(scalars: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    """Nested lists and string-keyed mappings of `scalars`."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)
        ),
        max_leaves=12,
    )


def mapping_with(keys: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:
    """A mapping of some of `keys` (the ones a reader looks up) to values of any type."""
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One folder for every example's file (tmp_path is per test, examples are many)."""
    with tempfile.TemporaryDirectory(prefix="aiscan-fuzz-") as name:
        yield Path(name)


# --- model cards ---------------------------------------------------------------------------

CARD_KEYS = [*CARD_FIELDS, "model-index"]
MODEL_INDEX = st.lists(
    mapping_with(
        ["name", "results"],
        st.one_of(
            values(),
            st.lists(
                mapping_with(
                    ["task", "dataset", "metrics", "source"],
                    st.one_of(
                        values(),
                        mapping_with(["type", "name", "value", "url"], values()),
                        st.lists(mapping_with(["type", "value", "name"], values()), max_size=3),
                    ),
                ),
                max_size=3,
            ),
        ),
    ),
    max_size=2,
)


def _front_matter(data: Any) -> bytes:
    return ("---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n# Model\n").encode()


YAML_PIECES = st.sampled_from(
    [
        "license: ",
        "base_model: ",
        "tags:",
        "\n",
        "\n  ",
        "- ",
        ": ",
        "&a ",
        "*a",
        "<<: ",
        "? ",
        "!!binary ",
        "!!timestamp ",
        "!!float ",
        "!!int ",
        "!!set ",
        "!!python/name:os.system",
        "!local ",
        "2020-13-45",
        "0x_",
        "1e999",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "'",
        '"',
        "\t",
        "%YAML 1.1\n",
        "...",
        "mit",
    ]
)
"""Pieces of YAML syntax: tags, anchors, merges and values the safe constructor may choke on,
which a YAML writer would never produce."""
YAML_SOUP = st.lists(st.one_of(YAML_PIECES, TEXT), max_size=16).map("".join)

CARDS = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda text: f"---\n{text}\n---\n".encode(), YAML_SOUP),
    values().map(_front_matter),
    st.dictionaries(st.sampled_from(CARD_KEYS), st.one_of(values(), MODEL_INDEX), max_size=6).map(
        _front_matter
    ),
)


@BUDGET
@given(CARDS)
def test_card_reader_returns_facts(raw):
    card = read_card(raw, "README.md")
    assert isinstance(card, CardFacts)
    assert all(isinstance(value, str) for value in (*card.license, *card.base_models, *card.tags))


# --- policies -------------------------------------------------------------------------------

POLICY_KEYS = [
    "extends",
    "fail_on",
    "context",
    "licenses",
    "dependencies",
    "publishers",
    "rules",
    "waivers",
]
POLICIES = st.one_of(
    YAML_SOUP,
    st.dictionaries(st.sampled_from(POLICY_KEYS), values(), max_size=4).map(
        lambda data: yaml.safe_dump(data, allow_unicode=True)
    ),
)


@BUDGET
@given(POLICIES)
def test_policy_loader_returns_a_policy_or_a_usage_error(folder, kb, text):
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_policy(str(path), kb), Policy)
    except UsageError as exc:
        assert exc.exit_code == 2 and "\n" not in str(exc).strip()


# --- safetensors headers -------------------------------------------------------------------

DIMENSIONS = st.one_of(
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=-1, max_value=2**65),
    SCALARS,
)
TENSOR = mapping_with(
    ["dtype", "shape", "data_offsets"],
    st.one_of(
        st.sampled_from(sorted(DTYPE_BITS)),
        st.lists(DIMENSIONS, max_size=70),
        values(),
    ),
)
HEADERS = st.one_of(
    st.dictionaries(
        st.one_of(HOSTILE_TEXT, st.just("__metadata__")),
        st.one_of(TENSOR, values()),
        max_size=5,
    ).map(lambda header: json.dumps(header).encode()),
    st.binary(max_size=100),
    # A JSON text with the characters JSON escapes can hold but Python's str may not (surrogates).
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@BUDGET
@given(header=HEADERS, data=st.binary(max_size=64), declared=st.none() | st.integers(0, 2**64 - 1))
def test_safetensors_header_reader_returns_facts(folder, header, data, declared):
    path = folder / "model.safetensors"
    length = len(header) if declared is None else declared
    path.write_bytes(struct.pack("<Q", length) + header + data)
    facts = read_header(path)
    assert isinstance(facts, SafetensorsHeader)
    assert facts.parameter_count.bit_length() <= 128  # printable, and a float for a table
    assert all(isinstance(defect.message, str) for defect in facts.defects)


# --- pickles -------------------------------------------------------------------------------

PICKLABLE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=10),
        st.binary(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=10,
)


def _damaged(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    """`data` truncated at `cut` with some bytes replaced: a pickle that is almost right."""
    damaged = bytearray(data[: max(1, cut)])
    for index, value in flips:
        damaged[index % len(damaged)] = value
    return bytes(damaged)


PICKLES = st.one_of(
    st.binary(max_size=200),
    st.builds(
        _damaged,
        st.builds(pickle.dumps, PICKLABLE, st.integers(0, pickle.HIGHEST_PROTOCOL)),
        st.integers(0, 400),
        st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    ),
)


@BUDGET
@given(PICKLES)
def test_pickle_scan_returns_facts(folder, data):
    path = folder / "model.pkl"
    path.write_bytes(data)
    assert isinstance(scan_pickle(path), PickleScan)


# --- requirements and lock files -----------------------------------------------------------

REQUIREMENT_PIECES = st.sampled_from(
    [
        "flask",
        "requests[socks]",
        "==2.0",
        ">=1,<2",
        "; python_version < '3.8'",
        " --hash=sha256:aa",
        " \\",
        "-r other.txt",
        "-r requirements.txt",
        "-c constraints.txt",
        "-e .",
        "git+https://example.invalid/x.git#egg=x",
        "#",
        "(",
        "\x00",
        "\n",
    ]
)
REQUIREMENTS = st.lists(st.one_of(REQUIREMENT_PIECES, TEXT), max_size=12).map("".join)


@BUDGET
@given(main=REQUIREMENTS, other=REQUIREMENTS)
def test_requirements_reader_returns_facts(folder, main, other):
    (folder / "requirements.txt").write_text(main, encoding="utf-8")
    (folder / "other.txt").write_text(other, encoding="utf-8")
    declared = read_requirements(folder / "requirements.txt", folder)
    assert isinstance(declared, Declarations)


def toml_value(value: Any) -> str:
    """`value` as an inline TOML value (ints past 64 bits stay as written: TOML refuses them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"
    return '""'


def toml_document(document: dict[str, Any]) -> str:
    return "".join(
        f"{json.dumps(key)} = {toml_value(value)}\n"
        for key, value in document.items()
        if value is not None
    )


PACKAGE_ENTRY = mapping_with(
    [
        "name",
        "version",
        "source",
        "dependencies",
        "optional-dependencies",
        "dev-dependencies",
        "resolution-markers",
        "markers",
        "marker",
        "extras",
    ],
    st.one_of(
        st.sampled_from(["a", "b", ".", "python_version < '3'", "1.0"]),
        st.lists(
            mapping_with(
                ["name", "marker", "version"], st.sampled_from(["a", "b", "x ~ y"]) | values()
            ),
            max_size=3,
        ),
        mapping_with(["editable", "virtual", "registry"], st.just(".") | values()),
        values(),
    ),
)
LOCK_DOCUMENTS = mapping_with(
    ["version", "package", "packages", "metadata", "lock-version", "created-by", "requires-python"],
    st.one_of(
        st.sampled_from([1, "1.0", "2.0"]),
        st.lists(PACKAGE_ENTRY, max_size=4),
        mapping_with(["lock-version"], st.sampled_from(["2.0", "1.1", 3]) | values()),
        values(),
    ),
)
PIPFILE_DOCUMENTS = mapping_with(
    ["_meta", "default", "develop"],
    st.one_of(
        st.just({"pipfile-spec": 6}),
        st.dictionaries(
            HOSTILE_TEXT,
            mapping_with(["version", "hashes", "markers"], values()) | values(),
            max_size=3,
        ),
        values(),
    ),
)


@BUDGET
@given(
    name=st.sampled_from(["uv.lock", "poetry.lock", "pylock.toml"]),
    document=LOCK_DOCUMENTS,
)
def test_toml_lock_readers_return_facts(folder, name, document):
    (folder / name).write_text(toml_document(document), encoding="utf-8")
    assert isinstance(read_lock_file(folder / name), Declarations)


@BUDGET
@given(st.one_of(PIPFILE_DOCUMENTS, values()))
def test_pipfile_lock_reader_returns_facts(folder, document):
    (folder / "Pipfile.lock").write_text(json.dumps(document), encoding="utf-8")
    assert isinstance(read_lock_file(folder / "Pipfile.lock"), Declarations)


PYPROJECT_DOCUMENTS = mapping_with(
    ["project", "dependency-groups", "tool"],
    st.one_of(
        mapping_with(["dependencies", "optional-dependencies", "name"], values()),
        st.dictionaries(
            st.sampled_from(["dev", "test", "docs"]),
            st.lists(
                st.one_of(
                    HOSTILE_TEXT,
                    mapping_with(["include-group"], st.sampled_from(["dev", "test", "x"])),
                ),
                max_size=3,
            )
            | values(),
            max_size=3,
        ),
        st.builds(
            lambda poetry: {"poetry": poetry},
            mapping_with(["dependencies", "dev-dependencies", "group"], values()),
        ),
        values(),
    ),
)


@BUDGET
@given(PYPROJECT_DOCUMENTS)
def test_pyproject_reader_returns_facts(folder, document):
    (folder / "pyproject.toml").write_text(toml_document(document), encoding="utf-8")
    assert isinstance(read_pyproject(folder / "pyproject.toml"), Declarations)
