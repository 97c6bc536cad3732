"""The compiled knowledge base: the same as the sources, and compiled again when they change."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

from scanner import resources
from scanner.licensing import compiled
from scanner.licensing.catalogue import load_catalogue
from scanner.licensing.knowledge_base import load_knowledge_base
from scanner.licensing.matching import prepare
from scanner.resources import data_dir

SHIPPED = data_dir("licenses")


def same(left, right) -> None:
    (kb_a, catalogue_a), (kb_b, catalogue_b) = left, right
    assert kb_a.entries == kb_b.entries
    assert kb_a.name_indexes() == kb_b.name_indexes()
    assert catalogue_a.families == catalogue_b.families


@pytest.fixture
def licenses(tmp_path):
    copy = tmp_path / "licenses"
    shutil.copytree(SHIPPED, copy)
    return copy


@pytest.fixture
def no_sources(monkeypatch):
    """Make reading the sources fail, so a load that succeeds came from the compiled file."""

    def refuse(*_args):
        raise AssertionError("read the sources although the compiled file matches")

    def refusing():
        monkeypatch.setattr(compiled, "load_knowledge_base", refuse)
        monkeypatch.setattr(compiled, "load_catalogue", refuse)

    return refusing


def test_compiled_is_the_shipped_knowledge_base(tmp_path, no_sources):
    kb = load_knowledge_base(SHIPPED)
    source = (kb, load_catalogue(SHIPPED / "models.yaml", kb))
    same(compiled.load(SHIPPED, tmp_path / "cache"), source)  # compiles
    assert compiled.cache_file(SHIPPED, tmp_path / "cache").is_file()
    no_sources()
    again = compiled.load(SHIPPED, tmp_path / "cache")
    same(again, source)
    assert again[0]["mit"].text == source[0]["mit"].text
    assert again[0].identify_name("Apache License 2.0") == "apache-2.0"
    (llama,) = [f for f in again[1].families if f.license == "llama3.1"][:1]
    mention = again[1].mentions("Fine-tuned from Llama 3.1 8B.")
    assert [m.license for m in mention] == [llama.license]


def test_an_edited_license_file_is_compiled_again(licenses, tmp_path):
    cache = tmp_path / "cache"
    compiled.load(licenses, cache)
    mit = licenses / "mit.yaml"
    text = mit.read_text(encoding="utf-8")
    mit.write_text(text.replace("name: MIT License", "name: MIT License (edited)"), "utf-8")
    kb, _ = compiled.load(licenses, cache)
    assert kb["mit"].name == "MIT License (edited)"
    assert kb.identify_name("MIT License (edited)") == "mit"


def test_an_edit_that_keeps_size_and_time_is_seen_through_the_time(licenses, tmp_path):
    """A file rewritten to the same length within the same second is still a new stamp:
    nanosecond modification times are compared."""
    cache = tmp_path / "cache"
    compiled.load(licenses, cache)
    mit = licenses / "mit.yaml"
    before = mit.stat()
    text = mit.read_text(encoding="utf-8")
    mit.write_text(text.replace("name: MIT License", "name: MIT Licensf"), "utf-8")
    os.utime(mit, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert compiled.load(licenses, cache)[0]["mit"].name == "MIT Licensf"


def test_added_and_removed_files_are_picked_up(licenses, tmp_path):
    cache = tmp_path / "cache"
    compiled.load(licenses, cache)
    (licenses / "mit-copy.yaml").write_text(
        "key: mit-copy\nname: A license added while aiscan was in use\ncategory: permissive\n"
        "commercial_use: true\nderivatives_inherit: false\n",
        "utf-8",
    )
    kb, _ = compiled.load(licenses, cache)
    assert "mit-copy" in kb
    (licenses / "mit-copy.yaml").unlink()
    assert "mit-copy" not in compiled.load(licenses, cache)[0]


def test_a_changed_text_file_is_compiled_again(licenses, tmp_path):
    """Entries are checked against their bundled texts: a text is part of the fingerprint."""
    cache = tmp_path / "cache"
    compiled.load(licenses, cache)
    kb = load_knowledge_base(licenses)
    text_file = kb["mit"].text_file
    assert text_file is not None
    text_file.write_text(text_file.read_text(encoding="utf-8") + "\nAppended.\n", "utf-8")
    assert compiled.load(licenses, cache)[0]["mit"].text.endswith("Appended.\n")


def test_an_invalid_edit_fails_as_the_sources_do(licenses, tmp_path):
    from scanner.licensing.knowledge_base import KnowledgeBaseError

    cache = tmp_path / "cache"
    compiled.load(licenses, cache)
    (licenses / "mit.yaml").write_text("key: mit\nname: MIT\ncategory: nonsense\n", "utf-8")
    with pytest.raises(KnowledgeBaseError, match="category"):
        compiled.load(licenses, cache)


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"format": 1, "fingerprint": "x"}', "null"])
def test_a_damaged_compiled_file_is_compiled_again(tmp_path, damage, no_sources):
    cache = tmp_path / "cache"
    first = compiled.load(SHIPPED, cache)
    target = compiled.cache_file(SHIPPED, cache)
    target.write_text(damage, "utf-8")
    same(compiled.load(SHIPPED, cache), first)
    no_sources()
    same(compiled.load(SHIPPED, cache), first)  # and it was written whole again


def test_a_wrong_shape_with_the_right_fingerprint_is_compiled_again(tmp_path):
    cache = tmp_path / "cache"
    first = compiled.load(SHIPPED, cache)
    target = compiled.cache_file(SHIPPED, cache)
    stamp = compiled.fingerprint(SHIPPED)
    target.write_text(f'{{"format": 1, "fingerprint": "{stamp}", "entries": [1]}}', "utf-8")
    same(compiled.load(SHIPPED, cache), first)


def test_a_cache_folder_that_cannot_be_written_reads_the_sources(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", "utf-8")
    kb = load_knowledge_base(SHIPPED)
    source = (kb, load_catalogue(SHIPPED / "models.yaml", kb))
    same(compiled.load(SHIPPED, blocked / "cache"), source)
    same(compiled.load(SHIPPED, None), source)


@contextlib.contextmanager
def _fresh_defaults():
    """The shipped knowledge base and catalogue loaded anew (and forgotten after)."""
    loaders = (compiled.load_default, compiled.default_knowledge_base, compiled._default_stamp)
    for loader in loaders:
        loader.cache_clear()
    try:
        yield
    finally:
        for loader in loaders:
            loader.cache_clear()


def test_the_default_uses_the_user_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    with _fresh_defaults():
        kb = compiled.default_knowledge_base()
        assert not compiled.cache_file(SHIPPED, tmp_path / "cache").exists()  # not yet needed
        assert "apache-2.0" in kb
        assert compiled.cache_file(SHIPPED, tmp_path / "cache").is_file()


# --- answers of identify, kept between runs ----------------------------------------------


def _kb_with_answers(cache, stamp="stamp"):
    kb, _ = compiled.load(SHIPPED, cache)
    kb.answers = compiled.Answers(cache / "answers.sqlite3", lambda: stamp)
    return kb


def _refuse_matching(monkeypatch, kb):
    def refuse(*_args):
        raise AssertionError("matched a text whose answer is kept")

    monkeypatch.setattr(kb, "_identify", refuse)


def test_the_matcher_is_prepared_ahead_only_before_answers_are_kept(tmp_path):
    text = (SHIPPED / "texts" / "mit.txt").read_text(encoding="utf-8")
    first = _kb_with_answers(tmp_path)
    first.prepare_matching()
    assert "_matcher" in vars(first)  # a first run: every text will be matched
    first.identify(text)
    again = _kb_with_answers(tmp_path)
    again.prepare_matching()
    assert "_matcher" not in vars(again)  # answers are kept: built only if a text needs it
    assert again.identify(text) == first.identify(text)


def test_an_answer_is_kept_between_runs(tmp_path, monkeypatch):
    text = (SHIPPED / "texts" / "apache-2.0.txt").read_text(encoding="utf-8")
    card = "# Model\n\n## License\n\n" + text
    first = _kb_with_answers(tmp_path)
    answers = (first.identify(text), first.identify(card, sections=True))
    assert answers[0][0] == ("apache-2.0",)
    assert answers[0] != answers[1]  # the card's match names its section
    again = _kb_with_answers(tmp_path)
    _refuse_matching(monkeypatch, again)
    assert (again.identify(text), again.identify(card, sections=True)) == answers


def test_answers_of_another_fingerprint_are_not_used(tmp_path):
    text = (SHIPPED / "texts" / "mit.txt").read_text(encoding="utf-8")
    first = _kb_with_answers(tmp_path, "before")
    expected = first.identify(text)
    later = _kb_with_answers(tmp_path, "after")
    calls = []
    original = later._identify
    later._identify = lambda *args: calls.append(args) or original(*args)
    assert later.identify(text) == expected
    assert len(calls) == 1


@pytest.mark.parametrize("damage", [b"not a database at all", b""])
def test_a_damaged_answer_store_only_means_matching_again(tmp_path, damage):
    (tmp_path / "answers.sqlite3").write_bytes(damage * 100)
    text = (SHIPPED / "texts" / "mit.txt").read_text(encoding="utf-8")
    kb = _kb_with_answers(tmp_path)
    assert kb.identify(text)[0] == ("mit",)


def test_a_damaged_answer_is_matched_again(tmp_path):
    import sqlite3

    text = (SHIPPED / "texts" / "mit.txt").read_text(encoding="utf-8")
    expected = _kb_with_answers(tmp_path).identify(text)
    with sqlite3.connect(tmp_path / "answers.sqlite3") as db:
        db.execute("UPDATE answers SET answer = '[1, 2, 3]'")
    assert _kb_with_answers(tmp_path).identify(text) == expected


def test_a_scan_with_kept_answers_reports_the_same(tmp_path):
    """End to end, two runs of the CLI with one cache folder: the second answers from the
    store, and the reports are the same."""
    import json
    import subprocess
    import sys

    from tests.conftest import make_model_dir, subprocess_env

    text = (SHIPPED / "texts" / "apache-2.0.txt").read_text(encoding="utf-8")
    folder = make_model_dir(tmp_path, license_text=text)
    env = {**subprocess_env(), "AISCAN_CACHE_DIR": str(tmp_path / "cache")}
    reports = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(folder), "-f", "json"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        reports.append(json.loads(done.stdout))
    assert reports[0]["components"] == reports[1]["components"]
    assert "apache-2.0" in json.dumps(reports[0]["components"][0]["license"])
    (store,) = (tmp_path / "cache" / "compiled").glob("*.answers.sqlite3")
    import sqlite3

    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM answers").fetchone()[0] >= 1


def test_without_a_home_folder_the_sources_are_read(monkeypatch):
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(resources, "user_cache_dir", no_home)
    with _fresh_defaults():
        kb, (_, catalogue) = compiled.default_knowledge_base(), compiled.load_default()
        assert "mit" in kb and kb.answers is None and kb.references is None
        assert catalogue.families


def test_answers_are_kept_from_worker_threads(tmp_path, monkeypatch):
    """Texts fetched from the Hub can be matched in worker threads: one connection, locked."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [
        (SHIPPED / "texts" / f"{key}.txt").read_text(encoding="utf-8")
        for key in ("mit", "apache-2.0", "gemma", "llama3")
    ]
    kb = _kb_with_answers(tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(kb.identify, texts))
    assert [a[0] for a in answers] == [("mit",), ("apache-2.0",), ("gemma",), ("llama3",)]
    again = _kb_with_answers(tmp_path)
    _refuse_matching(monkeypatch, again)
    assert [again.identify(text) for text in texts] == answers


# --- the prepared reference texts -------------------------------------------------------------


def test_prepared_references_are_kept_and_read_back_the_same(tmp_path):
    kb = load_knowledge_base(SHIPPED)
    target = tmp_path / "refs.references.json"
    parsed = compiled.load_references(target, "stamp", kb.parse_references)
    assert target.is_file()

    def refuse():
        raise AssertionError("prepared the references although the kept ones match")

    assert compiled.load_references(target, "stamp", refuse) == parsed
    assert parsed == prepare(kb.parse_references())
    assert parsed.index is not None and parsed.index.ids  # the shingle index is kept too


def test_references_of_another_fingerprint_are_prepared_again(tmp_path):
    kb = load_knowledge_base(SHIPPED)
    target = tmp_path / "refs.references.json"
    compiled.load_references(target, "old", kb.parse_references)
    calls = []

    def parse():
        calls.append(1)
        return kb.parse_references()

    assert compiled.load_references(target, "new", parse) == prepare(kb.parse_references())
    assert calls == [1]
    compiled.load_references(target, "new", lambda: pytest.fail("not kept again"))


def _damaged_references(document: dict) -> list[str]:
    import json

    first = document["references"][0]
    shorter = {**first, "starts": first["starts"][:-8]}
    not_base64 = {**first, "notice": "!!!"}
    out_of_text = {**first, "omittable": [[0, 10**9]]}
    index = document["shingles"]
    keys = index["keys"]
    offsets = compiled._unpack_array(index["offsets"], len(keys) + 1).tolist()
    swapped = [offsets[0], offsets[2], offsets[1], *offsets[3:]]  # one holder list out of order
    out_of_order = compiled._numbers(swapped)
    too_many_holders = compiled._numbers([10**6] * offsets[-1])  # no such reference
    too_far = compiled._numbers([len(keys)] * (len(first["words"].split(" ")) - 4))
    return [
        json.dumps({k: v for k, v in document.items() if k != "shingles"}),
        json.dumps({**document, "shingles": {**index, "keys": [*keys[:-1], 7]}}),
        json.dumps({**document, "shingles": {**index, "keys": [*keys[:-1], keys[0]]}}),
        json.dumps({**document, "shingles": {**index, "keys": keys[:-1]}}),
        json.dumps({**document, "shingles": {**index, "positions": index["positions"][1:]}}),
        json.dumps({**document, "shingles": {**index, "offsets": out_of_order}}),
        json.dumps({**document, "shingles": {**index, "holders": too_many_holders}}),
        json.dumps(
            {**document, "shingles": {**index, "positions": [too_far, *index["positions"][1:]]}}
        ),
        json.dumps({**document, "shingles": {**index, "holders": "!!!"}}),
        json.dumps({**document, "shingles": None}),
        "",
        "{",
        "null",
        json.dumps({**document, "references": [shorter]}),
        json.dumps({**document, "references": [not_base64]}),
        json.dumps({**document, "references": [out_of_text]}),
        json.dumps({**document, "references": [{"key": "mit"}]}),
        json.dumps({**document, "references": "x"}),
    ]


def test_damaged_references_are_prepared_again(tmp_path):
    import json

    kb = load_knowledge_base(SHIPPED)
    target = tmp_path / "refs.references.json"
    expected = compiled.load_references(target, "stamp", kb.parse_references)
    document = json.loads(target.read_text("utf-8"))
    for damage in _damaged_references(document):
        target.write_text(damage, "utf-8")
        assert compiled.load_references(target, "stamp", kb.parse_references) == expected
        assert json.loads(target.read_text("utf-8")) == document  # and written whole again


def test_a_reference_found_damaged_when_first_looked_at_is_prepared_again(tmp_path):
    """The index checks out, so the file is used; its references are decoded as the matcher
    needs them, and one that does not decode has them all prepared again and the file
    written whole, as damage found on reading does."""
    import json

    kb = load_knowledge_base(SHIPPED)
    target = tmp_path / "refs.references.json"
    expected = compiled.load_references(target, "stamp", kb.parse_references)
    document = json.loads(target.read_text("utf-8"))
    first, *rest = document["references"]
    for damaged in ({**first, "notice": "!!!"}, {**first, "starts": first["starts"][:-8]}):
        target.write_text(json.dumps({**document, "references": [damaged, *rest]}), "utf-8")
        calls: list[int] = []

        def parse(calls=calls):
            calls.append(1)
            return kb.parse_references()

        kept = compiled.load_references(target, "stamp", parse)
        assert kept.references[1] == expected.references[1] and calls == []  # not yet needed
        assert kept.references[0] == expected.references[0] and calls == [1]
        assert tuple(kept.references) == tuple(expected.references) and calls == [1]
        assert kept.index == expected.index
        assert json.loads(target.read_text("utf-8")) == document


def test_the_default_keeps_its_references_beside_the_compiled_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path))
    with _fresh_defaults():
        kb = compiled.default_knowledge_base()
        assert kb.identify_text(
            (SHIPPED / "reference" / "mit.txt").read_text("utf-8").replace("{{", "")
        )
        kept = compiled.references_file(SHIPPED, tmp_path)
        assert kept.is_file()
        assert kept.parent == compiled.cache_file(SHIPPED, tmp_path).parent


_REFUSE_LOADING = """
from scanner.licensing import compiled

def refuse(*_args):
    raise SystemExit("read the knowledge base")

compiled.load = refuse
"""


@pytest.mark.parametrize(("policy", "reads"), [(None, False), ("licenses:\n  deny: [mit]\n", True)])
def test_a_verify_reads_the_knowledge_base_only_for_a_policy_naming_licenses(
    tmp_path, policy, reads
):
    """Nothing of a verification names a license: the compiled file is not even read (a
    fifth of a cached re-verify's time) unless the policy lists licenses, which are then
    looked up in it."""
    from tests.conftest import aiscan_child, make_model_dir

    folder = make_model_dir(tmp_path)
    args = ["verify", str(folder), "-f", "json", "--no-cache"]
    if policy is not None:
        (tmp_path / "policy.yaml").write_text(policy, "utf-8")
        args += ["--policy", str(tmp_path / "policy.yaml")]
    run = aiscan_child(*args, code=_REFUSE_LOADING)
    assert ("read the knowledge base" in run.stderr) is reads, run.stderr
    assert run.returncode == (1 if reads else 0), run.stderr
