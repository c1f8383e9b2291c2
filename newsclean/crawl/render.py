"""JavaScript pages: when a crawl renders pages in a headless browser, and the requests that do it.

A site whose article pages may need JavaScript declares ``Site(render=Render(...))``
(:class:`~newsclean.sites.Render`). Its pages are fetched as any other; when extraction finds no
article in one (or ``when="always"``), the spider asks for it again with :func:`render_request`,
and only that request goes through the browser: the download handler of
:mod:`newsclean.crawl.browser` (scrapy-playwright, driving Debian's Chromium) takes requests marked
``playwright`` and hands every other one to Scrapy's own HTTP handler.

The handler is installed (:func:`configure`) only for a crawl that may render: a site spider whose
site declares ``render``, or a generic spider while some known site does; and only when the browser
is there (scrapy-playwright importable, a Chromium binary found). Every other crawl runs exactly as
without this module. Without the browser, a page that needed rendering is counted as
``newsclean/render/needs_render`` (and the reason logged once), never crashed on.

Nothing here imports Playwright.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.settings import BaseSettings

from newsclean import config
from newsclean.sites import Render

HANDLER = "newsclean.crawl.browser.RenderHandler"
META = "newsclean_render"
"""Request meta: the :class:`~newsclean.sites.Render` of a request for the browser (as a dict), and
the reason extraction gave for the page as fetched plainly (``plain_reason``)."""

# Debian's chromium package: /usr/bin/chromium is a shell wrapper that Playwright cannot drive; the
# binary it runs is this one.
DEBIAN_CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/lib/chromium/chrome-headless-shell")
# Chromium's own traffic (updates, metrics, safe browsing, sync) is off: the browser fetches the pages
# it is given and what they load, nothing else; no GPU on a server.
BROWSER_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-gpu",
    "--no-first-run",
    "--mute-audio",
]


def browser_path(settings: Any) -> str | None:
    """The Chromium binary to render with: ``NEWSCLEAN_BROWSER`` when it names an executable file,
    else (when empty) Debian's; None when there is none or the setting is ``off``."""
    given = config.BROWSER.get(settings).strip()
    if given.lower() == "off":
        return None
    candidates = (given,) if given else DEBIAN_CHROMIUM
    for path in candidates:
        found = shutil.which(path) if os.sep not in path else path
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return found
    return None


def unavailable(settings: Any) -> str | None:
    """Why this crawl cannot render (one line), or None when it can."""
    if config.MIRROR.get(settings):
        return "the crawl reads a local mirror (NEWSCLEAN_MIRROR): nothing is rendered"
    if importlib.util.find_spec("scrapy_playwright") is None or importlib.util.find_spec("playwright") is None:
        return "scrapy-playwright is not installed"
    if config.BROWSER.get(settings).strip().lower() == "off":
        return "rendering is off (NEWSCLEAN_BROWSER=off)"
    if browser_path(settings) is None:
        given = config.BROWSER.get(settings).strip()
        where = f"NEWSCLEAN_BROWSER={given} is not an executable file" if given else "no Chromium found"
        return f"{where} (apt-get install chromium, or set NEWSCLEAN_BROWSER to a Chromium binary)"
    return None


def configure(settings: BaseSettings) -> bool:
    """Install the rendering download handler and its settings for this crawl (a spider's
    ``update_settings``); False (and nothing changed) when the browser is not there."""
    if unavailable(settings) is not None:
        return False
    handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), "http": HANDLER, "https": HANDLER}
    settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")
    timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
    values = {
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": browser_path(settings),
            "headless": True,
            "args": BROWSER_ARGS,
        },
        # A navigation may take DOWNLOAD_TIMEOUT, as any download (the handler bounds the whole
        # rendering by it too).
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, config.RENDER_PAGES.get(settings)),
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
    }
    for name, value in values.items():
        if settings.getpriority(name) is None:  # a user's own PLAYWRIGHT_* setting stands
            settings.set(name, value, priority="spider")
    return True


def handler_installed(settings: BaseSettings) -> bool:
    """True when this crawl's http(s) requests go through the rendering handler."""
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    return handlers.get("http") == HANDLER and handlers.get("https") == HANDLER


def render_request(
    response: scrapy.http.Response, render: Render, callback: Any, errback: Any, plain_reason: str, user_agent: str
) -> scrapy.Request:
    """The request that renders ``response``'s page in the browser (same URL, never filtered); the
    browser says it is ``user_agent``, to servers and to the page's scripts alike."""
    meta = {
        "playwright": True,
        # One context, no service workers (their requests would pass the handler's checks unseen),
        # no downloads.
        "playwright_context": "newsclean",
        "playwright_context_kwargs": {"service_workers": "block", "accept_downloads": False, "user_agent": user_agent},
        # One attempt: a rendering that timed out would most likely time out again, at the same cost.
        "dont_retry": True,
        META: {
            "wait_for": render.wait_for,
            "timeout": render.timeout,
            "hosts": list(render.hosts),
            "plain_reason": plain_reason,
        },
    }
    return scrapy.Request(response.url, callback, errback=errback, meta=meta, dont_filter=True)


def robots_middleware(crawler: Crawler) -> RobotsTxtMiddleware | None:
    """The crawl's robots.txt downloader middleware (Scrapy's, or one derived from it), or None."""
    if crawler.engine is None:
        return None
    return crawler.get_downloader_middleware(RobotsTxtMiddleware)


async def robots_allowed(crawler: Crawler, url: str) -> bool:
    """True when robots.txt lets this crawler fetch ``url`` (a request of the browser's own).

    Fails closed: a robots.txt that could not be read, or a crawl that obeys robots.txt without a
    robots middleware to ask, forbids. A robots middleware with ``async allowed(url)`` is asked
    that; Scrapy's own ``RobotsTxtMiddleware`` is asked for its parser of the URL's host (fetched
    on first use, as for any request), and its user agent is matched against it.
    """
    middleware = robots_middleware(crawler)
    allowed = getattr(middleware, "allowed", None)
    if callable(allowed):
        return bool(await allowed(url))
    if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
        return True
    if middleware is None:
        return False
    parser = await middleware.robot_parser(scrapy.Request(url))
    if parser is None:
        return False
    agent = middleware._robotstxt_useragent or middleware._default_useragent
    return bool(parser.allowed(url, agent))
