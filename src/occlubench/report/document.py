"""A report as plain data (sections of paragraphs, tables and pictures) and its two renderings: Markdown and HTML.

Sections are built once and rendered twice, so ``report.md`` and ``report.html`` always say the same thing. The HTML
embeds every picture as a base64 data URI: one file that opens from disk in any browser, without a server.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Paragraph:
    """Text with a small inline Markdown subset: code spans, bold, emphasis and links (``[text](address)``)."""

    text: str
    kind: str = "text"  # "text" | "note" | "warning": the HTML gives notes and warnings a coloured box


@dataclass(frozen=True)
class Table:
    """A table of already-formatted strings; ``numeric`` columns are right-aligned."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Picture:
    """A PNG with its file stem (``figures/<name>.png`` beside report.md), alt text and caption."""

    name: str
    png: bytes
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """A titled part of the report; its blocks may be subsections."""

    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    anchor: str = ""

    @property
    def slug(self) -> str:
        return self.anchor or slugify(self.title)


Block = Union[Paragraph, Table, Picture, Section]  # noqa: UP007  (a runtime alias: `|` needs Python 3.10 types)


def slugify(text: str) -> str:
    """``"Training curves"`` -> ``"training-curves"``: an HTML id and a Markdown anchor."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def pictures(sections: Sequence[Section]) -> list[Picture]:
    """Every picture of the sections, depth first, in reading order."""
    found: list[Picture] = []
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Picture):
                found.append(block)
            elif isinstance(block, Section):
                found.extend(pictures([block]))
    return found


# --------------------------------------------------------------------------------------------------- Markdown
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(table: Table) -> list[str]:
    align = ["---:" if numeric else "---" for numeric in _numeric(table)]
    lines = ["| " + " | ".join(_md_cell(h) for h in table.header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def _numeric(table: Table) -> tuple[bool, ...]:
    return tuple(table.numeric) + (False,) * (len(table.header) - len(table.numeric))


def _markdown_blocks(blocks: Sequence[Block], level: int, figures_dir: str) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Section):
            out += [f"{'#' * min(level, 6)} {block.title}", ""]
            out += _markdown_blocks(block.blocks, level + 1, figures_dir)
        elif isinstance(block, Paragraph):
            prefix = {"note": "> ", "warning": "> **Warning:** "}.get(block.kind, "")
            out += [prefix + block.text, ""]
        elif isinstance(block, Table):
            out += [*_markdown_table(block), ""]
        else:
            out += [f"![{block.alt}]({figures_dir}/{block.name}.png)", ""]
            if block.caption:
                out += [f"*{block.caption}*", ""]
    return out


def render_markdown(title: str, sections: Sequence[Section], *, figures_dir: str = "figures") -> str:
    """The report as Markdown; pictures are links to ``<figures_dir>/<name>.png`` (written beside it)."""
    lines = [f"# {title}", ""]
    lines += ["Contents: " + " · ".join(f"[{s.title}](#{s.slug})" for s in sections), ""]
    lines += _markdown_blocks(sections, 2, figures_dir)
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------------- HTML
_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\(([^)\s]+)\)")


def inline_html(text: str) -> str:
    """The inline Markdown subset of :class:`Paragraph` as escaped HTML."""
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        code, bold, emphasis, link_text, url = match.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{html.escape(bold)}</strong>")
        elif emphasis is not None:
            out.append(f"<em>{html.escape(emphasis)}</em>")
        else:
            out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(link_text)}</a>')
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out)


def _html_table(table: Table) -> str:
    numeric = _numeric(table)
    head = "".join(
        f"<th{' class=num' if n else ''}>{inline_html(h)}</th>" for h, n in zip(table.header, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if n else ''}>{inline_html(c)}</td>" for c, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in table.rows
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _html_blocks(blocks: Sequence[Block], level: int) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Section):
            tag = f"h{min(level, 6)}"
            out.append(f'<section id="{block.slug}"><{tag}>{html.escape(block.title)}</{tag}>')
            out += _html_blocks(block.blocks, level + 1)
            out.append("</section>")
        elif isinstance(block, Paragraph):
            css = f' class="{block.kind}"' if block.kind != "text" else ""
            out.append(f"<p{css}>{inline_html(block.text)}</p>")
        elif isinstance(block, Table):
            out.append(_html_table(block))
        else:
            data = base64.b64encode(block.png).decode("ascii")
            caption = f"<figcaption>{inline_html(block.caption)}</figcaption>" if block.caption else ""
            out.append(
                f'<figure id="fig-{block.name}"><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(block.alt, quote=True)}">{caption}</figure>'
            )
    return out


_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #0b3d5c; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0; font-size: 1.6rem; }
header p { margin: .3rem 0 0; opacity: .85; }
header code { background: rgba(255, 255, 255, .16); color: #fff; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 2rem;
      font-size: .9rem; z-index: 1; }
nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; white-space: nowrap; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem 2rem 3rem; }
h2 { border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.6rem; }
code { background: var(--soft); padding: .1rem .3rem; border-radius: 4px; font-size: .88em; }
.table-wrap { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: .88rem; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
p.note { background: #eef6fc; border-left: 4px solid var(--accent); padding: .5rem .8rem; }
p.warning { background: #fff4e5; border-left: 4px solid #d55e00; padding: .5rem .8rem; }
"""


def render_html(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """The report as one self-contained HTML page: inline CSS, pictures as data URIs, no script, no server."""
    nav = "".join(f'<a href="#{s.slug}">{html.escape(s.title)}</a>' for s in sections)
    sub = f"<p>{inline_html(subtitle)}</p>" if subtitle else ""
    body = "\n".join(_html_blocks(sections, 2))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><title>{html.escape(title)}</title><style>{_CSS}</style></head>\n'
        f"<body><header><h1>{html.escape(title)}</h1>{sub}</header><nav>{nav}</nav>\n<main>\n{body}\n</main></body>"
        "</html>\n"
    )
