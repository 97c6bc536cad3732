"""`python -m scanner`: the same as the `aiscan` command."""

from scanner.cli.main import main

main()
