"""The AMI connection on gevent: log in, read frames, correlate responses by ActionID,
hand events to one callback in order, and come back after any loss with backoff.

With ``identity`` given, each login is followed by one ``Getvar`` of a global variable
whose value only the Asterisk we started knows (``pbx.AsteriskInstance.token``): an
Asterisk that answers otherwise (one left running by an earlier appliance process, a
stranger on the port) is hung up on, state ``wrong_instance`` with the reason in
``last_error``, and tried again with backoff.  Events that arrive before the check
passes are held, then delivered in order.

The protocol itself is in ``codec`` (no I/O here but the socket).  One reader greenlet
owns the socket's read side; writes from any greenlet go through one lock so two actions
never interleave on the wire.  Events are delivered synchronously, in Asterisk's order,
because the live state is built from their sequence.
"""

from __future__ import annotations

import logging
import socket
import time

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from appliance.ami.codec import ActionIdGenerator, Decoder, Frame, MalformedFrame, serialize_action

logger = logging.getLogger(__name__)

READ_SIZE = 65536


class AmiError(Exception):
    code = "ami.error"


class AmiNotConnected(AmiError):
    code = "ami.not_connected"


class AmiTimeout(AmiError):
    code = "ami.timeout"


class AmiDisconnected(AmiError):
    code = "ami.disconnected"


class AmiAuthFailed(AmiError):
    code = "ami.auth_failed"


class AmiWrongInstance(AmiError):
    """The Asterisk on the AMI port is not the one this appliance started."""

    code = "ami.wrong_instance"


class AmiStats:
    FIELDS = ("frames", "events", "list_events", "responses", "malformed", "handler_errors", "reconnects",
              "unmatched_responses", "actions_sent")

    def __init__(self) -> None:
        for name in self.FIELDS:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FIELDS}


class _Pending:
    """An action waiting for its response (and, for list actions, its events)."""

    __slots__ = ("result", "is_list", "response", "events")

    def __init__(self, is_list: bool):
        self.result = AsyncResult()
        self.is_list = is_list
        self.response: Frame | None = None
        self.events: list[Frame] = []


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, *, on_event=None, on_connect=None,
                 on_disconnect=None, connect_timeout: float = 5.0, action_timeout: float = 10.0,
                 backoff: tuple[float, float] = (0.2, 5.0), identity=None):
        self.host, self.port = host, port
        self.username, self._secret = username, secret
        self.on_event, self.on_connect, self.on_disconnect = on_event, on_connect, on_disconnect
        self.connect_timeout, self.action_timeout = connect_timeout, action_timeout
        self.backoff = backoff
        # () -> (global variable, the value our Asterisk holds, or None: none started yet)
        self.identity = identity
        self.state = "stopped"
        self.last_error: str | None = None  # why the last connection failed or ended
        self.stats = AmiStats()
        self.banner: str | None = None
        self._sock: socket.socket | None = None
        self._write_lock = Semaphore()
        self._pending: dict[str, _Pending] = {}
        self._ids = ActionIdGenerator()
        self._runner: gevent.Greenlet | None = None
        self._connected = Event()
        self._stopping = False
        self._ever_connected = False
        self._held: list[Frame] | None = None  # events before the identity check passed

    def __repr__(self) -> str:  # never the secret
        return f"AmiClient({self.username}@{self.host}:{self.port}, {self.state})"

    # -- lifecycle -----------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        if self._runner is not None:
            return
        self._stopping = False
        self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        self._stopping = True
        runner, self._runner = self._runner, None
        self._close_socket()
        if runner is not None:
            runner.kill(block=True, timeout=5)
        self._fail_pending(AmiDisconnected("the AMI client was stopped"))
        self._connected.clear()
        self.state = "stopped"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _run(self) -> None:
        delay = self.backoff[0]
        while not self._stopping:
            self._set_state("connecting")
            started = time.monotonic()
            logged_in = False
            try:
                self._connect()
                logged_in = True
                self._read_forever()
                reason = "Asterisk closed the connection"
            except (AmiAuthFailed, AmiWrongInstance) as exc:
                reason = str(exc)
            except (OSError, AmiError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug here must not end the connection loop for good
                logger.exception("AMI connection loop failed")
                reason = f"internal error: {exc!r}"
            finally:
                self._close_socket()
                self._held = None
            if self._stopping:
                break
            self.last_error = reason
            self._connected.clear()
            self._fail_pending(AmiDisconnected(f"AMI connection lost: {reason}"))
            if logged_in:
                logger.warning("AMI connection to %s:%s lost (%s); reconnecting", self.host, self.port, reason)
                self._call(self.on_disconnect, "on_disconnect")
                if time.monotonic() - started > 5:
                    delay = self.backoff[0]
            elif self.state not in ("auth_failed", "wrong_instance"):
                logger.debug("AMI connect to %s:%s failed: %s", self.host, self.port, reason)
            if self.state not in ("auth_failed", "wrong_instance"):
                self._set_state("disconnected")
            gevent.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._decoder = Decoder()
        held = self._held = []  # events are delivered once the connection counts as up
        action_id = self._ids()
        pending = self._pending[action_id] = _Pending(is_list=False)
        self._write(serialize_action("Login", {"Username": self.username, "Secret": self._secret,
                                               "Events": "on"}, action_id))
        # Read until the Login response arrives: nothing else can come first.
        deadline = time.monotonic() + self.connect_timeout
        while not pending.result.ready():
            if time.monotonic() > deadline:
                self._pending.pop(action_id, None)
                raise AmiTimeout("no answer to Login")
            with gevent.Timeout(max(0.01, deadline - time.monotonic()), AmiTimeout("no answer to Login")):
                data = sock.recv(READ_SIZE)
            if not data:
                raise AmiDisconnected("closed before Login was answered")
            self._handle_bytes(data)
        response, _ = pending.result.get()
        self.banner = self._decoder.banner
        if response.name != "Success":
            self._set_state("auth_failed")
            message = response.get("Message") or "refused"
            logger.error("AMI login as %s refused: %s", self.username, message)
            raise AmiAuthFailed(f"login refused: {message}")
        if self.identity is not None:
            self._check_identity()
        if self._ever_connected:
            self.stats.reconnects += 1
            logger.info("AMI reconnected to %s:%s", self.host, self.port)
        else:
            logger.info("AMI connected to %s:%s (%s)", self.host, self.port, self.banner)
        self._ever_connected = True
        self._held = None
        self.last_error = None
        self._set_state("connected")
        self._connected.set()
        for frame in held:
            self._deliver(frame)
        if self.on_connect is not None:
            gevent.spawn(self._call, self.on_connect, "on_connect")

    def _request(self, name: str, headers) -> Frame:
        """One action before the connection counts as up: written, then the socket read
        here until its response (events meanwhile are held)."""
        action_id = self._ids()
        pending = self._pending[action_id] = _Pending(is_list=False)
        self._write(serialize_action(name, headers, action_id))
        deadline = time.monotonic() + self.connect_timeout
        while not pending.result.ready():
            if time.monotonic() > deadline:
                self._pending.pop(action_id, None)
                raise AmiTimeout(f"no answer to {name}")
            with gevent.Timeout(max(0.01, deadline - time.monotonic()), AmiTimeout(f"no answer to {name}")):
                data = self._sock.recv(READ_SIZE)
            if not data:
                raise AmiDisconnected(f"closed before {name} was answered")
            self._handle_bytes(data)
        response, _ = pending.result.get()
        return response

    def _check_identity(self) -> None:
        variable, expected = self.identity()
        answer = self._request("Getvar", {"Variable": variable})
        value = answer.get("Value") if answer.name == "Success" else None
        if expected is not None and value == expected:
            return
        reason = (f"the Asterisk answering on {self.host}:{self.port} is not the one this appliance started "
                  f"({variable} is {value or 'unset'!r}, expected "
                  f"{'none: ours is not running' if expected is None else repr(expected)})")
        if self.last_error != reason:  # once, not at every retry
            logger.error("AMI: %s; hanging up", reason)
        self._set_state("wrong_instance")
        raise AmiWrongInstance(reason)

    def _read_forever(self) -> None:
        sock = self._sock
        while sock is not None:
            data = sock.recv(READ_SIZE)
            if not data:
                return
            self._handle_bytes(data)

    def _call(self, callback, what: str) -> None:
        if callback is None:
            return
        try:
            callback(self)
        except Exception:
            logger.exception("AMI %s callback failed", what)

    # -- frames --------------------------------------------------------------
    def _handle_bytes(self, data: bytes) -> None:
        for item in self._decoder.feed(data):
            if isinstance(item, MalformedFrame):
                self.stats.malformed += 1
                logger.warning("AMI: malformed frame skipped: %s", item)
                continue
            self.stats.frames += 1
            self._dispatch(item)

    def _dispatch(self, frame: Frame) -> None:
        action_id = frame.action_id
        pending = self._pending.get(action_id) if action_id else None
        if frame.kind == "response" or (frame.kind == "unknown" and pending is not None):
            self.stats.responses += 1
            if pending is None:
                self.stats.unmatched_responses += 1
                logger.debug("AMI response for no pending action: %r", frame)
                return
            pending.response = frame
            list_follows = pending.is_list and frame.name == "Success" and (
                (frame.get("EventList") or "").lower() == "start")
            if not list_follows:
                del self._pending[action_id]
                pending.result.set((frame, pending.events))
            return
        if pending is not None and pending.is_list and pending.response is not None:
            self.stats.list_events += 1
            if (frame.get("EventList") or "").lower() == "complete":
                del self._pending[action_id]
                pending.result.set((pending.response, pending.events))
            else:
                pending.events.append(frame)
            return
        if self._held is not None:  # logged in, identity not checked yet
            self._held.append(frame)
            return
        self._deliver(frame)

    def _deliver(self, frame: Frame) -> None:
        self.stats.events += 1  # the stream handed to on_event, in order
        if self.on_event is None:
            return
        try:
            self.on_event(frame)
        except Exception:
            self.stats.handler_errors += 1
            logger.exception("AMI event handler failed on %r", frame)

    # -- actions -------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        with self._write_lock:
            sock = self._sock
            if sock is None:
                raise AmiNotConnected("not connected to Asterisk")
            sock.sendall(data)
            self.stats.actions_sent += 1

    def _fail_pending(self, exc: AmiError) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.result.ready():
                p.result.set_exception(exc)

    def _send(self, name: str, headers, timeout: float | None, is_list: bool):
        action_id = self._ids()
        data = serialize_action(name, headers or {}, action_id)  # HeaderInjection before anything is sent
        if not self.connected:
            raise AmiNotConnected(f"cannot send {name}: not connected to Asterisk")
        pending = _Pending(is_list)
        self._pending[action_id] = pending
        try:
            self._write(data)
        except OSError as exc:
            self._pending.pop(action_id, None)
            raise AmiDisconnected(f"sending {name} failed: {exc}") from exc
        timeout = self.action_timeout if timeout is None else timeout
        try:
            return pending.result.get(timeout=timeout)
        except gevent.Timeout:
            self._pending.pop(action_id, None)
            raise AmiTimeout(f"no answer to {name} within {timeout} s") from None

    def send_action(self, name: str, headers=None, timeout: float | None = None) -> Frame:
        """Send one action and return its response (``Error`` responses are returned, not raised)."""
        response, _ = self._send(name, headers, timeout, is_list=False)
        return response

    def send_action_list(self, name: str, headers=None, timeout: float | None = None) -> tuple[Frame, list[Frame]]:
        """An action answered by an event list: the response and the events before ``...Complete``."""
        response, events = self._send(name, headers, timeout, is_list=True)
        return response, list(events) if response.name == "Success" else []
