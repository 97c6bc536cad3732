"""Finds the models a project's code loads: an AST scan of `.py` files and notebook code cells.

Models that code loads but no inventory declares are "shadow AI". Each call that loads a model
(`from_pretrained`, `pipeline(model=…)`, `hf_hub_download`, `snapshot_download`,
`SentenceTransformer(…)`, `vllm.LLM(model=…)`, `timm.create_model("hf-hub:…")`, open_clip hub
names) becomes one `CodeReference` with the options that decide its risk. A model argument that
is a string constant, a name bound to one in the same module, or a parameter default is
resolved; anything else is kept as an unresolved reference with its source text, never dropped.
Nothing is imported or executed.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import describe_os_error
from scanner.files import NO_EXCLUDES, Excludes, outside_problem, read_whole
from scanner.inventory import CodeReference, Problem, Service
from scanner.readers.model_apis import API_TRIGGERS, ApiCallScan, OpenWeightUse
from scanner.readers.project_files import source_files

MAX_SOURCE_BYTES = 8 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
"""Notebooks are read whole and parsed as JSON, which holds the bytes, their text and the parsed
document at once; real notebooks, images included, are a few MiB."""
MAX_SOURCE_TOKENS = 300_000
"""Tokens of code parsed per file (a notebook's code cells together). A syntax tree costs up to
~800 bytes a token, so the byte limit alone lets dense code take gigabytes (8 MiB of `x=1`
lines: 4.7 GB and 40 s); at this bound the worst is ~250 MB and 1.5 s. The largest real modules
have ~150,000."""
MAX_NOTEBOOK_VALUES = 2_000_000
"""JSON values (objects, arrays, strings, numbers) a notebook may hold, counted before it is
parsed. Each costs 50-70 bytes parsed, so 40 MB of `{}` took 1.9 GB; real notebooks hold
thousands (a long training log, tens of thousands; images are one string each)."""

_TRIGGERS = (
    b"from_pretrained",
    b"pipeline",
    b"hf_hub_download",
    b"snapshot_download",
    b"SentenceTransformer",
    b"CrossEncoder",
    b"LLM",
    b"create_model",
    b"get_tokenizer",
    *API_TRIGGERS,
)
"""A file containing none of these bytes cannot load a model the ways we look for: not parsed."""

_HUB_PREFIXES = ("hf-hub:", "hf_hub:")


@dataclass(frozen=True)
class FoundReference:
    """A model (or dataset) reference and where it is."""

    name: str
    type: str
    reference: CodeReference


@dataclass(frozen=True)
class _Loader:
    """How one loading call names its model: keyword and position of the model argument."""

    keyword: str | None
    position: int | None
    hub_prefix_only: bool = False


_LOADERS = {
    "pipeline": _Loader("model", 1),
    "hf_hub_download": _Loader("repo_id", 0),
    "snapshot_download": _Loader("repo_id", 0),
    "SentenceTransformer": _Loader("model_name_or_path", 0),
    "CrossEncoder": _Loader("model_name_or_path", 0),
    "LLM": _Loader("model", 0),
    "create_model": _Loader("model_name", 0, hub_prefix_only=True),
    "create_model_and_transforms": _Loader("model_name", 0, hub_prefix_only=True),
    "create_model_from_pretrained": _Loader("model_name", 0, hub_prefix_only=True),
    "get_tokenizer": _Loader("model_name", 0, hub_prefix_only=True),
}
_LOADER_MODULES = {
    "pipeline": ("transformers", "diffusers"),
    "hf_hub_download": ("huggingface_hub",),
    "snapshot_download": ("huggingface_hub",),
    "SentenceTransformer": ("sentence_transformers",),
    "CrossEncoder": ("sentence_transformers",),
    "LLM": ("vllm",),
    "create_model": ("timm", "open_clip"),
    "create_model_and_transforms": ("open_clip",),
    "create_model_from_pretrained": ("open_clip",),
    "get_tokenizer": ("open_clip",),
}


def _literal(node: ast.AST | None) -> object:
    """The value of a constant node, or a sentinel when it is not a constant."""
    if isinstance(node, ast.Constant):
        return node.value
    return _DYNAMIC


_DYNAMIC = object()


class _ModuleScan:
    """Imports and string bindings of a module (all code cells of a notebook count as one)."""

    def __init__(self, trees: list[ast.Module]) -> None:
        self.imported: dict[str, str] = {}
        """Local name → dotted origin (`pipeline` → `transformers.pipeline`)."""
        self.strings: dict[str, set[str]] = {}
        self.bound_otherwise: set[str] = set()
        self.bound_calls: list[tuple[list[ast.expr], ast.expr]] = []
        """Assignment targets and the call they are bound to (`client = OpenAI()`, also in
        `with … as`), for the model-API scan to know its clients without walking again."""
        self.calls: list[list[ast.Call]] = []
        """Every call of each tree, in walk order: judged once the whole module's bindings are
        known, without walking the trees a second time."""
        for tree in trees:
            calls: list[ast.Call] = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    calls.append(node)
                else:
                    self._collect(node)
            self.calls.append(calls)

    def _collect(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.imported[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                self.imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self._bind(target.id, node.value)
            if isinstance(node.value, ast.Call | ast.Await):
                self.bound_calls.append((list(targets), node.value))
        elif isinstance(node, ast.With | ast.AsyncWith):
            self.bound_calls.extend(
                ([item.optional_vars], item.context_expr)
                for item in node.items
                if item.optional_vars is not None
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg, default in zip(
                positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
            ):
                self._bind(arg.arg, default)
            for keyword, keyword_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                self._bind(keyword.arg, keyword_default)

    def _bind(self, name: str, value: ast.AST | None) -> None:
        literal = _literal(value)
        if isinstance(literal, str):
            self.strings.setdefault(name, set()).add(literal)
        else:
            self.bound_otherwise.add(name)

    def resolve(self, node: ast.AST | None) -> str | None:
        """The string a model argument stands for, when the module makes it certain."""
        literal = _literal(node)
        if isinstance(literal, str):
            return literal
        if isinstance(node, ast.Name):
            values = self.strings.get(node.id, set())
            if len(values) == 1 and node.id not in self.bound_otherwise:
                return next(iter(values))
        return None

    def origin(self, func: ast.AST) -> tuple[str, str]:
        """(callable name, dotted origin as far as imports tell) of a call's function."""
        if isinstance(func, ast.Name):
            return func.id, self.imported.get(func.id, func.id)
        if isinstance(func, ast.Attribute):
            parts = [func.attr]
            value = func.value
            while isinstance(value, ast.Attribute):
                parts.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name):
                parts.append(self.imported.get(value.id, value.id))
            return func.attr, ".".join(reversed(parts))
        return "", ""


def _argument(call: ast.Call, keyword: str | None, position: int | None) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is not None and position < len(call.args):
        node = call.args[position]
        return None if isinstance(node, ast.Starred) else node
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _loader(name: str, origin: str) -> _Loader | None:
    """How the call `origin` names its model, or None when it does not load one."""
    if name == "from_pretrained":
        receiver = origin.split(".")[-2] if "." in origin else ""
        # PeftModel.from_pretrained(base_model, model_id): the adapter is the second argument.
        if receiver.startswith("Peft"):
            return _Loader("model_id", 1)
        return _Loader("pretrained_model_name_or_path", 0)
    if name not in _LOADERS:
        return None
    if origin.split(".")[0] in _LOADER_MODULES[name]:
        return _LOADERS[name]
    # Unimported bare names count (a notebook may import elsewhere), except the generic `LLM`.
    return _LOADERS[name] if origin == name and name != "LLM" else None


def _references(
    cells: list[tuple[ast.Module, int | None]], file: str
) -> Iterator[FoundReference | Service]:
    scan = _ModuleScan([tree for tree, _ in cells])
    apis = ApiCallScan(scan, file)
    for (_, cell), calls in zip(cells, scan.calls, strict=True):
        for node in calls:
            uses = apis.uses(node, cell)
            if uses is not None:
                yield from (_open_weight(use, file, cell) for use in uses)
                continue
            name, origin = scan.origin(node.func)
            loader = _loader(name, origin)
            if loader is None:
                continue
            found = _reference(scan, node, name, origin, loader, file, cell)
            if found is not None:
                yield found


def _open_weight(
    use: Service | OpenWeightUse, file: str, cell: int | None
) -> Service | FoundReference:
    """A model API's open-weight model as a reference like a loader's (services pass through)."""
    if isinstance(use, Service):
        return use
    reference = CodeReference(
        file=file,
        line=use.line,
        call=use.call,
        cell=cell,
        resolved=use.name is not None,
        expression=use.expression if use.name is None else None,
        registry=use.registry,
        loads_weights=False,
    )
    return FoundReference(use.name or use.expression or "", "model", reference)


def _reference(
    scan: _ModuleScan,
    call: ast.Call,
    name: str,
    origin: str,
    loader: _Loader,
    file: str,
    cell: int | None,
) -> FoundReference | None:
    argument = _argument(call, loader.keyword, loader.position)
    expression = ""
    if loader.hub_prefix_only and name != "get_tokenizer":
        pretrained = _keyword(call, "pretrained")
        value = scan.resolve(argument) if argument is not None else None
        if value is None or not value.startswith(_HUB_PREFIXES):
            value = scan.resolve(pretrained) if pretrained is not None else None
            if value is None or not value.startswith(_HUB_PREFIXES):
                return None
        model: str | None = value.split(":", 1)[1]
    elif loader.hub_prefix_only:
        value = scan.resolve(argument) if argument is not None else None
        if value is None or not value.startswith(_HUB_PREFIXES):
            return None
        model = value.split(":", 1)[1]
    elif argument is None:
        if name != "pipeline":
            return None
        task = scan.resolve(call.args[0]) if call.args else scan.resolve(_keyword(call, "task"))
        model = None
        expression = f"default model of pipeline task {task or '?'}"
    else:
        model = scan.resolve(argument)
        expression = _shown(argument)
    revision_node = _keyword(call, "revision")
    revision = scan.resolve(revision_node) if revision_node is not None else None
    kind = "model"
    repo_type = _literal(_keyword(call, "repo_type"))
    if repo_type in ("dataset", "space"):
        kind = str(repo_type)
    trust = _literal(_keyword(call, "trust_remote_code"))
    safetensors = _literal(_keyword(call, "use_safetensors"))
    reference = CodeReference(
        file=file,
        line=call.lineno,
        call=origin or name,
        cell=cell,
        resolved=model is not None,
        expression=None if model is not None else expression,
        revision=revision,
        revision_literal=revision_node is None or revision is not None,
        trust_remote_code=trust if isinstance(trust, bool) else None,
        use_safetensors=safetensors if isinstance(safetensors, bool) else None,
    )
    return FoundReference(model if model is not None else expression, kind, reference)


_TOKEN = re.compile(r"\w+|[^\w\s]")
"""What costs a syntax-tree node, roughly: a name, number or keyword, or one punctuation mark.
Words inside string literals count too, so the estimate errs on the large side."""


def _token_count(source: str) -> int:
    """An upper estimate of the tokens of `source`, at the regex engine's speed."""
    return _TOKEN.subn("", source)[1]


def _json_values(data: bytes) -> int:
    """At most how many values a JSON document holds: every value but the first of an array or
    object follows a comma. Commas and brackets inside strings count too (erring on the large
    side); telling them apart would take a scan that itself costs memory per string."""
    return data.count(b",") + data.count(b"[") + data.count(b"{") + 1


def _shown(node: ast.AST) -> str:
    """An argument's source text for the report; `ast.unparse` recurses once per level, so a
    900-term concatenation is elided rather than crashing the scan."""
    try:
        return ast.unparse(node)[:200]
    except RecursionError:
        return "(an expression nested too deeply to show)"


def _decode(data: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding cookie (UTF-8 otherwise)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def _parse(source: str, where: str) -> ast.Module | Problem:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        return Problem(
            f"{where}:{exc.lineno or 0}",
            f"not valid Python 3 ({exc.msg}); not scanned for model references",
        )
    except (RecursionError, MemoryError):
        # CPython's parser raises MemoryError, not RecursionError, when its own stack overflows.
        return Problem(where, "nested too deeply to parse; not scanned for model references")
    except ValueError as exc:
        return Problem(where, f"cannot parse: {exc}; not scanned for model references")


def _too_many_tokens(sources: list[str], where: str) -> Problem | None:
    tokens = sum(_token_count(source) for source in sources)
    if tokens <= MAX_SOURCE_TOKENS:
        return None
    return Problem(
        where,
        f"about {tokens:,} tokens of code, over the {MAX_SOURCE_TOKENS:,} parsed per file; "
        "not scanned for model references",
    )


def _notebook_cells(data: bytes, where: str) -> list[tuple[int, str]] | Problem:
    """The code cells of a notebook (cell number, source with magics blanked), or the problem
    that keeps it from being read."""
    values = _json_values(data)
    if values > MAX_NOTEBOOK_VALUES:
        return Problem(
            where,
            f"up to {values:,} JSON values (commas and brackets), over the "
            f"{MAX_NOTEBOOK_VALUES:,} read per notebook; not scanned",
        )
    try:
        notebook = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return Problem(where, f"not a valid notebook: {exc}")
    except RecursionError:
        return Problem(where, "not a valid notebook: nested too deeply")
    if not isinstance(notebook, dict):
        return Problem(where, f"not a valid notebook: {_json_type(notebook)}, not an object")
    cells = notebook.get("cells", [])
    if not isinstance(cells, list):
        return Problem(where, f"not a valid notebook: `cells` is {_json_type(cells)}")
    found = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            return Problem(where, f"not a valid notebook: cell {index} is {_json_type(cell)}")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            text = "".join(source)
        elif isinstance(source, str):
            text = source
        else:
            return Problem(
                where, f"not a valid notebook: cell {index} source is not text or a list of lines"
            )
        # IPython magics and shell escapes are not Python: blank them, keeping line numbers.
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in text.split("\n")]
        found.append((index, "\n".join(lines)))
    return found


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, with its article, for messages."""
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    return names.get(type(value), "a number")


def scan_file(path: Path, display: str) -> Iterator[FoundReference | Service | Problem]:
    """The model references in one `.py` or `.ipynb` file, and any problem reading it. A file
    over a bound (bytes, JSON values, tokens of code) is one problem and nothing else: it is
    never reported as holding no references."""
    notebook = path.suffix == ".ipynb"
    limit = MAX_NOTEBOOK_BYTES if notebook else MAX_SOURCE_BYTES
    try:
        data = read_whole(path, limit)
    except OSError as exc:
        yield Problem(display, f"cannot read: {describe_os_error(exc)}; not scanned")
        return
    if not any(trigger in data for trigger in _TRIGGERS):
        return
    if notebook:
        sources = _notebook_cells(data, display)
        if isinstance(sources, Problem):
            yield sources
            return
    else:
        try:
            sources = [(0, _decode(data))]
        except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
            yield Problem(display, f"not decodable as Python source ({exc}); not scanned")
            return
    too_large = _too_many_tokens([source for _, source in sources], display)
    if too_large is not None:
        yield too_large
        return
    cells: list[tuple[ast.Module, int | None]] = []
    for index, source in sources:
        tree = _parse(source, f"{display} cell {index}" if notebook else display)
        if isinstance(tree, Problem):
            yield tree
        else:
            cells.append((tree, index if notebook else None))
    yield from _references(cells, display)


def scan_tree(
    root: Path, exclude: Excludes = NO_EXCLUDES
) -> Iterator[tuple[str, FoundReference | Service | Problem]]:
    """Every reference and problem below root, with the file's path relative to root; a source
    file linked out of the tree is a problem, never read."""
    real_root = os.path.realpath(root)
    for path in source_files(root, exclude):
        display = path.relative_to(root).as_posix()
        outside = outside_problem(path, real_root, display)
        items = (outside,) if outside is not None else scan_file(path, display)
        for item in items:
            yield display, item
