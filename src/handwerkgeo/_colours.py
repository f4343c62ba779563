"""The classed colour scale every output shares: maps, figures, profiles and QGIS styles.

Scores (0–100) fall into five classes on fixed breaks; utilities (0–1) use the same breaks
divided by 100. Excluded plots are grey, plots without data white, in every output.
"""

from __future__ import annotations

__all__ = ["CLASS_BREAKS", "CLASS_COLOURS", "COLOUR_EXCLUDED", "COLOUR_NO_DATA"]

#: Class breaks of the score (0–100); utilities (0–1) use the same breaks divided by 100.
CLASS_BREAKS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
#: Viridis sampled at the class centres: colour-blind safe and readable in greyscale.
CLASS_COLOURS = ("#482475", "#355f8d", "#21918c", "#44bf70", "#bddf26")
COLOUR_EXCLUDED = "#9e9e9e"
COLOUR_NO_DATA = "#ffffff"
