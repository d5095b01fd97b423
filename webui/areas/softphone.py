"""The softphone in the agent's browser (appliance/services/softphone.py): what the
workspace registers it with. The page itself is the workspace's (webui/areas/workspace.py,
``workspace_softphone.tpl``, ``webui/static/softphone.js``); the call's controls are the
toolbar's, through the agent API like a desk phone's."""

from __future__ import annotations

from webui.apidoc import Operation, errors, resp
from webui.http import EVERYONE, own_agent_only

REGISTRATION = {"type": "object", "properties": {
    "extension": {"type": "string"}, "password": {"type": "string"}, "display_name": {"type": "string"},
    "port": {"type": "integer"}, "path": {"type": "string"}}}


def install(app, deps) -> None:
    @app.get("/api/v1/agents/<number>/softphone", name="api_agent_softphone", scope="calls:control",
             roles=EVERYONE, api=Operation({
                 "tags": ["workspace"], "summary": "Register the agent's softphone in the browser",
                 "description": "The extension and SIP password of the agent's phone when it is a softphone in "
                                "the browser (`webrtc`), and where Asterisk's WebSocket is: "
                                "`wss://<this host>:<port><path>` when the page is HTTPS, `ws://` otherwise. "
                                "409 `softphone.not_a_browser_phone` for a desk phone (or none), "
                                "409 `softphone.off` when the appliance has no WebSocket (`webrtc_port` 0). "
                                "Agents only for their own agents.",
                 "responses": {"200": resp("the registration", REGISTRATION), **errors(401, 403, 404, 409)}}))
    def api_agent_softphone(number):
        own_agent_only(number)
        return deps.softphones.registration(number)
