"""Training-data provenance end to end: real model cards name datasets; each gets its license
from the scan, the HF cache, the fake Hub or the dataset catalogue, or an explicit unknown; the
dataset rules judge them under the policy; JSON, HTML and SPDX 3 show them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import fakehub
from tests.conftest import (
    REPO,
    component,
    findings,
    make_hf_cache,
    make_model_dir,
    run_cli,
    scan_json,
    write_policy,
)

fake_hub = fakehub.fake_hub

CARDS = REPO / "tests" / "data" / "cards"
DATASET_CARDS = REPO / "tests" / "data" / "dataset-cards"


def _real_card_model(tmp_path: Path, card: str) -> Path:
    """A model folder holding one real card from tests/data/cards (provenance: MANIFEST.tsv)."""
    folder = tmp_path / card.removesuffix(".md")
    folder.mkdir()
    shutil.copy(CARDS / card, folder / "README.md")
    return folder


def _datasets(report: dict, name: str | None = None) -> dict[str, dict]:
    return {d["name"]: d for d in component(report, name)["training_data"]}


def test_real_cards_give_every_dataset_its_license_or_an_explicit_unknown(tmp_path):
    folders = [
        _real_card_model(tmp_path, card)
        for card in (
            "HuggingFaceH4__zephyr-7b-beta.md",
            "TheBloke__TinyLlama-1.1B-Chat-v1.0-GGUF.md",
            "llava-hf__llava-1.5-7b-hf.md",
            "facebook__nllb-200-distilled-600M.md",
        )
    ]
    _, report = scan_json(*folders)
    named = 0
    for c in report["components"]:
        assert "transparency" in c
        for dataset in c["training_data"]:
            named += 1
            facts = dataset["license"]
            assert facts["evidence"], dataset["name"]
            if facts["category"] == "unknown":
                assert dataset["problem"] or dataset["found_in"] == "catalogue"
            else:
                assert facts["effective"]
    assert named >= 8

    zephyr = _datasets(report, "HuggingFaceH4__zephyr-7b-beta")
    assert zephyr["HuggingFaceH4/ultrachat_200k"]["license"]["effective"] == "mit"
    assert zephyr["HuggingFaceH4/ultrachat_200k"]["found_in"] == "catalogue"
    assert zephyr["HuggingFaceH4/ultrachat_200k"]["role"] == "training"
    # model-index results name evaluation data: listed, with its own role, never judged
    assert zephyr["cais/mmlu"]["role"] == "evaluation"
    assert zephyr["cais/mmlu"]["stated_in"] == ["model-index"]

    tiny = _datasets(report, "TheBloke__TinyLlama-1.1B-Chat-v1.0-GGUF")
    unknown = tiny["OpenAssistant/oasst_top1_2023-08-25"]
    assert unknown["found_in"] == "unknown" and unknown["license"]["effective"] is None
    assert "not known to" in unknown["problem"]
    # SlimPajama's card declares no license: the catalogue says so rather than guessing one
    slim = tiny["cerebras/SlimPajama-627B"]
    assert slim["license"]["effective"] is None and slim["found_in"] == "catalogue"
    assert any("Apache 2.0" in note for note in slim["origin"]["notes"])

    unknown_rules = findings(report, "dataset.license-unknown")
    assert {f["evidence"]["dataset"] for f in unknown_rules} >= {
        "OpenAssistant/oasst_top1_2023-08-25",
        "cerebras/SlimPajama-627B",
        "flores-200",
    }
    assert not any(f["evidence"]["dataset"] == "cais/mmlu" for f in unknown_rules)

    generated = {f["evidence"]["dataset"] for f in findings(report, "dataset.generated-by-model")}
    assert "liuhaotian/LLaVA-Instruct-150K" in generated
    assert "HuggingFaceH4/ultrachat_200k" in generated

    summary = component(report, "facebook__nllb-200-distilled-600M")["transparency"]
    assert summary["training_datasets"] == 1 and summary["licenses_known"] == 0


def _alpaca_finetune(tmp_path: Path) -> Path:
    return make_model_dir(
        tmp_path,
        "alpaca-ft",
        card={"license": "apache-2.0", "datasets": ["tatsu-lab/alpaca"]},
    )


def test_noncommercial_dataset_under_a_commercial_policy_is_a_warning(tmp_path):
    result, report = scan_json(_alpaca_finetune(tmp_path))
    (hit,) = findings(report, "dataset.noncommercial")
    assert hit["severity"] == "warning"
    assert hit["evidence"]["license"] == "cc-by-nc-4.0"
    assert "the policy context says the use is commercial" in hit["message"]
    assert "Training on data is not distributing it" in hit["message"]
    (generated,) = findings(report, "dataset.generated-by-model")
    assert generated["evidence"]["provider"] == "OpenAI"
    assert "compete with OpenAI" in generated["message"]
    assert generated["evidence"]["citation"].startswith("https://huggingface.co/datasets/tatsu-lab")
    assert result.exit_code == 0  # warnings: the policy decides how much they weigh


def test_noncommercial_dataset_is_not_flagged_when_the_use_is_not_commercial(tmp_path):
    policy = write_policy(
        tmp_path / "research.yaml", "extends: default\ncontext:\n  commercial_use: false\n"
    )
    _, report = scan_json(_alpaca_finetune(tmp_path), args=["--policy", policy])
    assert findings(report, "dataset.noncommercial") == []
    assert findings(report, "dataset.generated-by-model")


def test_policy_can_deny_dataset_licenses(tmp_path):
    policy = write_policy(
        tmp_path / "p.yaml",
        "extends: default\ndatasets:\n  deny_categories: [non-commercial]\n  deny: [CC-BY-SA-3.0]\n",
    )
    folder = make_model_dir(
        tmp_path,
        "mixed",
        card={
            "license": "apache-2.0",
            "datasets": ["tatsu-lab/alpaca", "databricks/databricks-dolly-15k", "allenai/c4"],
        },
    )
    result, report = scan_json(folder, args=["--policy", policy])
    denied = {f["evidence"]["dataset"]: f for f in findings(report, "dataset.license-denied")}
    assert set(denied) == {"tatsu-lab/alpaca", "databricks/databricks-dolly-15k"}
    assert all(f["severity"] == "error" for f in denied.values())
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datasets:\n  allow: [mit]\n", "unknown key 'allow'"),
        ("datasets:\n  deny_categories: [nonsense]\n", "'nonsense' is not one of"),
        ("datasets:\n  deny: [no-such-license]\n", "unknown license 'no-such-license'"),
    ],
)
def test_bad_dataset_policy_is_a_usage_error(tmp_path, text, message):
    policy = write_policy(tmp_path / "bad.yaml", text)
    result = run_cli("scan", _alpaca_finetune(tmp_path), "--policy", policy)
    assert result.exit_code == 2
    assert message in result.stderr


def test_hf_cache_dataset_card_wins_over_the_catalogue(tmp_path, monkeypatch):
    cache = tmp_path / "hf" / "hub"
    card = (DATASET_CARDS / "tatsu-lab__alpaca.md").read_text(encoding="utf-8")
    make_hf_cache(cache, "tatsu-lab/alpaca", {"README.md": card}, repo_type="dataset")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    _, report = scan_json(_alpaca_finetune(tmp_path))
    alpaca = _datasets(report)["tatsu-lab/alpaca"]
    assert alpaca["found_in"] == "hfcache"
    assert alpaca["license"]["declared"] == ["cc-by-nc-4.0"]
    assert alpaca["revision"]
    # the catalogue still tells where the content came from
    assert alpaca["origin"]["generated_by"][0]["provider"] == "OpenAI"


def test_scanned_dataset_describes_the_training_data(tmp_path):
    cache = tmp_path / "cache"
    card = (DATASET_CARDS / "tatsu-lab__alpaca.md").read_text(encoding="utf-8")
    repo, _ = make_hf_cache(cache, "tatsu-lab/alpaca", {"README.md": card}, repo_type="dataset")
    _, report = scan_json(repo, _alpaca_finetune(tmp_path))
    dataset = component(report, "tatsu-lab/alpaca")
    assert dataset["type"] == "dataset" and dataset["license"]["effective"] == "cc-by-nc-4.0"
    assert dataset["origin"]["kind"] == "instruction"
    alpaca = _datasets(report, "alpaca-ft")["tatsu-lab/alpaca"]
    assert alpaca["found_in"] == "scan" and alpaca["ref"] == dataset["ref"]
    own = findings(report, "dataset.generated-by-model", component=dataset["ref"])
    assert own and own[0]["message"].startswith("tatsu-lab/alpaca was generated with OpenAI")


def test_hf_datasets_target_reads_the_dataset_card_from_the_hub(fake_hub):
    card = (DATASET_CARDS / "tatsu-lab__alpaca.md").read_text(encoding="utf-8")
    sha = fake_hub.add_repo(
        "tatsu-lab/alpaca", {"README.md": card, "data/train.parquet": b"PAR1"}, kind="dataset"
    )
    _, report = scan_json("hf://datasets/tatsu-lab/alpaca")
    c = component(report)
    assert c["type"] == "dataset" and c["ref"] == f"dataset:hf/tatsu-lab/alpaca@{sha}"
    assert c["location"].endswith(f"/datasets/tatsu-lab/alpaca/tree/{sha}")
    assert c["license"]["effective"] == "cc-by-nc-4.0"
    assert c["purl"] is None
    assert {f["path"] for f in c["files"]} == {"README.md", "data/train.parquet"}
    assert fake_hub.api_calls("tatsu-lab/alpaca", "datasets")
    assert fake_hub.api_calls("tatsu-lab/alpaca") == []  # never asked as a model
    assert findings(report, "license.noncommercial")


def test_missing_hf_dataset_target_is_reported(fake_hub):
    result, report = scan_json("hf://datasets/acme/nothing")
    (hit,) = findings(report, "scan.unreadable")
    assert "hf://datasets/acme/nothing: not found on the Hub" in hit["message"]
    assert result.exit_code == 1


def test_with_hub_each_dataset_is_asked_once_and_cached(fake_hub, tmp_path):
    fake_hub.dataset_repo("acme/chat-data", {"license": "cc-by-nc-4.0"})
    folder = make_model_dir(
        tmp_path,
        "acme-ft",
        card={"license": "mit", "datasets": ["acme/chat-data", "acme/missing-data"]},
    )
    _, report = scan_json(folder, args=["--hub"])
    known = _datasets(report)
    assert known["acme/chat-data"]["found_in"] == "hub"
    assert known["acme/chat-data"]["license"]["effective"] == "cc-by-nc-4.0"
    assert "not found on the Hub" in known["acme/missing-data"]["problem"]
    assert findings(report, "dataset.noncommercial")
    calls = len(fake_hub.api_calls("acme/chat-data", "datasets"))
    assert calls == 1
    scan_json(folder, args=["--hub"])
    assert len(fake_hub.api_calls("acme/chat-data", "datasets")) == calls


def test_unreachable_hub_falls_back_to_the_catalogue(fake_hub, tmp_path, impatient):
    fake_hub.fail("/api/datasets/", 503, 503, 503, 503)
    folder = make_model_dir(
        tmp_path, "ft", card={"license": "mit", "datasets": ["allenai/c4", "acme/x"]}
    )
    result, report = scan_json(folder, args=["--hub"])
    known = _datasets(report)
    assert known["allenai/c4"]["found_in"] == "catalogue"
    assert known["allenai/c4"]["license"]["effective"] == "odc-by"
    assert "did not answer" in known["acme/x"]["problem"]
    assert result.exit_code == 0


impatient = fakehub.impatient


def test_html_report_has_the_data_section(tmp_path):
    out = tmp_path / "report.html"
    result = run_cli(
        "scan", _real_card_model(tmp_path, "llava-hf__llava-1.5-7b-hf.md"), "-f", "html", "-o", out
    )
    assert result.exit_code == 0
    html = out.read_text(encoding="utf-8")
    section = html[html.index('id="training-data"') :]
    assert "Training data" in html
    assert "liuhaotian/LLaVA-Instruct-150K" in section
    assert "generated with OpenAI" in section
    assert "terms restrict training competing models" in section


def test_saved_report_keeps_the_training_data(tmp_path):
    """The HTML report written from a saved JSON report shows the same data section, and the
    JSON reader gives back the same facts (read_report is what `report --from` and `diff` use)."""
    from scanner.formats.json import read_report, report_document

    saved = tmp_path / "report.json"
    run_cli("scan", _alpaca_finetune(tmp_path), "-f", "json", "-o", saved)
    html = tmp_path / "again.html"
    result = run_cli("report", "--from", saved, "-o", html)
    assert result.exit_code == 0, result.stderr
    assert "tatsu-lab/alpaca" in html.read_text(encoding="utf-8").split('id="training-data"')[1]
    first = json.loads(saved.read_text())["components"][0]
    again = report_document(read_report(saved))["components"][0]
    assert again["training_data"] == first["training_data"]
    assert again["transparency"] == first["transparency"]


def test_spdx3_dataset_packages_carry_the_known_facts(tmp_path):
    out = tmp_path / "bom.spdx3.json"
    run_cli("scan", _alpaca_finetune(tmp_path), "-f", "spdx3-jsonld", "-o", out)
    graph = json.loads(out.read_text())["@graph"]
    (alpaca,) = [e for e in graph if e.get("type") == "dataset_DatasetPackage"]
    assert alpaca["name"] == "tatsu-lab/alpaca"
    assert (
        "generated with OpenAI's models (text-davinci-003)"
        in alpaca["dataset_dataCollectionProcess"]
    )
    assert alpaca["dataset_datasetType"] == ["text"]
    licensed = [
        e
        for e in graph
        if e.get("type") == "Relationship"
        and e.get("relationshipType") == "hasConcludedLicense"
        and e.get("from") == alpaca["spdxId"]
    ]
    assert licensed
    expression = next(e for e in graph if e.get("spdxId") == licensed[0]["to"][0])
    assert expression["simplelicensing_licenseExpression"] == "CC-BY-NC-4.0"


def test_hostile_dataset_names_are_listed_never_used_as_paths(tmp_path, monkeypatch):
    """Names from a stranger's card: a NUL byte, a path, a URL, a huge list. Each is listed as
    written (up to the bound) with an unknown license; none is opened or crashes the scan."""
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    names = ["evil\x00/x", "../../etc/passwd", "/etc/passwd", "https://example.com/a/b", "a/b/c"]
    names += [f"org/set-{i}" for i in range(500)]
    folder = make_model_dir(tmp_path, "hostile", card={"license": "mit", "datasets": names})
    result, report = scan_json(folder)
    listed = component(report)["training_data"]
    assert len(listed) == 100  # MAX_DATASETS
    assert all(d["found_in"] == "unknown" and d["license"]["effective"] is None for d in listed)
    assert result.exit_code == 0


def test_dataset_license_is_identified_from_its_license_text(tmp_path, monkeypatch):
    """A cached dataset whose card declares nothing but ships a LICENSE: the text is identified
    as a model's would be, and the catalogue is not asked to guess."""
    from tests.conftest import LICENSE_TEXTS

    cache = tmp_path / "hf" / "hub"
    make_hf_cache(
        cache,
        "acme/notes",
        {"README.md": "# Notes\n", "LICENSE": (LICENSE_TEXTS / "mit.txt").read_text()},
        repo_type="dataset",
    )
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    folder = make_model_dir(tmp_path, "ft", card={"license": "mit", "datasets": ["acme/notes"]})
    _, report = scan_json(folder)
    notes = _datasets(report)["acme/notes"]
    assert notes["found_in"] == "hfcache"
    assert notes["license"]["detected"] == ["mit"] and notes["license"]["effective"] == "mit"
    assert findings(report, "dataset.license-unknown") == []


def test_policy_denies_a_scanned_dataset_too(tmp_path):
    policy = write_policy(
        tmp_path / "p.yaml", "extends: default\ndatasets:\n  deny_categories: [non-commercial]\n"
    )
    card = (DATASET_CARDS / "tatsu-lab__alpaca.md").read_text(encoding="utf-8")
    repo, _ = make_hf_cache(
        tmp_path / "cache", "tatsu-lab/alpaca", {"README.md": card}, repo_type="dataset"
    )
    result, report = scan_json(repo, args=["--policy", policy])
    (hit,) = findings(report, "dataset.license-denied")
    assert hit["component"] == component(report)["ref"]
    assert hit["message"].startswith("tatsu-lab/alpaca is under cc-by-nc-4.0")
    assert result.exit_code == 1


def test_datasets_linked_from_the_card_text_are_listed_not_judged(tmp_path):
    """Stable Diffusion v1-4's real card names its data only in prose, as Hub links."""
    folder = _real_card_model(tmp_path, "CompVis__stable-diffusion-v1-4.md")
    _, report = scan_json(folder)
    c = component(report)
    linked = {d["name"]: d for d in c["training_data"]}
    assert linked["laion/laion2B-en"]["role"] == "linked"
    assert linked["laion/laion2B-en"]["stated_in"] == ["card text"]
    assert linked["laion/laion2B-en"]["found_in"] == "catalogue"
    assert c["transparency"]["training_data_stated"] is False
    assert c["transparency"]["linked_datasets"] == len(linked)
    assert "training data: the card has no `datasets:` field" in c["transparency"]["omits"]
    assert findings(report, "dataset.license-unknown") == []


def test_card_reader_finds_dataset_links_once():
    from scanner.readers.card import linked_datasets

    prose = (
        "Trained on [C4](https://huggingface.co/datasets/allenai/c4). See also "
        "https://huggingface.co/datasets/allenai/C4 and https://www.huggingface.co/datasets/a/b. "
        "Not a dataset: https://huggingface.co/allenai/model, nor huggingface.co/datasets/x."
    )
    assert linked_datasets(prose) == ("allenai/c4", "a/b")
