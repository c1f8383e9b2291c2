"""``newsclean extract``: extraction alone, on saved pages, one JSON object per line. No Scrapy."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any, TextIO

from newsclean.cli.common import UsageError, check_http_url, check_input, read_input


def cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean.extraction import extract

    # Checked before any output, so a bad call prints nothing half-done.
    missing = [p for p in args.paths if p != "-" and not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    for path in args.paths:
        check_input(path)
    if args.url is not None:
        check_http_url(args.url)
    for path in args.paths:
        result = extract(read_input(path), args.url)
        if result.article is None:
            record: dict[str, Any] = {"input": path, "url": args.url, "text": None, "reason": result.reason}
        else:
            record = {"input": path, **dataclasses.asdict(result.article)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def add_commands(commands: Any) -> None:
    p = commands.add_parser("extract", help="extract articles from saved .html / .html.gz files, one JSON per line")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, or - for standard input")
    p.add_argument("--url", help="the page's URL: picks the site's rules and resolves links")
    p.set_defaults(run=cmd_extract)
