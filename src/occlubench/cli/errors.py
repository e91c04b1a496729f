"""Turning every error into one line on stderr and an exit code; warnings into one line each; --debug for tracebacks.

Exit codes: 0 done; 2 a user error (an :class:`~occlubench.errors.OcclubenchError`, a bad option or value on the
command line, or an OS error such as a full disk: the run stopped cleanly and the same command resumes it); 1 an
unexpected error (a bug: ``occlubench --debug ...`` shows its traceback for a report); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 ships its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # older typer runs on click itself
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # type: ignore[no-redef]

from occlubench.errors import OcclubenchError

DEBUG = {"enabled": False}

EXIT_USER_ERROR = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


def one_line(text: object) -> str:
    """``text`` on one line: line breaks (a library's multi-line message) become spaces."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _show_warning(
    message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"warning: {one_line(message)}", file=sys.stderr)


def install_warning_printer() -> None:
    """Show warnings as ``warning: <message>`` lines, without the source line."""
    warnings.showwarning = _show_warning


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr and return the exit code it deserves."""
    if isinstance(exc, KeyboardInterrupt):
        typer.echo("interrupted: re-run the same command to resume", err=True)
        return EXIT_INTERRUPTED
    if isinstance(exc, OcclubenchError):
        typer.echo(f"error: {one_line(exc)}", err=True)
        return EXIT_USER_ERROR
    if isinstance(exc, OSError):  # a full disk, a permission flipped mid-run: the run stopped cleanly, can resume
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        typer.echo(f"error: {one_line(exc.strerror or exc)}{where}; re-run the same command to resume", err=True)
        return EXIT_USER_ERROR
    message = one_line(exc) or "(no message)"
    typer.echo(
        f"error: unexpected {type(exc).__name__}: {message} "
        "(a bug: run `occlubench --debug ...` for the traceback and please report it)",
        err=True,
    )
    return EXIT_BUG


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Run a command body; any error becomes one ``error: ...`` line and its exit code (unless --debug)."""
    try:
        yield
    except (typer.Exit, typer.Abort, ClickException):
        raise
    except KeyboardInterrupt as exc:
        raise typer.Exit(report_error(exc)) from None
    except Exception as exc:
        if DEBUG["enabled"]:
            raise
        raise typer.Exit(report_error(exc)) from None


class OcclubenchGroup(TyperGroup):
    """The root command: click's usage errors (an unknown option, a bad integer) as one line and exit code 2.

    Click prints a usage block and a boxed message for those; here they read like every other error, and an error
    escaping a command that has no ``user_errors`` block is one line too. ``CliRunner`` goes through this as well.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        DEBUG["enabled"] = False  # the root callback turns it on for this invocation only
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # `occlubench` alone: the help was printed already
            sys.exit(exc.exit_code)
        except UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            typer.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(EXIT_USER_ERROR)
        except ClickException as exc:
            typer.echo(f"error: {one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        except Exception as exc:
            if DEBUG["enabled"]:
                raise
            sys.exit(report_error(exc))
        sys.exit(result if isinstance(result, int) else 0)
