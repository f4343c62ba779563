"""Walking-network distances from many plots to sets of targets, in one batch per target set.

A :class:`Network` is an immutable, array-based copy of a street graph: node coordinates in
EPSG:25832, a symmetric sparse matrix of edge lengths in metres, and a KD-tree of the nodes.
:func:`prepare_network` builds it from any osmnx-compatible graph (e.g.
:func:`handwerkgeo.sources.osm.graph_from_ways`).

How a distance is measured
--------------------------
Every origin (plot) and every target (stop, motorway junction, …) is *snapped* to its
nearest network node by straight line (:func:`snap`): points as they are, polygons and
lines from their representative point (:meth:`shapely.Geometry.representative_point`, a
point guaranteed to lie on the geometry; a centroid can fall outside an L-shaped plot).
The distance between an origin ``o`` and a target ``t`` is then::

    snap(o) + network distance(node(o), node(t)) + snap(t)

Origins or targets farther than ``max_snap_m`` from the network are not routed; for them
the straight-line distance × ``circuity`` is used and the result row is flagged
``fallback=True``. An origin's result uses a straight line when the origin is off the
network, when an off-network target (at straight line × circuity) is nearer than every
target reached over the network, or when no on-network target can be reached; the flag
says so for every row. Results never mix the two silently.

All searches start at the *targets*, never one search per plot, and compute node-level
*fields* (:mod:`~handwerkgeo.network.fields`): per network node the nearest target, the
``k`` nearest, the targets within a radius. Their cost depends on the network and the
targets, not on the number of plots; a plot then costs a snap, a lookup and its own
snapping distance. Target snapping distances enter the searches exactly (a search starts
at the target's node with its snapping distance). :func:`nearest` is one
:func:`scipy.sparse.csgraph.dijkstra` ``min_only`` search; :func:`k_nearest` one k-label
multi-source Dijkstra; :func:`count_within` and :func:`pairs_within` one limited search per
distinct target location (compiled kernels, :mod:`~handwerkgeo.network._kernels`), counting
at every node for origins at a node (over the junctions of the network only, with the
chains of degree-2 nodes between them found from their ends:
:mod:`~handwerkgeo.network._junctions`) and listing the (node, target, distance) triples of
the other origins' nodes. Fields are memoised on the network; :func:`prepare_fields`
computes them ahead (the prepared scoring context stores them on disk).
:func:`multi_measure` computes all four with one snapping (same results).

Modules: :mod:`~handwerkgeo.network.graph` (the :class:`Network`, :func:`prepare_network`),
:mod:`~handwerkgeo.network.snapping` (:func:`snap`), :mod:`~handwerkgeo.network.measures`
(the searches), :mod:`~handwerkgeo.network.fields` (the node fields). Every public name
is importable from ``handwerkgeo.network``.

Distances are undirected: one-way streets are walked both ways. For a drive network (e.g.
access to motorway junctions) this ignores one-way restrictions, which is a fair
approximation of access distances but not of driving routes.
"""

from handwerkgeo.network.graph import Network, prepare_network
from handwerkgeo.network.measures import (
    MeasureKwargs,
    MeasureOptions,
    Measures,
    count_within,
    k_nearest,
    multi_measure,
    nearest,
    pairs_within,
    prepare_fields,
)
from handwerkgeo.network.snapping import Geoms, snap

__all__ = [
    "Geoms",
    "MeasureKwargs",
    "MeasureOptions",
    "Measures",
    "Network",
    "count_within",
    "k_nearest",
    "multi_measure",
    "nearest",
    "pairs_within",
    "prepare_fields",
    "prepare_network",
    "snap",
]
