"""The column table of ``plots check`` and ``score``: what of a listing was used, and what not.

Input column → canonical column → criteria it feeds; the carried columns; and every
criterion without data with its reason — including a column that held only unknown
values (the reader's ``report.columns["unknown"]``) — in German or English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo.criteria.registry import PLOT_COLUMN_CRITERIA
from handwerkgeo.messages import message, message_values

__all__ = ["column_table", "reject_lines", "run_info"]

_ROLE = {"plot_id": "columns_role_id", "name": "columns_role_name"}
_MAX_SHOWN = 5


def _label(config: Any, name: str, lang: str) -> str:
    crit = config.criteria.get(name)
    if crit is None:
        return name
    return str(crit.label_en if lang == "en" else crit.label_de)


def _values_text(values: list[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_SHOWN])
    return shown + (" …" if len(values) > _MAX_SHOWN else "")


def _only_unknown(info: Mapping[str, Any] | None) -> bool:
    return bool(info) and info["n_values"] > 0 and info["count"] == info["n_values"]  # type: ignore[index]


def _feeds(canon: str, config: Any, lang: str) -> str:
    if canon in _ROLE:
        return message(_ROLE[canon], lang)
    names = [n for n in PLOT_COLUMN_CRITERIA.get(canon, ()) if n in config.active_criteria()]
    if not names:
        return "—"
    return ", ".join(f"{_label(config, n, lang)} ({n})" for n in names)


def _engine_reason(name: str, run: Mapping[str, Any], lang: str) -> str:
    """The "no data" reason of the scored run, said in ``lang``."""
    text = str(run.get("missing_reasons", {}).get(name, ""))
    code = run.get("missing_codes", {}).get(name)
    if code and lang != "en":
        values = message_values(code, text, "en")
        if values is not None:
            return message(code, lang, **values)
    return text


def _no_data_reason(
    name: str, columns: Mapping[str, Any], run: Mapping[str, Any] | None, lang: str
) -> str | None:
    """Why criterion ``name`` has no data, or ``None`` when it has."""
    unknown = columns.get("unknown", {})
    for canon, crits in PLOT_COLUMN_CRITERIA.items():
        info = unknown.get(canon)
        if name in crits and _only_unknown(info):
            values = _values_text(info["values"])
            return message("columns_only_unknown", lang, header=info["header"], values=values)
    if run is None:
        return None
    if name in run.get("no_data", ()):
        return _engine_reason(name, run, lang)
    return None


def column_table(
    columns: Mapping[str, Any],
    config: Any,
    *,
    lang: str = "de",
    run: Mapping[str, Any] | None = None,
) -> list[str]:
    """The lines of the column table.

    Parameters
    ----------
    columns
        ``report.columns`` of the plot reader (``mapping``, ``carried``, ``unknown``).
    config
        The scoring configuration (its active criteria and their labels).
    run
        Of a scored run: ``no_data`` (criteria without any data), ``missing_reasons``
        (English) and ``missing_codes``; ``None`` for ``plots check`` (then only the
        criteria fed by listing columns are judged).
    """
    lines = [message("columns_title", lang)]
    unknown = columns.get("unknown", {})
    for canon, header in columns.get("mapping", {}).items():
        line = "  " + message(
            "columns_feeds",
            lang,
            header=header,
            column=canon,
            criteria=_feeds(canon, config, lang),
        )
        info = unknown.get(canon)
        if info and info["count"] and not _only_unknown(info):
            line += " — " + message(
                "columns_some_unknown",
                lang,
                count=info["count"],
                header=info["header"],
                values=_values_text(info["values"]),
            )
        lines.append(line)
    carried = columns.get("carried", [])
    lines.append(
        "  " + message("columns_carried", lang, headers=", ".join(carried) or message("none", lang))
    )
    missing = []
    for name in config.active_criteria():
        reason = _no_data_reason(name, columns, run, lang)
        if reason is None and run is None and _unmapped(name, columns):
            canon = next(c for c, crits in PLOT_COLUMN_CRITERIA.items() if name in crits)
            reason = message("missing_plot_column", lang, column=canon)
        if reason is not None:
            missing.append(f"  {_label(config, name, lang)} ({name}): {reason}")
    if missing:
        lines.append(message("columns_no_data_title", lang))
        lines += missing
    return lines


def _unmapped(name: str, columns: Mapping[str, Any]) -> bool:
    """A criterion fed only by a listing column that the listing does not have."""
    mapped = columns.get("mapping", {})
    feeding = [c for c, crits in PLOT_COLUMN_CRITERIA.items() if name in crits]
    return (
        bool(feeding)
        and name not in ("plot_size", "zoning", "brownfield")
        and not any(c in mapped for c in feeding)
    )


def run_info(scored: pd.DataFrame, raw_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``no_data``, ``missing_reasons`` and ``missing_codes`` of a scored run."""
    columns = scored.copy(deep=False)
    columns.attrs = {}  # pandas deep-copies the run attributes on every column taken
    no_data = [
        c.removeprefix("u_")
        for c in columns.columns
        if c.startswith("u_") and not np.isfinite(pd.to_numeric(columns[c], errors="coerce")).any()
    ]
    return {
        "no_data": no_data,
        "missing_reasons": dict(raw_attrs.get("missing_reasons", {})),
        "missing_codes": dict(raw_attrs.get("missing_codes", {})),
    }


def reject_lines(table: pd.DataFrame, *, limit: int = 50) -> list[str]:
    """One line per reject of a localised rejects table (first column: row/Zeile)."""
    cols = list(table.columns)
    out = []
    for rec in table.head(limit).itertuples(index=False):
        row, plot_id, reason, fix = rec[0], rec[1], rec[2], rec[3]
        ident = f" ({cols[1]} {plot_id!r})" if plot_id else ""
        out.append(f"  {cols[0]} {row}{ident}: {reason}")
        out.append(f"          → {fix}")
    if len(table) > limit:
        out.append(f"  … +{len(table) - limit}")
    return out
