"""/api/docs in headless Chromium: Swagger UI from the app itself, under its CSP, every operation rendered, nothing fetched from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from tests.conftest import LiveServer, wait_until


def test_api_docs_render_every_operation_offline_under_the_csp(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    spec = httpx.get(f"{live_server.url}/api/openapi.json", timeout=30).json()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in ("get", "post", "put", "patch", "delete"))
    assert operations >= 5
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    hosts: set[str] = set()
    console: list[str] = []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc) if r.url.startswith("http") else None)
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        response = page.goto(f"{live_server.url}/api/docs", wait_until="load")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
        wait_until(page, f"document.querySelectorAll('.opblock').length >= {operations}", timeout_s=60)
        assert page.locator(".info .title").inner_text().startswith(spec["info"]["title"])
        shown = page.locator(".opblock-summary-path").all_inner_texts()
        assert {p.replace("\u200b", "") for p in shown} == set(spec["paths"]), shown
        assert hosts == {f"127.0.0.1:{live_server.port}"}, hosts
        assert console == [], console
    finally:
        page.close()
