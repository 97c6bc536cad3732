"""Checks judge facts against the policy; see `interface.py`."""
