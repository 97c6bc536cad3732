"""`python -m scanner`: the same as the `aiscan` command."""

from scanner.cli.entry import run

run()
