"""Runs of the site register: add a listing, or re-score every plot.

:func:`add_plots` and :func:`rescore` record one run each (see :mod:`handwerkgeo.register`
for the layers). What a run did comes back as a :class:`RunReport` of counts and a
message *code*; its sentence is made by :func:`handwerkgeo.messages.message`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import geopandas as gpd
import pandas as pd

from handwerkgeo._atomic import clean_stale_temps
from handwerkgeo._io import now_iso
from handwerkgeo._options import merge_options
from handwerkgeo.errors import (
    AllRowsRejectedError,
    ConfigError,
    RegisterDiskFullError,
    StaleRegisterError,
    ValidationError,
)
from handwerkgeo.messages import message
from handwerkgeo.register._fs import check_writable, disk_full_guard, is_disk_full
from handwerkgeo.register._state import (
    RunWrite,
    current_hashes,
    reader,
    scored_versions,
    state_ranks,
    write_run,
)
from handwerkgeo.register.incremental import (
    Changes,
    Engine,
    Scored,
    listing_reader,
    score_changes,
    score_columns,
)
from handwerkgeo.register.listing import (
    attr_hashes,
    classify,
    data_checksums,
    geom_hashes,
    new_versions,
    read_listing,
    rejects_frame,
)
from handwerkgeo.register.replay import package_version, read_run
from handwerkgeo.register.reports import (
    check_language,
    write_change_report,
    write_rejects_file,
)
from handwerkgeo.register.storage import (
    PLOT_META,
    REJECT_COLS,
    RUN_COLS,
    Register,
    check_register,
    empty_frame,
    init_register,
    pause_point,
    read_register,
    register_lock,
)
from handwerkgeo.scale import DaskOptions
from handwerkgeo.scorer import ScorerLike, resolve_scorer
from handwerkgeo.sources.plots import PlotReaderOptions

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "RunKwargs",
    "RunOptions",
    "RunReport",
    "StaleRegisterError",
    "add_plots",
    "rescore",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """How a register run reads its listing, waits, computes and reports.

    Attributes
    ----------
    id_col, crs
        Passed to the plots reader: id column and the CRS of files without one.
    reader
        The other options of the plots reader
        (:class:`~handwerkgeo.sources.plots.PlotReaderOptions`: sheet, column mapping,
        separator, encoding, vocabulary …); ``id_col`` and ``crs`` override its fields.
    rescore_if_stale
        When the configuration or the data changed since the latest run, re-score every
        plot in this run instead of raising :class:`StaleRegisterError`.
    wait_s
        Seconds to wait for another writer (0: fail at once).
    engine, workers, scheduler, npartitions
        ``"dask"`` computes criteria with :func:`handwerkgeo.scale.compute_raw_dask`.
    language
        Headers of the change report: ``"de"`` (default) or ``"en"``.
    make_map
        Also write an offline map of the run (``karte.html`` in the reports directory).
    """

    id_col: str | None = None
    crs: object | None = None
    reader: PlotReaderOptions | None = None
    rescore_if_stale: bool = False
    wait_s: float = 0
    engine: Literal["single", "dask"] = "single"
    workers: int | None = None
    scheduler: str | None = None
    npartitions: int | None = None
    language: str = "de"
    make_map: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ("single", "dask"):
            msg = f"engine must be 'single' or 'dask', not {self.engine!r}"
            raise ConfigError(msg)
        check_language(self.language)

    @property
    def dask(self) -> DaskOptions:
        """The options of the Dask engine."""
        return DaskOptions(
            npartitions=self.npartitions, workers=self.workers, scheduler=self.scheduler
        )


class RunKwargs(TypedDict, total=False):
    """The fields of :class:`RunOptions` as keywords of :func:`add_plots` / :func:`rescore`."""

    id_col: str | None
    crs: object | None
    reader: PlotReaderOptions | None
    rescore_if_stale: bool
    wait_s: float
    engine: Literal["single", "dask"]
    workers: int | None
    scheduler: str | None
    npartitions: int | None
    language: str
    make_map: bool


@dataclass(frozen=True, eq=False)
class RunReport:
    """What a run did. ``run_id`` is ``None`` for a no-op (nothing new; nothing recorded).

    ``code`` and ``values`` say it for :func:`handwerkgeo.messages.message`; ``message`` is
    that sentence in English (:meth:`text` gives it in another language).
    """

    register: Path
    kind: Literal["add", "rescore"]
    run_id: str | None
    n_plots: int = 0
    n_scored: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    rejects: pd.DataFrame = field(default_factory=lambda: empty_frame(REJECT_COLS))
    reports_dir: Path | None = None
    map_path: Path | None = None
    rejects_file: Path | None = None
    message: str = ""
    code: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def no_op(self) -> bool:
        """True when the run changed nothing and recorded nothing."""
        return self.run_id is None

    def text(self, lang: str = "en") -> str:
        """The run's sentence in ``lang`` (``"de"`` or ``"en"``)."""
        return message(self.code, lang, **self.values) if self.code else self.message


def _new_run_id() -> str:
    stamp = now_iso().replace("-", "").replace(":", "")
    return f"{stamp}-{secrets.token_hex(3)}"


# --- one run, step by step -------------------------------------------------------------------


@dataclass
class _Listing:
    """A validated listing: registrable plots (with hashes), rejects, its name and sha256."""

    good: gpd.GeoDataFrame | None
    rejects: pd.DataFrame
    source: str = ""
    sha256: str = ""
    input_file: str = ""


@dataclass
class _Plan:
    """What a run writes: the new plot versions, the counts and the ids they replace."""

    new_rows: gpd.GeoDataFrame | None
    rejects: pd.DataFrame
    changed_ids: set[str] = field(default_factory=set)
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_dup: int = 0


def _read_listing(
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame | None, opts: RunOptions, eng: Engine
) -> _Listing:
    if new_plots is None:
        return _Listing(None, rejects_frame([]))
    rd = (
        opts.reader if isinstance(new_plots, gpd.GeoDataFrame) else listing_reader(eng, opts.reader)
    )
    good, rejects, source, sha = read_listing(
        new_plots, id_col=opts.id_col, crs=opts.crs, reader=rd
    )
    clash = sorted(set(good.columns) & set(PLOT_META))
    if clash:
        msg = (
            f"column(s) {', '.join(clash)} are reserved by the site register; rename them "
            "in the input"
        )
        raise ValidationError(source, [msg])
    good = good.assign(geom_hash=geom_hashes(good.geometry))
    good["attr_hash"] = attr_hashes(good.drop(columns=["_row", "geom_hash"]))
    input_file = str(new_plots) if isinstance(new_plots, str | os.PathLike) else source
    return _Listing(good, rejects, source, sha, input_file)


def _stale_message(reg: Register, latest: pd.Series, config: Any, checksums: str) -> str:
    what = []
    if latest["config_hash"] != config.hash:
        what.append(
            f"the configuration changed (hash {config.hash[:12]} now, "
            f"{str(latest['config_hash'])[:12]} in run {latest['run_id']})"
        )
    if latest["data_checksums"] != checksums:
        what.append("the input data files changed since the latest run")
    return (
        f"cannot add plots to {reg.label} incrementally: {' and '.join(what)}, so "
        "new scores would not be comparable with the stored ones. Run "
        f"`handwerkgeo register rescore --register {reg.label}` first, or add with "
        "--rescore (rescore_if_stale=True) to re-score every plot in this run."
    )


def _plan(reg: Register, listing: _Listing, current: pd.DataFrame, started: str) -> _Plan:
    """Classify the listing against the current versions; the new versions to write."""
    if listing.good is None:
        if current.empty:
            msg = (
                f"the site register {reg.label} holds no plots; add some first with "
                f"handwerkgeo register add PLOTS --register {reg.label}"
            )
            raise ValidationError(str(reg.path), [msg])
        return _Plan(None, listing.rejects)
    # only the registered plots the listing can touch: same id or same geometry
    near = current["plot_id"].isin(listing.good["plot_id"]) | current["geom_hash"].isin(
        listing.good["geom_hash"]
    )
    current = current.loc[near.to_numpy()]
    good, dup_rejects, classes = classify(listing.good, current, listing.source)
    n_new, n_changed, n_unchanged = (int((classes == k).sum()) for k in ("new", "changed", "same"))
    fresh = classes.isin(["new", "changed"]).to_numpy()
    changed_ids = set(good.loc[fresh, "plot_id"])
    new_rows = (
        new_versions(current, good.loc[fresh], started, listing.source) if changed_ids else None
    )
    return _Plan(
        new_rows,
        pd.concat([listing.rejects, dup_rejects], ignore_index=True),
        changed_ids,
        n_new,
        n_changed,
        n_unchanged,
        len(dup_rejects),
    )


def _rejects_file(reg: Register, rejects: pd.DataFrame, lang: str) -> Path:
    stamp = now_iso().replace("-", "").replace(":", "")
    return write_rejects_file(reg, rejects, stamp=stamp, language=lang)


def _all_rejected(reg: Register, listing: _Listing, lang: str) -> None:
    """No usable row: write the rejects beside the register (untouched) and fail."""
    if not reg.url:
        check_writable(reg.path)
    rejects_file = _rejects_file(reg, listing.rejects, lang)
    n = len(listing.rejects)
    problems = [
        f"none of its {n} row(s) can be used, so nothing was recorded in {reg.label}; every "
        f"row with its reason is in {rejects_file}. Fix the rows and add the file again"
    ]
    problems += [
        f"row {'?' if pd.isna(r.row) else r.row}, plot {r.plot_id}: {r.reason}"
        for r in listing.rejects.head(20).itertuples()
    ]
    if n > 20:
        problems.append(f"… and {n - 20} more in {rejects_file}")
    raise AllRowsRejectedError(listing.source, problems, rejects=listing.rejects)


def _no_op(
    reg: Register, kind: Literal["add", "rescore"], source: str, plan: _Plan, lang: str
) -> RunReport:
    """Nothing new to record; the rejects, if any, go to a file beside the register."""
    rejects_file = _rejects_file(reg, plan.rejects, lang) if len(plan.rejects) else None
    values = {"source": source, "n_unchanged": plan.n_unchanged, "n_rejected": len(plan.rejects)}
    text = message("register_nothing_new", "en", **values)
    logger.info(text)
    return RunReport(
        reg.path, kind, None, n_unchanged=plan.n_unchanged, n_rejected=len(plan.rejects),
        n_duplicates=plan.n_dup, rejects=plan.rejects, message=text,
        code="register_nothing_new", values=values, rejects_file=rejects_file,
    )  # fmt: skip


def _run_record(run_id: str, kind: str, runs: pd.DataFrame, **values: Any) -> dict[str, Any]:
    """The row of the ``runs`` layer, with ``seq`` and ``previous_run_id`` from ``runs``."""
    latest = runs.iloc[-1] if len(runs) else None
    row = {c: "" for c in RUN_COLS} | values
    row |= {
        "run_id": run_id,
        "seq": int(runs["seq"].max()) + 1 if len(runs) else 1,
        "kind": kind,
        "finished_at": "",
        "version": package_version(),
        "previous_run_id": "" if latest is None else str(latest["run_id"]),
    }
    return row


def _engine(
    config: Any, context: Any, scorer: ScorerLike, data_dir: str | os.PathLike[str] | None
) -> Engine:
    sc = resolve_scorer(scorer)
    cfg = config if config is not None else sc.load_config(None)
    cache: dict[str, Any] = {}

    def context_fn() -> Any:
        if context is not None:
            return context
        if "ctx" not in cache:
            cache["ctx"] = sc.load_context(data_dir)
        return cache["ctx"]

    checksums = json.dumps(data_checksums(data_dir), sort_keys=True)
    return Engine(sc, cfg, context_fn, checksums, data_dir=data_dir, own_context=context is None)


def _score_rows(sc: Scored, run_id: str, seq: int, versions: pd.DataFrame) -> pd.DataFrame:
    """The rows of the ``scores`` table of a run: its scored plots."""
    cols = score_columns(sc.frame, sc.plot_cols)
    scores = pd.DataFrame(sc.frame[cols]).reset_index(drop=True)
    scores.insert(0, "run_id", run_id)
    scores.insert(1, "run_seq", seq)
    vmap = versions.drop_duplicates("plot_id", keep="last").set_index("plot_id")["plot_version"]
    scores.insert(3, "plot_version", vmap.loc[scores["plot_id"]].to_numpy().astype("int64"))
    return scores


def _run(
    reg: Register,
    kind: Literal["add", "rescore"],
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    eng: Engine,
    opts: RunOptions,
) -> RunReport:
    config = eng.config
    listing = _read_listing(new_plots, opts, eng)
    if listing.good is not None and listing.good.empty and len(listing.rejects):
        _all_rejected(reg, listing, opts.language)
    if not reg.exists():
        init_register(reg)
    with register_lock(reg, wait_s=opts.wait_s):
        if not reg.url:
            clean_stale_temps(reg.path)  # copies left by killed writers of older versions
        pause_point("locked")
        check_register(reg)  # also rolls back what a killed writer left
        started = now_iso(timespec="milliseconds")
        runs = read_register(reg, layers=("runs",))["runs"]
        with reader(reg) as con:
            good = listing.good
            current = (
                current_hashes(con)
                if good is None
                else current_hashes(con, ids=good["plot_id"], geom_hashes=good["geom_hash"])
            )
            before = state_ranks(con, int(runs["seq"].max())) if len(runs) else None
        latest = runs.iloc[-1] if len(runs) else None
        stale = latest is not None and (
            latest["config_hash"] != config.hash or latest["data_checksums"] != eng.checksums
        )
        plan = _plan(reg, listing, current, started)
        if listing.good is not None and not plan.changed_ids:
            return _no_op(reg, kind, listing.source, plan, opts.language)
        if listing.good is not None and latest is not None and stale and not opts.rescore_if_stale:
            raise StaleRegisterError(_stale_message(reg, latest, config, eng.checksums))
        incremental = kind == "add" and latest is not None and not stale
        changes = Changes(
            plan.new_rows, plan.changed_ids, current,
            int(latest["seq"]) if incremental and latest is not None else None, before,
        )  # fmt: skip
        eng = dataclasses.replace(eng, engine=opts.engine, dask=opts.dask)
        sc = score_changes(reg, eng, changes)
        run_id = _new_run_id()
        record = _run_record(
            run_id, kind, runs, started_at=started, config_hash=config.hash,
            config_yaml=config.to_yaml(), engine=opts.engine, n_plots=sc.n_plots,
            n_scored=len(sc.frame), n_new=plan.n_new, n_changed=plan.n_changed,
            n_unchanged=plan.n_unchanged, n_rejected=len(plan.rejects),
            n_duplicates=plan.n_dup, input_file=listing.input_file,
            input_sha256=listing.sha256, data_checksums=eng.checksums,
        )  # fmt: skip
        versions = scored_versions(reg, current, plan.new_rows, sc.frame["plot_id"])
        scores = _score_rows(sc, run_id, int(record["seq"]), versions)
        score_cols = [c for c in scores.columns if c not in ("run_id", "run_seq", "plot_version")]
        record["score_columns"] = json.dumps([c for c in score_cols if c != "plot_id"])
        record["n_stored"] = len(scores)
        rej = plan.rejects.copy()
        rej.insert(0, "run_id", run_id)
        registered = current["plot_id"].isin(list(plan.changed_ids)).to_numpy()
        close = sorted(str(i) for i in current.loc[registered, "plot_id"])
        with contextlib.nullcontext() if reg.url else disk_full_guard(reg.path):
            write_run(reg, RunWrite(close, plan.new_rows, scores, rej, record, started))
        n_scored = len(sc.frame)
        logger.info(
            "%s run %s: %d plots ranked, %d scored, %d new, %d changed, %d rejected",
            kind, run_id, sc.n_plots, n_scored, plan.n_new, plan.n_changed, len(plan.rejects),
        )  # fmt: skip
    try:
        reports_dir = write_change_report(
            reg, run_id, language=opts.language, rejects=rej, previous=before, current=sc.after
        )
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        msg = (
            f"run {run_id} was recorded in {reg.label}, but its change report could not be "
            f"written to {reg.reports_dir / run_id}: no space left on the device. Free some "
            "space and write it with handwerkgeo.register.write_change_report"
            f"({str(reg.path)!r}, {run_id!r})."
        )
        raise RegisterDiskFullError(msg) from exc
    map_path = None
    if opts.make_map:
        from handwerkgeo.export.outputs import OutputOptions, OutputPaths, export_outputs

        map_path = reports_dir / "karte.html"  # the same outputs as `handwerkgeo map`
        export_outputs(
            read_run(reg, run_id), OutputPaths(map=map_path), OutputOptions(lang=opts.language),
            context=eng.context_fn(),
        )  # fmt: skip
    values = {"run_id": run_id, "n_plots": sc.n_plots, "n_scored": n_scored}
    return RunReport(
        reg.path, kind, run_id, n_plots=sc.n_plots, n_scored=n_scored, n_new=plan.n_new,
        n_changed=plan.n_changed, n_unchanged=plan.n_unchanged, n_rejected=len(plan.rejects),
        n_duplicates=plan.n_dup, rejects=plan.rejects, reports_dir=reports_dir,
        map_path=map_path, message=message("register_run_done", "en", **values),
        code="register_run_done", values=values,
    )  # fmt: skip


# --- the public runs -------------------------------------------------------------------------


def add_plots(
    register: str | os.PathLike[str] | Register,
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    config: Any = None,
    context: Any = None,
    scorer: ScorerLike = None,
    data_dir: str | os.PathLike[str] | None = None,
    options: RunOptions | None = None,
    **kwargs: Unpack[RunKwargs],
) -> RunReport:
    """Register a listing of plots and score the new and changed ones.

    The listing is validated (files with :func:`handwerkgeo.sources.plots.read_plots`,
    ``on_invalid="reject"``); invalid rows, rows whose ``plot_id`` occurs more than once,
    and plots whose geometry equals another plot's (same ``geom_hash``) are not registered
    but recorded in ``rejects`` with a reason. A plot id not yet registered is *new*; a
    registered id with another geometry or other attributes is *changed* (a new version;
    ``last_changed`` set, the old version kept with ``active`` false); otherwise it is
    unchanged. Criteria are computed only for new and changed plots when the configuration
    hash and the data checksums equal those of the latest run; every plot is then ranked
    again globally. If nothing is new or changed the call is a no-op and records nothing;
    its rejects, if any, are written to ``<register>.reports/abgelehnt-<time>.csv``
    (:attr:`RunReport.rejects_file`). A listing without a single usable row raises
    :class:`~handwerkgeo.errors.AllRowsRejectedError` after writing that file.

    Parameters
    ----------
    register
        Path of the register (symlinks are followed: the real file is locked and
        replaced); created when missing, but its folder must exist.
    new_plots
        Plots file (any format :func:`read_plots` reads) or a GeoDataFrame with ``plot_id``
        (or ``id_col``).
    config
        Scoring configuration (``.hash``, ``.to_yaml()``); ``None`` is the packaged default.
    context
        Scoring context; ``None`` loads it from ``data_dir`` when something is scored.
    scorer
        The scoring engine (see :class:`handwerkgeo.scorer.Scorer`); ``None`` is
        :mod:`handwerkgeo.scoring`.
    data_dir
        Data directory whose ``raw`` files are checksummed (see :func:`data_checksums`).
    options
        :class:`RunOptions` (id column, CRS, ``rescore_if_stale``, ``wait_s``, engine,
        language, map).
    **kwargs
        Fields of :class:`RunOptions` as keywords (``id_col=``, ``crs=``,
        ``rescore_if_stale=``, ``wait_s=``, ``engine=``, ``workers=``, ``scheduler=``,
        ``npartitions=``, ``language=``, ``make_map=``), overriding ``options``.

    Returns
    -------
    RunReport

    Raises
    ------
    AllRowsRejectedError
        If no row of the listing can be used (nothing recorded; rejects written beside).
    RegisterReadOnlyError, RegisterFolderMissingError, RegisterDiskFullError
        If the register cannot be written (checked before any work; a full disk during
        the write leaves the register unchanged).
    StaleRegisterError
        If the configuration or the data changed and ``rescore_if_stale`` is false.
    RegisterLockedError
        If another process writes the register for longer than ``wait_s``.
    ConfigError
        For an unknown keyword option.
    """
    opts = merge_options(RunOptions, options, kwargs, func="add_plots")
    eng = _engine(config, context, scorer, data_dir)
    return _run(Register.at(register), "add", new_plots, eng, opts)


#: Options of :func:`add_plots` that do not apply to :func:`rescore`.
_ADD_ONLY = ("id_col", "crs", "reader", "rescore_if_stale")


def rescore(
    register: str | os.PathLike[str] | Register,
    *,
    config: Any = None,
    context: Any = None,
    scorer: ScorerLike = None,
    data_dir: str | os.PathLike[str] | None = None,
    options: RunOptions | None = None,
    **kwargs: Unpack[RunKwargs],
) -> RunReport:
    """Score every active plot of the register again and record a ``rescore`` run.

    Use it after changing the configuration or fetching new data. Unlike :func:`add_plots`
    it always records a run (an explicit request, e.g. after a software update); with the
    same configuration and data the scores equal those of the previous run.

    Parameters are those of :func:`add_plots` (without ``id_col``, ``crs`` and
    ``rescore_if_stale``, which concern a listing).

    Returns
    -------
    RunReport
    """
    wrong = [k for k in kwargs if k in _ADD_ONLY]
    if wrong:
        msg = f"rescore() has no option {', '.join(wrong)} (it reads no listing)"
        raise ConfigError(msg)
    opts = merge_options(RunOptions, options, kwargs, func="rescore")
    opts = dataclasses.replace(opts, id_col=None, crs=None, reader=None, rescore_if_stale=True)
    reg = Register.at(register)
    check_register(reg)
    eng = _engine(config, context, scorer, data_dir)
    return _run(reg, "rescore", None, eng, opts)
