"""``occlubench preview``: a picture of what occluders hide, a thin command over :mod:`occlubench.occluders.preview`.

Registered on the app by importing this module (``cli/app.py`` does, at its end).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from occlubench.cli.app import app, console
from occlubench.cli.errors import user_errors


@app.command()
def preview(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Occluder names or globs, one column each (default: every registered occluder)."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="A FER2013 zip, folder or CSV: real test faces, not synthetic ones.")
    ] = None,
    severity: Annotated[
        float | None,
        typer.Option(help="Fraction to hide, for occluders with a severity (random_patch, random_erasing)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The picture to write (.png, .svg, .pdf or .jpg).")] = Path(
        "occluders.png"
    ),
    per_class: Annotated[int, typer.Option(help="Faces of each class, one row each.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the faces picked and of the random occluders.")] = 0,
) -> None:
    """Draw occluders on sample faces (one column per occluder, one row per face) and save the picture."""
    with user_errors():
        from occlubench.occluders.preview import preview_faces, preview_occluders, save_preview

        occluders = preview_occluders(names or (), severity=severity)  # bad names fail before any face is read
        with console.status("drawing the preview"):
            faces, source = preview_faces(data, per_class=per_class, seed=seed)
            title = f"{len(occluders)} occluder{'s' * (len(occluders) != 1)} on {source}"
            if severity is not None:
                title += f", severity {severity:g}"
            drawn = save_preview(occluders, faces, out, seed=seed, title=title)
        shape = f"{len(drawn.columns)} occluders x {len(drawn.rows)} {source}, seed {seed}"
        console.print(f"[green]wrote[/green] {drawn.path} ({shape})", soft_wrap=True)
