"""Links built from route names: ``path_for(request, "organiser:event", slug=...)``.

A path (no scheme or host), as redirects and links within the site use; the query, when
given, is encoded here. Templates use the ``url(name, **params)`` global (``app.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request


def path_for(
    request: Request, name: str, /, query: Mapping[str, object] | None = None, **params: object
) -> str:
    path = str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))
    if query:
        path += "?" + urlencode({k: str(v) for k, v in query.items()})
    return path
