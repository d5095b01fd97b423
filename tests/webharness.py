"""The browser tier's harness: the web UI with its telephony side stood in for, and
helpers for pages (sign-in, screenshots, what a page reported behind the scenes).
Fixtures built from these are in ``tests/browser/conftest.py``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from appliance.errors import Unavailable
from harness import REPO

CHROMIUM = "/usr/bin/chromium"
# The flags TESTING.md found to work here (Playwright adds --headless and a fresh
# --user-data-dir itself).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
PASSWORD = "correct-horse-9"
USERS = (("admin", "admin"), ("sup", "supervisor"), ("alice", "agent"), ("bob", "agent"))
ROLE_USER = {"admin": "admin", "supervisor": "sup", "agent": "alice"}

# What the engine's live snapshot looks like mid-morning (appliance/engine/live.py), so the
# dashboard has something to draw.
LIVE = {"queues": [{"name": "sales", "waiting": 2, "longest_wait": 48.0, "members": ["1001", "1002"]},
                   {"name": "support", "waiting": 0, "longest_wait": 0.0, "members": ["1002"]}],
        "agents": [{"name": "1001", "interface": "PJSIP/1001", "state": "in_call", "since": 0,
                    "in_state_seconds": 95.0, "queues": ["sales"]},
                   {"name": "1002", "interface": "PJSIP/1002", "state": "free", "since": 0,
                    "in_state_seconds": 12.0, "queues": ["sales", "support"]}],
        "calls": [{"linkedid": "1.1", "caller": "13912345678", "caller_name": "", "did": "88001000",
                   "queue": "sales", "agent": "1001", "state": "talking", "duration": 95.0},
                  {"linkedid": "1.2", "caller": "13800000002", "caller_name": "", "did": "88001000",
                   "queue": "sales", "agent": "", "state": "queued", "duration": 48.0}]}


class Agents:
    """Stands in for AgentService (which needs AMI); records what it was asked.
    ``down`` makes sign-in fail as it does when the engine is not connected."""

    def __init__(self):
        self.calls = []
        self.down = False

    def login(self, number, mode="ring"):
        if self.down:
            raise Unavailable("the telephony engine is not connected", code="ami.unavailable")
        self.calls.append(("login", number) if mode == "ring" else ("login", number, mode))
        return {"agent": number, "logged_in": True, "mode": mode, "queues": ["sales"]}

    def call_for_long_signin(self, number):
        self.calls.append(("long", number))
        return {"agent": number, "logged_in": False, "mode": "long", "phone_ringing": True}

    def logout(self, number):
        self.calls.append(("logout", number))
        return {"agent": number, "logged_in": False}

    def pause(self, number, reason):
        self.calls.append(("pause", number, reason))
        return {"agent": number, "paused": True, "reason": reason}

    def unpause(self, number):
        self.calls.append(("unpause", number))
        return {"agent": number, "paused": False}


class Calls:
    """Stands in for CallControl (AMI): click-to-dial and friends are recorded, not placed."""

    def __init__(self):
        self.dialled = []
        self.steps = []

    def dial(self, agent, number, actor="", override_window=False):
        self.dialled.append((agent, number, actor))
        return {"agent": agent, "number": number, "state": "ringing-agent"}

    def step(self, name, agent):
        """A call-control step on the agent's call (hold, hang up...): recorded in ``steps``."""
        self.steps.append((name, agent))
        return {"agent": agent, "done": name}

    def hold(self, agent, actor=""):
        return self.step("hold", agent)

    def unhold(self, agent, actor=""):
        return self.step("unhold", agent)

    def end_call(self, agent, actor=""):
        return self.step("end_call", agent)


@dataclass
class Web:
    """The running web UI: its address and the services behind it (for seeding and checks)."""

    url: str
    db: object
    deps: object
    server: object
    users: dict = field(default_factory=dict)  # username -> user id


def seed_config(cfg) -> None:
    """A small call center: two queues, two phones, two agents linked to web accounts."""
    cfg.create("queues", {"name": "sales", "display_name": "Sales"}, actor="seed")
    cfg.create("queues", {"name": "support", "display_name": "Support"}, actor="seed")
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="seed")
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="seed")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="seed")
    cfg.create("agents", {"number": "1002", "name": "Bob", "phone": "1002", "user": "bob"}, actor="seed")
    cfg.add_member("sales", "1001", actor="seed")
    cfg.add_member("sales", "1002", actor="seed")
    cfg.add_member("support", "1002", actor="seed")
    cfg.create("customer_fields", {"name": "city", "label": "City / 城市"}, actor="seed")
    cfg.create("customer_fields", {"name": "level", "label": "Level / 等级", "type": "choice",
                                   "choices": "gold,silver"}, actor="seed")


def seed_menus(config, menus) -> None:
    """Two voice menus (a Chinese main menu leading into an English one), a DID into the
    first, and a skipped key: the menu pages have a tree, keys and leads-in to show."""
    menus.create({"name": "sales-menu", "description": "Sales line", "language": "en", "prompt": "en-welcome",
                  "timeout_action": "queue", "timeout_target": "sales",
                  "options": [{"digit": "1", "action": "queue", "target": "sales"},
                              {"digit": "9", "action": "voicemail", "target": "sales"}]}, actor="seed")
    menus.create({"name": "main", "description": "Front door / 总机", "prompt": "zh-welcome", "live": True,
                  "timeout_action": "queue", "timeout_target": "support", "invalid_action": "hangup",
                  "options": [{"digit": "1", "action": "menu", "target": "sales-menu"},
                              {"digit": "2", "action": "queue", "target": "support"},
                              {"digit": "3", "action": "directory", "target": "sales"},
                              {"digit": "8", "action": "fax", "enabled": False},
                              {"digit": "#", "action": "hangup"}]}, actor="seed")
    menus.set_option("sales-menu", "*", {"action": "menu", "target": "main"}, actor="seed")  # back up
    config.create("dids", {"number": "88001000", "menu": "main"}, actor="seed")


def seeded_web(folder: Path, *, calls, events_max_seconds: float, uptime_seconds: int = 3600):
    """The web UI's app over a fresh, migrated SQLite file in ``folder``, with the seeded call
    center (accounts of ``USERS``, configuration, menus, customers) and the telephony side
    stood in for: what the browser tier and the fuzz tier both serve.  Returns (db, deps,
    app, user ids by name).

    The file is a copy of one migrated and seeded once per test process (``database_copy``):
    the same rows every time, without migrating, seeding and hashing four passwords for each
    test."""
    db = database_copy(folder / "web.db", "seeded", _seed)
    return _web_over(db, folder, calls=calls, events_max_seconds=events_max_seconds, uptime_seconds=uptime_seconds)


def _seed(db, folder: Path) -> None:
    create_accounts(db)
    _web_over(db, folder, calls=Calls(), events_max_seconds=1.0, seed=True)


def create_accounts(db) -> None:
    """The accounts of ``USERS``, each with ``PASSWORD``, in English."""
    from appliance.services.users import UserService

    users = UserService(db)
    for name, role in USERS:
        users.create(name, PASSWORD, role, language="en")


_templates: dict = {}


def database_copy(path: Path, name: str, fill):
    """A database at ``path``, opened (the models bound to it): a copy of this process's
    template ``name``, migrated and filled by ``fill(db, folder)`` on first use (in a folder
    of its own, removed at exit). Rows a fixture would make the same way for every test (four
    accounts whose passwords scrypt hashes, a seeded call center) are made once, once for each
    scrypt cost (tests/conftest.py ``scrypt_cost``: a test marked full_scrypt gets accounts
    hashed at the appliance's own)."""
    import shutil

    from appliance.db import open_database
    from appliance.db.migrate import migrate
    from appliance.services.users import SCRYPT_COST

    key = (os.getpid(), name, SCRYPT_COST["n"], SCRYPT_COST["r"], SCRYPT_COST["p"])
    if key not in _templates:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=f"{name}-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        db = open_database(folder / "web.db")
        migrate(db)
        fill(db, folder)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # every row in the file itself, for the copies
        db.close()
        _templates[key] = folder / "web.db"
    shutil.copyfile(_templates[key], path)
    db = open_database(path)
    migrate(db)  # nothing to do: the check that the copy is of this code's schema
    return db


def migrated(path: Path):
    """A database at ``path`` migrated to the newest schema, opened: a copy of one migrated once
    per test process (migrating a file takes some 0.2 s of CPU and 0.8 s of fsyncs here, copying
    it 5 ms)."""
    return database_copy(path, "migrated", lambda db, folder: None)


def _web_over(db, folder: Path, *, calls, events_max_seconds: float, uptime_seconds: int = 3600, seed=False):
    """(db, deps, app, user ids by name) of the web UI over ``db``; ``seed``: first put the
    call center's configuration, menus and customers in it."""
    from appliance.bus import EventBus
    from appliance.db import models as m
    from appliance.services.config import ConfigService
    from appliance.services.menus import MenuService
    from appliance.services.prompts import PromptFiles, PromptService
    from appliance.services.users import UserService
    from webdeps import web_deps
    from webui.app import make_app

    users = UserService(db)
    ids = {u.username: u.id for u in m.User.select()}
    config = ConfigService(db)
    files = PromptFiles(folder / "prompts", "/appliance/lib/prompts")
    menus, prompts = MenuService(db, config, files), PromptService(db, config, files)
    if seed:
        seed_config(config)
        seed_menus(config, menus)
    health = {"status": "ok", "uptime_seconds": uptime_seconds,
              "components": {c: {"up": True, "state": "ok"} for c in ("asterisk", "ami", "agi", "db")}}
    deps = web_deps(db=db, config=config, users=users, agents=Agents(), health=lambda: health,
                    live=lambda: LIVE, bus=EventBus(), calls=calls,
                    events_max_seconds=events_max_seconds, menus=menus, prompts=prompts)
    app = make_app(deps)
    if seed:
        seed_customers(deps.crm)
    return db, deps, app, ids


def seed_customers(crm) -> list[int]:
    """A few customers with history and plans, so the customer pages have something to show."""
    import datetime as dt

    from appliance.db.models import CallRecord
    from appliance.services.crm import Viewer

    admin = Viewer("admin", "admin")
    people = [("王芳", "13912345678", "gold", "1001", "vip, 老客户", {"city": "上海", "level": "gold"}),
              ("李娜", "13800000002", "", "1001", "lead", {"city": "北京"}),
              ("Acme Trading Ltd", "+862188001234", "company", "1002", "", {}),
              ("张伟", "13700000004", "", None, "", {})]
    ids = [crm.create(admin, {"name": n, "phone": p, "category": c, "account_manager": a, "tags": t, "custom": x},
                      actor="seed")["id"] for n, p, c, a, t, x in people]
    CallRecord.create(linkedid="seed.1", caller="13912345678", agent="1001", queue="sales", disposition="answered",
                      enter_time=dt.datetime(2024, 5, 1, 1, 30), talk_seconds=185)
    crm.add_note(admin, ids[0], "Asked for the new catalogue; call back on Friday.", actor="alice")
    crm.add_follow_up(admin, ids[0], {"kind": "call_back", "due_at": "2024-05-03 10:00", "note": "catalogue"},
                      actor="alice")
    return ids


class PageProblems:
    """What a page reported that a person would not see: script errors, console errors
    (a CSP violation, a failed fetch) and responses of 500 or more."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("pageerror", lambda exc: self.items.append(f"script error: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and not self.expected(msg.text)
                and self.items.append(f"console: {msg.text}"))
        page.on("response", lambda res: res.status >= 500 and self.items.append(f"{res.status} {res.url}"))

    @staticmethod
    def expected(text: str) -> bool:
        """A form shown again with its errors comes with a 4xx status, which Chromium logs."""
        return bool(re.match(r"Failed to load resource: the server responded with a status of 4\d\d", text))


def screenshot(page, lang: str, name: str) -> Path:
    """Saves the whole page as tests/artifacts/screenshots/<lang>/<name>.png."""
    path = SCREENSHOTS / lang / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def seed_recordings(deps, folder: Path, *, days_left: float | None = None) -> list[str]:
    """Recorded calls with real 8 kbit/s MP3s (a tone, so the browser has audio to decode),
    through a real RecordingPipeline and RecordingService set on ``deps``.  ``days_left``:
    size the disk guard's reserve so that the recent rate leaves about that many days."""
    import dataclasses
    import datetime as dt
    import math
    import os
    import struct

    from appliance.db.models import CallRecord, Recording
    from appliance.recording import mp3
    from appliance.recording.pipeline import RecordingConfig, RecordingPipeline
    from appliance.services.recording import RecordingService

    class NoLive:
        calls: dict = {}

    config = RecordingConfig(spool_dir=folder / "spool", store_dir=folder / "store", workers=1,
                             reserve_min_bytes=0, reserve_fraction=0.0)
    pipeline = RecordingPipeline(deps.db, config, runner=None)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    tone = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(8000))
    calls = (("1763800000.1", "13912345678", "1001", "sales", 42, "complete"),
             ("1763800000.2", "13800000002", "1002", "support", 95, "complete"),
             ("1763800000.3", "+862188001234", "1001", "sales", 8, "complete"),
             ("1763800000.4", "13700000004", "1002", "sales", 0, "missing"))
    for n, (linkedid, caller, agent, queue, seconds, state) in enumerate(calls):
        # over more than a day: the storage tile needs a day of recording for its rate
        at = now - dt.timedelta(hours=13 * n + 1)
        CallRecord.create(linkedid=linkedid, caller=caller, agent=agent, queue=queue, enter_time=at, end_time=at,
                          talk_seconds=seconds, disposition="answered")
        pipeline.begin(linkedid, policy="direction inbound: yes")
        row = Recording.get(Recording.linkedid == linkedid)
        fields = {"state": state, "created_at": at}
        if state == "complete":
            path = pipeline.mp3_file(row)
            path.parent.mkdir(parents=True, exist_ok=True)
            encoder = mp3.make_encoder(8000)
            path.write_bytes(bytes(encoder.encode(tone * seconds) + encoder.flush()))
            fields.update(bytes=path.stat().st_size, sha256=mp3.sha256_file(path), duration_seconds=float(seconds),
                          completed_at=at)
        else:
            fields.update(error_code="recording.missing", detail="the WAV is not in the spool")
        Recording.update(**fields).where(Recording.id == row.id).execute()
    if days_left is not None:
        # At these files' own rate a day is a few hundred KB, less than what other processes
        # change on a shared disk in a second; at 1 GB a day the figure holds still.
        rate = 1e9
        fs = os.statvfs(folder)
        config = dataclasses.replace(config, reserve_min_bytes=int(fs.f_bavail * fs.f_frsize - days_left * rate))
        pipeline = RecordingPipeline(deps.db, config, runner=None)
        pipeline.recent_bytes_per_day = lambda: rate
    deps.recordings = RecordingService(pipeline, ami=None, live=NoLive(), asterisk_spool="/spool")
    return [c[0] for c in calls]


def seed_voice_messages(deps, folder: Path) -> list[int]:
    """Two callers' messages with real MP3s (one from a customer, for agent 1001; one for
    the support queue) and one already handled, through a real VoicemailService."""
    import datetime as dt

    from appliance.db.models import Recording, VoiceMessage
    from appliance.recording import mp3
    from appliance.services.voicemail import VoicemailService

    seed_recordings(deps, folder)
    service = VoicemailService(deps.db, deps.recordings, deps.crm, {"13912345678": "1001"}.get)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    ids = []
    for n, (caller, queue, reason) in enumerate((("13912345678", "sales", "after-hours"),
                                                  ("13655550000", "support", "queue-timeout"),
                                                  ("13800000002", "sales", "queue-joinempty"))):
        linkedid = f"1763900000.{n}"
        service.begin(linkedid, queue, caller=caller, caller_name=caller, did="88001000", reason=reason)
        row = Recording.get(Recording.linkedid == f"{linkedid}-msg")
        path = deps.recordings.pipeline.mp3_file(row)
        path.parent.mkdir(parents=True, exist_ok=True)
        encoder = mp3.make_encoder(8000)
        path.write_bytes(bytes(encoder.encode(b"\x00\x08" * 8000 * (4 + n)) + encoder.flush()))
        Recording.update(state="complete", bytes=path.stat().st_size, sha256=mp3.sha256_file(path),
                         duration_seconds=4.0 + n, completed_at=now).where(Recording.id == row.id).execute()
        message = VoiceMessage.get(VoiceMessage.linkedid == linkedid)
        VoiceMessage.update(created_at=now - dt.timedelta(minutes=30 * (3 - n))).where(
            VoiceMessage.id == message.id).execute()
        ids.append(message.id)
    service.handled(ids[2], "bob", "called back, wants a brochure")
    deps.voicemail = service
    return ids


def signed_in_page(browser, url: str, username: str, password: str = PASSWORD):
    """A new page in ``browser`` signed in through the login form of the web UI at ``url``."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(10_000)
    return sign_in(page, url, username, password)


def sign_in(page, url: str, username: str, password: str = PASSWORD):
    """Sign ``page`` in through the login form of the web UI at ``url``."""
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit], form button")
    assert "/login" not in page.url, f"{username} could not sign in"
    return page


def signed_in_client(app, username: str, password: str = PASSWORD):
    """A ``webtest.TestApp`` over ``app`` signed in through the login form (the unit tier's
    browser without a browser)."""
    import webtest

    client = webtest.TestApp(app)
    form = client.get("/login").forms[0]
    form["username"], form["password"] = username, password
    form.submit()
    return client
