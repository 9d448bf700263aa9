"""``python -m graphtape.cli``: the same as the ``graphtape`` console script."""

from graphtape.cli.main import main

main()
