"""Domain errors with stable ids, translated to HTTP or a dialplan fallback at the edges."""

from __future__ import annotations


class FieldError(str):
    """What is wrong with one field: the English text (what the API's ``fields`` carries and
    logs read), with the message id and parameters the edges translate it from
    (``appliance/i18n.py::field_error``).  A ``str``, so every place that stores, compares or
    serialises a field's error as text keeps working::

        FieldError("field.max_length", f"at most {n} characters", n=n)

    An error whose edge shows its own sentence (the serial console, ``i18n.error_text``) may
    carry one as its message too: ``ValidationError(FieldError(...), code=..., fields=...)``.
    """

    msgid: str
    params: dict

    def __new__(cls, msgid: str, text: str, **params):
        obj = super().__new__(cls, text)
        obj.msgid = msgid
        obj.params = params
        return obj

    def __reduce__(self):  # copy, deepcopy and pickle keep the id and params (str's own way would not)
        return (_field_error, (self.msgid, str(self), self.params))


def _field_error(msgid: str, text: str, params: dict) -> FieldError:
    return FieldError(msgid, text, **params)


def field_error_of(exc: Exception) -> str:
    """The field's error a ``ValueError`` from a field check carries: its ``FieldError``
    (``raise ValueError(FieldError(...))``), else the exception's text."""
    if exc.args and isinstance(exc.args[0], FieldError):
        return exc.args[0]
    return str(exc)


class DomainError(Exception):
    """Base of every error a user or caller of our API may see."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, FieldError | str] | None = None,
                 params: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        # what the translated sentence of ``code`` is filled in with (error.code.<code>)
        self.params = params or {}

    def to_dict(self) -> dict:
        body = {"error": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = self.fields
        if self.params:
            body["params"] = self.params
        return body


class ValidationError(DomainError):
    """Bad input; ``fields`` maps each offending field to what is wrong with it."""

    code = "validation_failed"
    http_status = 422


class BadRequest(DomainError):
    """A request that cannot even be read (not JSON, not an object)."""

    code = "bad_request"
    http_status = 400


class TooLarge(DomainError):
    """A request body larger than the API reads."""

    code = "request.too_large"
    http_status = 413


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


class CallNotPermitted(PermissionDenied):
    """A call to a number whose class (``params["number_class"]``) the caller's calling
    permission does not allow (appliance/services/calling.py)."""

    code = "call.not_permitted"


class TooManyRequests(DomainError):
    """A limit on how often something may be done was reached; ``retry_after``: the seconds
    until it may be done again (the HTTP ``Retry-After``)."""

    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CallRefused(PermissionDenied):
    """An outbound call a compliance rule refused (appliance/services/compliance.py): the
    code is ``compliance.<rule>`` (``compliance.dnc``, ``compliance.window``...), the rule in
    ``params["rule"]``.  403 for the number and the hour; 503 for capacity (trunks full, the
    campaign's limit, the caller-ID pool used up), which passes."""

    code = "call.refused"

    def __init__(self, message: str, rule: str, params: dict | None = None):
        super().__init__(message, code=f"compliance.{rule}", params={"rule": rule, **(params or {})})
        if rule in ("trunks_full", "concurrency", "callerid_pool"):
            self.http_status = 503


class Unavailable(DomainError):
    """A component we depend on (Asterisk, AMI) is not there right now."""

    code = "unavailable"
    http_status = 503
