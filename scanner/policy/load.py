"""Loads the policy: shipped `rules/*.yaml`, a user's file, or the `aiscan.yaml` /
`[tool.aiscan]` of the directory aiscan runs in.

Policy keys are a contract. Anything unknown or mistyped is a usage error naming the file, the
line and what is wrong, because a silently ignored typo (`deny_categorys`) would let a denied
license through.
"""

from __future__ import annotations

import datetime
import fnmatch
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scanner.errors import UsageError
from scanner.files import YamlExpansionError, load_yaml, read_whole
from scanner.inventory import Severity, Waiver
from scanner.licensing.knowledge_base import CATEGORIES, USES, LicenseKnowledgeBase
from scanner.policy.rules import RULES
from scanner.policy.shipped import shipped_document, shipped_folder
from scanner.resources import data_dir

SEVERITIES = ("error", "warning", "note")
DEFAULT_POLICY = "default"
LOCAL_POLICY_FILES = ("aiscan.yaml", ".aiscan.yaml")
MAX_POLICY_BYTES = 8 * 1024 * 1024
"""Policies are kilobytes, even with hundreds of waivers."""


@dataclass(frozen=True)
class Context:
    """Facts about the organisation and product that decide whether license conditions bite."""

    commercial_use: bool | None = None
    monthly_active_users: int | None = None
    uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class LicenseRules:
    """Allow and deny lists for licenses (knowledge-base keys or SPDX ids) and categories."""

    deny_categories: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublisherRules:
    """Allow and deny lists of publishers (Hub organisations), as glob patterns."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceRules:
    """Allow and deny lists of AI services, as glob patterns on the provider (`openai`), the
    model (`gpt-4o*`) or both (`anthropic/claude-3-5-*`); see `matches`."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    @staticmethod
    def matches(pattern: str, provider: str, model: str | None) -> bool:
        """Whether `pattern` names the service: with a `/`, `provider/model`; without, the
        provider or the model. Case does not matter."""
        pattern = pattern.lower()
        names = [f"{provider}/{model or ''}"] if "/" in pattern else [provider, model or ""]
        return any(fnmatch.fnmatchcase(name.lower(), pattern) for name in names)


@dataclass(frozen=True)
class Policy:
    """The merged policy a scan is judged against."""

    source: str
    fail_on: Severity = "error"
    context: Context = field(default_factory=Context)
    licenses: LicenseRules = field(default_factory=LicenseRules)
    dependencies: LicenseRules = field(default_factory=LicenseRules)
    publishers: PublisherRules = field(default_factory=PublisherRules)
    ai_services: ServiceRules = field(default_factory=ServiceRules)
    datasets: LicenseRules = field(default_factory=LicenseRules)
    """Deny lists for the licenses of datasets: those a model was trained on, and those scanned."""
    rules: Mapping[str, Severity | Literal["off"]] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()

    def severity(self, rule: str) -> Severity | None:
        """The severity the policy gives a rule, or None when the rule is switched off."""
        configured = self.rules.get(rule)
        if configured == "off":
            return None
        return configured or RULES[rule].severity


# --- schema ---------------------------------------------------------------------------------

Located = Callable[[tuple[Any, ...]], str]


def _fail(where: Located, path: tuple[Any, ...], message: str) -> UsageError:
    return UsageError(f"{where(path)}: {message}")


def _check_string_list(value: Any, where: Located, path: tuple[Any, ...], choices=None) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, path, "must be a list of strings")
    for index, item in enumerate(value):
        if choices is not None and item not in choices:
            raise _fail(where, (*path, index), f"{item!r} is not one of {', '.join(choices)}")


def _check_mapping(value: Any, where: Located, path: tuple[Any, ...], keys: set[str]) -> None:
    if not isinstance(value, dict):
        raise _fail(where, path, "must be a mapping")
    for key in value:
        if key not in keys:
            raise _fail(
                where,
                (*path, key),
                f"unknown key {key!r} (expected one of: {', '.join(sorted(keys))})",
            )


def _check_license_rules(value: Any, where: Located, path: tuple[Any, ...]) -> None:
    _check_mapping(value, where, path, {"deny_categories", "deny", "allow"})
    for key in ("deny", "allow"):
        if key in value:
            _check_string_list(value[key], where, (*path, key))
    if "deny_categories" in value:
        _check_string_list(value["deny_categories"], where, (*path, "deny_categories"), CATEGORIES)


def _check_dataset_rules(value: Any, where: Located) -> None:
    """`datasets: {deny: [...], deny_categories: [...]}`: licenses no training data may have."""
    _check_mapping(value, where, ("datasets",), {"deny_categories", "deny"})
    if "deny" in value:
        _check_string_list(value["deny"], where, ("datasets", "deny"))
    if "deny_categories" in value:
        _check_string_list(
            value["deny_categories"], where, ("datasets", "deny_categories"), CATEGORIES
        )


def _check_defaults(value: Any, where: Located) -> None:
    """`defaults:` maps option names to values, or a command name to such a mapping; which
    names and values are valid is the command line's to say (scanner/cli/defaults.py)."""
    if not isinstance(value, dict):
        raise _fail(where, ("defaults",), "must map option names (or command names) to values")
    for key, item in value.items():
        if not isinstance(key, str):
            raise _fail(where, ("defaults", key), "option names are strings")
        if isinstance(item, dict):
            for option, setting in item.items():
                if not isinstance(option, str) or isinstance(setting, dict):
                    raise _fail(where, ("defaults", key, option), "must map option names to values")


def validate_policy_document(data: Any, where: Located) -> None:
    """Raise UsageError for the first unknown key or wrong type, with its location."""
    if data is None:
        return
    top = {
        "extends",
        "defaults",
        "fail_on",
        "context",
        "licenses",
        "dependencies",
        "publishers",
        "ai_services",
        "datasets",
        "rules",
        "waivers",
    }
    _check_mapping(data, where, (), top)
    if "datasets" in data:
        _check_dataset_rules(data["datasets"], where)
    if "defaults" in data:
        _check_defaults(data["defaults"], where)
    if "extends" in data and not isinstance(data["extends"], str):
        raise _fail(where, ("extends",), "must be a policy name or a path")
    if "fail_on" in data and data["fail_on"] not in SEVERITIES:
        raise _fail(where, ("fail_on",), f"must be one of {', '.join(SEVERITIES)}")
    if "context" in data:
        context = data["context"]
        _check_mapping(
            context, where, ("context",), {"commercial_use", "monthly_active_users", "uses"}
        )
        if "commercial_use" in context and not isinstance(context["commercial_use"], bool):
            raise _fail(where, ("context", "commercial_use"), "must be true or false")
        mau = context.get("monthly_active_users")
        if "monthly_active_users" in context and (
            not isinstance(mau, int) or isinstance(mau, bool) or mau < 0
        ):
            raise _fail(
                where, ("context", "monthly_active_users"), "must be a non-negative integer"
            )
        if "uses" in context:
            _check_string_list(context["uses"], where, ("context", "uses"))
            unknown = [use for use in context["uses"] if use not in USES]
            if unknown:
                raise _fail(
                    where,
                    ("context", "uses"),
                    f"unknown use {unknown[0]!r}; known uses: {', '.join(USES)}",
                )
    for section in ("licenses", "dependencies"):
        if section in data:
            _check_license_rules(data[section], where, (section,))
    if "publishers" in data:
        _check_mapping(data["publishers"], where, ("publishers",), {"allow", "deny"})
        for key, value in data["publishers"].items():
            _check_string_list(value, where, ("publishers", key))
    if "ai_services" in data:
        _check_mapping(data["ai_services"], where, ("ai_services",), {"allow", "deny"})
        for key, value in data["ai_services"].items():
            _check_string_list(value, where, ("ai_services", key))
    if "rules" in data:
        rules = data["rules"]
        if not isinstance(rules, dict):
            raise _fail(where, ("rules",), "must map rule ids to error, warning, note or off")
        for rule, level in rules.items():
            if rule not in RULES:
                raise _fail(where, ("rules", rule), f"unknown rule id {rule!r}")
            if level is not False and level not in (*SEVERITIES, "off"):  # YAML 1.1: bare off
                raise _fail(
                    where, ("rules", rule), f"{level!r} must be error, warning, note or off"
                )
    if "waivers" in data:
        waivers = data["waivers"]
        if not isinstance(waivers, list):
            raise _fail(where, ("waivers",), "must be a list")
        for index, waiver in enumerate(waivers):
            at = ("waivers", index)
            _check_mapping(
                waiver, where, at, {"rule", "component", "reason", "approved_by", "expires"}
            )
            for required in ("rule", "component", "reason"):
                if not isinstance(waiver.get(required), str) or not waiver[required].strip():
                    raise _fail(where, at, f"a waiver needs `{required}`")
            if waiver["rule"] not in RULES and not any(
                fnmatch.fnmatch(r, waiver["rule"]) for r in RULES
            ):
                raise _fail(where, (*at, "rule"), f"unknown rule id {waiver['rule']!r}")
            expires = waiver.get("expires")
            # YAML reads `2030-01-01 10:00:00` as a datetime, which is a date too but cannot be
            # compared with one: a waiver expires on a day.
            if expires is not None and (
                not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime)
            ):
                raise _fail(where, (*at, "expires"), "must be a date (YYYY-MM-DD), not a time")
            if "approved_by" in waiver and not isinstance(waiver["approved_by"], str):
                raise _fail(where, (*at, "approved_by"), "must be a string")


# --- reading --------------------------------------------------------------------------------


def _yaml_lines(node: Any, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    """Record the line of every key and list item of a composed YAML tree."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, key_node.value)
            _yaml_lines(value_node, key_path, lines)
            lines[key_path] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _yaml_lines(item, (*path, index), lines)


def _policy_text(path: Path) -> str:
    """A policy file's text, bounded: a `--policy /dev/zero` or a runaway file is an error
    naming it, never a scan that fills memory."""
    try:
        return read_whole(path, MAX_POLICY_BYTES).decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read policy {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read policy {path}: {exc}") from exc


def _read_yaml_policy(path: Path) -> dict[str, Any]:
    import yaml

    text = _policy_text(path)
    try:
        data, node = load_yaml(text)
    except YamlExpansionError as exc:
        raise UsageError(f"{path}: refused: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{path}{line}: invalid YAML: {problem}") from exc
    except RecursionError as exc:
        raise UsageError(f"{path}: invalid YAML: nested too deeply") from exc
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)

    def where(key_path: tuple[Any, ...]) -> str:
        for end in range(len(key_path), -1, -1):
            if key_path[:end] in lines:
                return f"{path}:{lines[key_path[:end]]}"
        return str(path)

    validate_policy_document(data, where)
    return data or {}


def _read_policy_file(path: Path) -> dict[str, Any]:
    """A policy file's document (`path` resolved); a shipped policy's from the parsed cache."""
    if path.parent == shipped_folder():
        return shipped_document(path, _read_yaml_policy)
    return _read_yaml_policy(path)


def _read_pyproject_policy(path: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    text = _policy_text(path)
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"invalid TOML: {exc}"
        # Its [tool.aiscan] may hold this run's waivers: judging without them would be wrong.
        raise UsageError(
            f"cannot read the policy in {path} ({reason}); fix it, or choose a policy with --policy"
        ) from exc
    data = document.get("tool", {}).get("aiscan")
    if data is None:
        return None

    def where(key_path: tuple[Any, ...]) -> str:
        dotted = ".".join(str(part) for part in key_path)
        return f"{path} [tool.aiscan]{' ' + dotted if dotted else ''}"

    validate_policy_document(data, where)
    return data


def _shipped_policy_path(name: str) -> Path | None:
    candidate = data_dir("rules") / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def _resolve_reference(reference: str, relative_to: Path | None) -> Path:
    shipped = _shipped_policy_path(reference)
    if shipped is not None and "/" not in reference and not reference.endswith((".yaml", ".yml")):
        return shipped
    path = Path(reference).expanduser()
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in data_dir("rules").glob("*.yaml")))
        raise UsageError(f"policy {reference!r} not found (a file path, or one of: {names})")
    return path


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Keys of `override` win; mappings merge key by key, lists are replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_chain(
    data: dict[str, Any], relative_to: Path | None, seen: tuple[Path, ...]
) -> dict[str, Any]:
    reference = data.get("extends")
    if reference is None:
        return data
    path = _resolve_reference(reference, relative_to).resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise UsageError(f"policy `extends` loops: {chain}")
    parent = _load_chain(_read_policy_file(path), path.parent, (*seen, path))
    child = {k: v for k, v in data.items() if k != "extends"}
    return _merge(parent, child)


def _canonical_licenses(values: list[str], kb: LicenseKnowledgeBase, where: str) -> tuple[str, ...]:
    keys = []
    for value in values:
        key = kb.identify_name(value)
        if key is None:
            raise UsageError(
                f"{where}: unknown license {value!r}; `aiscan licenses list` shows the known ones"
            )
        keys.append(key)
    return tuple(keys)


def _dataset_rules(datasets: dict[str, Any], source: str, kb: LicenseKnowledgeBase) -> LicenseRules:
    return LicenseRules(
        deny_categories=tuple(datasets.get("deny_categories") or ()),
        deny=_canonical_licenses(datasets.get("deny") or [], kb, f"{source}: datasets.deny"),
    )


def _build(data: dict[str, Any], source: str, kb: LicenseKnowledgeBase) -> Policy:
    licenses = data.get("licenses") or {}
    dependencies = data.get("dependencies") or {}
    context = data.get("context") or {}
    publishers = data.get("publishers") or {}
    return Policy(
        source=source,
        fail_on=data.get("fail_on", "error"),
        context=Context(
            commercial_use=context.get("commercial_use"),
            monthly_active_users=context.get("monthly_active_users"),
            uses=tuple(context.get("uses") or ()),
        ),
        licenses=LicenseRules(
            deny_categories=tuple(licenses.get("deny_categories") or ()),
            deny=_canonical_licenses(licenses.get("deny") or [], kb, f"{source}: licenses.deny"),
            allow=_canonical_licenses(licenses.get("allow") or [], kb, f"{source}: licenses.allow"),
        ),
        dependencies=LicenseRules(
            deny_categories=tuple(dependencies.get("deny_categories") or ()),
            deny=tuple(dependencies.get("deny") or ()),
            allow=tuple(dependencies.get("allow") or ()),
        ),
        publishers=PublisherRules(
            allow=tuple(publishers.get("allow") or ()), deny=tuple(publishers.get("deny") or ())
        ),
        ai_services=ServiceRules(
            allow=tuple((data.get("ai_services") or {}).get("allow") or ()),
            deny=tuple((data.get("ai_services") or {}).get("deny") or ()),
        ),
        datasets=_dataset_rules(data.get("datasets") or {}, source, kb),
        # YAML 1.1 reads a bare `off` as false; the validator accepted it as such.
        rules={
            rule: "off" if level is False else level
            for rule, level in (data.get("rules") or {}).items()
        },
        waivers=tuple(
            Waiver(
                rule=w["rule"],
                component=w["component"],
                reason=w["reason"].strip(),
                approved_by=w.get("approved_by"),
                expires=w.get("expires"),
            )
            for w in data.get("waivers") or ()
        ),
    )


def load_policy(reference: str, kb: LicenseKnowledgeBase) -> Policy:
    """Load a shipped policy by name (`default`, `strict`) or a policy file by path."""
    path = _resolve_reference(reference, None).resolve()
    data = _load_chain(_read_policy_file(path), path.parent, (path,))
    shipped = _shipped_policy_path(reference)
    return _build(data, reference if shipped and shipped.resolve() == path else str(path), kb)


def _is_file(path: Path) -> bool:
    """Like Path.is_file, but an unreadable folder means "no file here" rather than a crash;
    the scan itself reports the unreadable target."""
    try:
        return path.is_file()
    except OSError:
        return False


def policy_folders(start: Path) -> list[Path]:
    """Where a run's policy may live: the working directory, then the root of the git
    repository holding it. Never a scanned target: a model folder, store or cache is a
    stranger's files and must not be able to switch rules off for itself."""
    folders = [start]
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            if folder != start:
                folders.append(folder)
            break
    return folders


def find_local_policy(start: Path) -> tuple[str, dict[str, Any], Path] | None:
    """The first `aiscan.yaml`, `.aiscan.yaml` or `[tool.aiscan]` in `policy_folders(start)`."""
    for folder in policy_folders(start):
        for name in LOCAL_POLICY_FILES:
            candidate = folder / name
            if _is_file(candidate):
                return str(candidate), _read_yaml_policy(candidate), folder
        pyproject = folder / "pyproject.toml"
        if _is_file(pyproject):
            data = _read_pyproject_policy(pyproject)
            if data is not None:
                return f"{pyproject} [tool.aiscan]", data, folder
    return None


def resolve_policy(
    explicit: str | None, kb: LicenseKnowledgeBase, working_directory: Path | None = None
) -> Policy:
    """Pick the policy for a run: `--policy`, else the one where aiscan runs (working
    directory, then repository root), else the shipped default."""
    if explicit is not None:
        return load_policy(explicit, kb)
    return chosen_policy(None, kb, find_local_policy(working_directory or Path.cwd()))


def chosen_policy(
    explicit: str | None,
    kb: LicenseKnowledgeBase,
    local: tuple[str, dict[str, Any], Path] | None,
) -> Policy:
    """`resolve_policy` with the local policy already looked for (`find_local_policy`): the
    command line reads it once for its option defaults and its policy."""
    if explicit is not None:
        return load_policy(explicit, kb)
    if local is None:
        return load_policy(DEFAULT_POLICY, kb)
    source, data, folder = local
    return _build(_load_chain(data, folder, ()), source, kb)
