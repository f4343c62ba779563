"""Readers for every data source; each returns frames in EPSG:25832 with English columns."""
