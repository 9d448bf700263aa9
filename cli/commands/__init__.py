"""One module per ``graphtape`` subcommand, plus the options several of them share.

Commands parse options, call into ``graphtape.addons`` and ``graphtape.cassettes``,
and write through ``graphtape.cli.output``. They raise graphtape's errors instead of
exiting on them: ``graphtape.cli.main`` maps every error to one line and an exit code.
"""
