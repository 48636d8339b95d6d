"""Swagger UI at ``/docs`` works offline: the page names no other host, every script, style
sheet and icon it loads is served by the app itself, and the vendored files are the ones
``SOURCE.txt`` names (npm's swagger-ui-dist, with its licence)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from zhangben.app import create_app
from zhangben.settings import Settings
from zhangben.web.docs import FILES


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def _client(tmp_path, **kw) -> TestClient:
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}", **kw)))


def test_the_page_loads_only_local_assets(tmp_path):
    with _client(tmp_path) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        links = _Links()
        links.feed(html)
        assert len(links.urls) == 3, links.urls  # the script, the style sheet, the icon
        assert not re.search(r"(https?:)?//[a-z0-9]", html, re.I), "the page names another host"
        assert '"validatorUrl": null' in html  # no call to the online validator
        types = {}
        for url in links.urls:
            assert url.startswith("/docs/assets/"), url
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content == (FILES / url.rsplit("/", 1)[1]).read_bytes()
            types[url.rsplit(".", 1)[1]] = asset.headers["content-type"]
        assert types["js"].startswith(("text/javascript", "application/javascript"))
        assert types["css"].startswith("text/css") and types["png"] == "image/png"
        spec = re.search(r"url: '([^']+)'", html).group(1)
        assert spec == "/openapi.json"
        assert client.get(spec).json()["info"]["title"].startswith("zhangben")


def test_behind_a_root_path_the_urls_follow_it(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}"))
    with TestClient(app, root_path="/ledger") as client:
        html = client.get("/docs").text
        assert 'src="/ledger/docs/assets/swagger-ui-bundle.js"' in html
        assert "url: '/ledger/openapi.json'" in html


def test_no_cdn_page_is_left(tmp_path):
    with _client(tmp_path) as client:
        assert client.get("/redoc").status_code == 404
        assert client.get("/docs/oauth2-redirect").status_code == 404


def test_the_vendored_files_are_the_released_ones():
    source = (FILES / "SOURCE.txt").read_text(encoding="utf-8")
    assert "swagger-ui-dist 5.35.0" in source
    digests = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", source, re.M)
    )
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"} <= set(
        digests
    )
    for name, digest in digests.items():
        assert hashlib.sha256((FILES / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (FILES / "LICENSE").read_text(encoding="utf-8")
