"""agents.conf: one app_agent_pool agent per work number, for long sign-in.

Every agent with a phone is defined, so any of them may sign in for the shift; calls
reach them through ``Local/<number>@cc-agent-pool`` and they hear a beep, not a ring.
Wrap-up stays with the queues (their ``wrapuptime``), so the pool adds none.
"""

from appliance import dialplan_vars as v
from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText, name

FILENAME = "agents.conf"


def render(model: AsteriskModel) -> str:
    conf = ConfText("agent pool (long sign-in)")
    for number in model.agents:
        conf.section(name(number))
        conf.options((("ackcall", "no"), ("custom_beep", v.AGENT_BEEP),
                      ("musiconhold", v.AGENT_SILENCE_MOH), ("wrapuptime", 0)))
    return conf.render()
