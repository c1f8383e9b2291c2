"""``scrapy genspider``, with newsclean's checks: the same refusals as ``newsclean new-site``.

Scrapy's own command prints a note and exits 0 when a spider exists, and turns an invalid name into
another one; here both exit 2 with the reason and write nothing. ``-t newssite`` also writes the
site's test stub, as ``new-site`` does. ``--force`` keeps Scrapy's behaviour.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.commands.genspider import Command as ScrapyGenspider
from scrapy.commands.genspider import verify_url_scheme
from scrapy.exceptions import UsageError


class Command(ScrapyGenspider):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 2 or opts.list or opts.dump or opts.force:
            super().run(args, opts)
            return
        from newsclean import cli, sitetools

        name, url = args[0], verify_url_scheme(args[1])
        root = sitetools.project_root()
        try:
            variables = sitetools.check_new_site(name, url, root / sitetools.SPIDER_PACKAGE, root / "tests")
        except cli.UsageError as exc:
            raise UsageError(str(exc), print_help=False) from exc
        super().run(args, opts)
        if opts.template == "newssite" and self.settings and self.settings.get("NEWSPIDER_MODULE") == "spiders":
            test = root / "tests" / f"test_site_{variables['module']}.py"
            test.write_text(sitetools.render(sitetools.TEST_TEMPLATE, variables), encoding="utf-8")
            print(f"and its test stub:\n  {Path(test)}")
