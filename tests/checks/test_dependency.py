"""dependency.* and code-reference judgements, on hand-built components (no files)."""

from __future__ import annotations

from scanner.checks.code_references import CodeReferenceCheck
from scanner.checks.dependency import DependencyCheck, denied_terms
from scanner.checks.interface import CheckContext
from scanner.inventory import CodeReference, Component, LibraryDetails, LicenseFacts
from scanner.licensing.knowledge_base import default_knowledge_base
from scanner.policy.load import LicenseRules, Policy

KB = default_knowledge_base()


def context(**rules) -> CheckContext:
    return CheckContext(policy=Policy(source="test", dependencies=LicenseRules(**rules)), kb=KB)


def library(name: str, effective: str | None, **fields) -> Component:
    return Component(
        ref=f"library:pypi/{name}@1.0",
        type="library",
        name=name,
        source="python-env",
        location="/site",
        version="1.0",
        license=LicenseFacts(effective=effective),
        details=LibraryDetails(**fields),
    )


def rules_of(findings) -> list[tuple[str, str]]:
    return [(f.rule, f.component) for f in findings]


def test_denied_by_id_category_and_allow_list():
    deny = context(deny=("GPL-3.0-only",), deny_categories=("strong-copyleft",))
    findings = list(
        DependencyCheck().run(
            [
                library("a", "GPL-3.0-only"),
                library("b", "AGPL-3.0-or-later"),
                library("c", "MIT"),
                library("d", "MIT OR GPL-3.0-only"),
                library("e", "MIT AND GPL-2.0-only"),
            ],
            deny,
        )
    )
    assert {f.component for f in findings} == {
        "library:pypi/a@1.0",
        "library:pypi/b@1.0",
        "library:pypi/e@1.0",
    }
    assert all(f.rule == "dependency.license-denied" for f in findings)
    assert denied_terms("MIT", LicenseRules(allow=("Apache-2.0",)), KB)
    assert not denied_terms("mit", LicenseRules(allow=("MIT",)), KB)
    # Knowledge-base names count as the same license as their SPDX id.
    assert denied_terms("GPL-3.0-only", LicenseRules(deny=("gpl-3.0",)), KB)


def test_exception_terms_are_judged_whole():
    """A GPL term with a linking exception is weak copyleft; a FOSS exception keeps it strong."""
    rules = LicenseRules(deny_categories=("strong-copyleft",))
    assert not denied_terms("GPL-2.0-only WITH GCC-exception-2.0", rules, KB)
    assert not denied_terms("MIT AND GPL-2.0-or-later WITH Bootloader-exception", rules, KB)
    assert denied_terms("GPL-2.0-only WITH Universal-FOSS-exception-1.0", rules, KB)
    named = LicenseRules(deny=("GPL-2.0-only WITH GCC-exception-2.0",))
    assert denied_terms("GPL-2.0-only WITH GCC-exception-2.0", named, KB)
    assert not denied_terms("GPL-2.0-only WITH GCC-exception-2.0", LicenseRules(), KB)


def test_unknown_and_declared_only():
    findings = list(
        DependencyCheck().run(
            [
                library("x", None),
                library("y", None, declared_only=True, declared_in=("uv.lock",)),
            ],
            context(),
        )
    )
    assert [f.rule for f in findings] == ["dependency.license-unknown"] * 2
    assert "not installed" in findings[1].message and "uv.lock" in findings[1].message


def code_model(name: str, **fields) -> Component:
    reference = CodeReference(file="app.py", line=3, call="AutoModel.from_pretrained", **fields)
    return Component(
        ref=f"model:code/{name}#app.py:3",
        type="model",
        name=name,
        source="code",
        location="/p/app.py:3",
        details=reference,
    )


def test_code_reference_rules():
    pinned = "0123456789abcdef0123456789abcdef01234567"
    components = [
        code_model("org/shadow"),
        code_model("org/declared", revision=pinned, declared_in=("aiscan.lock",)),
        code_model("org/on-disk", revision=pinned, trust_remote_code=True, use_safetensors=False),
        code_model("os.environ['M']", resolved=False, expression="os.environ['M']"),
        code_model("./models/local-bert"),
        code_model("org/branch", revision="main", declared_in=("bom.cdx.json",)),
        Component(
            ref="model:local/org/on-disk",
            type="model",
            name="org/on-disk",
            source="modeldir",
            location="/p/models/x",
        ),
        Component(
            ref="model:local/local-bert",
            type="model",
            name="local-bert",
            source="modeldir",
            location="/p/models/local-bert",
        ),
    ]
    found = sorted(rules_of(CodeReferenceCheck().run(components, context())))
    assert found == sorted(
        [
            ("provenance.undeclared-model", "model:code/org/shadow#app.py:3"),
            ("provenance.unpinned-revision", "model:code/org/shadow#app.py:3"),
            ("provenance.remote-code", "model:code/org/on-disk#app.py:3"),
            ("provenance.unsafe-format", "model:code/org/on-disk#app.py:3"),
            ("provenance.unresolved-reference", "model:code/os.environ['M']#app.py:3"),
            ("provenance.unpinned-revision", "model:code/org/branch#app.py:3"),
        ]
    )
