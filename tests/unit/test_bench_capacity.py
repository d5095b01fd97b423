"""The capacity benchmark's pure parts (the benchmark itself runs in `make bench`, not here): the
20 ms speech it plays, the RTP streams' gaps and losses, a step's summary and cleanliness, and
the figures taken from the steps."""

import math
import struct

from bench import capacity


def stream(times, seqs, key=("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000, 1)):
    s = capacity.Streams()
    for t, seq in zip(times, seqs):
        s.packet(key, t, seq)
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
    assert (s["gaps"], s["lost"], s["packets"]) == (0, 0, 500) and s["longest_ms"] < 21


def test_a_pause_over_80_ms_is_a_gap_even_with_nothing_lost():
    times = [i * 0.02 for i in range(10)] + [0.18 + 0.081 + i * 0.02 for i in range(10)]
    s = stream(times, range(20))
    assert (s["gaps"], s["lost"]) == (1, 0) and 80 < s["longest_ms"] < 82
    assert stream([0, 0.02, 0.1, 0.12], range(4))["gaps"] == 0  # 80 ms: 60 ms of audio missing, not over


def test_three_packets_lost_in_a_row_are_a_gap_and_two_are_not():
    t = [i * 0.02 for i in range(20)]
    assert stream(t[:5] + t[8:], [*range(5), *range(8, 20)])["gaps"] == 1  # 5, 6, 7 lost
    two = stream(t[:5] + t[7:], [*range(5), *range(7, 20)])
    assert (two["gaps"], two["lost"]) == (0, 2)


def test_sequence_numbers_wrap_and_late_packets_are_not_losses():
    s = stream([0, 0.02, 0.04, 0.06, 0.05], [65534, 65535, 0, 1, 0])
    assert (s["gaps"], s["lost"], s["packets"]) == (0, 0, 5)


def dumped(sender, src, sport, dst, dport, first, last, gaps=0, ssrc=1):
    return {"key": [sender, src, sport, dst, dport, ssrc], "first": first, "last": last, "packets": 1, "lost": 0,
            "gaps": gaps, "longest_ms": 20.0}


def test_a_call_is_carried_when_asterisk_sent_audio_both_ways_for_most_of_the_hold():
    streams = [dumped("asterisk", "127.0.0.1", 11000, "127.0.0.2", 6000, 0, 9),  # to the trunk
               dumped("asterisk", "127.0.0.1", 11002, "127.0.0.1", 7000, 1, 9),  # to the phone
               dumped("asterisk", "127.0.0.1", 11004, "127.0.0.2", 6000, 0, 9),  # a call whose phone heard
               dumped("asterisk", "127.0.0.1", 11006, "127.0.0.1", 7000, 0, 5),  # too little
               dumped("sipp", "127.0.0.2", 6000, "127.0.0.1", 11000, 0, 9, gaps=2)]
    got = capacity.summary(streams, 2, 10)
    assert (got["carried"], got["to_trunk"], got["to_phones"]) == (1, 2, 1)
    assert got["asterisk"]["gaps"] == 0 and got["load_generator"]["gaps"] == 2


def a_step(calls, clean=True, cpu=10.0):
    return {"calls": calls, "clean": clean, "appliance_cpu_s": cpu, "cpu_s": {}, "load_generator_cpu_s": {},
            "load_average": 1.0}


def test_a_step_is_clean_only_with_every_call_carried_and_no_gap_in_what_asterisk_sent():
    good = {"calls": 2, "failed": 0, "successful": 2, "capture": {"drops": 0},
            "audio": {"carried": 2, "asterisk": {"gaps": 0}, "load_generator": {"gaps": 3}}}
    assert capacity.clean(good)
    assert not capacity.clean({**good, "failed": 1})
    assert not capacity.clean({**good, "capture": {"drops": 5}})
    assert not capacity.clean({**good, "audio": {**good["audio"], "carried": 1}})
    assert not capacity.clean({**good, "audio": {**good["audio"], "asterisk": {"gaps": 1}}})


def test_the_ratio_is_the_highest_clean_steps_and_calls_per_core_at_80_percent():
    results = {"bare": [a_step(10), a_step(20), a_step(40, clean=False)],
               "full": [a_step(10, cpu=4.0), a_step(20, clean=False)]}
    ratio, per_core = capacity.figures(results, 60, 5.0, (10, 20, 40))
    assert ratio["value"] == 0.5 and not ratio["lower_bound"]
    assert (ratio["full_path_calls"], ratio["bare_asterisk_calls"]) == (10, 20)
    assert per_core["value"] == 0.8 * 10 * 60 / 4.0 and per_core["at_calls"] == 10
    nothing_clean = capacity.figures({"bare": [a_step(10, clean=False)], "full": [a_step(10, clean=False)]},
                                     60, 5.0, (10,))
    assert math.isnan(nothing_clean[0]["value"]) and math.isnan(nothing_clean[1]["value"])
    assert capacity.figures({"bare": [a_step(10)], "full": [a_step(10)]}, 60, 5.0, (10,))[0]["lower_bound"]
