"""mkdocs hooks: the pages and tables that are generated at build time, so that they cannot drift from the code.

- ``cli.md``: every command of the Typer app (usage, help, arguments and options), read from the click objects
  that Typer builds: the same source ``occlubench --help`` prints from.
- ``<!-- presets -->`` in a page: the catalog's presets of every benchmark, as tables.
- The ``Leaderboards`` nav entry: its index page plus every page ``occlubench leaderboard`` wrote beside it.
- Sphinx roles in docstrings (``:func:`x```) render as plain code spans.
- Pages other engineers own (``synthetic-faces.md``, ``occluders.md``, ``guides/own-dataset.md``,
  ``guides/benchmark-toml.md``) stay out of the nav, with a log line, until they exist.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.occlubench")

OPTIONAL_PAGES = {"synthetic-faces.md", "occluders.md", "guides/own-dataset.md", "guides/benchmark-toml.md"}
LEADERBOARD_INDEX = "leaderboards/index.md"
PRESETS_MARKER = "<!-- presets -->"


# ------------------------------------------------------------------------------------------------------------- nav
def _expand_nav(items: list[Any], docs_dir: Path) -> list[Any]:
    """Drop optional pages that are not there yet; list every leaderboard page under the leaderboard index."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            (title, target), *_ = item.items()
            if isinstance(target, list):
                out.append({title: _expand_nav(target, docs_dir)})
                continue
            if target in OPTIONAL_PAGES and not (docs_dir / target).is_file():
                log.info("nav: %s is not written yet, left out", target)
                continue
            if target == LEADERBOARD_INDEX:
                boards = sorted((docs_dir / "leaderboards").glob("*.md"))
                pages = [f"leaderboards/{p.name}" for p in boards if p.name != "index.md"]
                out.append({title: [target, *pages]} if pages else item)
                continue
        out.append(item)
    return out


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if config.nav:
        config.nav = _expand_nav(list(config.nav), Path(config.docs_dir))
    return config


# ----------------------------------------------------------------------------------------------- CLI reference
def _escape(text: str) -> str:
    """Help texts say ``runs/<benchmark>``: angle brackets must not become HTML tags in the page."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


# Typer >= 0.20 carries its own copy of click, so the objects are recognised by what they have, not their class.
def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _is_flag(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "option" and bool(getattr(param, "is_flag", False))


def _type_name(param: Any, context: Any) -> str:
    if _is_flag(param):
        return "flag"
    if hasattr(param, "type"):  # click's parameters (older Typer)
        return str(param.type.name)
    return str(param.display_type(context)).strip("<>")  # Typer's own


def _default(param: Any) -> str:
    if param.required:
        return "required"
    default = param.default
    if _is_flag(param):
        return "on" if default else "off"
    if default is None or default == () or callable(default):
        return "–"
    return f"`{default}`"


def _usage(path: str, command: Any) -> str:
    pieces = [path, "[OPTIONS]"]
    for param in command.params:
        if _is_argument(param):
            name = (param.name or "arg").upper() + ("..." if param.nargs == -1 else "")
            pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "list_commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _command_section(path: str, command: Any, context: Any) -> list[str]:
    lines = [f"## `{path}`", "", _escape((command.help or "").strip()), "", "```", _usage(path, command), "```", ""]
    rows = []
    for param in command.params:
        if _is_argument(param):
            names = f"`{(param.name or 'arg').upper()}`"
        elif getattr(param, "param_type_name", "") == "option":
            names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
        else:
            continue
        kind = _type_name(param, context)
        rows.append(f"| {names} | {kind} | {_default(param)} | {_cell(getattr(param, 'help', '') or '')} |")
    if rows:
        lines += ["| argument / option | type | default | description |", "|---|---|---|---|", *rows, ""]
    return lines


def render_cli_reference() -> str:
    """Markdown of every command of ``occlubench``, from the Typer app itself."""
    import typer

    from occlubench.cli.app import app

    root = typer.main.get_command(app)
    context = root.context_class(root, info_name="occlubench")
    lines = [
        "# CLI reference",
        "",
        "Generated from the Typer app when this site is built: it lists exactly what `occlubench --help` and "
        "`occlubench COMMAND --help` print. Every user mistake ends the command with one `error: ...` line and "
        "exit code 2; `--debug` shows the traceback instead.",
        "",
    ]
    lines += _command_section("occlubench", root, context)
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        if command is not None and not command.hidden:
            sub_context = command.context_class(command, info_name=name, parent=context)
            lines += _command_section(f"occlubench {name}", command, sub_context)
    return "\n".join(lines).rstrip() + "\n"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, "cli.md", content=render_cli_reference()))
    return files


# --------------------------------------------------------------------------------------------------- presets
def _recipe(recipe: Any) -> str:
    steps = f"x{recipe.lr_gamma:g} every {recipe.lr_step_epochs} epochs"
    epochs = f"{recipe.epochs} epoch" + ("" if recipe.epochs == 1 else "s")
    return f"{epochs}, batch {recipe.batch_size}, SGD lr {recipe.lr:g} ({steps})"


def render_presets() -> str:
    """One table per benchmark: its presets' recipes and data sizes, from the catalog."""
    from occlubench.benchmark.catalog import BENCHMARKS

    out: list[str] = []
    for entry in BENCHMARKS.entries():
        spec = entry.obj
        out += [f"### `{spec.name}`", "", f"{spec.description}. Default preset: `{spec.default_preset}`.", ""]
        out += ["| preset | what it is | baseline | fine-tunes | images |", "|---|---|---|---|---|"]
        for preset in spec.presets.values():
            base, fine = _recipe(preset.baseline), _recipe(preset.finetune)
            size = f"at most {preset.limit} per split" if preset.limit else "all"
            if preset.dataset_options:
                size = ", ".join(f"{k} {v}" for k, v in preset.dataset_options.items())
            out.append(f"| `{preset.name}` | {_cell(preset.description)} | {base} | {fine} | {size} |")
        out.append("")
    return "\n".join(out)


# Docstrings use Sphinx roles (:func:`x`, :class:`~a.b.C`), which mkdocstrings prints as they are: show the code
# span alone, the last dotted part only after a tilde, as Sphinx does.
_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):<code>(~?)([^<]*)</code>")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return _ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>", html)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if PRESETS_MARKER in markdown:
        markdown = markdown.replace(PRESETS_MARKER, render_presets())
    return markdown
