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


def test_a_failed_boot_leaves_the_others_figures(monkeypatch):
    """A guest that never reached systemd under load once made the whole run write nothing."""
    from pathlib import Path

    from bench import image as bench_image

    times = iter([70.0, 60.0, None, 58.0])  # against 1, this 1, this 2 (fails), against 2

    def boot_once(disk, firmware, label, phases):
        accepted = next(times)
        if accepted is None:
            raise TimeoutError("systemd not reached in 180 s")
        return {"accepted": accepted, "console": accepted - 8, "user_space": 7.0, "load_before": [1.0]}

    monkeypatch.setattr(bench_image, "boot_once", boot_once)
    figures = {f["figure"]: f for f in bench_image.compare(Path("this.raw"), Path("main.raw"), "bios", 2, False, False)}
    accepted = figures["boot to calls accepted (bios)"]
    assert (accepted["value"], accepted["baseline"]) == (60.0, 64.0)
    assert accepted["failed_boots"] == {"this": 1, "against": 0}
    assert "TimeoutError" in figures["boots"]["boots"]["this"][1]["failed"]
