"""The card reader on hostile front matter: bounded work, a `provenance.card-invalid` finding."""

from __future__ import annotations

from scanner.files import MAX_YAML_ALIAS_NODES
from scanner.readers.card import read_card
from tests.conftest import billion_laughs, findings, make_model_dir, measured, scan_json


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
