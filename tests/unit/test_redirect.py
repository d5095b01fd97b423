"""Proves the plain-HTTP port sends every request to the same place over HTTPS (host
kept, port changed, path and query kept) and answers nothing else."""

from __future__ import annotations

import pytest
import webtest

from webui.redirect import https_location, make_redirect_app


@pytest.mark.parametrize("host, port, path, query, expected", [
    ("10.0.2.15", 443, "/", "", "https://10.0.2.15/"),
    ("10.0.2.15:80", 443, "/customers", "q=wang&page=2", "https://10.0.2.15/customers?q=wang&page=2"),
    ("callcenter:8080", 8443, "/api/health", "", "https://callcenter:8443/api/health"),
    ("[fe80::1]:80", 443, "/", "", "https://[fe80::1]/"),
    ("", 443, "", "", "https://default/"),
])
def test_https_location(host, port, path, query, expected):
    assert https_location(host, "default", port, path, query) == expected


def test_every_request_is_redirected_even_a_form_post():
    app = webtest.TestApp(make_redirect_app(443), extra_environ={"HTTP_HOST": "192.168.1.250"})
    response = app.get("/api/health", status=301)
    assert response.headers["Location"] == "https://192.168.1.250/api/health"
    post = app.post("/login", {"username": "admin", "password": "x"}, status=301)
    assert post.headers["Location"] == "https://192.168.1.250/login"
