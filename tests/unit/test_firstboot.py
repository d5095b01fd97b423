"""First-boot steps: numbered, idempotent, marked done, secrets private."""

from __future__ import annotations

import json
import stat

from appliance import settings
from provisioning import firstboot


def test_steps_run_once_and_keep_the_admin_password(tmp_path):
    s = settings.load(None, {"data_dir": tmp_path})
    password = firstboot.run(s)
    assert password and len(password) >= 12
    secrets = json.loads(s.secrets_path.read_text())
    assert len(secrets["ami_secret"]) >= 32 and len(secrets["web_secret"]) >= 32
    assert stat.S_IMODE(s.secrets_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "firstboot.done").iterdir()) == [
        "step_10_secrets", "step_20_database", "step_30_admin"]
    # a second run changes nothing and still tells the installer the password
    assert firstboot.run(s) == password
    assert json.loads(s.secrets_path.read_text()) == secrets


def test_step_numbers_are_unique_and_ordered():
    names = [step.__name__ for step in firstboot.STEPS]
    numbers = [int(n.split("_")[1]) for n in names]
    assert numbers == sorted(set(numbers))
    assert all(step.__doc__ for step in firstboot.STEPS)
