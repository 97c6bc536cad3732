"""Sources gather facts about components; see `interface.py`."""
