"""modules.conf (our part): load exactly the modules the appliance uses.

The static ``rootfs/etc/asterisk/modules.conf`` sets ``autoload = no`` and includes
this file, so Asterisk's log only talks about things we use.  Changing this list
needs an Asterisk restart; ``apply`` reports that instead of reloading.
"""

from appliance.confgen.model import AsteriskModel
from appliance.confgen.writer import ConfText

FILENAME = "modules.conf"

# Grouped by what they are for; order matters only where noted.
MODULES = (
    # Core resources, loaded first by Asterisk's own ordering.
    "res_timing_timerfd.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_rtp_asterisk.so",
    "res_musiconhold.so",
    "res_speech.so",  # res_agi needs it
    "res_agi.so",
    # SIP: trunks and phones.
    "res_pjsip.so",
    "res_pjsip_session.so",
    "chan_pjsip.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_registrar.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_nat.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_pubsub.so",
    "res_pjsip_outbound_publish.so",  # res_pjsip_exten_state needs it
    "res_pjsip_exten_state.so",
    # What desk phones' busy lamp (BLF) keys subscribe to: dialog-info (Yealink, Grandstream, Fanvil), PIDF.
    "res_pjsip_dialog_info_body_generator.so",
    "res_pjsip_pidf_body_generator.so",
    "res_pjsip_refer.so",
    # Softphones in the browser: SIP over WebSocket on Asterisk's HTTP server (http.conf),
    # DTLS-SRTP media, Opus.
    "res_http_websocket.so",
    "res_pjsip_transport_websocket.so",
    "res_crypto.so",
    "res_srtp.so",
    "func_pjsip_endpoint.so",
    # Bridging.
    "bridge_simple.so",
    "bridge_native_rtp.so",
    "bridge_softmix.so",
    "bridge_holding.so",
    "bridge_builtin_features.so",
    # Codecs and file formats (G.711 both laws, G.722, Opus, GSM prompts, WAV recordings).
    "codec_alaw.so",
    "codec_ulaw.so",
    "codec_a_mu.so",
    "codec_g722.so",  # wideband phones; translated to the trunk's G.711
    "codec_opus_open_source.so",  # browsers' codec (Debian's build of the open-source module)
    "res_format_attr_opus.so",
    "codec_gsm.so",
    "format_gsm.so",
    "format_wav.so",
    "format_wav_gsm.so",
    "format_pcm.so",
    "format_sln.so",
    # Dialplan and applications.
    "pbx_config.so",
    "app_dial.so",
    "app_queue.so",
    "app_playback.so",
    "app_userevent.so",
    "app_verbose.so",
    "app_echo.so",
    "app_senddtmf.so",
    "app_read.so",
    "app_mixmonitor.so",
    "app_record.so",  # Record(): a caller's message (cc-voicemail)
    "res_fax.so",  # SendFAX / ReceiveFAX
    "res_fax_spandsp.so",  # ...their modem (spandsp: G.711 audio and T.38)
    "app_stack.so",  # Gosub: app_queue runs cc-record-connect on the answering agent's leg
    "app_chanspy.so",
    "app_confbridge.so",  # three-way calls (profiles in the static confbridge.conf)
    "chan_bridge_media.so",  # ConfBridge's announcer channel
    "app_agent_pool.so",  # long sign-in: AgentLogin / AgentRequest (agents.conf)
    "app_amd.so",  # answering-machine detection of campaign calls (amd.conf; arguments per campaign)
    "app_waitforsilence.so",  # a machine's greeting over: the campaign's message after the beep
    "func_strings.so",
    "func_logic.so",
    "func_channel.so",
    "func_callerid.so",
    "func_cut.so",
    "func_global.so",
    "func_math.so",
    "func_devstate.so",
    "func_dialplan.so",  # DIALPLAN_EXISTS: does the queue after a first agent have a survey?
    "res_clioriginate.so",
)


# Only with a telephony card (DAHDI); a SIP-only appliance does not load it.
DAHDI_MODULES = ("chan_dahdi.so",
                 "func_hangupcause.so")  # HANGUPCAUSE_KEYS: a card route with no channel free, or the callee busy


def render(model: AsteriskModel) -> str:
    conf = ConfText("modules loaded by the appliance (included inside [modules])")
    for module in MODULES + (DAHDI_MODULES if model.dahdi else ()):
        conf.option("load", module, op="=>")
    return conf.render()
