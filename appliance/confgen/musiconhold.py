"""musiconhold.conf: music on hold classes (files under Asterisk's data directory)."""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "musiconhold.conf"


def render(model: AsteriskModel) -> str:
    conf = ConfText("music on hold")
    for moh in model.moh:
        conf.section(moh.name)
        conf.option("mode", "files")
        conf.option("directory", moh.directory)
        conf.option("sort", "random")
    return conf.render()
