"""Softphones in the browser and G.722 in the generated Asterisk files (issue 21 points 5, 6):
Asterisk's HTTP server carries the WebSocket, a browser phone gets ``webrtc = yes`` on it,
and the modules for WebRTC media and wideband are loaded."""

from __future__ import annotations

from appliance.confgen import apply, http, modules, pjsip, render_all
from appliance.confgen.model import Network, Phone
from tests.unit.test_confgen import model

DESK = Phone("1001", "ph-secret-1", "Alice", codecs=("g722", "alaw", "ulaw"))
BROWSER = Phone("1003", "ph-secret-3", "Carol", codecs=("g722", "alaw", "g729"), webrtc=True)


def sections(text: str) -> dict[str, list[dict[str, str]]]:
    """Section name -> each of its blocks as {option: value} (pjsip.conf repeats names)."""
    out: dict[str, list[dict[str, str]]] = {}
    block = None
    for line in text.splitlines():
        if line.startswith("["):
            block = {}
            out.setdefault(line[1:line.index("]")], []).append(block)
        elif " = " in line and block is not None:
            key, value = line.split(" = ", 1)
            block[key] = value
    return out


def endpoint(conf: str, name: str) -> dict[str, str]:
    return next(b for b in sections(conf)[name] if b.get("type") == "endpoint")


def test_no_port_no_http_server_and_no_browser_phone():
    files = render_all(model(phones=(DESK, BROWSER)))
    assert sections(files["http.conf"])["general"] == [{"enabled": "no", "enablestatic": "no", "servername": ""}]
    assert pjsip.WS_TRANSPORT not in files["pjsip.conf"]
    assert "[1003]" not in files["pjsip.conf"]  # nowhere to register: not half-configured


def test_plain_websocket_for_development_and_tests():
    files = render_all(model(network=Network(webrtc_port=18089, webrtc_bind="127.0.0.1"), phones=(DESK, BROWSER)))
    general = sections(files["http.conf"])["general"][0]
    assert (general["enabled"], general["bindaddr"], general["bindport"]) == ("yes", "127.0.0.1", "18089")
    assert "tlsenable" not in general
    ws = sections(files["pjsip.conf"])[pjsip.WS_TRANSPORT][0]
    assert (ws["type"], ws["protocol"]) == ("transport", "ws")


def test_secure_websocket_with_the_web_uis_certificate():
    net = Network(webrtc_port=8089, webrtc_bind="0.0.0.0", webrtc_cert="/appliance/etc/appliance/web.crt",
                  webrtc_key="/appliance/etc/appliance/web.key")
    files = render_all(model(network=net, phones=(BROWSER,)))
    general = sections(files["http.conf"])["general"][0]
    assert general["tlsenable"] == "yes"
    assert general["tlsbindaddr"] == "0.0.0.0:8089"  # the port browsers reach is TLS
    assert "bindaddr" not in general and "bindport" not in general  # no plain listener beside it
    assert (general["tlscertfile"], general["tlsprivatekey"]) == (net.webrtc_cert, net.webrtc_key)
    assert sections(files["pjsip.conf"])[pjsip.WS_TRANSPORT][0]["protocol"] == "wss"


def test_ipv6_tls_address_is_bracketed():
    net = Network(webrtc_port=8089, webrtc_bind="::", webrtc_cert="/c", webrtc_key="/k")
    assert "tlsbindaddr = [::]:8089" in http.render(model(network=net))


def test_browser_phone_endpoint_is_webrtc_on_the_websocket():
    files = render_all(model(network=Network(webrtc_port=18089), phones=(DESK, BROWSER)))
    ep = endpoint(files["pjsip.conf"], "1003")
    assert ep["webrtc"] == "yes"
    assert ep["transport"] == pjsip.WS_TRANSPORT
    assert ep["allow"] == "opus,g722,alaw"  # Opus first; G.729 is no browser's codec
    assert ep["rewrite_contact"] == "yes"  # JsSIP's Contact host is *.invalid
    assert ep["direct_media"] == "no"  # media anchored, as every phone's
    assert {b["type"] for b in sections(files["pjsip.conf"])["1003"]} == {"endpoint", "auth", "aor"}
    desk = endpoint(files["pjsip.conf"], "1001")
    assert "webrtc" not in desk and desk["transport"] == pjsip.TRANSPORT
    assert desk["allow"] == "g722,alaw,ulaw"  # a desk phone offers G.722 beside G.711 as listed


def test_browser_phone_with_no_browser_codec_gets_g711():
    assert pjsip.browser_codecs(Phone("1004", "s", codecs=("gsm", "g729"), webrtc=True)) == ("opus", "alaw", "ulaw")


def test_modules_for_websocket_dtls_opus_and_g722_are_loaded():
    loaded = {line.split("=>")[1].strip() for line in modules.render(model()).splitlines() if "=>" in line}
    assert {"res_http_websocket.so", "res_pjsip_transport_websocket.so", "res_crypto.so", "res_srtp.so",
            "codec_opus_open_source.so", "res_format_attr_opus.so", "codec_g722.so"} <= loaded


def test_http_conf_change_reloads_only_the_http_server(tmp_path):
    apply.write_files(model(), tmp_path)
    commands = []
    result = apply.apply(model(network=Network(webrtc_port=18089)), tmp_path, commands.append)
    assert "module reload http" in commands
    assert set(result.changed) == {"http.conf", "pjsip.conf"}


def test_the_web_uis_certificate_is_copied_where_asterisk_reads_it(tmp_path):
    """With HTTPS on (the image), the wss port presents the web UI's own certificate: copied
    into the generated folder (Asterisk's group reads it there; the original key is the
    appliance's alone) and named by its path as Asterisk sees it."""
    from types import SimpleNamespace

    from appliance.main import Appliance
    from provisioning import firstboot

    tls = tmp_path / "tls"
    tls.mkdir()
    (tls / firstboot.CERT_FILE).write_text("CERT\n")
    (tls / firstboot.KEY_FILE).write_text("KEY\n")
    pbx = SimpleNamespace(generated_dir=tmp_path / "asterisk" / "etc" / "appliance",
                          paths=SimpleNamespace(etc="/appliance/etc"))
    fake = SimpleNamespace(pbx=pbx)
    on = SimpleNamespace(webrtc_port=8089, web_https_port=443, tls_dir=tls)
    assert Appliance._webrtc_certificate(fake, on) == {"webrtc_cert": "/appliance/etc/appliance/web.crt",
                                                       "webrtc_key": "/appliance/etc/appliance/web.key"}
    assert (pbx.generated_dir / "web.key").read_text() == "KEY\n"
    assert (pbx.generated_dir / "web.key").stat().st_mode & 0o777 == 0o640
    assert Appliance._webrtc_certificate(fake, SimpleNamespace(webrtc_port=8089, web_https_port=0,
                                                               tls_dir=tls)) == {}  # plain ws
    assert Appliance._webrtc_certificate(fake, SimpleNamespace(webrtc_port=0, web_https_port=443,
                                                               tls_dir=tls)) == {}  # no softphones
