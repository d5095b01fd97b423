"""Schemathesis against the OpenAPI document the appliance serves: for every operation,
requests generated from its own description (valid and, with the ``negative`` mode, invalid
ones) are sent to the real WSGI app over a real SQLite file, as an admin.  Whatever comes
in, the answer must be a client error or a success, never a 500: a 500 is a hole
(an unchecked value reached code that trusted it).  The telephony side is stood in for as
in the browser tier (tests/webharness.py).  ``make fuzz`` raises the number of examples."""

from __future__ import annotations

import os

import pytest

import schemathesis  # pinned in the test extras
from hypothesis import HealthCheck, given, settings

from webharness import Calls, seeded_web

pytestmark = pytest.mark.fuzz
# make test's budget: 6 requests per operation (some 290 of them; every one is sent some, which
# the test checks). Of this test's time about 40 % goes to generating requests and 40 % to the
# app answering them, so the budget is what its time is made of; make fuzz sends 300 each.
EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "6"))
DERANDOMIZE = "FUZZ_API_EXAMPLES" not in os.environ  # make test: the same requests every run
# The event stream stays open by design (SSE): it is exercised by its own tests.
STREAMS = {("GET", "/api/v1/events")}


class AnyCalls(Calls):
    """The browser tier's call-control stand-in, answering every action it is asked for
    (transfer, pickup, spy...) as placed: the fuzzer is after the web layer, not AMI."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: {"action": name, "state": "requested"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    db, deps, app, ids = seeded_web(tmp, calls=AnyCalls(), events_max_seconds=0.2, uptime_seconds=60)
    auth = {"Authorization": "Bearer " + deps.users.create_token(ids["admin"], "fuzz")}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=auth)
    yield schema, auth
    db.close()


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in STREAMS:
            yield operation


# The operations in this many tests, each the next part of the document's list (so the app meets
# them in the same order as when one test sent them all), and no test near the per-test timeout
# (the one test took 308 s in a make test beside other jobs at load 15-40; the limit is 300).
PARTS = 4


@pytest.mark.parametrize("part", range(PARTS))
def test_no_generated_request_makes_a_server_error(api, part):
    schema, auth = api
    failures, unsent = [], []
    operations = list(_operations(schema))
    size = -(-len(operations) // PARTS)
    for operation in operations[part * size:(part + 1) * size]:
        sent = []

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(headers=auth)
            sent.append(response.status_code)
            # 503 is this process saying a service it has not got (recordings, faxes, the
            # supervisor) is unavailable, as documented; every other 5xx is a hole
            if response.status_code >= 500 and response.status_code != 503:
                failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} "
                                f"{response.text[:200]!r}\n    {case.as_curl_command(headers=auth)}")

        check()
        if not sent:
            unsent.append(f"{operation.method.upper()} {operation.path}")
    assert not unsent, f"operations no generated request reached: {unsent}"
    assert not failures, "server errors:\n" + "\n".join(dict.fromkeys(failures))
