"""Desk phones' configuration files, one module per vendor, each a pure ``render``
of a ``PhoneFile`` (what the database says about one phone, ``model.py``) to the text the
phone downloads, like ``appliance/confgen`` does for Asterisk.

- Yealink T-series (``yealink.py``): ``y000000000000.cfg`` (every Yealink phone asks for it
  first: what all of them share) and ``<mac>.cfg`` (its account and keys);
- Grandstream GXP/GRP (``grandstream.py``): ``cfg<mac>.xml``, XML carrying P-values;
- Fanvil X-series (``fanvil.py``): ``<mac>.cfg``, Fanvil's ``<sysConf>`` XML.

``file_request(name)`` says which vendor and which phone a requested file name is for; the
service that serves them (``appliance/services/provisioning.py``) checks who asks.
"""

from __future__ import annotations

from provisioning.phones import fanvil, grandstream, yealink
from provisioning.phones.model import MODELS, PhoneFile, normalise_mac, vendor_of  # noqa: F401

VENDORS = {"yealink": yealink, "grandstream": grandstream, "fanvil": fanvil}


def file_request(name: str) -> tuple[str, str] | None:
    """What a requested file name is: ``("common", vendor)`` for a vendor's shared file,
    ``("phone", mac)`` for one phone's (Yealink and Fanvil both name it ``<mac>.cfg``: the
    phone's model in the database says whose it is), None for a name no phone asks for."""
    for vendor, module in VENDORS.items():
        if name in module.COMMON_FILES:
            return "common", vendor
    for module in VENDORS.values():
        mac = module.mac_of(name)
        if mac is not None:
            return "phone", mac
    return None


def file_name(phone_model: str, mac: str) -> str:
    """The file a phone of ``phone_model`` with this MAC asks for."""
    return VENDORS[vendor_of(phone_model)].file_name(mac)


def render(phone: PhoneFile) -> str:
    """One phone's own file."""
    return VENDORS[vendor_of(phone.model)].render(phone)


def render_common(vendor: str, phone: PhoneFile) -> str:
    """A vendor's shared file, as the phone asking for it should read it."""
    return VENDORS[vendor].render_common(phone)
