"""How license names and links are compared: the rules in code, the names themselves in
`licenses/*.yaml`.

People write one license many ways: `llama-3`, `Llama 3`, `LLaMA3 License`; `Apache2.0`,
`apache 2`; `cc-by-nc-4`. `loose_name` folds those spellings into one form. It never drops a
word that tells two licenses apart (`community`, `non-commercial`, a version other than `.0`
and `or later` stay), so a name only matches a license whose own name folds the same way.

A link names a license by where its text lives. `canonical_url` folds the forms one document
is linked under: scheme, host case and `www.`, a Hub file's `blob`, `raw` and `resolve` views
(`?download=true`), GitHub's `blob` and `raw` views and raw.githubusercontent.com, the default
branch spelled `main`, `master` or `refs/heads/main`, percent-encoding and unencoded spaces,
trailing slashes and page suffixes. A revision other than the default branch is kept: a pinned
file can hold another text than today's.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_WORD = re.compile(r"[^\W_]+|\+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_FILLER_PHRASES = re.compile(r"\b(?:terms of use|terms and conditions|tou)\b")
_FILLER_WORDS = frozenset(
    {"the", "license", "licence", "licensed", "agreement", "version", "v"}
    # Creative Commons' unported licenses: a port names its jurisdiction ("3.0 Germany").
    | {"unported", "international", "generic", "universal"}
)


def loose_name(name: str) -> str:
    """A license name folded so that spellings of one name meet: case and punctuation, letters
    run into numbers (`llama3`, `apache2`), `v`/`version`, the words "the", "license",
    "agreement", "terms of use", Creative Commons' "unported", "international", "generic" and
    "universal", and trailing `.0` of a version (`4.0` is `4`)."""
    text = " ".join(_WORD.findall(_LETTER_DIGIT.sub(" ", name.lower())))
    text = _FILLER_PHRASES.sub(" ", text)
    words = [w for w in _WORD.findall(text) if w not in _FILLER_WORDS]
    kept: list[str] = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word == "0" and kept and kept[-1].isdigit() and not following.isdigit():
            # A zero closing a version number adds nothing: 2.0 is 2, and 1.0.0 is 1.
            while len(kept) > 1 and kept[-1] == "0" and kept[-2].isdigit():
                kept.pop()
            continue
        kept.append(word)
    return " ".join(kept)


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HOST_LIKE = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/", re.IGNORECASE)
_HUB_HOSTS = frozenset({"huggingface.co", "hf.co"})
_HUB_FILE = re.compile(r"^((?:spaces/|datasets/)?[^/]+/[^/]+)/(?:blob|raw|resolve)/(.+)$")
_GITHUB_FILE = re.compile(r"^([^/]+/[^/]+)/(?:blob|raw)/(.+)$")
_DEFAULT_BRANCHES = frozenset({"main", "master"})
_PAGE_SUFFIXES = (".html", ".htm", ".php", ".md", ".txt")


def looks_like_url(value: str) -> bool:
    """Whether a license value is a link (`https://…`, `www.…`, `huggingface.co/…`)."""
    value = value.strip()
    return bool(_SCHEME.match(value) or _HOST_LIKE.match(value)) and " " not in value.split("/")[0]


def canonical_url(value: str) -> str | None:
    """The one form of a link to a license document, or None when `value` is not a link."""
    value = value.strip().strip("<>\"'")
    if not looks_like_url(value):
        return None
    rest = _SCHEME.sub("", value)
    rest = rest.split("#", 1)[0].split("?", 1)[0]
    host, _, path = rest.partition("/")
    host = host.lower().removeprefix("www.").split(":", 1)[0]
    path = " ".join(unquote(path).split()).strip("/")
    if host in _HUB_HOSTS:
        host = "huggingface.co"
        path = _file_in_repo(_HUB_FILE, path)
    elif host == "raw.githubusercontent.com":
        host = "github.com"
        owner, _, rest = path.partition("/")
        repo, _, tail = rest.partition("/")
        path = _file_in_repo(_GITHUB_FILE, f"{owner}/{repo}/blob/{tail}")
    elif host == "github.com":
        path = _file_in_repo(_GITHUB_FILE, path)
    lowered = path.lower()
    for suffix in _PAGE_SUFFIXES:
        if lowered.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return f"{host}/{path}".rstrip("/").lower()


def _file_in_repo(pattern: re.Pattern[str], path: str) -> str:
    """`owner/repo/<view>/<revision>/file` as `owner/repo/file`, or `owner/repo@rev/file` for a
    revision other than the default branch."""
    match = pattern.match(path)
    if match is None:
        return path
    repo, tail = match.groups()
    tail = tail.removeprefix("refs/heads/")
    revision, _, file = tail.partition("/")
    if revision in _DEFAULT_BRANCHES:
        return f"{repo}/{file}"
    return f"{repo}@{revision}/{file}"
