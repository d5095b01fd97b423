"""The plain-HTTP port when the web UI is served over HTTPS: every request is answered
with a redirect to the same path on the HTTPS port, so no password or session cookie
ever crosses the LAN unencrypted."""

from __future__ import annotations

from urllib.parse import quote


def https_location(host_header: str, default_host: str, https_port: int, path: str, query: str) -> str:
    """Where a request for ``path`` on ``host_header`` goes (pure)."""
    host = (host_header or default_host).strip()
    if host.startswith("["):  # [IPv6]:port
        host = host[:host.find("]") + 1] if "]" in host else host
    else:
        host = host.rsplit(":", 1)[0]
    port = "" if https_port == 443 else f":{https_port}"
    return f"https://{host}{port}{quote(path or '/')}" + (f"?{query}" if query else "")


def make_redirect_app(https_port: int):
    def app(environ, start_response):
        location = https_location(environ.get("HTTP_HOST", ""), environ.get("SERVER_NAME", "localhost"),
                                  https_port, environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", ""))
        body = f"The web UI is at {location}\n".encode()
        start_response("301 Moved Permanently", [("Location", location), ("Content-Type", "text/plain"),
                                                 ("Content-Length", str(len(body)))])
        return [body]

    return app
