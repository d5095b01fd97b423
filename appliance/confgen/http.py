"""http.conf: Asterisk's own HTTP server, which carries the browser softphones' SIP over
WebSocket (``res_http_websocket`` + ``res_pjsip_transport_websocket``, path ``/ws``).

With a certificate (the web UI's HTTPS one, ``web_https_port`` set, as on the image) the
port browsers reach is TLS (``wss://<appliance>:<webrtc_port>/ws``): a page served over
HTTPS may only open a secure WebSocket, and a browser gives the microphone only to a
secure page. Asterisk then has no plain listener at all (no ``bindaddr``: seen on Asterisk
22, ``http show status`` says "Server Disabled" while the TLS one answers).
Without a certificate (a development machine: `make run`) the port is plain ``ws`` on
``webrtc_bind``: a page on ``http://127.0.0.1`` is a secure context all the same.
``webrtc_port = 0``: the server is off and no phone can be a softphone.
"""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "http.conf"
WS_PATH = "/ws"  # fixed by res_pjsip_transport_websocket


def secure(model: AsteriskModel) -> bool:
    return bool(model.network.webrtc_cert)


def render(model: AsteriskModel) -> str:
    n = model.network
    conf = ConfText("Asterisk's HTTP server: the softphones' WebSocket")
    conf.section("general")
    conf.option("enabled", bool(n.webrtc_port))
    conf.option("enablestatic", False)
    conf.option("servername", "")  # no version in a Server header
    if not n.webrtc_port:
        return conf.render()
    if secure(model):
        conf.options((("tlsenable", True), ("tlsbindaddr", f"{_host(n.webrtc_bind)}:{n.webrtc_port}"),
                      ("tlscertfile", n.webrtc_cert), ("tlsprivatekey", n.webrtc_key)))
    else:
        conf.options((("bindaddr", n.webrtc_bind), ("bindport", n.webrtc_port)))
    return conf.render()


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
