"""Every response carries the security headers: pages, API, errors and static files."""

import pytest

PATHS = ["/", "/login", "/api/v1/health", "/api/v1/stats/residents?by=region", "/no-such-page", "/static/style.css"]


@pytest.mark.parametrize("path", PATHS)
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_page_carries_an_inline_script(client):
    """The policy forbids inline scripts, so a page that had one would silently lose it."""
    for path in ("/", "/login"):
        html = client.get(path).text
        assert "<script>" not in html and "<script type" not in html.replace('<script type="module" src', "")
