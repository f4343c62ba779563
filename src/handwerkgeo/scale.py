"""Scale-out engine: score many plots on a Dask cluster with dask-geopandas.

The raw criteria of a plot depend only on that plot and the shared context (network,
stops, zoning layers), so they are computed per partition in parallel; the context is sent
to every worker once (:meth:`distributed.Client.scatter`). Ranks are global, so the raw
tables are gathered and :func:`handwerkgeo.scoring.score_raw` ranks them in one piece: the
result equals :func:`handwerkgeo.scoring.score_plots` on the whole frame.

Plots are sorted along a Hilbert curve before partitioning, so that each partition covers a
compact area (neighbouring plots snap to the same part of the network).

Run against an existing cluster (e.g. for every parcel of NRW) with
``scheduler="tcp://host:8786"``; the workers need handwerkgeo installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._options import merge_options
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import ConfigError, DuplicateIdError
from handwerkgeo.scorer import Scorer, with_plots

if TYPE_CHECKING:
    from typing import Unpack

    from distributed import Client

__all__ = [
    "DaskKwargs",
    "DaskOptions",
    "compute_raw_dask",
    "dask_client",
    "hilbert_order",
    "score_plots_dask",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DaskOptions:
    """Where and in how many pieces the Dask engine computes.

    Attributes
    ----------
    npartitions
        Number of partitions (default: 4 per worker, but no more than one per 1,000
        plots).
    workers
        Number of local workers (default: the number of CPUs); ignored with ``scheduler``.
    scheduler
        Address of an existing Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    processes
        Local workers as processes (default) or as threads of this process.
    """

    npartitions: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    processes: bool = True


class DaskKwargs(TypedDict, total=False):
    """The fields of :class:`DaskOptions` as keywords."""

    npartitions: int | None
    workers: int | None
    scheduler: str | None
    processes: bool


class _Shared:
    """Box for an object scattered to the workers (scatter would split a list or dict)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _raw_partition(
    part: gpd.GeoDataFrame,
    context: _Shared,
    config: _Shared,
    compute_raw: Callable[[gpd.GeoDataFrame, Any, Any], pd.DataFrame],
) -> pd.DataFrame:
    return compute_raw(part, context.value, config.value)


def hilbert_order(geoms: gpd.GeoSeries, *, level: int = 16) -> np.ndarray:
    """Positions that sort ``geoms`` along a Hilbert curve over their total bounds.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoSeries([Point(0, 0), Point(10, 10), Point(0, 1)])
    >>> hilbert_order(g).tolist()
    [0, 2, 1]
    """
    if len(geoms) == 0:
        return np.arange(0)
    dist = geoms.hilbert_distance(total_bounds=geoms.total_bounds, level=level)
    return np.argsort(dist.to_numpy(), kind="stable")


@contextlib.contextmanager
def dask_client(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    processes: bool = True,
) -> Iterator[Client]:
    """A :class:`distributed.Client`: on ``scheduler`` if given, else on a LocalCluster.

    Parameters
    ----------
    workers
        Number of local workers (default: the number of CPUs); ignored with ``scheduler``.
    scheduler
        Address of an existing scheduler, e.g. ``"tcp://10.0.0.5:8786"``. The cluster is
        not shut down afterwards.
    processes
        Local workers as processes (default) or as threads of this process (lighter;
        criteria code that holds the GIL then does not run in parallel).
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port; never clash with a running cluster
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def compute_raw_dask(
    plots: gpd.GeoDataFrame,
    config: Any,
    *,
    context: Any,
    scorer: Scorer | None = None,
    client: Client | None = None,
    options: DaskOptions | None = None,
    **kwargs: Unpack[DaskKwargs],
) -> pd.DataFrame:
    """Compute the raw criteria of ``plots`` on a Dask cluster.

    Parameters
    ----------
    plots
        Plots in EPSG:25832 with a unique index. Not modified.
    config
        Scoring configuration.
    context
        Scoring context; scattered to every worker once.
    scorer
        Scoring functions (:class:`handwerkgeo.scorer.Scorer`); ``None`` is
        :mod:`handwerkgeo.scoring`.
    client
        An existing client to use.
    options
        :class:`DaskOptions`; ``workers``, ``scheduler`` and ``processes`` are ignored when
        ``client`` is given.
    **kwargs
        Fields of :class:`DaskOptions` (``npartitions=``, ``workers=``, ``scheduler=``,
        ``processes=``), overriding ``options``.

    Returns
    -------
    pandas.DataFrame
        ``compute_raw``'s output for every plot, in the order of ``plots``.
    """
    import dask
    import dask_geopandas

    opts = merge_options(DaskOptions, options, kwargs, func="compute_raw_dask")
    sc = scorer if scorer is not None else Scorer.default()
    if sc.compute_raw is None:
        msg = "the Dask engine needs a scorer with compute_raw and score_raw"
        raise ConfigError(msg)
    check_crs(plots, name="plots")
    if not plots.index.is_unique:
        msg = "plots has a duplicate index; call plots.reset_index(drop=True) first"
        raise DuplicateIdError(msg)
    if len(plots) == 0:
        return sc.compute_raw(plots, context, config)
    if client is None:
        with dask_client(
            workers=opts.workers, scheduler=opts.scheduler, processes=opts.processes
        ) as c:
            return compute_raw_dask(
                plots, config, context=context, scorer=sc, client=c, options=opts
            )
    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    npartitions = opts.npartitions
    if npartitions is None:
        npartitions = max(1, min(4 * n_workers, len(plots) // 1000 or 1))
    npartitions = max(1, min(int(npartitions), len(plots)))
    ordered = plots.iloc[hilbert_order(plots.geometry)]
    # keep the pandas dtypes as they are (dask would turn strings into pyarrow strings)
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dask_geopandas.from_geopandas(ordered, npartitions=npartitions, sort=False)
    # hash=False: a fresh key per call. With the default content hash, two calls with the
    # same context share one key, and the release of the previous call's future (sent
    # asynchronously when it is garbage-collected) can make the scheduler forget the data
    # while this call's partitions still depend on it ("lost dependencies").
    shared = client.scatter([_Shared(context), _Shared(config)], broadcast=True, hash=False)
    shared_context, shared_config = shared
    try:
        tasks = [
            dask.delayed(_raw_partition)(part, shared_context, shared_config, sc.compute_raw)
            for part in ddf.to_delayed()
        ]
        logger.info(
            "computing criteria of %d plots in %d partitions on %d worker(s)",
            len(plots),
            len(tasks),
            n_workers,
        )
        futures = client.compute(tasks)
        try:
            parts = client.gather(futures)
        finally:
            for fut in futures:
                fut.release()
    finally:
        # the shared data lives until every partition has been gathered, then goes at once
        for fut in shared:
            fut.release()
    raw = pd.concat(parts)
    return raw.loc[plots.index]


def score_plots_dask(
    plots: gpd.GeoDataFrame,
    config: Any = None,
    *,
    context: Any = None,
    scorer: Scorer | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    options: DaskOptions | None = None,
    **kwargs: Unpack[DaskKwargs],
) -> gpd.GeoDataFrame:
    """Score plots on a Dask cluster; the result equals the single-process engine.

    Raw criteria are computed per spatially sorted partition on the workers; utilities,
    exclusions and the global ranks are computed on the gathered raw table.

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (output of :func:`handwerkgeo.sources.plots.read_plots`).
    config
        Scoring configuration; ``None`` is the packaged default.
    context
        Scoring context; ``None`` loads it once from ``data_dir``.
    scorer
        Scoring functions (:class:`handwerkgeo.scorer.Scorer`); ``None`` is
        :mod:`handwerkgeo.scoring`.
    data_dir
        Data directory for loading the context.
    options, **kwargs
        :class:`DaskOptions` and/or its fields as keywords (``npartitions=``,
        ``workers=``, ``scheduler=``, ``processes=``), see :func:`compute_raw_dask`.

    Returns
    -------
    geopandas.GeoDataFrame
        The scored frame (docs/design.md, "Scored frame").
    """
    opts = merge_options(DaskOptions, options, kwargs, func="score_plots_dask")
    sc = scorer if scorer is not None else Scorer.default()
    if sc.score_raw is None:
        msg = "the Dask engine needs a scorer with compute_raw and score_raw"
        raise ConfigError(msg)
    config = config if config is not None else sc.load_config(None)
    context = context if context is not None else sc.load_context(data_dir)
    raw = compute_raw_dask(plots, config, context=context, scorer=sc, options=opts)
    return sc.score_raw(with_plots(plots, raw), config)
