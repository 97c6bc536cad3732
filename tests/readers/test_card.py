"""The card reader on hostile front matter: bounded work, a `provenance.card-invalid` finding."""

from __future__ import annotations

from xml.etree import ElementTree

from scanner.files import MAX_YAML_ALIAS_NODES
from scanner.inventory import Component
from scanner.licensing.lineage import BaseModelLookup, LineageWalker
from scanner.readers.card import read_card
from tests import fakehub
from tests.conftest import (
    billion_laughs,
    findings,
    make_model_dir,
    measured,
    run_cli,
    scan_json,
)

fake_hub = fakehub.fake_hub


def test_alias_bomb_in_front_matter_is_refused_quickly_and_small(tmp_path):
    card = tmp_path / "README.md"
    card.write_text(f"---\n{billion_laughs()}---\n# Model\n", encoding="utf-8")
    error = measured(
        f"read_card(open({str(card)!r}, 'rb').read(), 'README.md').error",
        imports="from scanner.readers.card import read_card",
        seconds=2,
        megabytes=64,
    )
    assert error.startswith("front matter refused: aliases expand it by more than")


def test_alias_bomb_card_is_a_card_invalid_finding(tmp_path):
    folder = make_model_dir(tmp_path, card=billion_laughs())
    _, report = scan_json(folder)
    (invalid,) = findings(report, "provenance.card-invalid")
    assert f"{MAX_YAML_ALIAS_NODES:,} nodes" in invalid["message"]
    assert report["components"][0]["license"]["declared"] == []


def test_recursive_alias_is_refused():
    card = read_card(b"---\nlicense: &a [mit, *a]\n---\n", "README.md")
    assert card.error == "front matter refused: an alias refers to a node that contains it"


def test_aliases_within_the_bound_are_read_as_before():
    text = "---\nshared: &tags [llama, text]\ntags: *tags\nlicense: mit\n---\n"
    card = read_card(text.encode(), "README.md")
    assert card.error is None
    assert card.tags == ("llama", "text")
    assert card.license == ("mit",)


def test_model_index_is_read_into_metrics():
    text = (
        "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
        "    dataset: {name: ARC, type: ai2_arc}\n    metrics:\n"
        "    - {type: acc_norm, value: 62.03, name: normalized accuracy}\n---\n"
    )
    (metric,) = read_card(text.encode(), "README.md").metrics
    assert (metric.metric, metric.value, metric.task, metric.dataset, metric.name) == (
        "acc_norm",
        "62.03",
        "text-generation",
        "ARC",
        "normalized accuracy",
    )


def test_a_model_index_its_parser_rejects_gives_no_metrics_not_a_broken_card():
    for model_index in (
        "model-index: [{name: m, results: [{task: text}]}]",  # a string where a mapping is due
        "model-index: [{name: m, results: [{task: {type: t}, dataset: {type: d, name: D},"
        " source: {name: only-a-name}, metrics: [{type: acc, value: 1}]}]}]",
        "model-index: {name: m}",
    ):
        card = read_card(f"---\nlicense: mit\n{model_index}\n---\n".encode(), "README.md")
        assert card.error is None, model_index
        assert card.license == ("mit",)
        assert card.metrics == ()


def test_front_matter_that_is_not_a_mapping_is_invalid():
    card = read_card(b"---\n- license\n- mit\n---\n", "README.md")
    assert card.error == "front matter is a list, not a mapping of card fields"


# --- control characters in names: kept as written, reported, never looked up ----------------


def test_control_characters_in_names_are_kept_and_reported_invalid():
    text = '---\nlicense: mit\nbase_model: "meta-llama/Llama\\0-3"\ndatasets: ["a\\nb"]\n---\n'
    card = read_card(text.encode(), "README.md")
    assert card.error is None
    assert card.base_models == ("meta-llama/Llama\x00-3",)
    assert card.datasets == ("a\nb",)
    assert card.invalid == (
        "base_model 'meta-llama/Llama\\x00-3' contains the control character U+0000; "
        "not a valid name",
        "datasets 'a\\nb' contains the control character U+000A; not a valid name",
    )


def test_a_base_model_with_a_control_character_is_never_looked_up(tmp_path, fake_hub):
    front = 'license: mit\nbase_model: ["org/base\\0x", "org/base\\nPackageName: forged"]\n'
    folder = make_model_dir(tmp_path, card=front)
    _, report = scan_json(folder, args=["--hub"])
    assert not [r for r in fake_hub.requests if "base" in str(r)]
    invalid = findings(report, "provenance.card-invalid")
    assert sorted(hit["message"] for hit in invalid) == [
        "README.md: base_model 'org/base\\nPackageName: forged' contains the control character "
        "U+000A; not a valid name",
        "README.md: base_model 'org/base\\x00x' contains the control character U+0000; "
        "not a valid name",
    ]
    unresolved = findings(report, "provenance.base-unresolved")
    assert [hit["evidence"]["reason"] for hit in unresolved] == ["missing", "missing"]
    assert any(
        hit["message"].startswith("base model 'org/base\\x00x' (model -> 'org/base\\x00x'): ")
        for hit in unresolved
    )
    assert report["components"][0]["base_models"] == [
        "org/base\x00x",
        "org/base\nPackageName: forged",
    ]


class _Recording(BaseModelLookup):
    name = "recording"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def prefetch(self, repo_ids):
        self.asked.extend(repo_ids)

    def lookup(self, repo_id):
        self.asked.append(repo_id)


def test_lineage_asks_no_place_about_a_name_with_a_control_character(kb):
    lookup = _Recording()
    model = Component(
        ref="model:local/m",
        type="model",
        name="m",
        source="modeldir",
        location="/m",
        base_models=("org/x\x00", "org/ok"),
    )
    (ancestors,) = LineageWalker([lookup], kb).walk([model])
    assert lookup.asked == ["org/ok", "org/ok"]
    assert (ancestors[0].found_in, ancestors[0].problem) == (
        "missing",
        "not a valid model name (it holds U+0000); not looked up",
    )


def test_control_characters_in_names_reach_every_output_unbroken(tmp_path):
    front = 'license: mit\nbase_model: "org/base\\0\\nPackageName: forged"\ndatasets: ["d\\x01"]\n'
    folder = make_model_dir(tmp_path, card=front)
    for output in ("table", "markdown"):
        result = run_cli("scan", folder, "--format", output)
        assert result.exit_code == 0, (output, result.stderr)
    spdx = run_cli("scan", folder, "--format", "spdx-tv").stdout
    assert "\nPackageName: forged" not in spdx
    assert "PackageName: org/base\ufffd\ufffdPackageName: forged" in spdx
    xml = run_cli("scan", folder, "--format", "cyclonedx-xml").stdout
    ElementTree.fromstring(xml)  # well-formed: the NUL and U+0001 are shown as U+FFFD


def test_values_the_safe_constructor_cannot_build_are_invalid_yaml_at_their_line():
    # PyYAML lets these escape as ValueError, AttributeError and IndexError (found by fuzzing).
    for value, words in (
        ("2020-13-45", "cannot read '2020-13-45' as timestamp (month must be in 1..12)"),
        ("!!timestamp x", "cannot read 'x' as timestamp"),
        ("!!float", "cannot read '' as float"),
    ):
        card = read_card(f"---\nlicense: mit\ndate: {value}\n---\n".encode(), "README.md")
        assert card.error == f"front matter is not valid YAML at line 3: {words}"
