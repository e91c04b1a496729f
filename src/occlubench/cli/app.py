"""The ``occlubench`` command line: thin Typer commands over the library (the only place that imports typer/rich)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from occlubench.cli.errors import DEBUG, OcclubenchGroup, install_warning_printer, user_errors

app = typer.Typer(
    name="occlubench",
    help="Occlusion-robustness benchmarks for image classifiers (reference: ResNet50 on FER2013, half-face masks).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=OcclubenchGroup,
)

console = Console()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks, for bug reports.")] = False,
) -> None:
    DEBUG["enabled"] = debug
    install_warning_printer()


def _parse_dataset_options(items: list[str] | None) -> dict[str, object] | None:
    """``["size=64", "resize=stretch"]`` -> ``{"size": 64, "resize": "stretch"}`` (numbers become numbers)."""
    if not items:
        return None
    options: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            from occlubench.errors import ConfigError

            raise ConfigError(f"--dataset-option must be KEY=VALUE, got {item!r}", "e.g. --dataset-option size=64")
        value: object = text.strip()
        for parse in (int, float):
            try:
                value = parse(text)
                break
            except ValueError:
                continue
        options[key.strip()] = value
    return options


def _parse_seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        from occlubench.errors import ConfigError

        raise ConfigError(f"--seeds must be comma-separated integers, got {text!r}") from None
    return seeds


@app.command()
def run(
    benchmark: Annotated[
        str, typer.Argument(help="A benchmark name (see `occlubench list`) or a spec file (my_bench.toml).")
    ],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Dataset: FER2013 zip, folder or CSV, or a folder/zip of class folders."),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Force a dataset reader (see `occlubench list`); default: from --data."),
    ] = None,
    dataset_option: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset-option", help="KEY=VALUE for the dataset reader, repeatable (imagefolder: size=64, channels=3)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory [default: runs/<benchmark>-<UTC time>].")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="paper | quick | smoke [default: the benchmark's].")] = None,
    model: Annotated[str | None, typer.Option(help="A registered model [default: the benchmark's].")] = None,
    weights: Annotated[str | None, typer.Option(help="none | imagenet | PATH to .safetensors/.pt.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Baseline epochs (overrides the preset).")] = None,
    finetune_epochs: Annotated[int | None, typer.Option(help="Fine-tuning epochs (overrides the preset).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size (overrides the preset).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N.")] = "auto",
    seed: Annotated[int | None, typer.Option(help="Seed of everything random [default: the benchmark's, 0].")] = None,
    seeds: Annotated[
        str | None, typer.Option(help="Comma-separated seeds: the whole plan per seed, mean +/- std (e.g. 0,1,2).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most N images per split, stratified by class.")] = None,
    protocol: Annotated[str, typer.Option(help="official (select on val, report on test) | study.")] = "official",
    precision: Annotated[str, typer.Option(help="auto (bf16 where the hardware has it) | bf16 | fp32.")] = "auto",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for CIs (0 = off).")] = 1000,
    compile: Annotated[
        bool, typer.Option("--compile", help="torch.compile the training step (CUDA graphs on CUDA).")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a run of another config found in --out.")] = False,
    executor: Annotated[
        str, typer.Option(help="local (one node after another, here) | ray (the plan's nodes as Ray tasks).")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster address for --executor ray [default: RAY_ADDRESS, else local]."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Write RUN_DIR/report/ (report.md, report.html) at the end.")
    ] = False,
) -> None:
    """Train and evaluate a benchmark's plan and write the occlusion x model matrix."""
    with user_errors():
        from occlubench.benchmark import RunOptions, get_benchmark, run_benchmark
        from occlubench.cli.progress import RichProgress
        from occlubench.distributed import from_environment

        spec = get_benchmark(benchmark)  # a catalog name or a .toml spec file
        if seed is None and seeds is None and len(spec.seeds) > 1:
            seeds = ",".join(map(str, spec.seeds))

        options = RunOptions(
            preset=preset,
            model=model,
            weights=weights,
            epochs=epochs,
            finetune_epochs=finetune_epochs,
            batch_size=batch_size,
            device=device,
            seed=seed if seed is not None else spec.seeds[0],
            limit=limit,
            protocol=protocol,
            precision=precision,
            bootstrap=bootstrap,
            compile=compile,
            dataset=dataset,
            dataset_options=_parse_dataset_options(dataset_option),
            executor=executor,
            ray_address=address,
        )
        if address is not None and executor != "ray":
            from occlubench.errors import ConfigError

            raise ConfigError("--address is the Ray cluster of --executor ray", "add --executor ray, or drop --address")
        if data is not None and not data.expanduser().exists():
            from occlubench.errors import DataError

            raise DataError(f"--data {data} does not exist")
        seed_list = _parse_seeds(seeds)
        is_main_rank = from_environment().is_main  # under torchrun, only rank 0 draws and prints
        with RichProgress(enabled=is_main_rank) as progress:
            if seed_list:
                from datetime import datetime, timezone

                from occlubench.benchmark.seeds import run_seeds

                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                target = out if out is not None else Path("runs") / f"{spec.name}-seeds-{stamp}"
                result = run_seeds(
                    spec, data, target, seed_list, options=options, overwrite=overwrite, progress=progress
                )
            else:
                result = run_benchmark(spec, data, out, options=options, overwrite=overwrite, progress=progress)
        if not is_main_rank:
            return
        # Severity points and grid cells are printed as curves and maps, not as dozens of matrix columns.
        _print_matrix([c for c in result.cells if "severity" not in c and "grid" not in c], "accuracy")
        _print_curves_and_maps(result.results)
        console.print(f"[green]done[/green]: {result.run_dir}/ (results.json, matrix.csv, matrix.md)")
        if report:
            from occlubench.cli.report_commands import write_report

            write_report(result.run_dir)


def _print_matrix(cells: list[dict], metric: str) -> None:
    from occlubench.benchmark.results import format_value, row_label

    cols = list(dict.fromkeys(c["evaluated_on"] for c in cells))
    rows = list(dict.fromkeys(c["trained_on"] for c in cells))
    by_key = {(c["trained_on"], c["evaluated_on"]): c for c in cells}
    table = Table(title=f"{metric}: trained on (rows) x evaluated on (columns)")
    table.add_column("trained on")
    for col in cols:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(
            row_label(row), *[format_value(by_key[(row, c)], metric, 3) if (row, c) in by_key else "" for c in cols]
        )
    console.print(table)


def _print_curves_and_maps(results: dict) -> None:
    """The severity curves and the overall region maps of a run, when its benchmark has them."""
    from rich.markdown import Markdown

    from occlubench.benchmark.regions import regions_markdown
    from occlubench.benchmark.severity import severity_markdown

    text = severity_markdown(results.get("severity_curves", []))
    text += regions_markdown(results.get("region_maps", []), keys=("overall",))
    if text:
        console.print(Markdown(text))


@app.command("list")
def list_command() -> None:
    """List the benchmarks, occluders, models and datasets, one table each."""
    with user_errors():
        from occlubench.benchmark import BENCHMARKS
        from occlubench.data.registry import DATASETS
        from occlubench.models import MODELS
        from occlubench.occluders import OCCLUDERS

        for title, registry in (
            ("Benchmarks", BENCHMARKS),
            ("Occluders", OCCLUDERS),
            ("Models", MODELS),
            ("Datasets", DATASETS),
        ):
            caption = "or a spec file: occlubench run my_bench.toml" if registry is BENCHMARKS else None
            table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
            table.add_column("name", style="bold")
            table.add_column("description")
            for entry in registry.entries():
                table.add_row(entry.name, entry.description)
            console.print(table)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="occlubench")


# Registers `report` and `leaderboard` on `app` (at the end: that module imports `app` from here); `preview` too.
from occlubench.cli import compare_command, preview_command, report_commands  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
