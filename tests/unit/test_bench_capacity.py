"""The capacity benchmark's pure parts (the benchmark itself runs in `make bench`, not here): the
20 ms speech it plays, the RTP streams' gaps and losses, a step's summary and cleanliness, and
the figures taken from the steps."""

import math
import struct

from bench import capacity


LEAD_IN = 60  # packets (1.2 s) before the ones a test gives: a stream's first second does not count


def stream(times, seqs, ssrcs=None, key=("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000)):
    s = capacity.Streams()
    for i in range(LEAD_IN, 0, -1):
        s.packet(key, -0.02 * i, (seqs[0] - i) & 0xFFFF, ssrcs[0] if ssrcs else 1)
    for t, seq, ssrc in zip(times, seqs, ssrcs or [1] * len(times)):
        s.packet(key, t, seq, ssrc)
    return s.dump()[0]


def test_the_speech_is_20_ms_a_law_packets_at_50_a_second(tmp_path):
    data = capacity.speech_20ms(tmp_path / "s.pcap", 3).read_bytes()
    pos, times, payloads = 24, [], set()
    while pos + 16 <= len(data):
        sec, usec, length, _ = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16:pos + 16 + length]
        times.append(sec + usec / 1e6)
        payloads.add((frame[42 + 1] & 0x7F, len(frame) - 54))  # payload type, bytes of audio
        pos += 16 + length
    assert len(times) == 150 and payloads == {(8, 160)}
    assert all(abs(b - a - 0.02) < 1e-5 for a, b in zip(times, times[1:]))


def test_a_steady_stream_has_no_gap():
    s = stream([i * 0.02 for i in range(500)], range(500))
    assert (s["gaps"], s["lost"], s["packets"]) == (0, 0, 500 + LEAD_IN) and s["longest_ms"] < 21
    assert s["pauses"] == []


def test_a_pause_over_80_ms_is_a_gap_even_with_nothing_lost():
    times = [i * 0.02 for i in range(10)] + [0.18 + 0.081 + i * 0.02 for i in range(10)]
    s = stream(times, range(20))
    assert (s["gaps"], s["lost"]) == (1, 0) and 80 < s["longest_ms"] < 82
    assert [(round(a, 2), round(b, 3)) for a, b in s["pauses"]] == [(0.18, 0.261)] and s["runs_lost"] == 0
    assert stream([0, 0.02, 0.1, 0.12], range(4))["gaps"] == 0  # 80 ms: 60 ms of audio missing, not over


def test_three_packets_lost_in_a_row_are_a_gap_and_two_are_not():
    t = [i * 0.02 for i in range(20)]
    three = stream(t[:5] + t[8:], [*range(5), *range(8, 20)])  # 5, 6, 7 lost: 80 ms, not a pause over it
    assert (three["gaps"], three["lost"], three["runs_lost"]) == (1, 3, 1)
    paused = stream(t[:5] + t[9:], [*range(5), *range(9, 20)])  # 100 ms without a packet: a pause
    assert (paused["gaps"], paused["runs_lost"], len(paused["pauses"])) == (1, 0, 1)
    on_time = stream(t, [*range(5), *range(8, 23)])  # sent on time, three numbers skipped
    assert (on_time["gaps"], on_time["runs_lost"], on_time["pauses"]) == (1, 1, [])
    two = stream(t[:5] + t[7:], [*range(5), *range(7, 20)])
    assert (two["gaps"], two["lost"]) == (0, 2)


def test_sequence_numbers_wrap_and_late_packets_are_not_losses():
    s = stream([0, 0.02, 0.04, 0.06, 0.05], [65534, 65535, 0, 1, 0])
    assert (s["gaps"], s["lost"], s["packets"]) == (0, 0, 5 + LEAD_IN)


def test_a_new_source_takes_its_sequence_up_again_and_the_time_between_still_counts():
    t = [i * 0.02 for i in range(20)]
    changed = stream(t, [*range(10), *range(5000, 5010)], [1] * 10 + [2] * 10)  # a bridge forms, on time
    assert (changed["gaps"], changed["lost"]) == (0, 0)
    late = stream(t[:10] + [x + 0.2 for x in t[10:]], [*range(10), *range(5000, 5010)])
    assert (late["gaps"], late["lost"]) == (1, 0)


def test_nothing_counts_in_a_streams_first_second():
    s = capacity.Streams()
    key = ("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000)
    for t, seq in [(0, 1), (0.3, 2), (0.32, 3), (1.5, 4)]:
        s.packet(key, t, seq)
    assert s.dump()[0]["gaps"] == 1  # 0.32 -> 1.5, not 0 -> 0.3


def test_asterisks_gap_is_its_own_unless_it_began_while_sipp_was_pausing():
    sipp = [(10.0, 10.3), (20.0, 20.05)]
    assert capacity.own_gaps([(10.001, 10.302)], sipp) == 0  # forwarded SIPp's pause
    assert capacity.own_gaps([(10.001, 10.45)], sipp) == 0  # and came back 150 ms after SIPp
    assert capacity.own_gaps([(20.06, 20.2)], sipp) == 0  # began as SIPp's pause ended
    assert capacity.own_gaps([(20.2, 20.35)], sipp) == 1  # SIPp sending on
    assert capacity.own_gaps([(9.9, 10.2)], sipp) == 1  # began before SIPp paused
    assert capacity.own_gaps([(30.0, 30.1)], sipp) == 1
    assert capacity.own_gaps([(30.0, 30.07)], sipp) == 0  # not a gap


def test_a_gap_while_the_machine_stalled_is_not_asterisks_own():
    streams = [dumped("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000, 0, 9, [(3, 3.2)])]
    assert capacity.summary(streams, 1, 10)["asterisk"]["own_gaps"] == 1
    stalled = capacity.summary(streams, 1, 10, [(2.99, 3.19)])
    assert stalled["asterisk"]["own_gaps"] == 0 and stalled["machine_stalls"] == {"count": 1, "longest_ms": 200.0}


def dumped(sender, src, sport, dst, dport, first, last, pauses=()):
    return {"key": [sender, src, sport, dst, dport], "first": first, "last": last, "packets": 1, "lost": 0,
            "gaps": len(pauses), "longest_ms": 20.0, "pauses": list(pauses), "runs_lost": 0}


def test_a_call_is_carried_when_asterisk_sent_audio_both_ways_for_most_of_the_hold():
    streams = [dumped("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000, 0, 9, [(3, 3.2), (5, 5.1)]),  # trunk
               dumped("asterisk", "127.0.0.1", 11002, "127.0.0.1", 7000, 1, 9),  # to the phone
               dumped("asterisk", "127.0.0.1", 11004, "127.0.0.2", 6000, 0, 9),  # a call whose phone heard
               dumped("asterisk", "127.0.0.1", 11006, "127.0.0.1", 7000, 0, 5),  # too little
               dumped("sipp", "127.0.0.2", 6000, "127.0.0.1", 11000, 0, 9, [(3, 3.2)])]
    got = capacity.summary(streams, 2, 10)
    assert (got["carried"], got["to_trunk"], got["to_phones"]) == (1, 2, 1)
    assert (got["asterisk"]["gaps"], got["asterisk"]["own_gaps"], got["load_generator"]["gaps"]) == (2, 1, 1)


def a_step(calls, clean=True, cpu=10.0):
    return {"calls": calls, "clean": clean, "appliance_cpu_s": cpu, "cpu_s": {}, "load_generator_cpu_s": {},
            "load_average": 1.0}


def test_a_step_is_clean_only_with_every_call_carried_and_no_gap_in_what_asterisk_sent():
    good = {"calls": 2, "failed": 0, "successful": 2, "capture": {"drops": 0},
            "audio": {"carried": 2, "asterisk": {"gaps": 3, "own_gaps": 0}, "load_generator": {"gaps": 3}}}
    assert capacity.clean(good)
    assert not capacity.clean({**good, "failed": 1})
    assert capacity.clean({**good, "recordings_complete": 2})
    assert not capacity.clean({**good, "recordings_complete": 1})
    assert not capacity.clean({**good, "capture": {"drops": 5}})
    assert not capacity.clean({**good, "audio": {**good["audio"], "carried": 1}})
    assert not capacity.clean({**good, "audio": {**good["audio"], "asterisk": {"gaps": 3, "own_gaps": 1}}})


def test_the_ratio_is_the_highest_clean_steps_and_calls_per_core_at_80_percent():
    results = {"bare": [a_step(10), a_step(20, clean=False), a_step(20), a_step(40, clean=False),
                        a_step(40, clean=False)],
               "full": [a_step(10, cpu=4.0), a_step(20, clean=False), a_step(20, clean=False)]}
    ratio, per_core = capacity.figures(results, 60, 5.0, (10, 20, 40))
    assert ratio["value"] == 0.5 and not ratio["lower_bound"]
    assert (ratio["full_path_calls"], ratio["bare_asterisk_calls"]) == (10, 20)
    assert per_core["value"] == 0.8 * 10 * 60 / 4.0 and per_core["at_calls"] == 10
    nothing_clean = capacity.figures({"bare": [a_step(10, clean=False)] * 2, "full": [a_step(10, clean=False)] * 2},
                                     60, 5.0, (10,))
    assert math.isnan(nothing_clean[0]["value"]) and math.isnan(nothing_clean[1]["value"])
    assert capacity.figures({"bare": [a_step(10)], "full": [a_step(10)]}, 60, 5.0, (10,))[0]["lower_bound"]
    assert capacity.figures({"bare": [a_step(10), a_step(20, clean=False)], "full": [a_step(10)]},
                            60, 5.0, (10, 20))[0]["lower_bound"]  # 20 not run again yet: not stopped


def test_a_path_stops_when_a_step_fails_twice_in_a_row():
    assert not capacity.stopped([a_step(10), a_step(20, clean=False)])
    assert not capacity.stopped([a_step(10, clean=False), a_step(10), a_step(20, clean=False)])
    assert capacity.stopped([a_step(10), a_step(20, clean=False), a_step(20, clean=False)])
