"""Every rule aiscan can report, with its default severity and the help a reader needs.

Rule ids are a contract (docs/rules.md): users' waivers, baselines and CI scripts name them.
New rules may be added; existing ids never change.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.inventory import Severity


@dataclass(frozen=True)
class Rule:
    """One rule: id, default severity, a one-line summary and longer help."""

    id: str
    severity: Severity
    summary: str
    help: str


_RULES = (
    Rule(
        "license.missing",
        "error",
        "No license declared or found",
        "Neither the model card nor a license file names a license. Without one, no right to use "
        "or redistribute the model has been granted. Ask the publisher, or waive with evidence.",
    ),
    Rule(
        "license.unresolved",
        "warning",
        "License not recognised",
        "A license is declared but aiscan's knowledge base does not know it (for example "
        "`license: other` without `license_name`). Review the terms by hand.",
    ),
    Rule(
        "license.denied",
        "error",
        "License denied by policy",
        "The effective license, or its category, is on the policy's deny list or outside its allow list.",
    ),
    Rule(
        "license.conflict-with-base",
        "error",
        "Declared license less restrictive than the base model's",
        "The card declares a license that is less restrictive than the license of its base model, "
        "whose terms flow down to derivatives. The base model's terms still govern use.",
    ),
    Rule(
        "license.undeclared-base",
        "warning",
        "Card text names a base model the license ignores",
        "The card declares a permissive license and no base_model, but its text says the model is "
        'built on a family whose license flows down to derivatives ("based on Llama-2"). The '
        "family's terms are added to the effective license until the publisher clarifies.",
    ),
    Rule(
        "license.mismatch",
        "warning",
        "Card, license file and weights metadata disagree",
        "The license named in the card differs from the license text shipped in the folder, or "
        "from the license the weights' own metadata declares (GGUF `general.license`, safetensors "
        "`__metadata__`). All are treated as applying until the publisher clarifies.",
    ),
    Rule(
        "license.noncommercial",
        "error",
        "Non-commercial license used commercially",
        "The license forbids commercial use and the policy context says the product is commercial.",
    ),
    Rule(
        "license.research-only",
        "error",
        "Research-only license used outside research",
        "The license limits use to research and the policy context says the product is commercial.",
    ),
    Rule(
        "license.mau-threshold",
        "warning",
        "Monthly-active-users condition",
        "The license requires a separate license above a number of monthly active users. An error "
        "when the policy context's monthly_active_users exceeds it, a note when it is not stated.",
    ),
    Rule(
        "license.obligation",
        "note",
        "License obligation to honour",
        "Something the license requires of whoever distributes or uses the model, such as an "
        "attribution text or including the license.",
    ),
    Rule(
        "license.use-restricted",
        "error",
        "A declared use is restricted by the license",
        "The policy's `context.uses` names a use the license restricts: distillation, synthetic "
        "data or training other models against Llama 2/3 §1.b.v (no improving other large "
        "language models), fine-tuning against a no-derivatives license.",
    ),
    Rule(
        "license.acceptable-use-policy",
        "note",
        "Acceptable-use policy applies",
        "The license incorporates an acceptable-use policy that every use must comply with.",
    ),
    Rule(
        "provenance.unpinned-revision",
        "warning",
        "Model revision not pinned",
        "A model is referenced by branch name instead of a 40-hex commit, so its bytes can change.",
    ),
    Rule(
        "provenance.remote-code",
        "warning",
        "Model runs remote code",
        "Loading this model executes Python code shipped with it.",
    ),
    Rule(
        "provenance.unsafe-format",
        "warning",
        "Pickle-based weights",
        "Pickle-based weight files (.bin, .pt, .pth, .ckpt, .pkl) can execute code when loaded. "
        "Prefer safetensors.",
    ),
    Rule(
        "provenance.publisher-denied",
        "error",
        "Publisher not allowed",
        "The model's publisher is on the policy's deny list or outside its allow list.",
    ),
    Rule(
        "provenance.card-missing",
        "warning",
        "No model card",
        "The model has no README.md card, so its license, lineage and intended use are undocumented.",
    ),
    Rule(
        "provenance.card-incomplete",
        "note",
        "Model card lacks key fields",
        "The card omits fields a reviewer needs: license, base_model for a derivative, datasets.",
    ),
    Rule(
        "provenance.card-invalid",
        "warning",
        "Model card unreadable",
        "The card's front matter could not be parsed (invalid or unsafe YAML, not UTF-8, too large); "
        "nothing it says was used.",
    ),
    Rule(
        "provenance.base-unresolved",
        "warning",
        "Base model could not be resolved",
        "A base_model named in the lineage was not found in the scan, the HF cache, the catalogue "
        "or the Hub (missing, private, renamed), or the chain loops or is deeper than the limit. "
        "Its license is unknown, and its terms may flow down, so the derivative's effective license "
        "category is unknown too (also offline or without --hub, where nothing asked knew it).",
    ),
    Rule(
        "provenance.gated",
        "note",
        "Gated model",
        "The repo is gated on the Hub: downloading it requires accepting the publisher's terms "
        "with an account, and those terms bind whoever accepted them.",
    ),
    Rule(
        "provenance.undeclared-model",
        "warning",
        "Model used in code but not declared",
        "Code loads a model that the project's inventory does not declare.",
    ),
    Rule(
        "provenance.undeclared-service",
        "note",
        "AI service used but not declared",
        "Code or a deployment file calls a hosted model API (OpenAI, Anthropic, Bedrock, ...) or "
        "deploys an inference server that no CycloneDX BOM of the project lists in its "
        "`services`. The strict policy makes this an error: declare the service or stop using it.",
    ),
    Rule(
        "provenance.service-denied",
        "error",
        "AI service denied by policy",
        "A hosted model API or inference server matches `ai_services.deny`, or is not matched "
        "by a non-empty `ai_services.allow`.",
    ),
    Rule(
        "provenance.unresolved-reference",
        "warning",
        "Model loaded under a name known only at run time",
        "Code loads a model whose name is not a constant in the module (an environment variable, "
        "a function argument, a computed string), or a pipeline without model= (the task's "
        "default model); or calls a hosted model API, or a deployment file serves a model, under "
        "such a name (`$MODEL`, `{{ .Values.model }}`). aiscan cannot tell which model it is; "
        "review it by hand.",
    ),
    Rule(
        "integrity.malformed",
        "error",
        "Malformed weights file",
        "The safetensors or GGUF header breaks the format: bad JSON or magic, unknown dtype or "
        "value type, counts or lengths beyond the file, offsets that overlap, leave gaps, are "
        "misaligned or disagree with shapes, trailing bytes.",
    ),
    Rule(
        "integrity.truncated",
        "error",
        "Truncated weights file",
        "The file is shorter than its header (or its store's manifest) says: an interrupted "
        "download or a damaged copy.",
    ),
    Rule(
        "integrity.duplicate-tensor",
        "error",
        "Duplicate tensor name",
        "A tensor name appears twice in the header; loaders silently keep the last one, so the "
        "file can hide weights.",
    ),
    Rule(
        "integrity.hash-mismatch",
        "error",
        "Hash differs from the reference",
        "The file's SHA-256 differs from the published or recorded one.",
    ),
    Rule(
        "integrity.missing-shard",
        "error",
        "Shard missing",
        "A shard named by the safetensors index is absent, or lacks tensors the index places in it.",
    ),
    Rule(
        "integrity.unexpected-file",
        "error",
        "File not in the lock file or any manifest",
        "A file is present in a component the lock file records, but the lock file does not list "
        "it: something was added after locking (new weights, code, a changed config). In an "
        "Ollama store, a file in `blobs/` that no manifest names (Ollama prunes those), or one "
        "whose name is not a blob name (an unfinished `-partial` download).",
    ),
    Rule(
        "integrity.unverified",
        "note",
        "No reference hash",
        "The file was hashed but no reference was available to compare with.",
    ),
    Rule(
        "dependency.license-denied",
        "error",
        "Dependency license denied by policy",
        "A Python package's license is denied by the policy.",
    ),
    Rule(
        "dependency.license-unknown",
        "warning",
        "Dependency license unknown",
        "A Python package's license could not be determined from its metadata.",
    ),
    Rule(
        "dataset.license-unknown",
        "warning",
        "Training dataset license unknown",
        "The model card names a training dataset whose license no place aiscan asked (the scan, "
        "the HF cache, the Hub with --hub, the dataset catalogue) could identify. The data's "
        "terms may reach the model; find the dataset's card and review them.",
    ),
    Rule(
        "dataset.noncommercial",
        "warning",
        "Trained on a non-commercial dataset",
        "The model was trained on a dataset whose license does not allow commercial use (for "
        "example CC BY-NC 4.0), and the policy context says the use is commercial. Training on "
        "data is not distributing it, so aiscan says what is known and lets the policy decide: "
        "raise it to an error, or waive it with legal's reasoning.",
    ),
    Rule(
        "dataset.generated-by-model",
        "warning",
        "Trained on data generated by another provider's model",
        "The dataset's card says its content was generated by a model whose provider's terms "
        "restrict using outputs to develop competing models (for example OpenAI's terms of use). "
        "Whether those terms bind the model's users depends on who accepted them; review.",
    ),
    Rule(
        "dataset.license-denied",
        "error",
        "Dataset license denied by policy",
        "A dataset the model was trained on (or a dataset scanned) is under a license, or a "
        "license category, that the policy's `datasets: {deny, deny_categories}` denies.",
    ),
    Rule(
        "policy.waiver-expired",
        "warning",
        "Waiver expired",
        "A waiver's expiry date has passed; it no longer applies.",
    ),
    Rule(
        "policy.waiver-unused",
        "note",
        "Waiver matched nothing",
        "A waiver in the policy matched no finding; it may be stale.",
    ),
    Rule(
        "scan.unreadable",
        "error",
        "Could not read part of the target",
        "A file or folder could not be read (permission denied, vanished, link loop), so it was "
        "not examined. Nothing unread is reported clean.",
    ),
    Rule(
        "scan.link-outside-target",
        "error",
        "Symbolic link leaves the scanned target",
        "A file or folder inside the target is a symbolic link to a place outside it (for example "
        "`NOTICE -> /proc/self/environ` or `weights -> /`). aiscan never follows such links, so "
        "nothing outside what you asked to scan is read or reported; the link itself is the "
        "finding. Scan the link's destination directly if it belongs to the product.",
    ),
    Rule(
        "scan.nothing-found",
        "error",
        "Nothing to scan",
        "The target holds no model folder, cache repo or other component. An error by default, "
        "so that a CI job pointed at a failed mount, a wrong path or an empty cache fails "
        "instead of passing clean; lower it in the policy (`rules: {scan.nothing-found: "
        "warning}`) where an empty target is expected.",
    ),
    Rule(
        "integrity.fleet-drift",
        "error",
        "Hosts of a fleet hold different bytes",
        "`aiscan verify --fleet`: the same model revision (or lock entry) has a file with "
        "different bytes or size on some hosts, a file only some hosts hold, or is present on "
        "only some hosts. Hosts meant to serve the same model do not; the evidence names each "
        "host's digest.",
    ),
    Rule(
        "scan.unreachable-host",
        "error",
        "A host of the fleet did not answer",
        "`aiscan verify --fleet`: a host named with --expect-host has no Dask worker, or its "
        "worker died or failed before reporting. Its stores were not verified, so nothing on it "
        "is reported clean.",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
