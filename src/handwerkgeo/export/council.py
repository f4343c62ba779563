"""The council-paper text block on data gaps (Textbaustein „Datenlage und Entscheidungsreife“).

A Ratsvorlage that ranks plots must say which ranks rest on too little data. This module
writes that paragraph as Markdown: the summary line ("3 von 13 Flächen nicht
entscheidungsreif (Abdeckung < 60 %)"), what the threshold means, and a table of every plot
with missing criteria — rank, plot, coverage, ready yes/no and the missing criteria **in
full** (never shortened). The sentences come from :mod:`handwerkgeo.messages`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._atomic import atomic_write_text
from handwerkgeo.export._card import missing_labels, plot_title
from handwerkgeo.export._labels import TEXT, check_lang, criteria_of, format_number, validate_scored
from handwerkgeo.messages import message
from handwerkgeo.scoring import decision_ready, decision_summary, decision_threshold

__all__ = ["council_text", "export_council_text"]

logger = logging.getLogger(__name__)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, no column breaks)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def council_text(scored: gpd.GeoDataFrame, *, lang: str = "de") -> str:
    """The Markdown text block on data coverage and decision readiness of a scored frame.

    Examples
    --------
    >>> print(council_text(scored))  # doctest: +SKIP
    ## Datenlage und Entscheidungsreife
    <BLANKLINE>
    13 von 13 Flächen nicht entscheidungsreif (Abdeckung < 60 %). …
    """
    lang = check_lang(lang)
    t = TEXT[lang]
    gdf = validate_scored(scored)
    crits = criteria_of(gdf, lang)
    threshold = decision_threshold(gdf)
    minimum = str(int(np.floor(100 * threshold + 1e-7)))
    lines = [
        f"## {message('council_heading', lang)}",
        "",
        f"{decision_summary(gdf, lang)}. {message('council_intro', lang, minimum=minimum)}",
        "",
    ]
    ready = decision_ready(gdf)
    rank = pd.to_numeric(gdf["rank"], errors="coerce").astype(float)
    order = np.lexsort((gdf["plot_id"].astype(str).to_numpy(), rank.fillna(np.inf).to_numpy()))
    rows = []
    for i in order.tolist():
        row = gdf.iloc[i]
        missing = missing_labels(row, crits)
        if not missing and ready.iloc[i]:
            continue
        cov = row.get("coverage")
        rows.append(
            "| "
            + " | ".join(
                [
                    "–" if np.isnan(rank.iloc[i]) else str(int(rank.iloc[i])),
                    _cell(plot_title(row)),
                    f"{format_number(100 * float(cov), lang, 0)} %" if pd.notna(cov) else "–",
                    t["yes"] if ready.iloc[i] else t["no"],
                    _cell(", ".join(missing) or "–"),
                ]
            )
            + " |"
        )
    if not rows:
        lines += [message("council_no_gaps", lang, total=len(gdf)), ""]
        return "\n".join(lines)
    header = [t["rank"], t["plot"], t["coverage"], message("decision_ready_label", lang)]
    lines += [
        message("council_gaps_heading", lang, n=len(rows), total=len(gdf)),
        "",
        "| " + " | ".join([*header, t["missing"]]) + " |",
        "|---:|---|---:|---|---|",
        *rows,
        "",
    ]
    return "\n".join(lines)


def export_council_text(
    scored: gpd.GeoDataFrame, path: str | os.PathLike[str], *, lang: str = "de"
) -> Path:
    """Write :func:`council_text` to ``path`` (UTF-8 Markdown, atomically)."""
    out = atomic_write_text(path, council_text(scored, lang=lang))
    logger.info("council text block written: %s", out)
    return out
