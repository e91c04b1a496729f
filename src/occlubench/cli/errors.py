"""Turning errors into one line on stderr and exit code 2; warnings into one line each."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import typer

from occlubench.errors import OcclubenchError

DEBUG = {"enabled": False}


def _show_warning(
    message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"warning: {message}", file=sys.stderr)


def install_warning_printer() -> None:
    """Show warnings as ``warning: <message>`` lines, without the source line."""
    warnings.showwarning = _show_warning


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Run a command body; an OcclubenchError becomes ``error: ...`` and exit code 2 (unless --debug)."""
    try:
        yield
    except OcclubenchError as exc:
        if DEBUG["enabled"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: re-run the same command to resume", err=True)
        raise typer.Exit(130) from None
    except OSError as exc:  # a full disk, a permission flipped mid-run: the run stopped cleanly and can resume
        if DEBUG["enabled"]:
            raise
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        typer.echo(f"error: {exc.strerror or exc}{where}; re-run the same command to resume", err=True)
        raise typer.Exit(2) from None
