"""``python -m huanghe`` runs the CLI."""

from huanghe.cli.entry import main

main()
