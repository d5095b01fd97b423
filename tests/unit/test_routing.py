from appliance.engine.routing import RoutingTable, decide

TABLE = RoutingTable(did_queues={"88001000": "sales", "+8610123": "support"})


def test_known_did_goes_to_its_queue():
    d = decide("88001000", "139", TABLE)
    assert (d.context, d.exten, d.is_fallback) == ("cc-queue", "sales", False)


def test_plus_prefix_is_ignored_both_ways():
    assert decide("+88001000", "", TABLE).exten == "sales"
    assert decide("8610123", "", TABLE).exten == "support"


def test_unknown_did_goes_to_fallback_with_reason():
    d = decide("99999999", "139", TABLE)
    assert (d.context, d.exten, d.reason, d.is_fallback) == ("cc-fallback", "no-route", "no-route", True)


def test_empty_table():
    assert decide("1", "", RoutingTable(did_queues={})).is_fallback
