"""Whether a call is recorded: force / yes / dontcare / no / never, and their precedence."""

from __future__ import annotations

import pytest

from appliance.recording import rules
from appliance.recording.rules import OFF, RECORD, STANDBY, Decision


def decide(direction="dontcare", trunk="dontcare", queue="dontcare", agent="dontcare"):
    return rules.decide(("inbound", direction), ("pstn", trunk), ("sales", queue), ("1001", agent))


@pytest.mark.parametrize("settings, expected", [
    ({}, Decision(STANDBY, False, "no setting says yes or no")),
    ({"direction": "yes"}, Decision(RECORD, False, "direction inbound: yes")),
    # the most specific yes/no decides
    ({"direction": "yes", "queue": "no"}, Decision(STANDBY, False, "queue sales: no")),
    ({"direction": "no", "trunk": "yes", "agent": "no"}, Decision(STANDBY, False, "agent 1001: no")),
    ({"direction": "no", "agent": "yes"}, Decision(RECORD, False, "agent 1001: yes")),
    # never beats yes and no wherever it is; force beats never
    ({"direction": "never", "agent": "yes"}, Decision(OFF, False, "direction inbound: never")),
    ({"agent": "never", "queue": "yes"}, Decision(OFF, False, "agent 1001: never")),
    ({"trunk": "force", "agent": "never"}, Decision(RECORD, True, "trunk pstn: force")),
    ({"direction": "force", "queue": "no"}, Decision(RECORD, True, "direction inbound: force")),
])
def test_precedence(settings, expected):
    assert decide(**settings) == expected


def test_unknown_elements_and_modes_have_no_say():
    assert rules.decide(("inbound", "yes"), ("", "never"), ("sales", "maybe")).outcome == RECORD


def test_start_at_answer_writes_only_bridged_audio():
    assert rules.mixmonitor_options("answer") == "b"
    assert rules.mixmonitor_options("ringing") == ""
