"""`python -m lessons.cli` runs the command line."""

from lessons.cli import main

main()
