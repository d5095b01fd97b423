"""queues.conf: one section per queue (skill group).

Membership is not written here: the database says which agents are signed in, and
the engine adds them with AMI ``QueueAdd`` (so ``persistentmembers = no``).
"""

from appliance import dialplan_vars as v
from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "queues.conf"

STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom")

# A caller may not wait in a queue nobody can answer: join refused, and callers
# already waiting leave, when every member is paused, unreachable or absent.
EMPTY_RULE = ("paused", "unavailable", "invalid", "unknown")
# A personal queue (one agent) is only worth joining when that agent can take the call now.
PERSONAL_EMPTY_RULE = ("paused", "penalty", "inuse", "ringing", "unavailable", "invalid", "unknown", "wrapup")


def render(model: AsteriskModel) -> str:
    conf = ConfText("call queues")
    conf.section("general")
    conf.options((
        ("persistentmembers", False),
        ("autofill", True),
        ("shared_lastcall", True),
        ("log_membername_as_agent", True),
    ))
    for q in model.queues:
        if q.strategy not in STRATEGIES:
            raise ValueError(f"queue {q.name}: unknown strategy {q.strategy!r}")
        conf.section(q.name)
        conf.options((
            ("strategy", q.strategy),
            ("timeout", q.ring_timeout),
            ("retry", q.retry),
            ("wrapuptime", q.wrapup_seconds),
            ("musicclass", q.musicclass),
            ("joinempty", EMPTY_RULE),
            ("leavewhenempty", EMPTY_RULE),
            ("ringinuse", False),
            ("setinterfacevar", True),
            ("setqueuevar", True),
            ("announce-position", q.announce_position),
            ("announce-holdtime", "once" if q.announce_holdtime else False),
            ("announce-frequency", q.announce_frequency),
            ("periodic-announce", "queue-periodic-announce" if q.periodic_announce_seconds else None),
            ("periodic-announce-frequency", q.periodic_announce_seconds or None),
            ("reportholdtime", False),
            # Missed calls are counted by the engine, which pauses after the queue's
            # ``autopause_after`` in a row (app_queue alone would pause after the first).
            ("autopause", False),
        ))
    for agent in model.agents:
        conf.section(v.personal_queue(agent), comment=f"agent {agent} alone (sticky agent, VIP)")
        conf.options((
            ("strategy", "ringall"),
            ("timeout", 15),
            ("retry", 1),
            ("joinempty", PERSONAL_EMPTY_RULE),
            ("leavewhenempty", PERSONAL_EMPTY_RULE),
            ("ringinuse", False),
            ("setinterfacevar", True),
            ("announce-position", False),
            ("announce-holdtime", False),
            ("autopause", False),
        ))
    return conf.render()
