"""The real Chromium plays and seeks an 8 kbit/s MPEG-2.5 recording served by the real API
route (GET /api/v1/recordings/<linkedid>/audio, HTTP Range), and decodes all of it."""

from __future__ import annotations

import subprocess
import sys
import threading
import wsgiref.simple_server
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))  # the web API's fixtures

from test_recording_api import api, recorded  # noqa: E402
from test_webui import env, token_for  # noqa: E402,F401  (env is a fixture)

from harness import free_port  # noqa: E402

pytestmark = pytest.mark.browser

PAGE = """<html><body><pre id=out>pending</pre><script>
const out = document.getElementById('out'); const log = [];
const url = '/api/v1/recordings/1700000000.1/audio';
const a = new Audio(url);
a.addEventListener('loadedmetadata', () => { log.push('duration=' + a.duration.toFixed(1)); a.currentTime = 30; });
a.addEventListener('seeked', () => { log.push('seeked=' + a.currentTime.toFixed(1));
  a.play().then(() => log.push('playing')).catch(e => log.push('play-error=' + e)); });
a.addEventListener('error', () => log.push('error=' + (a.error && a.error.code)));
fetch(url).then(r => r.arrayBuffer()).then(b => new OfflineAudioContext(1, 8000, 8000).decodeAudioData(b))
  .then(buf => log.push('decoded=' + buf.duration.toFixed(1))).catch(e => log.push('decode-error=' + e));
setInterval(() => { out.textContent = log.join(' '); }, 100);
</script></body></html>"""


def test_chromium_plays_seeks_and_decodes_an_8kbit_recording(env, tmp_path):  # noqa: F811
    app, pipeline = api(env, tmp_path)
    recorded(pipeline, "1700000000.1", agent="1001", seconds=60)
    token = token_for(env, "sup")["Authorization"]
    web = app.app

    def site(environ, start_response):  # the page, and the real app with the supervisor's token
        if environ["PATH_INFO"] == "/":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [PAGE.encode()]
        environ["HTTP_AUTHORIZATION"] = token
        return web(environ, start_response)

    port = free_port()
    server = wsgiref.simple_server.make_server("127.0.0.1", port, site,
                                               handler_class=type("Quiet", (wsgiref.simple_server.WSGIRequestHandler,),
                                                                  {"log_message": lambda *a: None}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dom = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--autoplay-policy=no-user-gesture-required",
             "--virtual-time-budget=15000", "--dump-dom", f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, timeout=120).stdout
    finally:
        server.shutdown()
    result = dom.split('<pre id="out">', 1)[1].split("<", 1)[0].split()
    # 60 s of audio plus LAME's 0.19 s; Range answers themselves are checked in tests/unit/test_recording_api.py
    assert set(result) >= {"duration=60.2", "decoded=60.2", "seeked=30.0", "playing"}, result
