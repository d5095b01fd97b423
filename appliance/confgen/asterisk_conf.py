"""asterisk.conf: where this Asterisk keeps everything (the bootstrap file, ``-C``)."""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "asterisk.conf"


def render(model: AsteriskModel) -> str:
    p = model.paths
    conf = ConfText("Asterisk directories and options")
    conf.section("directories")
    for key, path in (
        ("astetcdir", p.etc),
        ("astmoddir", p.modules),
        ("astvarlibdir", p.lib),
        ("astdbdir", p.lib),
        ("astkeydir", p.lib),
        ("astdatadir", p.data),
        ("astagidir", p.data + "/agi-bin"),
        ("astspooldir", p.spool),
        ("astrundir", p.run),
        ("astlogdir", p.log),
        ("astsbindir", "/usr/sbin"),
        ("astcachedir", p.spool + "/cache"),
    ):
        conf.option(key, path, op="=>")
    conf.section("files")
    # the control socket: Asterisk's group (the appliance, on the image) may run CLI commands
    conf.option("astctlpermissions", "0660")
    conf.section("options")
    conf.options((
        ("verbose", 2),
        ("nocolor", True),
        ("hideconnect", True),
        ("defaultlanguage", p.sounds_language),
        ("documentation_language", "en_US"),
        ("transmit_silence", True),
    ))
    return conf.render()
