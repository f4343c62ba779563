"""handwerkgeo: site scoring for Handwerkerhöfe in Düsseldorf."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from handwerkgeo import crs, errors, settings

try:
    __version__ = version("handwerkgeo")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__", "crs", "errors", "settings"]
