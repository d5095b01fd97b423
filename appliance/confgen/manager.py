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
    ))
    return conf.render()
