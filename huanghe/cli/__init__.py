"""The `huanghe` command line (Typer + Rich): tables for people, --json for machines."""
