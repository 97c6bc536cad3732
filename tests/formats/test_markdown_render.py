"""The PR summary rendered by cmark-gfm, the Markdown renderer GitHub uses: whatever a card or a
folder name says renders as that text, never as a link, an image, emphasis, code or HTML."""

from __future__ import annotations

import html
import re

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from scanner.formats.markdown import escape
from tests.conftest import make_model_dir, run_cli

HOSTILE = [
    "[Approved by Legal - click to accept](https://evil.example/login)",
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "![i](http://x)",
    "**bold**",
    "a\\|b",
    "_under_ ~~strike~~ `code`",
    "<https://evil.example/auto>",
    "https://evil.example/bare www.evil.example",
    "mail legal@evil.example or ping @octocat about #1",
    "[ref]: https://evil.example",
    "1. ordered + bullet - dash # heading > quote",
    "&amp; &lt;b&gt; &#106;avascript",
    "trailing backslash \\",
]


def render(markdown: str) -> str:
    """GitHub-flavoured HTML; raw HTML kept (unsafe) to see exactly what the Markdown holds."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def text_of(rendered: str) -> str:
    """The visible text: comments and tags removed, entities resolved."""
    return html.unescape(re.sub(r"<!--.*?-->|<[^>]+>", "", rendered))


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_text_renders_as_itself_in_a_table_cell_and_a_list_item(value):
    markdown = f"| name | x |\n|---|---|\n| {escape(value)} | 1 |\n\n- {escape(value)}\n"
    rendered = render(markdown)
    tags = set(re.findall(r"<([a-z0-9]+)", rendered))
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td", "ul", "li"}, rendered
    cells = re.findall(r"<td>(.*?)</td>", rendered)
    assert text_of(cells[0]) == value
    item = re.search(r"<li>(.*?)</li>", rendered, re.S)
    assert item is not None and text_of(item[1]) == value


def test_hostile_card_and_folder_render_as_text_in_the_summary(tmp_path):
    lure = "[Approved by Legal - click to accept](https://evil.example/login)"
    make_model_dir(tmp_path / "m", "a\\|b [x](javascript:alert(1))", card={"license": lure})
    result = run_cli("scan", tmp_path / "m", "--format", "markdown")
    rendered = render(result.stdout)
    assert "evil.example" in rendered and "href" not in rendered
    assert "javascript:alert(1)" in text_of(rendered)
    assert "<img" not in rendered
    assert lure in text_of(rendered)
    cells = [text_of(c) for c in re.findall(r"<td>(.*?)</td>", rendered)]
    assert "a\\|b [x](javascript:alert(1))" in cells
