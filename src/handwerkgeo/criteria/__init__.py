"""Scoring criteria: one function per criterion, one registry, the measures they use.

- :mod:`~handwerkgeo.criteria.base`: the contract (``CriterionResult``, ``PlotInputs``,
  ``CriterionSpec``);
- :mod:`~handwerkgeo.criteria.builtin`: the built-in criteria, ``(plots, context, crit)
  -> CriterionResult``;
- :mod:`~handwerkgeo.criteria.generic`: criteria defined in the configuration alone
  (``kind: network_distance | count_within | overlap_share | attribute``);
- :mod:`~handwerkgeo.criteria.registry`: the one table, name → entry;
- the measures, each ``plots -> Series/DataFrame on plots.index``:
  :mod:`~handwerkgeo.criteria.geometry`, :mod:`~handwerkgeo.criteria.zoning`,
  :mod:`~handwerkgeo.criteria.accessibility`, :mod:`~handwerkgeo.criteria.mix`.
"""
