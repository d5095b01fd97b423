"""rtp.conf: the UDP port range for media."""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "rtp.conf"


def render(model: AsteriskModel) -> str:
    conf = ConfText("RTP ports")
    conf.section("general")
    conf.option("rtpstart", model.network.rtp_start)
    conf.option("rtpend", model.network.rtp_end)
    conf.option("strictrtp", "no")
    return conf.render()
