"""Notice bodies: plain text, or a limited Markdown, rendered to HTML on the server.

Three layers keep a body from ever carrying script:

1. the request schema refuses any text with something a browser could read as a tag (raw HTML);
2. Markdown is parsed by markdown-it-py (CommonMark) with HTML off; images and links other than
   http(s), mailto or tel are refused with 422, not silently dropped;
3. the rendered HTML goes through nh3 (the ammonia sanitizer) with a short allow-list of tags.

Allowed Markdown: paragraphs, line breaks, **bold**, *italic*, `code`, lists, block quotes,
headings, horizontal rules and links. Images go in as attachments, not in the text.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

from backend.core.errors import RuleViolation

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
TAGS = frozenset(
    {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6", "hr", "a"}
)

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Let every link through the parser so that _check_links sees it and refuses it loudly (markdown-it
# would otherwise quietly print a javascript: link as text).
_md.validateLink = lambda _url: True


def _check_links(tokens: list) -> None:  # type: ignore[type-arg]
    for token in tokens:
        if token.children:
            _check_links(token.children)
        if token.type == "image":
            raise RuleViolation(
                "Images go in as attachments, not in the text",
                detail_zh="图片请作为附件上传，不要写在正文里",
                code="image_in_body",
            )
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            scheme = href.split(":", 1)[0].lower() if ":" in href else ""
            if scheme not in LINK_SCHEMES:
                raise RuleViolation(
                    "Links must start with http://, https://, mailto: or tel:",
                    detail_zh="链接须以 http://、https://、mailto: 或 tel: 开头",
                    code="unsafe_link",
                    extra={"href": href[:200]},
                )


def _demote_headings(rendered: str) -> str:
    # A notice's own title is the page heading; body headings start at level 3.
    for level in (2, 1):
        rendered = rendered.replace(f"<h{level}>", f"<h{level + 2}>").replace(f"</h{level}>", f"</h{level + 2}>")
    return rendered


def render(body: str, body_format: str) -> str:
    """The sanitized HTML for a body (which the schema already checked carries no tags)."""
    if body_format == "plain":
        paragraphs = [p for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
        rendered = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    else:
        tokens = _md.parse(body)
        _check_links(tokens)
        rendered = _demote_headings(_md.renderer.render(tokens, _md.options, {}))
    return nh3.clean(
        rendered,
        tags=set(TAGS),
        attributes={"a": {"href"}},
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
