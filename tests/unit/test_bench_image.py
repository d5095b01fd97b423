"""The image benchmark's pure parts (the boots themselves run in `make bench-image`): reading
the guest's systemd timestamps and journal into the boot's timeline."""

from bench import image


def test_systemd_timestamps_are_read_as_seconds_and_never_is_left_out():
    shown = image.parse_show("InitRDTimestampMonotonic=2512345\nUserspaceTimestampMonotonic=19000000\n"
                             "UnitsLoadFinishTimestampMonotonic=0\nFinishTimestamp=Sun 2026-12-06\n")
    assert shown == {"InitRDTimestampMonotonic": 2.512345, "UserspaceTimestampMonotonic": 19.0}


def test_each_journal_mark_is_the_first_line_that_matches():
    journal = ("[    3.100000] callcenter systemd[1]: Reached target initrd-root-device.target - Initrd Root Device.\n"
               "[   17.250001] callcenter systemd[1]: Switching root.\n"
               "[   40.000000] callcenter python[301]: 2026 INFO appliance.ami.client: AMI connected to 127.0.0.1:5038 (x)\n"
               "[   41.000000] callcenter python[301]: 2026 INFO appliance.ami.client: AMI connected to 127.0.0.1:5038 (y)\n"
               "[   38.500000] callcenter python[301]: 2026 INFO appliance.main: Asterisk is up (pid 400)\n")
    marks = image.parse_journal_marks(journal)
    assert marks == {"initrd root device": 3.1, "switch root": 17.250001, "ami connected": 40.0,
                     "asterisk up": 38.5}
