"""What the appliance's start-up leaves for later (docs/operations.md, "Boot time"): importing
``appliance.main`` (what the image's unit starts) loads neither phonenumbers' geocoder and carrier
data (4-5 s of 11 s of imports on the build machine, several times that under qemu, and 113 MB:
the place table replaces them, appliance/places.py) nor numpy (only a prompt's conversion needs it)."""

import subprocess
import sys
from pathlib import Path


def test_starting_the_appliance_leaves_the_geocoder_and_numpy_for_later():
    code = ("import sys, appliance.main; "
            "print(sorted(m for m in sys.modules if m.startswith(('phonenumbers.geo', 'phonenumbers.carrier', 'numpy'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_first_boot_steps_leave_the_configuration_service_for_the_appliance(tmp_path):
    """The first-boot unit (its own Python, on the way to calls accepted) runs its steps on the
    image's empty database without importing the configuration service and what it brings
    (phonenumbers, mail, the engines: a hundred modules, seconds under qemu's emulation)."""
    from appliance import settings
    from provisioning import firstboot

    data = tmp_path / "data"
    data.mkdir()
    firstboot.make_database_template(settings.load(None, {"data_dir": data}).db_path)  # the image's copy
    code = ("import sys; from appliance import settings; from provisioning import firstboot; "
            f"firstboot.run(settings.load(None, {{'data_dir': {str(data)!r}}})); "
            "print(sorted(m for m in sys.modules if m.startswith(('appliance.services.config', 'phonenumbers'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
