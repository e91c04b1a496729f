"""The report's sections, as a registry of builders: ``(RunData) -> Section | None``.

A builder returns None when the run lacks what its section shows, and the report leaves the section out. That is
the hook for results that only some runs have: severity curves and region-sensitivity maps are sections registered
like any other (see :mod:`occlubench.report.optional_sections`), and a plugin adds its own through the
``occlubench.report_sections`` entry-point group or :func:`register_section`. Sections appear in registration order;
``occlubench.report`` registers the built-ins in the order the report shows them.
"""

from __future__ import annotations

from collections.abc import Callable

from occlubench.registry import Registry
from occlubench.report.document import Section
from occlubench.report.rundata import RunData

SectionBuilder = Callable[[RunData], "Section | None"]

#: Every report section by name, in the order the report shows them.
REPORT_SECTIONS: Registry[SectionBuilder] = Registry("report section", "occlubench.report_sections")


def register_section(name: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Decorator: add a section builder to every report (after those registered before it).

    The builder's docstring's first line is its description. Register under an existing name with
    ``REPORT_SECTIONS.register(name, builder, replace=True)`` to replace a section in place.

    Examples:
        >>> @register_section("my_notes")  # doctest: +SKIP
        ... def my_notes(run: RunData) -> Section | None:
        ...     '''Notes kept beside the run, when there are any.'''
        ...     path = run.root / "notes.txt"
        ...     return Section("Notes", (Paragraph(path.read_text()),)) if path.is_file() else None
    """
    return REPORT_SECTIONS.decorator(name)
