"""The ``newsclean`` command. One module per group of commands, each adding its own subcommands:

- :mod:`.extract`: ``extract`` saved pages (no Scrapy);
- :mod:`.store`: the offline ``demo`` crawl, ``runs`` and ``check-sites``;
- :mod:`.sites`: ``new-site`` and ``try``; :mod:`.fixture`: ``fixture save|rerun|mark-empty``;
- :mod:`.analysis`: ``export``, ``schema`` and the site-health ``report``;
- :mod:`.reextract`: ``reextract``, today's extraction over the archived raw pages of stored articles;
- ``fields``: the Markdown table of Article fields.

Every command takes its parsed arguments and an output stream, and raises
:class:`~newsclean.cli.common.UsageError` (one line on standard error, exit status 2) for bad input
before writing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from newsclean import dates
from newsclean.article import field_table
from newsclean.cli import analysis, extract, fixture, reextract, sites, store
from newsclean.cli.common import UsageError


def cmd_fields(args: argparse.Namespace, out: TextIO) -> int:
    out.write(field_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsclean", description="Fetch news articles, keep their clean text with metadata."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract.add_commands(commands)
    store.add_commands(commands)
    analysis.add_commands(commands)
    p = commands.add_parser("fields", help="print the Markdown table of Article fields")
    p.set_defaults(run=cmd_fields)
    sites.add_commands(commands)
    fixture.add_commands(commands)
    reextract.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``newsclean`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        dates.now()  # a NEWSCLEAN_NOW that is not a moment: one line, before anything is written
    except ValueError as exc:
        print(f"newsclean: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args, out or sys.stdout) or 0)
    except UsageError as exc:
        print(f"newsclean: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
