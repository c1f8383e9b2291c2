"""``scrapy crawl``, with the spider's arguments checked first: a missing or wrong one (``-a
urls=not-a-url``, ``-a file=missing.txt``, ``scrapy crawl feed`` without ``-a feed``) is one line on
standard error and exit status 2, before any store, lock file or run record is created. A crawl that
could not start (another run holds the lock, a setting is wrong) exits 1, as Scrapy's own command does.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from newsclean import config, dates


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:  # NEWSCLEAN_NOW, given as a setting or in the environment: every "now" of the crawl reads it
            assert self.settings is not None
            dates.set_clock(config.NOW.get(self.settings))
            dates.now()
        except ValueError as exc:
            print(f"scrapy crawl: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        if len(args) == 1 and self.crawler_process is not None:
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                print(f"scrapy crawl: no spider named {args[0]!r} (see `scrapy list`)", file=sys.stderr)
                self.exitcode = 2
                return
            check = getattr(spidercls, "parse_arguments", None)
            if check is not None:
                try:
                    check(**opts.spargs)
                except ValueError as exc:
                    print(f"scrapy crawl: {exc}", file=sys.stderr)
                    self.exitcode = 2
                    return
        super().run(args, opts)
