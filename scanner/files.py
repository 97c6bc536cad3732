"""Files in and out: a scanned tree read safely (regular files only, bounded, never through a
link out of it), JSON files the user names, YAML parsed with bounded alias expansion, names
checked for control characters, and outputs written atomically.

aiscan reads what strangers publish, so the tree is hostile input. A link named `NOTICE` that
points at `/proc/self/environ` would put the environment (tokens included) into a report, a
link to `/` would walk the whole file system, a FIFO named `README.md` would block the scan for
good and `/dev/zero` named `requirements.txt` would fill memory. Every source and reader of a
target goes through this module, so those rules live in one place.

The one link that normally leaves a folder is a Hugging Face cache snapshot's link into its own
repo's `blobs/` folder (or the cache's shared one); it is followed even when the snapshot alone
is the target.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.errors import UsageError
from scanner.inventory import Problem

if TYPE_CHECKING:
    import pathspec


@dataclass(frozen=True)
class Excludes:
    """What `--exclude` leaves out of one target: patterns with .gitignore's meaning (`vendor/`
    a folder at any depth, `*.bin` a file name anywhere, `/drafts` only at the top, `a/**/b`
    any depth between, `!keep.bin` back in), matched against paths relative to the target as
    the user named it, so a folder reached through a link inside the target is excluded by the
    name it has there.

    pathspec implements git's own matching rules; hand-written globbing would differ from
    .gitignore in the corners users copy patterns from.
    """

    patterns: tuple[str, ...] = ()
    base: Path | None = None
    _spec: pathspec.GitIgnoreSpec | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.patterns and self._spec is None:
            import pathspec

            try:
                spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)
            except ValueError as exc:  # pathspec's GitWildMatchPatternError
                raise UsageError(f"--exclude: {exc}") from exc
            object.__setattr__(self, "_spec", spec)

    def below(self, target: Path) -> Excludes:
        """These patterns for one target: paths are matched relative to it."""
        return Excludes(self.patterns, target, self._spec)

    def skips(self, path: Path, *, folder: bool) -> bool:
        """Whether `path` (below the target; a folder with `folder=True`) is left out."""
        if self._spec is None or self.base is None:
            return False
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        if relative == ".":
            return False
        return self._spec.match_file(f"{relative}/" if folder else relative)


NO_EXCLUDES = Excludes()
"""A run without `--exclude`: every path is read."""


class NotRegularFile(OSError):
    """A path that is a FIFO, device, socket or directory where a file's bytes were wanted."""


class FileTooLarge(OSError):
    """A file over the size a reader of its kind accepts: read whole, it could fill memory."""


def is_within(path: str, root: str) -> bool:
    """Whether the absolute `path` is `root` or lies below it (both already resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_BLOB_NAME = re.compile(r"[0-9a-f]{40,64}")


def _hf_blob_link(path: Path, real: str) -> bool:
    """An HF cache snapshot file (`<repo>/snapshots/<rev>/...`) linked into its repo's `blobs/`
    (or, for Xet-deduplicated files, the cache's shared `blobs/` beside the repo), to a blob
    named by its hex digest: nothing else outside the target passes as a blob."""
    if not _BLOB_NAME.fullmatch(Path(real).name):
        return False
    for ancestor in path.parents:
        if ancestor.name == "snapshots":
            repo = ancestor.parent
            stores = (repo / "blobs", repo.parent / "blobs")
            return any(is_within(real, os.path.realpath(store)) for store in stores)
    return False


def link_outside(path: Path, root: str) -> str | None:
    """Where `path` really leads when a symbolic link takes it out of `root`, else None.

    `root` is the resolved scan target. Paths that are not links, and links that stay inside
    the target, give None; so does a dangling link inside the tree (reading it fails later).
    """
    if not path.is_symlink():
        return None
    real = os.path.realpath(path)
    if is_within(real, root) or _hf_blob_link(path, real):
        return None
    return real


def outside_link_message(destination: str) -> str:
    """The one wording for a link that leaves the target, shown in findings."""
    return (
        f"symbolic link to {destination}, outside the scanned target; not followed "
        "(scan that path directly to include it)"
    )


def read_whole(path: Path | str, limit: int) -> bytes:
    """All of a regular file of at most `limit` bytes; `FileTooLarge` past it, so a reader
    never parses a truncated document as if it were whole."""
    data = read_bounded(path, limit + 1)
    if len(data) > limit:
        raise FileTooLarge(0, f"over the {limit:,}-byte limit for this kind of file", str(path))
    return data


def outside_problem(path: Path, root: str, where: str | None = None) -> Problem | None:
    """The `link-outside-target` problem for `path`, or None when it may be read.

    Also catches a path that leaves `root` without a link (a `-r ../../etc/passwd` include):
    what lies outside the target is never read, however it is named.
    """
    destination = link_outside(path, root)
    if destination is None:
        real = os.path.realpath(path)
        if is_within(real, root):
            return None
        return Problem(
            where or str(path),
            f"{real} is outside the scanned target; not read",
            "link-outside-target",
        )
    return Problem(where or str(path), outside_link_message(destination), "link-outside-target")


def open_regular(path: Path | str) -> io.FileIO:
    """Open a regular file for reading; a FIFO, a device or a socket raises `NotRegularFile`.

    The file is opened non-blocking and checked with fstat before a byte is read, so a FIFO
    named like a weights file cannot block the scan (a plain `open()` waits for a writer) and a
    device cannot stream forever. For readers that seek through a file (a GGUF header) instead
    of reading its start.
    """
    before = Path(path).stat()
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFile(0, not_regular_description(before.st_mode), str(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise NotRegularFile(0, not_regular_description(opened.st_mode), str(path))
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path | str, limit: int) -> bytes:
    """At most `limit` bytes from the start of a regular file (opened by `open_regular`, so a
    FIFO, a device or a socket raises `NotRegularFile` at once)."""
    with open_regular(path) as handle:
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = handle.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


MAX_JSON_BYTES = 512 * 1024 * 1024
"""Reports, BOMs, baselines and lock files of real stores stay far below this; `/dev/zero` or a
runaway file named as one must not fill memory."""


def load_json_file(path: Path, what: str, error: type[UsageError] = UsageError) -> Any:
    """Parse a JSON file the user named (report, baseline, lock file, BOM); an unreadable,
    oversized or invalid one is `error` naming `what` it should be, worded alike for every
    command."""
    try:
        data = read_whole(path, MAX_JSON_BYTES)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{what} {path} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # The parser recurses once per level of nesting; no real document nests this deep.
        raise error(f"{what} {path} is nested too deeply to read") from exc


MAX_YAML_ALIAS_NODES = 100_000
"""How many nodes aliases may add to a YAML document. Real cards and policies use few aliases or
none; a billion-laughs document of a few hundred bytes expands to billions of nodes, which
anything walking the data (`str()` of a list, merge keys, the policy's line finder) would build,
filling gigabytes."""


class YamlExpansionError(ValueError):
    """A YAML document whose aliases expand it past `MAX_YAML_ALIAS_NODES`, or refer to a node
    they are part of (a recursive structure no card or policy needs)."""


def load_yaml(text: str) -> tuple[Any, Any]:
    """The data of a one-document YAML text (PyYAML's safe loader, so safe tags only) and its
    composed node tree (None for an empty document).

    The node tree is checked before anything is built from it: `YamlExpansionError` when aliases
    would expand it too far. Composing is linear in the text (an alias is a reference to a node
    already composed), so the check bounds all the work. Other problems raise `yaml.YAMLError`,
    a value its tag cannot be built from too (`date: 2020-13-45`, `!!float nope`); nesting too
    deep for PyYAML's recursive composer raises `RecursionError`.
    """
    loader = _safe_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_alias_expansion(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


@functools.cache
def _safe_loader() -> type:
    """PyYAML's safe loader, with a value its constructor fails on reported as a YAML error at
    that value: the constructors let whatever Python raised escape (ValueError for a month 13,
    AttributeError for an empty `!!timestamp`, IndexError for an empty `!!float`)."""
    import yaml

    class SafeLoader(yaml.SafeLoader):
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (
                ValueError,
                TypeError,
                AttributeError,
                IndexError,
                KeyError,
                OverflowError,
            ) as exc:
                value = f" {node.value[:40]!r}" if isinstance(node.value, str) else ""
                kind = node.tag.rsplit(":", 1)[-1]
                # A ValueError says what is wrong (month must be in 1..12); the others are
                # PyYAML's internals.
                why = f" ({exc})" if isinstance(exc, ValueError) else ""
                raise yaml.constructor.ConstructorError(
                    None, None, f"cannot read{value} as {kind}{why}", node.start_mark
                ) from exc

    return SafeLoader


def _check_alias_expansion(root: Any) -> None:
    """Count the nodes of `root` with every alias expanded, without expanding anything: each
    distinct node is visited once and a shared one counts the size of its subtree each time it
    is used. Iterative, so a deep document cannot exhaust the stack here."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    # Sizes stop growing here: far above any limit, and cheap to add however deep the sharing.
    ceiling = 10**15
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            in_progress.discard(key)
            sizes[key] = min(ceiling, 1 + sum(sizes[id(child)] for child in children(node)))
        elif key in in_progress:
            # Only descendants of a node in progress are popped before it finishes.
            raise YamlExpansionError("an alias refers to a node that contains it")
        elif key not in sizes:
            in_progress.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children(node))
    added = sizes[id(root)] - len(sizes)
    if added > MAX_YAML_ALIAS_NODES:
        raise YamlExpansionError(
            f"aliases expand it by more than {MAX_YAML_ALIAS_NODES:,} nodes "
            f"(to {'over ' if sizes[id(root)] >= ceiling else ''}{sizes[id(root)]:,})"
        )


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with every lone surrogate (from a hostile card, a code string or a file name that
    is not UTF-8) shown as U+FFFD, so any document can be printed and written."""
    return _LONE_SURROGATE.sub("\ufffd", text)


_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` safe to show on a terminal: control characters (ESC starting an OSC 0 window
    title, an OSC 8 link or `ESC[2J`, BEL, C1 codes) are shown escaped as `\\x1b` and the like,
    so a name from a card, a config or a file system cannot drive the user's terminal."""
    return _TERMINAL_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", valid_unicode(text))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first control character (C0, DEL or C1) of `text` as `U+XXXX`, or None.

    Names from a stranger (a card's `base_model`, a dataset) never hold one; a NUL or a newline
    in a name is a trick or damage, and would reach file system calls, lookups and line-based
    outputs (SPDX tag-value) if used as one.
    """
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def one_line(text: str) -> str:
    """`text` with every control character shown as U+FFFD, for a field of a line-based format
    where a newline would start a forged field of its own."""
    return _CONTROL.sub("\ufffd", text)


def shown_name(name: str) -> str:
    """A name for a message: as it is, or quoted with its control characters escaped, so a
    newline in a hostile name cannot break the line of a table, a Markdown row or a log."""
    return name if control_character(name) is None else repr(name)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename, so a full disk
    or an interrupted run leaves the previous report, lock file or BOM whole instead of a
    truncated one.

    A link is written through to its file. A target that exists and is not a regular file
    (`-o /dev/stdout`, `/dev/null`, a FIFO) is written to directly: renaming over it would
    replace a device node with a file.
    """
    data = valid_unicode(text).encode("utf-8")
    target = Path(os.path.realpath(path))
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with target.open("wb") as handle:
            handle.write(data)
        return
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if existing is not None:
            shutil.copymode(target, temporary)
        else:
            Path(temporary).chmod(0o666 & ~_umask())
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_output(path: Path, text: str) -> None:
    """Write a report, lock file, BOM or bundle file the user asked for, atomically. A place
    that cannot be written is one line and exit 2."""
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def not_regular_description(mode: int) -> str:
    """Say what a non-regular file is, for a problem or an error line."""
    if stat.S_ISFIFO(mode):
        kind = "a FIFO"
    elif stat.S_ISDIR(mode):
        kind = "a directory"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "an unknown kind of file"
    return f"not a regular file ({kind})"
