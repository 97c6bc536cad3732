"""The license knowledge base: every entry loads and validates, and holds the facts checks use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.licensing.knowledge_base import (
    CATEGORIES,
    NOT_LICENSES,
    KnowledgeBaseError,
    LicenseKnowledgeBase,
    load_knowledge_base,
    parse_entry,
)
from scanner.resources import data_dir

LICENSES_DIR = data_dir("licenses")
TEXTS_DIR = LICENSES_DIR / "texts"

REQUIRED_KEYS = [
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "qwen-research",
    "tongyi-qianwen",
    "tongyi-qianwen-research",
    "deepseek",
    "creativeml-openrail-m",
    "openrail",
    "openrail++",
    "bigscience-openrail-m",
    "bigscience-bloom-rail-1.0",
    "stabilityai-ai-community",
    "sai-nc-community",
    "dinov3-license",
    "sam-license",
    "openmdw-1.1",
    "apache-2.0",
    "mit",
    "bsd-2-clause",
    "bsd-3-clause",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "cc-by-nc-nd-4.0",
    "cc0-1.0",
    "gpl-3.0",
    "lgpl-3.0",
    "agpl-3.0",
    "mpl-2.0",
    "mnpl-0.1",
    "mrl-0.1",
    "falcon-180b-tii-license-1.0",
    "tii-falcon-license-2.0",
    "nvidia-open-model-license",
]

LLAMA_KEYS = ["llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"]
ATTRIBUTION_TEXT = {
    "llama3": "Built with Meta Llama 3",
    "llama3.1": "Built with Llama",
    "llama3.2": "Built with Llama",
    "llama3.3": "Built with Llama",
    "llama4": "Built with Llama",
}


def _entry_files() -> list[Path]:
    return sorted(p for p in LICENSES_DIR.glob("*.yaml") if p.name not in NOT_LICENSES)


def _license_texts() -> list[Path]:
    """Bundled full texts of licenses; acceptable-use policies (`*-aup.*`) are not licenses."""
    return sorted(p for p in TEXTS_DIR.iterdir() if p.is_file() and "-aup." not in p.name)


def _aup_texts() -> list[Path]:
    return sorted(p for p in TEXTS_DIR.iterdir() if p.is_file() and "-aup." in p.name)


# --- loading and validation -----------------------------------------------------------------


def test_every_entry_file_loads_and_validates():
    kb = load_knowledge_base(LICENSES_DIR)
    files = _entry_files()
    assert sorted(kb.entries) == sorted(p.stem for p in files)


@pytest.mark.parametrize("path", _entry_files(), ids=lambda p: p.stem)
def test_entry_validates(path):
    entry = parse_entry(yaml.safe_load(path.read_text(encoding="utf-8")), path)
    assert entry.key == path.stem
    assert entry.category in CATEGORIES
    # a license that forbids commercial use is never ranked as a commercial category
    if not entry.commercial_use:
        assert entry.category in ("non-commercial", "research-only", "proprietary", "unknown")


def test_at_least_40_entries(kb):
    assert len(kb) >= 40


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_required_entry_exists(kb, key):
    assert key in kb, f"knowledge base has no entry {key!r}"
    assert kb[key].key == key


def test_every_clause_cites_a_section(kb):
    missing = [
        f"{entry.key}: {clause.id}"
        for entry in kb.entries.values()
        for clause in (*entry.conditions, *entry.obligations, *entry.restrictions)
        if not clause.section.strip()
    ]
    assert missing == []


def test_every_alias_identifies_its_own_entry(kb):
    wrong = [
        (alias, key, kb.identify_name(alias))
        for key, entry in kb.entries.items()
        for alias in (key, *entry.aliases)
        if kb.identify_name(alias) != key
    ]
    assert wrong == []


# --- the loader rejects schema errors -------------------------------------------------------

_VALID = """\
key: {key}
name: Example License
spdx: null
scancode: null
url: https://example.com/license
category: permissive
commercial_use: true
derivatives_inherit: false
aliases: [Example License Alias]
markers: []
obligations:
  - id: include-license
    summary: Include the license.
    section: "1"
"""


def _write_entry(folder: Path, text: str, key: str = "example-1.0") -> Path:
    path = folder / f"{key}.yaml"
    path.write_text(text.format(key=key), encoding="utf-8")
    return path


def test_valid_minimal_entry_loads(tmp_path):
    _write_entry(tmp_path, _VALID)
    kb = load_knowledge_base(tmp_path)
    assert kb.identify_name("Example License Alias") == "example-1.0"


@pytest.mark.parametrize(
    ("mutation", "complaint"),
    [
        (lambda t: t.replace("id: include-license", "id: include-licence"), "include-licence"),
        (lambda t: t.replace('    section: "1"\n', ""), "section"),
        (lambda t: t + "colour: blue\n", "colour"),
        (lambda t: t.replace("category: permissive", "category: liberal"), "category"),
        (
            lambda t: t.replace("commercial_use: true", "commercial_use: yes please"),
            "commercial_use",
        ),
        (lambda t: t.replace("key: {key}", "key: other-name"), "file name"),
    ],
    ids=[
        "unknown-clause-id",
        "clause-without-section",
        "unknown-field",
        "bad-category",
        "bad-flag",
        "key-not-file-name",
    ],
)
def test_schema_errors_are_rejected(tmp_path, mutation, complaint):
    _write_entry(tmp_path, mutation(_VALID))
    with pytest.raises(KnowledgeBaseError, match=complaint):
        load_knowledge_base(tmp_path)


def test_alias_shared_by_two_entries_is_rejected(tmp_path):
    _write_entry(tmp_path, _VALID, "example-1.0")
    _write_entry(tmp_path, _VALID, "example-2.0")
    with pytest.raises(KnowledgeBaseError, match="Example License Alias"):
        load_knowledge_base(tmp_path)


def test_marker_missing_from_bundled_text_is_rejected(tmp_path):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "example-1.0.txt").write_text("EXAMPLE LICENSE\nYou may do anything.\n")
    text = _VALID.replace(
        "markers: []",
        "text:\n  file: texts/example-1.0.txt\n  source: test\nmarkers: [NOT IN THE TEXT]",
    )
    _write_entry(tmp_path, text)
    with pytest.raises(KnowledgeBaseError, match="NOT IN THE TEXT"):
        load_knowledge_base(tmp_path)


# --- Llama family ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", LLAMA_KEYS)
def test_llama_has_700m_monthly_active_users_condition(kb, key):
    mau = [c for c in kb[key].conditions if c.id == "monthly-active-users"]
    assert len(mau) == 1
    assert mau[0].parameters["monthly_active_users_over"] == 700_000_000
    assert mau[0].section


@pytest.mark.parametrize("key", LLAMA_KEYS)
def test_llama_has_acceptable_use_policy_with_url(kb, key):
    aup = [r for r in kb[key].restrictions if r.id == "acceptable-use-policy"]
    assert len(aup) == 1
    assert aup[0].url and aup[0].url.startswith("https://")
    assert aup[0].section


@pytest.mark.parametrize("key", LLAMA_KEYS)
def test_llama_clauses_all_cite_sections(kb, key):
    entry = kb[key]
    clauses = (*entry.conditions, *entry.obligations, *entry.restrictions)
    assert clauses
    assert all(c.section.strip() for c in clauses)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("llama2", True),
        ("llama3", True),
        ("llama3.1", False),
        ("llama3.2", False),
        ("llama3.3", False),
        ("llama4", False),
    ],
)
def test_llama_no_improving_other_models(kb, key, expected):
    present = any(r.id == "no-improving-other-models" for r in kb[key].restrictions)
    assert present is expected


@pytest.mark.parametrize(("key", "text"), sorted(ATTRIBUTION_TEXT.items()))
def test_llama_attribution_text(kb, key, text):
    attributions = [o.text for o in kb[key].obligations if o.id == "attribution"]
    assert attributions == [text]


@pytest.mark.parametrize("key", LLAMA_KEYS)
def test_llama_terms_flow_down_and_allow_commercial_use(kb, key):
    entry = kb[key]
    assert entry.category == "restricted"
    assert entry.commercial_use is True
    assert entry.derivatives_inherit is True


# --- identifiers are real -------------------------------------------------------------------


def test_scancode_keys_exist_in_license_expression_index(kb):
    from license_expression import get_scancode_licensing

    known = get_scancode_licensing().known_symbols
    unknown = {
        e.key: e.scancode for e in kb.entries.values() if e.scancode and e.scancode not in known
    }
    assert unknown == {}


def test_spdx_ids_are_real_spdx_ids(kb):
    from license_expression import get_spdx_licensing

    known = get_spdx_licensing().known_symbols
    unknown = {e.key: e.spdx for e in kb.entries.values() if e.spdx and e.spdx not in known}
    assert unknown == {}


@pytest.mark.parametrize(
    ("key", "spdx"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("mit", "MIT"),
        ("bsd-3-clause", "BSD-3-Clause"),
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("cc0-1.0", "CC0-1.0"),
        ("mpl-2.0", "MPL-2.0"),
    ],
)
def test_well_known_licenses_carry_their_spdx_id(kb, key, spdx):
    assert key in kb
    assert kb[key].spdx == spdx
    assert kb[key].spdx_ref == spdx


def test_entries_without_spdx_id_get_a_licenseref(kb):
    assert kb["llama3.1"].spdx_ref == "LicenseRef-scancode-llama-3.1-license-2024"
    assert kb["llama3"].spdx_ref.startswith("LicenseRef-")


# --- identification of texts ----------------------------------------------------------------


@pytest.mark.parametrize("path", _license_texts(), ids=lambda p: p.name)
def test_bundled_license_text_identifies_as_exactly_its_own_key(kb, path):
    owners = [e.key for e in kb.entries.values() if e.text_file and e.text_file.name == path.name]
    assert len(owners) == 1, (
        f"{path.name} is bundled but not the text of exactly one entry: {owners}"
    )
    assert kb.identify_text(path.read_text(encoding="utf-8")) == (owners[0],)


@pytest.mark.parametrize("path", _aup_texts(), ids=lambda p: p.name)
def test_acceptable_use_policy_is_not_mistaken_for_a_license(kb, path):
    assert kb.identify_text(path.read_text(encoding="utf-8")) == ()


def test_identify_text_ignores_formatting(kb):
    text = (TEXTS_DIR / "mit.txt").read_text(encoding="utf-8")
    reflowed = " ".join(text.split()).upper().replace(",", " ,")
    assert kb.identify_text(reflowed) == ("mit",)
    assert kb.identify_text("\r\n" + text.replace("\n", "\r\n")) == ("mit",)
    # A word before the license is an addition, not formatting: the text is not plain MIT.
    assert kb.identify_text("crlf\r\n" + text.replace("\n", "\r\n")) == ()


def test_identify_text_finds_nothing_in_prose(kb):
    assert kb.identify_text("This model was trained on a lot of data. Enjoy!") == ()


def test_bsd_2_and_bsd_3_are_told_apart(kb):
    bsd3 = (
        "Copyright (c) 2024, Example\n\nRedistribution and use in source and binary forms, with or "
        "without modification, are permitted provided that the following conditions are met:\n\n"
        "1. Redistributions of source code must retain the above copyright notice, this list of "
        "conditions and the following disclaimer.\n\n2. Redistributions in binary form must "
        "reproduce the above copyright notice, this list of conditions and the following "
        "disclaimer in the documentation and/or other materials provided with the distribution.\n\n"
        "3. Neither the name of the copyright holder nor the names of its contributors may be used "
        "to endorse or promote products derived from this software without specific prior written "
        'permission.\n\nTHIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" '
        "AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED "
        "WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO "
        "EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, "
        "INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, "
        "PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS "
        "INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT "
        "LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE "
        "OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\n"
    )
    bsd2 = bsd3.replace(
        "3. Neither the name of the copyright holder nor the names of its contributors may be used "
        "to endorse or promote products derived from this software without specific prior written "
        "permission.\n\n",
        "",
    )
    assert kb.identify_text(bsd3) == ("bsd-3-clause",)
    assert kb.identify_text(bsd2) == ("bsd-2-clause",)
    # Without its limitation of liability the text is neither.
    assert kb.identify_text(bsd3[: bsd3.index(" IN NO EVENT")]) == ()


# --- identification of names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "apache-2.0",
        "mit",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "openrail",
        "openrail++",
        "creativeml-openrail-m",
        "bigscience-openrail-m",
        "bigscience-bloom-rail-1.0",
        "cc-by-nc-4.0",
        "cc-by-4.0",
        "gpl-3.0",
        "cc0-1.0",
    ],
)
def test_identify_by_hugging_face_id(kb, key):
    assert kb.identify_name(key) == key
    assert kb.identify_name(key.upper()) == key


@pytest.mark.parametrize(
    ("license_name", "key"),
    [
        ("llama3", "llama3"),
        ("tongyi-qianwen", "tongyi-qianwen"),
        ("tongyi-qianwen-research", "tongyi-qianwen-research"),
        ("tongyi-qianwen-license-agreement", "tongyi-qianwen"),
        ("qwen-research", "qwen-research"),
        ("deepseek", "deepseek"),
        ("deepseek-license", "deepseek"),
        ("gemma-terms-of-use", "gemma"),
        ("stabilityai-ai-community", "stabilityai-ai-community"),
        ("mnpl", "mnpl-0.1"),
        ("mrl", "mrl-0.1"),
        ("dinov3-license", "dinov3-license"),
        ("sam-license", "sam-license"),
        ("nvidia-open-model-license", "nvidia-open-model-license"),
    ],
)
def test_identify_by_card_license_name(kb, license_name, key):
    assert kb.identify_name(license_name) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Apache 2.0", "apache-2.0"),
        ("Apache License 2.0", "apache-2.0"),
        ("Apache License, Version 2.0", "apache-2.0"),
        ("Apache-2.0", "apache-2.0"),
        ("Llama 3 Community License", "llama3"),
        ("Meta Llama 3 Community License Agreement", "llama3"),
        ("MIT License", "mit"),
        ("MIT", "mit"),
        ("Gemma Terms of Use", "gemma"),
    ],
)
def test_identify_by_free_text_name(kb, name, key):
    assert kb.identify_name(name) == key


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://llama.meta.com/llama3/license/", "llama3"),
        ("http://llama.meta.com/llama3/license", "llama3"),
        ("https://www.llama.meta.com/llama3/license", "llama3"),
        ("https://llama.meta.com/llama3_1/license/", "llama3.1"),
        ("https://www.apache.org/licenses/LICENSE-2.0", "apache-2.0"),
        ("http://www.apache.org/licenses/LICENSE-2.0.html", "apache-2.0"),
        ("https://ai.google.dev/gemma/terms", "gemma"),
        ("https://mistral.ai/licenses/MNPL-0.1.md", "mnpl-0.1"),
    ],
)
def test_identify_by_license_url(kb, url, key):
    assert kb.identify_name(url) == key


def test_unknown_name_is_not_identified(kb):
    assert kb.identify_name("Frobnicator Public License 9") is None
    assert kb.identify_name("other") is None


def test_knowledge_base_of_no_entries_identifies_nothing():
    empty = LicenseKnowledgeBase([])
    assert len(empty) == 0
    assert empty.identify_name("mit") is None
    assert empty.identify_text("MIT License") == ()


# --- the AI licenses of ScanCode's database -------------------------------------------------

SCANCODE_AI_KEYS = [
    "openatom-model-1.0",
    "responsible-ai-source-1.0",
    "responsible-ai-source-1.1",
    "gretelai-sal-1.0",
    "salesforce-ai-aup-2025",
    "nvidia-model-training-2025",
    "fair-ai-public-1.0-sd",
    "stability-ai-nc-2023-12-06",
    "hyperclova-x-seed-2025",
    "ltxv-owl",
    "tencent-hunyuan-3d-2.0-cla",
    "bilibili-model-ula-2025-09-09",
    "chameleon-research-2024",
    "open-weights-permissive-1.0.0",
    "moonshot-ai-modified-mit-2025",
    "apple-ml-ferret-2023",
    "playground-v2-community",
    "open-aleph-1.0",
]


@pytest.mark.parametrize("key", SCANCODE_AI_KEYS)
def test_scancode_ai_license_is_bundled_and_named_by_its_scancode_ref(kb, key):
    entry = kb[key]
    assert entry.text_file is not None and "scancode-toolkit" in (entry.text_source or "")
    assert kb.identify_text(entry.text or "") == (key,)
    scancode_key = entry.scancode or key
    assert kb.identify_name(f"LicenseRef-scancode-{scancode_key}") == key


@pytest.mark.parametrize(
    ("license_name", "key"),
    [
        ("faipl-1.0-sd", "fair-ai-public-1.0-sd"),
        ("fair-ai-public-license-1.0-sd", "fair-ai-public-1.0-sd"),
        ("https://freedevproject.org/faipl-1.0-sd", "fair-ai-public-1.0-sd"),
        ("faipl-1.0", "fair-ai-public-1.0"),
        ("playground-v2-community", "playground-v2-community"),
        ("gemma-tou-2025-03-24", "gemma"),
        ("LicenseRef-scancode-gemma-tou-2024-04-01", "gemma"),
        ("google-gemma-terms-of-use", "gemma"),
        ("ltxv-owl-2025-05-05", "ltxv-owl"),
        (
            "https://huggingface.co/moonshotai/Kimi-K2-Instruct/raw/main/LICENSE",
            "moonshot-ai-modified-mit-2025",
        ),
        ("Reponsible AI Source Code License v1.1", "responsible-ai-source-1.1"),
    ],
)
def test_identify_scancode_ai_license_by_card_name_or_link(kb, license_name, key):
    assert kb.identify_name(license_name) == key


def test_a_name_several_tencent_agreements_share_is_not_an_alias(kb):
    # HunyuanDiT, Hunyuan3D-1 and Hunyuan3D-2 cards all write this name for different texts.
    assert kb.identify_name("tencent-hunyuan-community") is None


def test_moonshot_modified_mit_is_not_mit(kb):
    moonshot = kb["moonshot-ai-modified-mit-2025"].text or ""
    assert kb.identify_text(moonshot) == ("moonshot-ai-modified-mit-2025",)
    # the MIT part alone, without the modification paragraph, is plain MIT
    mit_part = moonshot.split("Our only modification part")[0].replace(
        "Modified MIT License", "MIT License"
    )
    assert kb.identify_text(mit_part) == ("mit",)
    mau = [
        c for c in kb["moonshot-ai-modified-mit-2025"].conditions if c.id == "monthly-active-users"
    ]
    assert [c.parameters["monthly_active_users_over"] for c in mau] == [100_000_000]


@pytest.mark.parametrize(
    "key", ["sai-nc-community", "stable-cascade-nc-community", "stability-ai-nc-2023-12-06"]
)
def test_stability_non_commercial_revisions_are_told_apart(kb, key):
    # one title, two dates and two grant sentences: SDXL Turbo (Nov 28), Stable Cascade
    # (Nov 28 with the Dec 6 grant), StableLM 2 chat (Dec 6)
    assert kb.identify_text(kb[key].text or "") == (key,)
    assert kb.identify_name(kb[key].url or "") == key


def test_fair_ai_public_license_and_its_sd_variant_are_told_apart(kb):
    assert kb.identify_text(kb["fair-ai-public-1.0"].text or "") == ("fair-ai-public-1.0",)
    assert kb.identify_text(kb["fair-ai-public-1.0-sd"].text or "") == ("fair-ai-public-1.0-sd",)
    assert any(r.id == "acceptable-use-policy" for r in kb["fair-ai-public-1.0-sd"].restrictions)
    assert not any(r.id == "acceptable-use-policy" for r in kb["fair-ai-public-1.0"].restrictions)


def test_ltxv_license_of_either_date_is_one_entry(kb):
    april = kb["ltxv-owl"].text or ""
    may = april.replace("LTX Video-2B-Distilled-04-25", "LTX Video-13b-0.9.7-dev-fp8").replace(
        "April 17, 2025", "May 5, 2025"
    )
    assert may != april
    assert kb.identify_text(april.replace("April 17, 2025", "May 5, 2025")) == ("ltxv-owl",)
    assert kb.identify_text(may) == ("ltxv-owl",)


@pytest.mark.parametrize(
    ("key", "over"),
    [
        ("hyperclova-x-seed-2025", 10_000_000),
        ("tencent-hunyuan-3d-2.0-cla", 1_000_000),
        ("bilibili-model-ula-2025-09-09", 100_000_000),
        ("playground-v2-community", 1_000_000),
    ],
)
def test_user_thresholds_of_ai_licenses(kb, key, over):
    mau = [c for c in kb[key].conditions if c.id == "monthly-active-users"]
    assert [c.parameters["monthly_active_users_over"] for c in mau] == [over]


@pytest.mark.parametrize(
    ("key", "restriction"),
    [
        ("chameleon-research-2024", "research-only"),
        ("stability-ai-nc-2023-12-06", "non-commercial"),
        ("open-aleph-1.0", "non-commercial"),
        ("tencent-hunyuan-3d-2.0-cla", "field-of-use"),
        ("nvidia-model-training-2025", "field-of-use"),
        ("salesforce-ai-aup-2025", "acceptable-use-policy"),
        ("responsible-ai-source-1.1", "acceptable-use-policy"),
        ("ltxv-owl", "acceptable-use-policy"),
    ],
)
def test_use_restrictions_of_ai_licenses(kb, key, restriction):
    assert restriction in {r.id for r in kb[key].restrictions}
    if not kb[key].commercial_use:
        assert kb[key].category in ("non-commercial", "research-only")


def test_gemma_prohibited_use_policy_is_bundled_as_gemmas_aup(kb):
    policy = (TEXTS_DIR / "gemma-aup.md").read_text(encoding="utf-8")
    assert "Gemma Prohibited Use Policy" in policy
    assert kb.identify_text(policy) == ()
    aup = [r for r in kb["gemma"].restrictions if r.id == "acceptable-use-policy"]
    assert len(aup) == 1 and "texts/" not in aup[0].summary  # no internal path in a summary
    assert kb["gemma"].use_policy_file == TEXTS_DIR / "gemma-aup.md"  # NOTICE bundles carry it
