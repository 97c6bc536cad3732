"""Formats render a `ScanResult`; see `interface.py`."""
