"""Received faxes in the web UI and the API: the list, each fax's PDF.

Registered by ``install`` from ``make_app``; roles in ``plugins.ROUTE_ROLES``.
"""

from __future__ import annotations

import bottle
from bottle import request

from appliance.errors import NotFound, Unavailable
from webui.app import render


def install(app, deps) -> None:
    def service():
        if deps.faxes is None:
            raise Unavailable("faxes are not available in this process", code="fax.unavailable")
        return deps.faxes

    @app.get("/faxes", name="faxes")
    def faxes_page():
        return render("faxes.tpl", items=service().search())

    @app.get("/api/v1/faxes", name="api_faxes")
    def api_faxes():
        return {"items": service().search()}

    @app.get("/api/v1/faxes/<fax_id:int>/pdf", name="api_fax_pdf")
    def api_fax_pdf(fax_id):
        path = service().pdf_file(fax_id)
        response = bottle.static_file(path.name, root=str(path.parent), mimetype="application/pdf",
                                      download=f"fax-{fax_id}.pdf" if request.query.get("download") else False)
        if isinstance(response, bottle.HTTPError):
            raise NotFound(f"the PDF of fax {fax_id} is not on the disk", code="fax.file_missing")
        return response
