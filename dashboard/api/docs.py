"""``/api/docs``: the OpenAPI document rendered by Swagger UI served from this app.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline
script — blocked by the app's Content-Security-Policy and useless without
internet. This page links the copy vendored in ``assets/vendor/swagger-ui``
and starts it from ``assets/apidocs/init.js``, so no request leaves the server.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

SWAGGER = "/assets/vendor/swagger-ui"


def docs_page(title: str, openapi_url: str) -> str:
    """The HTML of the API documentation page: no inline script, no external request."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-url="{escape(openapi_url)}"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/assets/apidocs/init.js"></script>
</body>
</html>
"""


def docs_router(title: str, openapi_url: str, path: str = "/api/docs") -> APIRouter:
    """A router serving ``docs_page`` at ``path`` (left out of the OpenAPI document itself)."""
    router = APIRouter()
    page = docs_page(title, openapi_url)

    @router.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    return router
