"""Voice verification codes through the API (``appliance/services/voicecodes.py``): a program
asks the appliance to call a number and say a code; it reads the result back or follows it
on the event bus.  Admins' credentials only (an API token of an admin account, or an admin's
browser session).  Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

from appliance.errors import FieldError, Unavailable
from webui.apidoc import Operation, errors, resp
from webui.http import ADMIN, actor, created, credentials, json_body

SEND_BODY_LIMIT = 4 * 1024  # a number, a code and a language

VOICE_CODE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "language": {"type": "string"},
    "state": {"type": "string", "enum": ["calling", "answered", "busy", "no_answer", "failed"]},
    "said": {"type": "boolean", "description": "the code was said to the end, twice"},
    "requested_by": {"type": "string"}, "created_at": {"type": "string"},
    "ended_at": {"type": ["string", "null"]},
    "reason": {"type": "string", "description": "busy, no answer or failed: why (Asterisk's DIALSTATUS, "
                                                "`not-started`, `no-report`)"}}}


def install(app, deps) -> None:
    def service():
        if deps.voice_codes is None:
            raise Unavailable(FieldError("error.msg.voice_codes_unavailable",
                                         "voice codes cannot be sent from this process"), code="voicecode.unavailable")
        return deps.voice_codes

    @app.post("/api/v1/voice-codes", name="api_voice_code_send",
              scope="calls:control", roles=ADMIN, body_limit=SEND_BODY_LIMIT,
              api=Operation({
                  "tags": ["voice codes"], "summary": "Call a number and say a verification code, twice",
                  "description": "`number` (digits, optionally starting with +), `code` (4 to 8 digits), `language` "
                                 "(`zh_CN`, the default, or `en`). The call goes out through the trunks in their "
                                 "outbound order, after the same calling-permission check as every call out (403 "
                                 "`call.not_permitted`, audited). The answer is 201 with `state` `calling`; the "
                                 "result (`answered`, `busy`, `no_answer`, `failed`) comes by "
                                 "`GET /api/v1/voice-codes/{id}` and as a `voicecode` event. At most "
                                 "`voice_codes_per_number` (5) calls to one number and `voice_codes_per_sender` (100) "
                                 "with one token in an hour: 429 `voicecode.number_limit` or "
                                 "`voicecode.sender_limit` with `Retry-After`. The code is never stored or logged.",
                  "requestBody": {"required": True, "content": {"application/json": {"schema": {
                      "type": "object", "required": ["number", "code"],
                      "properties": {"number": {"type": "string"}, "code": {"type": "string", "pattern": "^[0-9]{4,8}$"},
                                     "language": {"type": "string", "enum": ["zh_CN", "en"]}}}}}},
                  "responses": {"201": resp("the call is being placed", VOICE_CODE_SCHEMA),
                                **errors(400, 401, 403, 413, 422, 429, 503)}}))
    def api_voice_code_send():
        data = json_body()
        return created(service().send(data.get("number"), data.get("code"), data.get("language"), actor=actor(),
                                      sender=credentials()))

    @app.get("/api/v1/voice-codes/<code_id:int>", name="api_voice_code", scope="calls:read", roles=ADMIN,
             api=Operation({"tags": ["voice codes"], "summary": "One voice code call and its result",
                            "responses": {"200": resp("it", VOICE_CODE_SCHEMA), **errors(401, 403, 404)}}))
    def api_voice_code(code_id):
        return service().get(code_id)
