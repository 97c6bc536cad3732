"""License expressions over knowledge-base keys (`apache-2.0 AND llama3`, `mit OR apache-2.0`).

license-expression does the parsing; this module maps each symbol, whatever name it was written
under, to a knowledge-base key and ranks expressions by restrictiveness.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache

from scanner.licensing.knowledge_base import CATEGORIES, LicenseKnowledgeBase
from scanner.licensing.names import looks_like_url


@cache
def _licensing():
    from license_expression import Licensing

    return Licensing()


@dataclass(frozen=True)
class ResolvedExpression:
    """A declared license value mapped onto the knowledge base.

    `note` says what else the value showed: a card's `license_link` that names another license
    than its `license_name`, or the link that named the license when the name did not.
    """

    written: str
    expression: str | None
    keys: tuple[str, ...]
    unresolved: tuple[str, ...]
    note: str | None = None


_NAMED_LINK = re.compile(r"(?s)(.*\S)\s+<(\S+)>")


def name_with_link(name: str, link: str | None) -> str:
    """One declared value for a card's `license_name` and `license_link`: `name <link>`.

    The link travels with the name so that licensing can try it when the name is unknown and say
    so when the two disagree. A relative link (`LICENSE`) points at a file of the repository,
    which is read as a license text in its own right, so only an absolute link is kept.
    """
    if link and looks_like_url(link) and not _NAMED_LINK.fullmatch(name):
        return f"{name} <{link.strip()}>"
    return name


def resolve_declared(value: str, kb: LicenseKnowledgeBase) -> ResolvedExpression:
    """Map a declared license (id, name, URL or expression) to knowledge-base keys.

    A whole-string match comes first so names containing 'and'/'or' words or URLs are not split.
    A `name <link>` value (`name_with_link`) is resolved by its name, else by its link.
    """
    named = _NAMED_LINK.fullmatch(value)
    if named is not None and looks_like_url(named.group(2)):
        return _resolve_named_link(value, named.group(1), named.group(2), kb)
    whole = kb.identify_name(value)
    if whole is not None:
        return ResolvedExpression(value, whole, (whole,), ())
    from license_expression import ExpressionError, LicenseSymbol

    licensing = _licensing()
    try:
        parsed = licensing.parse(value, validate=False)
    except (ExpressionError, TypeError, ValueError):
        return ResolvedExpression(value, None, (), (value,))
    if parsed is None:
        return ResolvedExpression(value, None, (), (value,))
    mapping = {}
    keys: list[str] = []
    unresolved: list[str] = []
    for symbol in licensing.license_symbols(parsed, unique=True):
        key = kb.identify_name(symbol.key)
        if key is None:
            unresolved.append(symbol.key)
            continue
        mapping[symbol] = LicenseSymbol(key)
        if key not in keys:
            keys.append(key)
    if unresolved:
        return ResolvedExpression(value, None, tuple(keys), tuple(unresolved))
    return ResolvedExpression(value, str(parsed.subs(mapping)), tuple(keys), ())


def _resolve_named_link(
    value: str, name: str, link: str, kb: LicenseKnowledgeBase
) -> ResolvedExpression:
    by_name = resolve_declared(name, kb)
    linked = kb.identify_name(link)
    if by_name.expression is not None:
        note = None
        if linked is not None and linked not in by_name.keys:
            note = (
                f"license_link {link} is {linked}, not {by_name.expression} as license_name "
                f"{name!r} says; the name is taken"
            )
        return dataclasses.replace(by_name, written=value, note=note)
    if linked is not None:
        note = f"license_name {name!r} is not a known license; license_link {link} is {linked}"
        return ResolvedExpression(value, linked, (linked,), (), note)
    return ResolvedExpression(value, None, by_name.keys, (value,))


_ONE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
_OPERATORS = frozenset({"and", "or", "with"})


def _one_key(expression: str) -> bool:
    """Whether the expression is a single key, as most are: it is then its own only symbol,
    and the parser (4 ms to import) is not needed to say so."""
    return bool(_ONE_KEY.fullmatch(expression)) and expression.lower() not in _OPERATORS


def expression_keys(expression: str | None) -> tuple[str, ...]:
    """The distinct license keys in an expression, in order of appearance."""
    if not expression:
        return ()
    if _one_key(expression):
        return (expression,)
    licensing = _licensing()
    return tuple(
        s.key for s in licensing.license_symbols(licensing.parse(expression, validate=False))
    )


def conjoin(expressions: list[str]) -> str | None:
    """AND together expressions, dropping repeats; None when there is nothing to join."""
    parts: list[str] = []
    for expression in expressions:
        if expression and expression not in parts:
            parts.append(expression)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" if " OR " in p else p for p in parts)


def category_rank(category: str) -> int:
    """Restrictiveness of a category: higher is more restrictive; unknown ranks highest."""
    return CATEGORIES.index(category) if category != "unknown" else len(CATEGORIES)


def expression_category(expression: str | None, kb: LicenseKnowledgeBase) -> str:
    """The category of an expression: AND takes the most, OR the least restrictive term."""
    if not expression:
        return "unknown"
    if _one_key(expression):
        entry = kb.entries.get(expression)
        return entry.category if entry else "unknown"
    licensing = _licensing()

    def walk(node) -> str:
        if isinstance(node, licensing.AND | licensing.OR):
            categories = [walk(arg) for arg in node.args]
            pick = max if isinstance(node, licensing.AND) else min
            return pick(categories, key=category_rank)
        entry = kb.entries.get(node.key)
        return entry.category if entry else "unknown"

    return walk(licensing.parse(expression, validate=False))
