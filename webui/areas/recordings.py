"""Recordings in the web UI and the API: search by date, caller, agent, queue and state;
play in the browser (HTTP Range, so the player seeks) and download; the days of recording
storage left.

Routes are registered by ``install`` from ``make_app``; roles declared on each route.
Staff hear every recording, an agent only those of their own calls: the search is scoped
to the agent's work numbers, and one recording is checked against its call's agent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlencode

import bottle
from bottle import request

from appliance.errors import FieldError, NotFound, PermissionDenied, Unavailable, ValidationError
from appliance.recording import disk
from appliance.recording.policy import STATES
from webui.apidoc import Operation, errors, ref, resp
from webui.params import MAX_OFFSET, page_arg, query_int
from webui.http import EVERYONE, STAFF, agent_directory, render, viewer

PER_PAGE = 50
# Days of storage left below which the page warns (amber), and below which it alarms (red).
STORAGE_WARN_DAYS = 30
STORAGE_ALARM_DAYS = 7
SEARCH_KEYS = ("from", "to", "caller", "agent", "queue", "state")


def parse_day(name: str, value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(FieldError("field.date", f"{name}: a date as YYYY-MM-DD", item=value[:20]),
                              fields={name: FieldError("field.date_format", "a date as YYYY-MM-DD")}) from None


def storage_level(storage: dict) -> str:
    """``ok``, ``warn`` or ``bad``: how the page colours the days of storage left."""
    days = storage.get("days_left")
    if storage.get("alarm") or (days is not None and days < STORAGE_ALARM_DAYS):
        return "bad"
    if days is not None and days < STORAGE_WARN_DAYS:
        return "warn"
    return "ok"


def send_mp3(path: Path, download_name: str | None, missing_code: str):
    """An MP3 with HTTP Range (206 for ``Range: bytes=...``), or as an attachment."""
    response = bottle.static_file(path.name, root=str(path.parent), mimetype="audio/mpeg",
                                  download=download_name or False)
    if isinstance(response, bottle.HTTPError):
        raise NotFound(FieldError("error.msg.mp3_missing", f"the MP3 {path.name} is not on the disk"), code=missing_code)
    response.set_header("Accept-Ranges", "bytes")
    response.set_header("Cache-Control", "private, max-age=3600")
    return response


def install(app, deps) -> None:
    def recordings():
        if deps.recordings is None:
            raise Unavailable(FieldError("error.msg.recordings_unavailable", "recordings are not available in this process"),
                              code="recording.unavailable")
        return deps.recordings

    def staff() -> bool:
        return viewer().staff

    def my_agents() -> set[str] | None:
        """The work numbers whose calls this user may hear; None: all (staff)."""
        if staff():
            return None
        return set(viewer().agents)

    def own_recording_only(linkedid: str) -> None:
        mine = my_agents()
        if mine is not None and recordings().agent_of(linkedid) not in mine:
            raise PermissionDenied(FieldError("error.msg.own_recordings_only",
                                              "an agent may hear only the recordings of their own calls"), code="forbidden")

    def filters(q) -> dict:
        state = q.getunicode("state") or ""
        if state and state not in STATES:
            raise ValidationError(FieldError("error.msg.unknown_state", "state: one of " + ", ".join(STATES)),
                                  fields={"state": FieldError("error.msg.unknown_state", "unknown state")})
        return {"caller": (q.getunicode("caller") or "").strip()[:32], "agent": q.getunicode("agent") or "",
                "queue": q.getunicode("queue") or "", "state": state,
                "day_from": parse_day("from", q.getunicode("from") or ""),
                "day_to": parse_day("to", q.getunicode("to") or ""), "agents": my_agents(),
                "timezone": deps.site.timezone() if deps.site is not None else None}

    # -- the page --------------------------------------------------------------------------
    @app.get("/recordings", name="recordings", roles=EVERYONE)
    def recordings_page():
        q = request.query
        args = {k: q.getunicode(k) or "" for k in SEARCH_KEYS}
        found = filters(q)
        page = page_arg()
        service = recordings()
        total, items = deps.queries.run(lambda: (service.count(**found),
                                                 service.search(**found, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)))
        storage = service.storage() if staff() else None
        agents = agent_directory().all() if staff() else [a for a in agent_directory().all() if a["number"] in my_agents()]

        def page_url(n: int) -> str:
            return "/recordings?" + urlencode({**{k: v for k, v in args.items() if v}, "page": n})

        return render("recordings.tpl", items=items, total=total, page=page,
                      pages=max(1, -(-total // PER_PAGE)), page_url=page_url, args=args, states=STATES,
                      agents=agents, queues=[x["name"] for x in deps.config.list("queues")], storage=storage,
                      storage_level=storage_level(storage) if storage else "ok", plenty_days=disk.PLENTY_DAYS)

    # -- the API ---------------------------------------------------------------------------
    @app.get("/api/v1/recordings", name="api_recordings", scope="recordings:read", roles=EVERYONE,
             api=Operation({
             "tags": ["recordings"], "summary": "Search recordings by their call (newest first)",
             "description": "`caller`: part of the caller's number; `agent`, `queue`: the call's; `state`: the "
                            "recording's; `from`, `to`: days (YYYY-MM-DD, UTC, both included) the recording was "
                            "made. `total` counts every match. Agents find only their own calls.",
             "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                            for n in ("caller", "agent", "queue", "state", "from", "to")] + [
                 {"name": "limit", "in": "query", "required": False,
                  "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                 {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}],
             "responses": {"200": resp("recordings", {"type": "object", "properties": {
                 "items": {"type": "array", "items": ref("Recording")}, "total": {"type": "integer"}}}),
                 **errors(401, 422)}}))
    def api_recordings():
        q = request.query
        found = filters(q)
        limit = query_int("limit", 100, 1, 1000)
        offset = query_int("offset", 0, 0, MAX_OFFSET)
        service = recordings()
        items, total = deps.queries.run(lambda: (service.search(**found, limit=limit, offset=offset),
                                                 service.count(**found)))
        return {"items": items, "total": total}

    @app.get("/api/v1/recordings/<linkedid>", name="api_recording", scope="recordings:read", roles=EVERYONE,
             api=Operation({
              "tags": ["recordings"], "summary": "One call's recording: state, checksum, duration, its call",
              "description": "`complete` is true when the MP3 is verified and holds the whole call; `partial` "
                             "when the call was cut off (Asterisk went away) and only its first part is there. "
                             "Agents see only the recordings of their own calls.",
              "responses": {"200": resp("it", ref("Recording")), **errors(401, 403, 404)}}))
    def api_recording(linkedid):
        own_recording_only(linkedid)
        return recordings().find(linkedid)

    @app.get("/api/v1/recordings/<linkedid>/audio", name="api_recording_audio", scope="recordings:read", roles=EVERYONE,
             api=Operation({
        "tags": ["recordings"], "summary": "The MP3 (HTTP Range for seeking; `?download=1` to save it)",
        "parameters": [{"name": "download", "in": "query", "required": False, "schema": {"type": "string"}},
                       {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the whole file",
                              "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                      "206": {"description": "the byte range asked for",
                              "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                      **errors(401, 403, 404)}}))
    def api_recording_audio(linkedid):
        """The MP3, with HTTP Range (the browser's player seeks with it); ``?download=1`` to save it."""
        own_recording_only(linkedid)
        path = recordings().audio_file(linkedid)
        return send_mp3(path, f"{linkedid}.mp3" if request.query.get("download") else None,
                        "recording.file_missing")

    @app.get("/api/v1/recording-storage", name="api_recording_storage", scope="recordings:read", roles=STAFF,
             api=Operation({
      "tags": ["recordings"], "summary": "Recording storage: free space, reserve, days left at the recent rate",
      "responses": {"200": resp("storage", {"type": "object", "properties": {
          "free_bytes": {"type": "integer"}, "total_bytes": {"type": "integer"},
          "reserve_bytes": {"type": "integer"}, "bytes_per_day": {"type": "integer"},
          "days_left": {"type": ["number", "null"], "description": "null when nothing was recorded lately "
                        "or before a whole day of recording (see `days_basis`)"},
          "days_basis": {"enum": ["rate", "too_soon", "nothing"]}, "alarm": {"type": "string"},
          "level": {"enum": ["ok", "warn", "bad"], "description": "bad: under 7 days or the disk guard's "
                    "alarm; warn: under 30 days"},
          "message": {"type": "string"}}}), **errors(401, 403)}}))
    def api_recording_storage():
        storage = recordings().storage()
        return {**storage, "level": storage_level(storage)}
