"""Recordings through the web API: on-demand control, search, and the MP3 with HTTP Range."""

from __future__ import annotations

import datetime as dt

import webtest
from test_webui import env, seed_agents, sign_in, token_for  # noqa: F401  (env is a fixture)

from appliance.db.models import CallRecord, Recording
from appliance.recording import disk, mp3
from appliance.recording.pipeline import RecordingConfig, RecordingPipeline
from appliance.services.recording import RecordingService
from webui.app import make_app


class Live:
    calls: dict = {}


def recorded(pipeline, linkedid, agent, caller="13800000001", seconds=20):
    """A finished call and its complete recording, as the pipeline leaves them."""
    now = dt.datetime(2026, 11, 23, 9, 0)
    CallRecord.create(linkedid=linkedid, caller=caller, agent=agent, queue="sales", enter_time=now,
                      end_time=now, talk_seconds=seconds, disposition="answered")
    pipeline.begin(linkedid)
    rec = Recording.get(Recording.linkedid == linkedid)
    path = pipeline.mp3_file(rec)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder = mp3.make_encoder(8000)
    data = bytes(encoder.encode(b"\x10\x00" * 8000 * seconds) + encoder.flush())
    path.write_bytes(data)
    Recording.update(state="complete", bytes=len(data), sha256=mp3.sha256_file(path),
                     duration_seconds=float(seconds)).where(Recording.id == rec.id).execute()
    return data


def api(env, tmp_path):
    config = RecordingConfig(spool_dir=tmp_path / "spool", store_dir=tmp_path / "store", workers=1,
                             reserve_min_bytes=0, reserve_fraction=0.0)
    pipeline = RecordingPipeline(env.db, config, runner=None)
    env.deps.recordings = RecordingService(pipeline, ami=None, live=Live(), asterisk_spool="/appliance/spool")
    seed_agents(env.deps.config)
    return webtest.TestApp(make_app(env.deps)), pipeline


def test_the_mp3_plays_and_seeks_with_http_range_and_downloads(env, tmp_path):  # noqa: F811
    app, pipeline = api(env, tmp_path)
    data = recorded(pipeline, "1700000000.1", agent="1001")
    alice, bob, sup = token_for(env, "alice"), token_for(env, "bob"), token_for(env, "sup")
    whole = app.get("/api/v1/recordings/1700000000.1/audio", headers=alice)
    assert whole.status_int == 200 and whole.content_type == "audio/mpeg" and whole.body == data
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = app.get("/api/v1/recordings/1700000000.1/audio", headers={**sup, "Range": "bytes=7200-7919"})
    assert part.status_int == 206 and part.body == data[7200:7920]
    assert part.headers["Content-Range"] == f"bytes 7200-7919/{len(data)}"
    saved = app.get("/api/v1/recordings/1700000000.1/audio?download=1", headers=sup)
    assert 'attachment; filename="1700000000.1.mp3"' in saved.headers["Content-Disposition"]
    # an agent hears only their own calls
    assert app.get("/api/v1/recordings/1700000000.1/audio", headers=bob, expect_errors=True).status_int == 403
    assert app.get("/api/v1/recordings/1700000000.1", headers=bob, expect_errors=True).status_int == 403
    missing = app.get("/api/v1/recordings/1700000000.9/audio", headers=sup, expect_errors=True)
    assert missing.status_int == 404 and missing.json["error"] == "recording.not_found"


def test_search_by_call_and_one_recording_with_its_call(env, tmp_path):  # noqa: F811
    app, pipeline = api(env, tmp_path)
    recorded(pipeline, "1700000000.1", agent="1001", caller="13800000001")
    recorded(pipeline, "1700000000.2", agent="1002", caller="13800000002", seconds=5)
    sup = token_for(env, "sup")
    found = app.get("/api/v1/recordings?caller=13800000002", headers=sup).json["items"]
    assert [r["linkedid"] for r in found] == ["1700000000.2"]
    assert found[0]["call"]["agent"] == "1002" and found[0]["complete"] and found[0]["duration_seconds"] == 5
    assert len(app.get("/api/v1/recordings", headers=sup).json["items"]) == 2
    one = app.get("/api/v1/recordings/1700000000.1", headers=token_for(env, "alice")).json
    assert one["state"] == "complete" and one["call"]["caller"] == "13800000001" and len(one["sha256"]) == 64
    # an agent finds only the recordings of their own calls
    mine = app.get("/api/v1/recordings", headers=token_for(env, "alice")).json
    assert [r["linkedid"] for r in mine["items"]] == ["1700000000.1"] and mine["total"] == 1
    storage = app.get("/api/v1/recording-storage", headers=sup).json
    assert storage["free_bytes"] > 0 and storage["alarm"] == "" and storage["level"] == "ok"


def test_search_by_days_queue_state_and_part_of_the_number(env, tmp_path):  # noqa: F811
    app, pipeline = api(env, tmp_path)
    for n, day in ((1, 20), (2, 21), (3, 22)):
        recorded(pipeline, f"1700000000.{n}", agent="1001", caller=f"1380000000{n}", seconds=2)
        # 15:59 UTC is 23:59 in Shanghai, the site's time zone, whose days the filter takes
        Recording.update(created_at=dt.datetime(2026, 11, day, 15, 59)).where(
            Recording.linkedid == f"1700000000.{n}").execute()
    CallRecord.update(queue="support").where(CallRecord.linkedid == "1700000000.3").execute()
    Recording.update(state="missing").where(Recording.linkedid == "1700000000.1").execute()
    sup = token_for(env, "sup")

    def found(query):
        body = app.get("/api/v1/recordings?" + query, headers=sup).json
        assert body["total"] == (3 if "limit" in query else len(body["items"]))
        return [r["linkedid"][-1] for r in body["items"]]

    assert found("from=2026-11-21&to=2026-11-21") == ["2"]  # the whole day, its last minute too
    assert found("from=2026-11-21") == ["3", "2"]
    assert found("to=2026-11-21") == ["2", "1"]
    assert found("queue=support") == ["3"]
    assert found("state=missing") == ["1"]
    assert found("caller=00002") == ["2"]
    assert found("limit=1&offset=1") == ["2"]
    bad = app.get("/api/v1/recordings?from=21.11.2026", headers=sup, expect_errors=True)
    assert bad.status_int == 422 and "from" in bad.json["fields"]
    assert app.get("/api/v1/recordings?state=lost", headers=sup, expect_errors=True).status_int == 422


def test_storage_level_warns_before_the_disk_guard_refuses():
    from webui.areas.recordings import storage_level

    assert storage_level({"days_left": None, "alarm": ""}) == "ok"
    assert storage_level({"days_left": 45.0, "alarm": ""}) == "ok"
    assert storage_level({"days_left": 12.0, "alarm": ""}) == "warn"
    assert storage_level({"days_left": 3.0, "alarm": ""}) == "bad"
    assert storage_level({"days_left": 400.0, "alarm": "recording.disk_full"}) == "bad"


class Recordings:
    """Stands in for RecordingService.control (which needs AMI and a live call)."""

    def __init__(self):
        self.steps = []

    def control(self, agent, action, actor):
        self.steps.append((agent, action, actor))
        return {"linkedid": "1.1", "recording": action}


def test_on_demand_control_through_the_api(env):  # noqa: F811
    seed_agents(env.deps.config)
    env.deps.recordings = recordings = Recordings()
    app = webtest.TestApp(make_app(env.deps))
    alice = token_for(env, "alice")
    for action in ("pause", "resume", "start", "stop"):
        assert app.post(f"/api/v1/agents/1001/recording/{action}", headers=alice).status_int == 200
    assert app.post("/api/v1/agents/1002/recording/pause", headers=alice, expect_errors=True).status_int == 403
    assert app.post("/api/v1/agents/1001/recording/erase", headers=alice, expect_errors=True).status_int == 404
    assert recordings.steps == [("1001", a, "alice") for a in ("pause", "resume", "start", "stop")]


def test_days_of_storage_left_need_a_day_of_recording_and_say_plenty_past_ten_years(env, tmp_path):  # noqa: F811
    """A few minutes of test calls once read as 7,648,503 days of storage left (issue 15.2):
    before a whole day of recording there is no rate yet, and past ten years the page says so."""
    app, pipeline = api(env, tmp_path)
    recorded(pipeline, "1700000000.1", agent="1001")
    sup = token_for(env, "sup")
    now = pipeline.now()
    Recording.update(completed_at=now - dt.timedelta(minutes=30)).execute()
    storage = app.get("/api/v1/recording-storage", headers=sup).json
    assert storage["bytes_per_day"] > 0 and storage["days_left"] is None and storage["days_basis"] == "too_soon"
    sign_in(app, "sup")
    page = app.get("/recordings")
    assert "known after a day of recording" in page.text and "days</span>" not in page.text
    Recording.update(completed_at=now - dt.timedelta(days=3)).execute()  # a 20 s call in three days
    storage = app.get("/api/v1/recording-storage", headers=sup).json
    assert storage["days_basis"] == "rate" and storage["days_left"] > disk.PLENTY_DAYS
    assert "over 10 years" in app.get("/recordings").text
