"""``scrapy genspider``, with newsclean's checks: the same refusals as ``newsclean new-site``.

Scrapy's own command prints a note and exits 0 when a spider exists, and turns an invalid name into
another one; here both exit 2 with the reason and write nothing. ``-t newssite`` writes the site's
module (a ``Site`` declaration) and its test stub, as ``new-site`` does. ``--force`` keeps Scrapy's
behaviour.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.commands.genspider import Command as ScrapyGenspider
from scrapy.commands.genspider import verify_url_scheme
from scrapy.exceptions import UsageError

from newsclean.cli import common, sites


class Command(ScrapyGenspider):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 2 or opts.list or opts.dump or opts.force:
            super().run(args, opts)
            return
        name, url = args[0], verify_url_scheme(args[1])
        root = sites.project_root()
        try:
            variables = sites.check_new_site(name, url, root / sites.SPIDER_PACKAGE, root / "tests")
        except common.UsageError as exc:
            raise UsageError(str(exc), print_help=False) from exc
        super().run(args, opts)
        if opts.template == "newssite" and self.settings and self.settings.get("NEWSPIDER_MODULE") == "spiders":
            test = root / "tests" / f"test_site_{variables['module']}.py"
            test.write_text(sites.render(sites.TEST_TEMPLATE, variables), encoding="utf-8")
            print(f"and its test stub:\n  {Path(test)}")
