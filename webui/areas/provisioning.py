"""Desk phones that provision themselves: the files phones fetch (``/prov/<file>``, no
sign-in: each phone's own credentials, ``appliance/services/provisioning.py``), the
installer's view of one phone's credentials (admins), and what the phones' pages show
(``page`` / ``phone_page``: the address for DHCP option 66, each phone's last fetch).

Served by the web server itself rather than a listener of its own: the same port the
installer already opened, the same connection limits and TLS certificate, one process less.
"""

from __future__ import annotations

from bottle import HTTPResponse, request

from appliance.errors import NotFound
from appliance.services.provisioning import PATH, Fetch
from webui.apidoc import Operation, errors, resp
from webui.http import ADMIN, PUBLIC, client_address

CREDENTIALS_SCHEMA = {"type": "object", "required": ["url", "username", "password", "file"], "properties": {
    "url": {"type": "string", "description": "where phones fetch their files (DHCP option 66)"},
    "username": {"type": "string", "description": "the phone's MAC address, 12 hex digits"},
    "password": {"type": "string"}, "file": {"type": "string", "description": "the file this phone asks for"},
    "https": {"type": "boolean", "description": "the URL is HTTPS (the web UI's own certificate)"}}}


def page(deps) -> dict:
    """The phones page's provisioning card: the URL as this browser reached the appliance."""
    return {"url": deps.provisioning.url(request.get_header("Host") or ""), "https": bool(deps.provisioning.https_port)}


def phone_page(deps, extension: str) -> dict | None:
    """One phone's credentials for its page (None: the phone has no MAC)."""
    found = deps.provisioning.credentials(extension)
    return None if found is None else {**found, **page(deps)}


def install(app, deps) -> None:
    service = deps.provisioning

    @app.get(PATH + "<name>", name="prov_file", roles=PUBLIC,
             api=Operation({"tags": ["provisioning"], "summary": "A desk phone's configuration file, for the phone",
                            "description": "Yealink `y000000000000.cfg` and `<mac>.cfg`, Grandstream "
                                           "`cfg<mac>.xml`, Fanvil `<mac>.cfg` (MAC in 12 lower-case hex "
                                           "digits). HTTP Digest (MD5, qop auth) with the phone's MAC as user "
                                           "name and its provisioning password; Basic over HTTPS too. A phone's "
                                           "file only with its own credentials; the common file with any "
                                           "Yealink phone's. 404: a file no phone asks for, or a MAC no phone "
                                           "has; 401: no or wrong credentials (with the challenge); 429: this "
                                           "address was refused too often (`Retry-After`).",
                            "security": [],
                            "parameters": [{"name": "name", "in": "path", "required": True,
                                            "schema": {"type": "string"}}],
                            "responses": {"200": {"description": "the file (text or XML)"},
                                          "401": resp("credentials needed, or wrong"),
                                          "404": resp("no such file or phone"),
                                          "429": resp("too many refused requests from this address")}}))
    def prov_file(name):
        https = request.environ.get("wsgi.url_scheme") == "https"
        uri = request.environ.get("PATH_INFO", "") + (("?" + request.query_string) if request.query_string else "")
        reply = service.fetch(Fetch(name=name, source=client_address(), method=request.method,
                                    authorization=request.get_header("Authorization") or "", uri=uri,
                                    host=request.get_header("Host") or "", https=https,
                                    user_agent=request.get_header("User-Agent") or ""))
        return HTTPResponse(reply.body, status=reply.status, headers={"Content-Type": reply.content_type,
                                                                       **reply.headers})

    @app.get("/api/v1/phones/<extension>/provisioning", name="api_phone_provisioning", scope="config", roles=ADMIN,
             api=Operation({"tags": ["provisioning"],
                            "summary": "A phone's provisioning credentials and URL, for the installer (admins)",
                            "responses": {"200": resp("the URL, user name, password and file", CREDENTIALS_SCHEMA),
                                          **errors(401, 403, 404)}}))
    def api_phone_provisioning(extension):
        found = phone_page(deps, extension)
        if found is None:
            raise NotFound(f"phone {extension} has no MAC address (or does not exist)", code="phones.not_provisioned")
        return found
