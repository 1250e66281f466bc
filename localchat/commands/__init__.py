"""One module per subcommand: ``ORDER``, ``add_parser(subparsers)``, ``run(args) -> int``.

Top-level imports here are standard library only; heavy imports go inside ``run``.
"""
