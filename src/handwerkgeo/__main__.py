"""``python -m handwerkgeo`` runs the command-line interface."""

from handwerkgeo.cli import main

main()
