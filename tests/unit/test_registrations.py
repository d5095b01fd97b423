"""The registrations' pure state (appliance/engine/registrations.py): AMI events in, the
changes to publish out; the CLI's listings parsed after a reconnection."""

from __future__ import annotations

from appliance.engine.registrations import Registrations, parse_contacts, parse_registrations

CONTACTS = """
  Contact:  <Aor/ContactUri..............................> <Hash....> <Status> <RTT(ms)..>
==========================================================================================

  Contact:  1001/sip:1001@127.0.0.1:5999                     2b1c4e3a7f NonQual         nan
  Contact:  1002/sip:1002@127.0.0.1:6001                     9a8b7c6d5e Unavail         nan
  Contact:  trunk-acme/sip:127.0.0.2:5060                    0f1e2d3c4b NonQual         nan

Objects found: 3
"""
REGISTRATIONS = """
 <Registration/ServerURI..............................>  <Auth....................>  <Status.......>
==========================================================================================

 trunk-acme-reg/sip:127.0.0.2:5060                        trunk-acme-auth             Registered        (exp. 3595s)
 trunk-my-pbx-reg/sip:10.0.0.9:5060                       trunk-my-pbx-auth           Rejected

Objects found: 2
"""


def states(commands):
    return [(c.topic, c.data["kind"], c.data["key"], c.data["state"]) for c in commands]


def test_a_phone_registers_and_unregisters():
    reg = Registrations()
    created = {"Event": "ContactStatus", "AOR": "1001", "URI": "sip:1001@127.0.0.1:5999", "ContactStatus": "Created"}
    assert states(reg.apply(created)) == [("registration", "phones", "1001", "registered")]
    assert reg.apply({**created, "ContactStatus": "NonQualified"}) == []  # no change, nothing published
    # remove_existing: the new contact is created before the old one is removed
    moved = {**created, "URI": "sip:1001@127.0.0.1:7000"}
    assert reg.apply(moved)[0].data["contact"] == "sip:1001@127.0.0.1:7000"
    assert reg.apply({**created, "ContactStatus": "Removed"}) == []
    assert reg.snapshot()["phones"] == {"1001": "registered"}
    assert states(reg.apply({**moved, "ContactStatus": "Removed"})) == [("registration", "phones", "1001",
                                                                         "unregistered")]
    assert states(reg.apply({**moved, "ContactStatus": "Unreachable"}))[0][3] == "unreachable"
    assert reg.apply({**created, "AOR": "trunk-acme"}) == []  # a trunk's static contact is not a phone


def test_a_trunk_registration_is_matched_by_its_uris_and_nothing_is_known_without_ami():
    reg = Registrations()
    reg.set_trunks({"acme": ("sip:acme@127.0.0.2:5060", "sip:127.0.0.2:5060")})
    event = {"Event": "Registry", "ChannelType": "PJSIP", "Username": "sip:acme@127.0.0.2:5060",
             "Domain": "sip:127.0.0.2:5060", "Status": "Registered"}
    assert states(reg.apply(event)) == [("registration", "trunks", "acme", "registered")]
    assert states(reg.apply({**event, "Status": "Rejected"}))[0][3] == "rejected"
    assert reg.apply({**event, "Domain": "sip:elsewhere:5060"}) == []
    reg.known = True
    assert states(reg.lost()) == [("registration", "all", "", "unknown")] and reg.lost() == []
    assert not reg.snapshot()["known"]


def test_what_the_cli_lists_replaces_what_was_known():
    reg = Registrations()
    reg.set_trunks({"acme": ("c", "s"), "my-pbx": ("c2", "s2")})
    reg.apply({"Event": "ContactStatus", "AOR": "1009", "URI": "sip:1009@x", "ContactStatus": "Created"})
    contacts = parse_contacts(CONTACTS)
    assert contacts[0] == ("1001", "sip:1001@127.0.0.1:5999", "NonQualified")
    published = states(reg.connected(contacts, parse_registrations(REGISTRATIONS)))
    assert sorted(published) == [("registration", "phones", "1001", "registered"),
                                 ("registration", "phones", "1002", "unreachable"),
                                 ("registration", "phones", "1009", "unregistered"),
                                 ("registration", "trunks", "acme", "registered"),
                                 ("registration", "trunks", "my-pbx", "rejected")]
    assert reg.snapshot() == {"known": True, "phones": {"1001": "registered", "1002": "unreachable"},
                              "trunks": {"acme": "registered", "my-pbx": "rejected"}}
