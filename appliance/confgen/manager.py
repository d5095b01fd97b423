"""manager.conf: AMI on the loopback only, one user with only the classes we use."""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "manager.conf"


def render(model: AsteriskModel) -> str:
    net, user = model.network, model.ami
    conf = ConfText("Asterisk Manager Interface")
    conf.section("general")
    conf.options((
        ("enabled", True),
        ("webenabled", False),
        ("bindaddr", net.ami_bind),
        ("port", net.ami_port),
        ("displayconnects", False),
        ("timestampevents", True),
        ("authtimeout", 10),
        ("authlimit", 20),
    ))
    conf.section(user.username, comment="the appliance's own services; secret generated at first boot")
    conf.options((
        ("secret", user.secret),
        ("deny", "0.0.0.0/0.0.0.0"),
        ("permit", "127.0.0.1/255.255.255.255"),
        ("read", user.read),
        ("write", user.write),
        ("writetimeout", 5000),
        # events of the classes above nothing here reads, each parsed on the supervisor's loop:
        # Debian's Asterisk is built with its test framework and sends 8 TestEvents a queue
        # call; ExtensionStatus (hints) 3; RTCP reports every 5 s per channel (bench/mixed_load.py)
        *(("eventfilter", f"!Event: {name}") for name in UNREAD_EVENTS),
    ))
    return conf.render()


# never read by the live state, the registrations, the SIP guard or an action's caller
UNREAD_EVENTS = ("TestEvent", "ExtensionStatus", "RTCPSent", "RTCPReceived")
