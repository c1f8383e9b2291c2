"""What rendering a JavaScript page costs: time per page and the browser's memory, beside the plain
HTTP fetch of the same pages in the same run.

    python benchmarks/render.py [--pages 40]

A loopback server serves ``--pages`` article pages that are empty shells: a same-origin script
writes their paragraphs (the page's number in each, so no two are duplicates). A throw-away
``spiders`` package declares the loopback site with ``render=Render(wait_for="#story p")``. Then, in
turn, each a real ``scrapy crawl article`` process (every pipeline, SQLite, extraction inline,
one request at a time, no delays):

1. plain: the crawl with ``NEWSCLEAN_BROWSER=off``: each page fetched over HTTP and extracted
   (finding no article: counted as ``needs_render``);
2. rendered: the same crawl with Debian's Chromium: each page fetched, extracted, rendered in the
   browser and extracted again.

Printed: ms per page of each crawl (Scrapy's ``elapsed_time_seconds`` over the pages, browser
start-up included), the median and 90th percentile of the browser's time per page (the handler's
``rendered in N ms`` lines: navigation, scripts, waiting for the selector, reading the DOM), and the
peak resident memory, sampled every 50 ms from ``/proc``, of the browser's processes (Chromium's
and Playwright's driver) and of the whole crawl process tree; beside the browser's summed RSS, its
summed PSS (shared pages divided among the processes that share them: RSS counts Chromium's shared
code once in each of its processes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.crawl import _descendants, _status_kb  # noqa: E402
from newsclean.fixtures import serve_handler  # noqa: E402

SAMPLE_EVERY = 0.05
SITE_MODULE = """from newsclean.sites import Render, Site

SITE = Site(name="jsbench", domains=("127.0.0.1",), article_url=r"/news/", render=Render(wait_for="#story p"))
"""
SHELL = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story {n}: night buses return</title>
<meta property="og:type" content="article"></head><body><main><h1>Story {n}: night buses return</h1>
<article id="story"></article></main><script src="/static/story.js"></script></body></html>"""
STORY_JS = """const n = location.pathname.split("-").pop();
const texts = [
  "The city council voted on Tuesday to extend the night bus network to three districts.",
  "Council members said the new routes would run every twenty minutes between midnight and five.",
  "Residents had collected more than four thousand signatures asking for the service.",
  "The transport department expects the first buses to run before the end of next month.",
];
const story = document.getElementById("story");
for (const t of texts) {
  const p = document.createElement("p"); p.textContent = `${t} (Story ${n}.)`; story.appendChild(p);
}
"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind, status = b"User-agent: *\nAllow: /\n", "text/plain", 200
        elif self.path == "/static/story.js":
            body, kind, status = STORY_JS.encode(), "application/javascript", 200
        elif match := re.fullmatch(r"/news/story-(\d+)", self.path):
            body, kind, status = SHELL.format(n=match[1]).encode(), "text/html; charset=utf-8", 200
        else:
            body, kind, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _pss_kb(pid: int) -> int:
    """The process's proportional set size: its resident pages, those shared with others divided
    among them (Chromium's processes share most of their code, which RSS counts in each)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, flags=re.M)
    return int(match[1]) if match else 0


class BrowserMemory(threading.Thread):
    """Peak summed RSS of a process tree, and of its browser processes (Chromium and Playwright's driver)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.tree_kb = 0
        self.browser_kb = 0
        self.browser_pss_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            tree = browser = pss = 0
            for pid in _descendants(self.pid):
                rss = _status_kb(pid).get("VmRSS", 0)
                tree += rss
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if pid != self.pid and ("chrom" in cmdline or "playwright" in cmdline):
                    browser += rss
                    pss += _pss_kb(pid)
            self.tree_kb, self.browser_kb = max(self.tree_kb, tree), max(self.browser_kb, browser)
            self.browser_pss_kb = max(self.browser_pss_kb, pss)
            self._done.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._done.set()
        self.join()


def crawl(base: str, pages: int, work: Path, browser: str) -> dict[str, Any]:
    """One ``scrapy crawl article`` of the shells; its elapsed time, render lines and memory."""
    urls = work / "urls.txt"
    urls.write_text("".join(f"{base}/news/story-{n}\n" for n in range(pages)))
    db = work / f"store-{browser.replace('/', '_')}.sqlite"
    env = {**os.environ, "PYTHONPATH": str(work / "sites")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    settings = {
        "NEWSCLEAN_DB": db,
        "NEWSCLEAN_BROWSER": browser,
        "NEWSCLEAN_WORKERS": 0,
        "AUTOTHROTTLE_ENABLED": 0,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 1,
        "NEWSCLEAN_RENDER_PAGES": 1,
    }
    cmd = ["scrapy", "crawl", "article", "-a", f"file={urls}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    memory = BrowserMemory(proc.pid)
    memory.start()
    _, log = proc.communicate(timeout=600)
    memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed:\n{log[-3000:]}")
    elapsed = float(re.search(r"'elapsed_time_seconds': ([0-9.]+)", log)[1])
    renders = [int(ms) for ms in re.findall(r"rendered in (\d+) ms", log)]
    stored = len(re.findall(r"'newsclean/stored': (\d+)", log)) and int(re.search(r"'newsclean/stored': (\d+)", log)[1])
    return {
        "elapsed": elapsed,
        "renders": renders,
        "stored": stored,
        "tree_mb": memory.tree_kb / 1024,
        "browser_mb": memory.browser_kb / 1024,
        "browser_pss_mb": memory.browser_pss_kb / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serve_handler(Handler) as base:
        work = Path(tmp)
        (work / "sites" / "spiders").mkdir(parents=True)
        (work / "sites" / "spiders" / "__init__.py").write_text("")
        (work / "sites" / "spiders" / "jsbench.py").write_text(SITE_MODULE)
        plain = crawl(base, args.pages, work, "off")
        rendered = crawl(base, args.pages, work, "")
    n = args.pages
    if len(rendered["renders"]) != n or rendered["stored"] != n:
        raise SystemExit(
            f"expected {n} pages rendered and stored, got {len(rendered['renders'])} and {rendered['stored']}"
        )
    times = sorted(rendered["renders"])
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(f"pages {n} (one at a time)")
    print(
        f"plain    crawl {plain['elapsed'] / n * 1000:7.1f} ms/page  stored {plain['stored']}  "
        f"peak RSS tree {plain['tree_mb']:.0f} MB, browser {plain['browser_mb']:.0f} MB"
    )
    print(
        f"rendered crawl {rendered['elapsed'] / n * 1000:7.1f} ms/page  stored {rendered['stored']}  "
        f"peak RSS tree {rendered['tree_mb']:.0f} MB, browser {rendered['browser_mb']:.0f} MB"
        f" (PSS {rendered['browser_pss_mb']:.0f} MB)"
    )
    print(
        f"render alone: median {statistics.median(times):.0f} ms/page, p90 {p90} ms, first {rendered['renders'][0]} ms"
    )
    print(f"ratio {rendered['elapsed'] / plain['elapsed']:.2f} (rendered crawl time over plain)")
    print(json.dumps({"plain": plain | {"renders": len(plain["renders"])}, "rendered": rendered | {"renders": n}}))


if __name__ == "__main__":
    main()
