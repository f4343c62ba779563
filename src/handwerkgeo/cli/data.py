"""``handwerkgeo data``: fetch the source data and show what was fetched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from handwerkgeo.cli._options import DataDirOption, Lang, LangOption

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["data_app"]

data_app = typer.Typer(
    help="Fetch the public source data (from a mirror or the internet) and show it.",
    no_args_is_help=True,
)

_INFO_HEADERS = {
    "name": "layer",
    "files": "files",
    "features": "features",
    "crs": "CRS",
    "licence": "licence",
    "attribution": "attribution",
}


@data_app.command("fetch")
def fetch_command(
    mirror: Annotated[
        Path | None,
        typer.Option(
            "--mirror",
            help="Local mirror of the public sources (default: $HANDWERKGEO_DATA_MIRROR; "
            "without one the files are downloaded).",
            file_okay=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    layer: Annotated[
        list[str] | None,
        typer.Option("--layer", help="Fetch only this layer (repeat for more). Default: all."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Fetch again even if up to date.")] = False,
    timeout_s: Annotated[
        float, typer.Option("--timeout", help="Network timeout per download, seconds.")
    ] = 60.0,
) -> None:
    """Copy or download every source file, verify its checksum and record provenance."""
    import pandas as pd

    from handwerkgeo.fetch import fetch

    def show(result: dict[str, Any]) -> None:
        typer.echo(f"{result['action']:<10}  {result['layer']:<24}  {result['path']}")

    results = fetch(
        mirror=mirror,
        data_dir=data_dir,
        layers=layer or None,
        force=force,
        timeout_s=timeout_s,
        progress=show,
    )
    counts = pd.Series([r["action"] for r in results]).value_counts()
    summary = ", ".join(f"{n} {action}" for action, n in counts.items())
    typer.echo(f"{len(results)} file(s): {summary}")


def _table(df: pd.DataFrame) -> str:
    """A plain-text table (Markdown pipe syntax), readable in a terminal and in README."""
    import pandas as pd

    cells = [[("" if pd.isna(v) else str(v)) for v in row] for row in df.itertuples(index=False)]
    headers = list(df.columns)
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]

    def fmt(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if num else "-" * (w + 2)
            for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in cells)])


@data_app.command("info")
def info_command(
    data_dir: DataDirOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON records instead of a table.")
    ] = False,
) -> None:
    """Show each layer: files, features (as read), CRS, licence and attribution."""
    import pandas as pd

    from handwerkgeo.fetch import layer_info

    info = layer_info(data_dir)
    if as_json:
        records = [
            {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for row in info.astype(object).to_dict(orient="records")
        ]
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False, default=int))
        return
    shown = info.copy()
    shown["files"] = [
        f"{f}" if f == n else f"{f}/{n}"
        for f, n in zip(shown["fetched"], shown["files"], strict=True)
    ]
    shown = shown[list(_INFO_HEADERS)].rename(columns=_INFO_HEADERS)
    typer.echo(_table(shown))
    missing = info.loc[info["fetched"] < info["files"], "name"].tolist()
    if missing:
        typer.echo(
            f"\nnot (fully) fetched: {', '.join(missing)}. Run `handwerkgeo data fetch`.",
        )


@data_app.command("prepare")
def prepare_command(
    data_dir: DataDirOption = None,
    no_network: Annotated[
        bool, typer.Option("--no-network", help="Prepare the context without street network.")
    ] = False,
    lang: LangOption = Lang.de,
) -> None:
    """Build the prepared scoring context in <data-dir>/processed from the fetched files.

    Scoring runs load it in a fraction of a second instead of reading every source; it is
    rebuilt by itself when the data, the package version or its settings change.
    """
    import time

    from handwerkgeo.messages import message
    from handwerkgeo.prepared import prepare_context

    t0 = time.perf_counter()
    path = prepare_context(data_dir, network=not no_network)
    typer.echo(
        message(
            "data_prepared",
            lang.value,
            path=path,
            size=f"{path.stat().st_size / 1e6:.1f}",
            seconds=f"{time.perf_counter() - t0:.1f}",
        )
    )
