"""Change reports of register runs: what changed since the previous run, as CSV and XLSX.

The engine computes a change table of *codes* (``new``, ``changed``, ``newly_excluded``,
``readmitted``, ``score``, ``rank``); headers, change labels, sheet and file names are
made in German or English by :func:`handwerkgeo.messages.message` (the ``register_*``
entries).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo._atomic import atomic_write_bytes
from handwerkgeo.errors import ConfigError
from handwerkgeo.messages import message
from handwerkgeo.register._state import plot_names, reader, run_rows, state_ranks
from handwerkgeo.register.storage import REJECT_COLS, Register, read_register, run_row
from handwerkgeo.spreadsheet import Sheet, csv_bytes, write_xlsx

__all__ = [
    "CHANGES",
    "REPORT_TOP_N",
    "change_table",
    "check_language",
    "write_change_report",
    "write_rejects_file",
]

logger = logging.getLogger(__name__)

#: Kinds of change, in the order they are listed in a row of the report.
CHANGES = ("new", "changed", "newly_excluded", "readmitted", "score", "rank")
#: Fields of the run shown on the report's run sheet.
_META_FIELDS = (
    "run_id", "kind", "started_at", "finished_at", "version", "config_hash",
    "n_plots", "n_scored", "n_new", "n_changed", "n_rejected", "previous_run_id",
    "n_rank_moved", "top_n",
)  # fmt: skip
#: Plots that only moved in rank (scored in an earlier run) are listed when ranked within
#: the first REPORT_TOP_N before or after the run; all of them are counted (n_rank_moved).
REPORT_TOP_N = 100


def check_language(language: str) -> str:
    """``language`` if it is ``"de"`` or ``"en"``.

    Raises
    ------
    ConfigError
        For any other language.
    """
    if language not in ("de", "en"):
        msg = f"language must be 'de' or 'en', not {language!r}"
        raise ConfigError(msg)
    return language


def _headers(columns: Any, lang: str) -> dict[str, str]:
    return {c: message(f"register_col_{c}", lang) for c in columns}


def _change_labels(codes: pd.Series, lang: str) -> pd.Series:
    sep = message("register_change_sep", lang)
    return codes.map(
        lambda s: sep.join(message(f"register_change_{x}", lang) for x in s.split(",") if x)
    )


def change_table(now: pd.DataFrame, prev: pd.DataFrame | None, plots: pd.DataFrame) -> pd.DataFrame:
    """One row per plot that changed since ``prev``: scores, ranks and change codes."""
    cur = now[["plot_id", "plot_version", "score_total", "rank", "excluded", "exclusion_reason"]]
    cur = cur.rename(
        columns={"score_total": "score_now", "rank": "rank_now", "excluded": "excluded_now"}
    )
    if prev is None or prev.empty:
        prev = pd.DataFrame(columns=["plot_id", "plot_version", "score_total", "rank", "excluded"])
    p = prev[["plot_id", "plot_version", "score_total", "rank", "excluded"]].rename(
        columns={
            "plot_version": "version_prev",
            "score_total": "score_prev",
            "rank": "rank_prev",
            "excluded": "excluded_prev",
        }
    )
    t = cur.merge(p, on="plot_id", how="left")
    t["rank_now"] = t["rank_now"].astype("Int64")
    t["rank_prev"] = t["rank_prev"].astype("Int64")
    t["score_delta"] = t["score_now"] - t["score_prev"].astype(float)
    t["rank_move"] = t["rank_prev"] - t["rank_now"]
    ex_prev = t["excluded_prev"].astype("boolean")
    ex_now = t["excluded_now"].astype(bool)
    new = t["version_prev"].isna().to_numpy()
    changed = ~new & (t["version_prev"].astype("Int64") != t["plot_version"]).fillna(False)
    was_ex = ex_prev.fillna(False).to_numpy(dtype=bool)
    is_ex = ex_now.to_numpy(dtype=bool)
    flags = {  # in the order of CHANGES
        "new": new,
        "changed": changed.to_numpy(dtype=bool),
        "newly_excluded": ~new & is_ex & ~was_ex,
        "readmitted": ~new & ~is_ex & was_ex,
        "score": ~new & (t["score_delta"].abs() > 1e-9).fillna(False).to_numpy(dtype=bool),
        "rank": ~new & (t["rank_move"].fillna(0) != 0).to_numpy(dtype=bool),
    }
    names = list(flags)
    matrix = np.column_stack([flags[k] for k in names])
    labels = [",".join(n for n, f in zip(names, row, strict=True) if f) for row in matrix]
    t["change"] = labels
    t["excluded_prev"] = ex_prev
    if "name" in plots.columns:
        plot_names = plots.drop_duplicates("plot_id", keep="last").set_index("plot_id")["name"]
        t.insert(1, "name", t["plot_id"].map(plot_names))
    t = t.loc[t["change"] != ""]
    order = ["plot_id", *(["name"] if "name" in t.columns else []), "change", "score_prev"]
    order += ["score_now", "score_delta", "rank_prev", "rank_now", "rank_move"]
    order += ["excluded_prev", "excluded_now", "exclusion_reason"]
    t = t[order].sort_values(["rank_now", "plot_id"], na_position="last", kind="stable")
    return t.reset_index(drop=True)


def _changes(
    reg: Register, run: pd.Series, previous: pd.DataFrame | None, current: pd.DataFrame | None
) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """Change table of a run, how many plots moved in rank, and the run's rejects.

    Reads the rows the run stored, the rows of the same plots before it, and the ranks
    before and after (three columns per plot, ranked in SQL) — not every plot's scores.
    """
    seq = int(run["seq"])
    with reader(reg) as con:
        stored = run_rows(con, seq)
        now_all = state_ranks(con, seq) if current is None else current
        if previous is None:
            previous = state_ranks(con, seq - 1) if seq > 1 else now_all.iloc[0:0]
        prev_all = previous
        rejects = read_register(reg, layers=("rejects",), run_id=str(run["run_id"]))["rejects"]
        moved = now_all.merge(prev_all[["plot_id", "rank"]], on="plot_id", suffixes=("", "_p"))
        differs = (moved["rank"] != moved["rank_p"]).fillna(
            moved["rank"].isna() != moved["rank_p"].isna()
        )
        top = (moved["rank"] <= REPORT_TOP_N).fillna(False) | (
            moved["rank_p"] <= REPORT_TOP_N
        ).fillna(False)
        ids = sorted(set(stored["plot_id"]) | set(moved.loc[differs & top, "plot_id"]))
        names = plot_names(con, ids)
    now = now_all.loc[now_all["plot_id"].isin(ids)]
    prev = prev_all.loc[prev_all["plot_id"].isin(ids)]
    plots = (
        pd.DataFrame({"plot_id": names.index, "name": names.to_numpy()})
        if len(names)
        else (pd.DataFrame({"plot_id": []}))
    )
    return change_table(now, prev if seq > 1 else None, plots), int(differs.sum()), rejects


def write_change_report(
    register: str | os.PathLike[str] | Register,
    run_id: str,
    *,
    language: str = "de",
    rejects: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    current: pd.DataFrame | None = None,
) -> Path:
    """Write the change report of a run as CSV and XLSX into ``<register>.reports/<run_id>/``.

    The report lists every plot the run scored that is new, changed, changed its score, or
    was newly excluded (or readmitted) compared with the previous run, the plots that only
    moved in rank when ranked within the first :data:`REPORT_TOP_N` before or after (all
    plots that moved are counted on the run sheet, ``n_rank_moved``), plus the run's
    rejects — what changed, not every plot. German headers by default (CSV with ``;`` and
    decimal comma, UTF-8 with BOM, as German Excel expects); ``language="en"`` gives English
    headers and plain CSV. The report is derived from the register and can be written again
    at any time.

    ``previous`` and ``current`` (the ranks before and after the run, as the run computed
    them; only for the latest run) save reading them from the register.

    Returns
    -------
    pathlib.Path
        The run's reports directory (``aenderungen.csv``, ``aenderungen.xlsx``,
        ``abgelehnt.csv``; English names with ``language="en"``).
    """
    lang = check_language(language)
    reg = Register.at(register)
    runs = read_register(reg, layers=("runs",))["runs"]
    run = run_row(runs, run_id, reg.path)
    table, n_moved, run_rejects = _changes(reg, run, previous, current)
    run = pd.concat([run, pd.Series({"n_rank_moved": n_moved, "top_n": REPORT_TOP_N})])
    rej = run_rejects if rejects is None else rejects
    rej = rej[[c for c in REJECT_COLS if c in rej.columns]]
    de = lang == "de"
    for c in ("score_prev", "score_now", "score_delta"):
        table[c] = table[c].astype(float).round(2)
    if de:  # English keeps the flags as booleans
        yes_no = {True: message("register_yes", lang), False: message("register_no", lang)}
        for c in ("excluded_prev", "excluded_now"):
            table[c] = table[c].map(lambda v: yes_no.get(v, "") if pd.notna(v) else "")
    table["change"] = _change_labels(table["change"], lang)
    table = table.rename(columns=_headers(table.columns, lang))
    rej = rej.rename(columns=_headers(rej.columns, lang))
    # ids, names and reasons come from the listing: never let a spreadsheet evaluate them
    # (openpyxl even stores a text starting with "=" as a formula); CSV through the csv
    # module, so a CR or LF inside a name never splits a row
    out = reg.reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    stem, rstem = message("register_file_changes", lang), message("register_file_rejects", lang)
    atomic_write_bytes(out / f"{stem}.csv", csv_bytes(table, german=de))
    atomic_write_bytes(out / f"{rstem}.csv", csv_bytes(rej, german=de))
    meta = pd.DataFrame(
        {
            message("register_meta_field", lang): list(_META_FIELDS),
            message("register_meta_value", lang): [str(run[k]) for k in _META_FIELDS],
        }
    )
    # every sheet prints: A4 landscape, one page wide, header repeated, frozen, filtered
    write_xlsx(
        out / f"{stem}.xlsx",
        [
            Sheet(message("register_sheet_changes", lang), table, key_columns=1),
            Sheet(message("register_sheet_rejects", lang), rej),
            Sheet(message("register_sheet_run", lang), meta),
        ],
    )
    logger.info("change report of run %s written to %s", run_id, out)
    return out


def write_rejects_file(
    register: str | os.PathLike[str] | Register,
    rejects: pd.DataFrame,
    *,
    stamp: str,
    language: str = "de",
) -> Path:
    """Write the rejects of a listing that recorded no run beside the register.

    A listing whose rows are all rejected (or whose usable rows are all unchanged) records
    no run, so its rejects cannot go into the register's ``rejects`` layer; they are written
    to ``<register>.reports/abgelehnt-<stamp>.csv`` (``rejects-<stamp>.csv`` in English),
    safe for spreadsheets like every table of the package.

    Returns
    -------
    pathlib.Path
        The CSV file written.
    """
    lang = check_language(language)
    reg = Register.at(register)
    rej = rejects[[c for c in REJECT_COLS if c in rejects.columns]]
    rej = rej.rename(columns=_headers(rej.columns, lang))
    name = f"{message('register_file_rejects', lang)}-{stamp}.csv"
    path = atomic_write_bytes(reg.reports_dir / name, csv_bytes(rej, german=lang == "de"))
    logger.info("%d rejected row(s) written to %s", len(rej), path)
    return path
