"""``occlubench compare RUN_A RUN_B``: a thin command over :func:`occlubench.benchmark.compare.compare_runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from occlubench.cli.app import app, console
from occlubench.cli.errors import user_errors


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="A finished run directory.")],
    run_b: Annotated[Path, typer.Argument(help="Another run directory, reported on the same images.")],
    metric: Annotated[str, typer.Option(help="The metric to compare (e.g. accuracy, macro_f1, weighted_auc).")] = (
        "accuracy"
    ),
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
) -> None:
    """Paired tests (bootstrap CI of A - B, exact McNemar, Holm-corrected) of two runs' matching cells."""
    with user_errors():
        from occlubench.benchmark.compare import compare_runs

        rows = compare_runs(run_a, run_b, metric=metric, n_resamples=bootstrap)
        table = Table(title=f"{metric}: A = {run_a}, B = {run_b} (paired on the same images; p Holm-corrected)")
        for column in ("trained on", "evaluated on", "A", "B", "A - B [95% CI]", "McNemar b/c", "p McNemar", "p boot"):
            table.add_column(column, justify="left" if column.endswith("on") else "right")
        for r in rows:
            table.add_row(
                r["trained_on"],
                r["evaluated_on"],
                f"{r['a']:.4f}",
                f"{r['b']:.4f}",
                f"{r['difference']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]",
                f"{r['mcnemar_b']}/{r['mcnemar_c']}",
                f"{r['p_mcnemar_holm']:.4g}",
                f"{r['p_bootstrap_holm']:.4g}",
            )
        console.print(table)
