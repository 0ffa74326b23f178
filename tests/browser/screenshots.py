"""Screenshots of every page at desktop and phone widths, in light and dark.

    .venv/bin/python -m tests.browser.screenshots [FOLDER]

Starts ``events serve --demo`` on a free loopback port with a throwaway database, drives
headless Chromium through every page the browser tests audit (and the form error and
confirmation states), and writes full-page PNGs to FOLDER (default ``screenshots/``, which
git ignores), named ``<page>--<width>--<scheme>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser.harness import (
    ask_for_data_in_browser,
    launched_browser,
    load_demo,
    missing_browser,
    register_in_browser,
    results_in_browser,
    running_server,
    sign_in_in_browser,
    subscribe_in_browser,
    visit_every_page,
)

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2},
}
SCHEMES = ["light", "dark"]


def main(argv: list[str]) -> int:
    problem = missing_browser()
    if problem is not None:
        print(f"screenshots: {problem}", file=sys.stderr)
        return 1
    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with (
        tempfile.TemporaryDirectory(prefix="events-screenshots-") as tmp,
        running_server(Path(tmp)) as server,
        launched_browser() as browser,
    ):
        demo = load_demo(server)
        setup = browser.new_context()
        first = setup.new_page()
        demo.tokens = register_in_browser(first, server, demo.event, "shots")
        demo.tokens.update(subscribe_in_browser(first, server, demo.topic, "shots"))
        demo.tokens.update(ask_for_data_in_browser(first, server, demo.tokens["email"]))
        demo.tokens.update(results_in_browser(first, server, demo))
        setup.close()
        for size, options in SIZES.items():
            for scheme in SCHEMES:
                context = browser.new_context(color_scheme=scheme, **options)  # type: ignore[arg-type]
                page = context.new_page()
                sign_in_in_browser(page, server)
                for label in visit_every_page(page, server, demo):
                    page.screenshot(path=out / f"{label}--{size}--{scheme}.png", full_page=True)
                    count += 1
                context.close()
    print(f"screenshots: {count} written to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
