"""Faxes in the web UI and the API: the list (received and sent), each fax's PDF, and
sending a PDF from an agent's desk or a program (``appliance/services/fax_out.py``).

Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import BadRequest, DomainError, FieldError, NotFound, TooLarge, Unavailable
from appliance.services.fax_out import MAX_PDF_BYTES
from webui.apidoc import Operation, errors, items, resp
from webui.edge import MULTIPART_OVERHEAD
from webui.http import EVERYONE, created, current_user, problem_of, render


SEND_BODY_LIMIT = MAX_PDF_BYTES + MULTIPART_OVERHEAD  # the PDF and the form around it


def _upload() -> tuple[bytes, str]:
    """The uploaded file (form field ``file``), read no further than the size limit allows."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(FieldError("error.msg.choose_pdf", "choose a PDF file to send"), code="fax.no_file")
    data = upload.file.read(MAX_PDF_BYTES + 1)
    if len(data) > MAX_PDF_BYTES:
        mb = MAX_PDF_BYTES // (1024 * 1024)
        raise TooLarge(FieldError("error.msg.file_too_large", f"the PDF is larger than {mb} MiB", mb=mb),
                       code="fax.too_large")
    return data, upload.raw_filename or "fax.pdf"


def install(app, deps) -> None:
    def service():
        if deps.faxes is None:
            raise Unavailable(FieldError("error.msg.faxes_unavailable", "faxes are not available in this process"),
                              code="fax.unavailable")
        return deps.faxes

    def sender():
        if deps.fax_sender is None:
            raise Unavailable(FieldError("error.msg.faxes_unavailable", "faxes cannot be sent from this process"),
                              code="fax.unavailable")
        return deps.fax_sender

    def send() -> dict:
        data, name = _upload()
        return sender().submit(data, name, request.forms.getunicode("number") or "",
                               current_user()["username"])

    @app.get("/faxes", name="faxes", roles=EVERYONE)
    def faxes_page(problem=None, number=""):
        return render("faxes.tpl", items=service().search(), problem=problem, number=number,
                      can_send=deps.fax_sender is not None, max_mib=MAX_PDF_BYTES // (1024 * 1024))

    @app.post("/faxes", name="fax_send", roles=EVERYONE, body_limit=SEND_BODY_LIMIT)
    def fax_send():
        try:
            send()
        except DomainError as exc:
            response.status = exc.http_status
            return faxes_page(problem=problem_of(exc), number=request.forms.getunicode("number") or "")
        bottle.redirect("/faxes")

    @app.post("/api/v1/faxes", name="api_fax_send", scope="calls:control", roles=EVERYONE,
              api=Operation({
                "tags": ["fax"], "summary": "Send a PDF as a fax",
                "description": "`multipart/form-data` with `file` (a PDF, at most 20 MiB) and `number`. The PDF is "
                               "checked (pypdf) and rendered to fax pages at once, one upload at a time (422 `fax.bad_pdf` "
                               "if it cannot be, `fax.too_many_pages`, `fax.too_complex` if drawing it needs more time or "
                               "memory than allowed; 503 `fax.render_busy`), then sent through "
                               "the trunks; `state` queued, sending, sent or failed, tried `max_attempts` times "
                               "(`error_code` `fax.busy`, `fax.no_answer`, `fax.unreachable`, `fax.transmission_failed`). "
                               "A number the sender's calling permission does not allow is 403 `call.not_permitted` "
                               "(audited).",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file", "number"],
                    "properties": {"file": {"type": "string", "format": "binary"}, "number": {"type": "string"}}}}}},
                "responses": {"201": resp("queued", {"type": "object"}), **errors(400, 401, 403, 413, 422, 503)}}), body_limit=SEND_BODY_LIMIT)
    def api_fax_send():
        return created(send())

    @app.get("/api/v1/faxes/<fax_id:int>", name="api_fax", scope="recordings:read", roles=EVERYONE,
             api=Operation({"tags": ["fax"], "summary": "One fax, received or sent",
                            "responses": {"200": resp("it", {"type": "object"}), **errors(401, 404)}}))
    def api_fax(fax_id):
        return service().get(fax_id)

    @app.get("/api/v1/faxes", name="api_faxes", scope="recordings:read", roles=EVERYONE,
             api=Operation({
                  "tags": ["fax"], "summary": "Faxes received on fax lines, newest first",
                  "description": "`state`: receiving, received (its PDF is there) or failed (`error_code` "
                                 "`fax.no_fax`: the call brought no fax, e.g. a voice call; `fax.bad_file`).",
                  "responses": {"200": resp("faxes", items({"type": "object"})), **errors(401)}}))
    def api_faxes():
        return {"items": service().search()}

    @app.get("/api/v1/faxes/<fax_id:int>/pdf", name="api_fax_pdf", scope="recordings:read", roles=EVERYONE,
             api=Operation({
                "tags": ["fax"], "summary": "A fax as PDF: the received pages, or the PDF sent (`?download=1` to save it)",
                "responses": {"200": {"description": "the PDF", "content": {"application/pdf": {
                    "schema": {"type": "string", "format": "binary"}}}}, **errors(401, 404)}}))
    def api_fax_pdf(fax_id):
        path = service().pdf_file(fax_id)
        response = bottle.static_file(path.name, root=str(path.parent), mimetype="application/pdf",
                                      download=f"fax-{fax_id}.pdf" if request.query.get("download") else False)
        if isinstance(response, bottle.HTTPError):
            raise NotFound(FieldError("error.msg.fax_file_missing", f"the PDF of fax {fax_id} is not on the disk",
                                      fax=fax_id), code="fax.file_missing")
        return response
