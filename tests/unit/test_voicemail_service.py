"""Callers' messages, the service over a real database and pipeline: who sees which,
"handled" once with who and when, a refused message, an empty one not kept."""

from __future__ import annotations

import pytest
from test_recording_api import api
from test_webui import env  # noqa: F401  (env is a fixture)

from appliance.db.models import Recording, VoiceMessage
from appliance.errors import Conflict, NotFound
from appliance.services.voicemail import VoicemailService


def service(env, tmp_path):  # noqa: F811
    _, pipeline = api(env, tmp_path)
    return VoicemailService(env.db, env.deps.recordings, env.deps.crm, {"139": "1001"}.get)


def test_messages_for_a_queue_or_an_agent_and_handled_once(env, tmp_path):  # noqa: F811
    vm = service(env, tmp_path)
    path = vm.begin("1.1", "sales", caller="139", did="88001000", reason="after-hours")
    assert path == "/appliance/spool/1.1-msg.wav"  # the recording spool, as Asterisk sees it
    vm.begin("1.2", "support", caller="150", reason="queue-timeout")
    assert Recording.get(Recording.linkedid == "1.1-msg").policy == "voicemail"
    assert env.deps.recordings.search() == []  # not among the calls' recordings
    first, second = VoiceMessage.get(linkedid="1.1"), VoiceMessage.get(linkedid="1.2")
    assert (first.agent, second.agent) == ("1001", "")  # the caller's account manager
    alice = ({"1001"}, {"sales"})
    assert [x["id"] for x in vm.search(scope=alice)] == [first.id]
    assert [x["id"] for x in vm.search(scope=({"1001"}, set()))] == [first.id]  # left for her
    assert [x["id"] for x in vm.search(scope=({"1002"}, {"support"}))] == [second.id]
    with pytest.raises(NotFound):
        vm.get(second.id, scope=alice)
    done = vm.handled(first.id, "alice", "called back", scope=alice)
    assert done["handled_by"] == "alice" and done["handled_at"] is not None and done["note"] == "called back"
    with pytest.raises(Conflict) as again:
        vm.handled(first.id, "bob")
    assert again.value.code == "voicemail.already_handled"
    assert [x["id"] for x in vm.search()] == [second.id]
    assert [x["id"] for x in vm.search(state="handled")] == [first.id]


def test_no_room_on_the_disk_no_message_and_an_empty_one_is_not_kept(env, tmp_path):  # noqa: F811
    vm = service(env, tmp_path)
    pipeline = env.deps.recordings.pipeline
    pipeline.may_record = lambda: __import__("appliance.recording.disk", fromlist=["Decision"]).Decision(
        False, "recording.disk_full", "full")
    assert vm.begin("1.1", "sales", caller="139") is None  # the dialplan sends the caller to the fallback
    assert not VoiceMessage.select().exists()
    refused = Recording.get(Recording.linkedid == "1.1-msg")
    assert (refused.state, refused.policy) == ("refused", "voicemail")  # and not among the calls'
    assert env.deps.recordings.search() == []
    refused.delete_instance()
    del pipeline.may_record
    vm.begin("1.2", "sales", caller="139")
    (pipeline.config.spool_dir / "1.2-msg.wav").write_bytes(b"")  # hung up at the beep
    env.deps.recordings.settle_seconds = 0.01
    vm.call_ended({"linkedid": "1.2", "disposition": "fallback"})
    env.deps.recordings.wait_finishing(5)
    assert not VoiceMessage.select().exists() and not Recording.select().exists()
