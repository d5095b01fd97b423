"""Asterisk configuration, derived from the database and disposable.

One module per Asterisk file, each a pure ``render(model) -> str``; ``apply`` writes
them atomically and reloads only what changed.  ``asterisk_conf`` is not applied
here: it is the bootstrap file, written once when an Asterisk instance is laid out.
"""

from appliance.confgen import agents, extensions, http, manager, modules, musiconhold, pjsip, queues, rtp

# Every generated file, in the order they are written.
RENDERERS = (modules, rtp, http, manager, musiconhold, pjsip, queues, agents, extensions)


def render_all(model) -> dict[str, str]:
    return {r.FILENAME: r.render(model) for r in RENDERERS}
