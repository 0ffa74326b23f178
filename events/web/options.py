"""``OPTIONS`` answers with every method the path takes (``Allow``), across routes.

A path may be served by several routes, one per method (the organiser API declares one
route per operation), and Starlette on its own would answer ``OPTIONS`` with a 405 naming
only the first route's methods. This answers 204 with the union, before routing; a path no
route takes falls through to the usual 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

Pattern = tuple[str, re.Pattern[str], frozenset[str]]


def _flatten(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[Pattern]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _flatten(route.routes, prefix + route.path)
        elif isinstance(route, Route) and route.methods:
            yield prefix, route.path_regex, frozenset(route.methods)


class AllowedMethods:
    def __init__(self, app: ASGIApp, *, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.patterns = tuple(_flatten(routes))

    def allowed(self, path: str) -> set[str]:
        methods: set[str] = set()
        for prefix, pattern, taken in self.patterns:
            if path.startswith(prefix) and pattern.match(path[len(prefix) :]):
                methods |= taken
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = self.allowed(scope["path"])
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", allow.encode()), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
