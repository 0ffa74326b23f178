"""The baseline: a bare Starlette endpoint served by uvicorn exactly as ``events serve`` serves
the app (same ``uvicorn.run`` options, one worker, no access log), so that the ratio the
catalogue benchmark prints measures the app's own cost and nothing else.

Run: ``python -m bench.bare --port 8001``
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def hello(request: Request) -> Response:
    return PlainTextResponse("Hello, world!\n")


app = Starlette(routes=[Route("/", hello)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    # Keep in step with events/cli.py `serve`: loop and http stay at uvicorn's "auto" (uvloop
    # and httptools when installed), as they are there.
    uvicorn.run(
        "bench.bare:app",
        host=args.host,
        port=args.port,
        workers=1,
        log_level=args.log_level,
        proxy_headers=False,
        server_header=False,
        access_log=False,
    )


if __name__ == "__main__":
    main()
