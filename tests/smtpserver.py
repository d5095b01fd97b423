"""A mail server for tests that speaks SMTP (RFC 5321) on a real socket: enough of it for
smtplib (EHLO/HELO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT), keeping what it
accepted as parsed messages.  ``refuse`` makes it answer a command with a chosen reply
(``{"RCPT": "550 5.1.1 no such user"}``, ``{"DATA": "451 4.3.0 try later"}``) to provoke
the failures a real server gives; plain text only (no STARTTLS: ``smtp_security = none``).
"""

from __future__ import annotations

import email
import email.policy

from gevent.server import StreamServer


class SmtpServer:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self.server = StreamServer(("127.0.0.1", 0), self._session)
        self.server.start()
        self.port = self.server.server_port

    def stop(self) -> None:
        self.server.stop()

    def _session(self, sock, _address) -> None:
        f = sock.makefile("rwb")

        def reply(line: str) -> None:
            f.write(line.encode() + b"\r\n")
            f.flush()

        reply("220 test.example ESMTP ready")
        sender, rcpts = "", []
        while True:
            raw = f.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb in self.refuse:
                reply(self.refuse[verb])
                continue
            if verb == "EHLO":
                reply("250-test.example")
                reply("250 8BITMIME")
            elif verb in ("HELO", "NOOP", "RSET"):
                sender, rcpts = ("", []) if verb == "RSET" else (sender, rcpts)
                reply("250 OK")
            elif verb == "MAIL":
                sender, rcpts = line.split(":", 1)[1].strip().split(" ")[0].strip("<>"), []
                reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                reply("250 OK")
            elif verb == "DATA":
                reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    data = f.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.messages.append(email.message_from_bytes(b"".join(lines), policy=email.policy.default))
                self.envelopes.append((sender, rcpts))
                reply("250 OK queued")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("502 command not implemented")
