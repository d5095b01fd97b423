"""The web pages' view of the message catalogs, which are the whole appliance's
(``appliance/i18n.py``, catalogs in ``appliance/locales/``): pages, templates and tests
import them from here as before."""

from __future__ import annotations

from appliance.i18n import (  # noqa: F401
    DEFAULT,
    LANGUAGES,
    LOCALES_DIR,
    catalog,
    choice,
    error_message,
    field_error,
    negotiate,
    translate,
)
