"""A minimal SMTP server on 127.0.0.1 for the email channel's tests.

It speaks the part of RFC 5321 a submission client uses (EHLO, STARTTLS, AUTH PLAIN,
MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every accepted message, and can be told
to misbehave: no STARTTLS on offer, a temporary refusal of MAIL, refused recipients.
It also notes any AUTH tried over a connection that was not encrypted, which the
email channel must never do.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import ssl
from email.message import EmailMessage

import attrs


@attrs.define
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    data: bytes
    over_tls: bool
    user: str | None

    def message(self) -> EmailMessage:
        # The wire's CRLF line ends become the parser's native ones.
        native = self.data.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(native, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@attrs.define
class _Session:
    tls: bool
    user: str | None = None
    mail_from: str | None = None
    recipients: list[str] = attrs.Factory(list)


class FakeSmtpServer:
    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        offer_starttls: bool = True,
        users: dict[str, str] | None = None,
        mail_reply: str | None = None,
        refused_recipients: frozenset[str] = frozenset(),
    ) -> None:
        self.received: list[ReceivedMail] = []
        self.auth_in_clear = 0
        self.failed_logins = 0
        self._tls = tls
        self._implicit_tls = implicit_tls
        self._offer_starttls = offer_starttls
        self._users = users or {}
        self._mail_reply = mail_reply
        self._refused = refused_recipients
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def __aenter__(self) -> FakeSmtpServer:
        self._server = await asyncio.start_server(
            self._serve,
            "127.0.0.1",
            0,
            ssl=self._tls if self._implicit_tls else None,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(tls=self._implicit_tls)

        async def reply(*lines: str) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())
            await writer.drain()

        try:
            await reply("220 fake.test ESMTP")
            while line := await reader.readline():
                command = line.decode().rstrip("\r\n")
                verb, _, argument = command.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    extensions = ["8BITMIME"]
                    if self._tls is not None and not session.tls and self._offer_starttls:
                        extensions.append("STARTTLS")
                    if self._users:
                        extensions.append("AUTH PLAIN")
                    lines = ["fake.test", *extensions]
                    await reply(*(f"250-{x}" for x in lines[:-1]), f"250 {lines[-1]}")
                elif verb == "STARTTLS" and self._tls is not None and not session.tls:
                    await reply("220 ready to start TLS")
                    await writer.start_tls(self._tls)
                    session = _Session(tls=True)
                elif verb == "AUTH":
                    await reply(self._authenticate(session, argument))
                elif verb == "MAIL":
                    if self._users and session.user is None:
                        await reply("530 authentication required")
                    elif self._mail_reply is not None:
                        await reply(self._mail_reply)
                    else:
                        session.mail_from = _address(argument)
                        session.recipients = []
                        await reply("250 sender ok")
                elif verb == "RCPT":
                    address = _address(argument)
                    if address in self._refused:
                        await reply("550 no such mailbox")
                    else:
                        session.recipients.append(address)
                        await reply("250 recipient ok")
                elif verb == "DATA":
                    await reply("354 go ahead, end with <CRLF>.<CRLF>")
                    data = await _read_data(reader)
                    assert session.mail_from is not None
                    self.received.append(
                        ReceivedMail(
                            session.mail_from,
                            session.recipients,
                            data,
                            session.tls,
                            session.user,
                        )
                    )
                    await reply("250 queued")
                elif verb in {"RSET", "NOOP"}:
                    await reply("250 ok")
                elif verb == "QUIT":
                    await reply("221 bye")
                    break
                else:
                    await reply("502 command not implemented")
        finally:
            writer.close()

    def _authenticate(self, session: _Session, argument: str) -> str:
        if not session.tls:
            self.auth_in_clear += 1
        mechanism, _, initial = argument.partition(" ")
        if mechanism.upper() != "PLAIN" or not initial:
            return "504 only AUTH PLAIN with an initial response"
        _, user, password = base64.b64decode(initial).decode().split("\0")
        if self._users.get(user) != password:
            self.failed_logins += 1
            return "535 authentication failed"
        session.user = user
        return "235 authenticated"


def _address(argument: str) -> str:
    return argument[argument.index("<") + 1 : argument.index(">")]


async def _read_data(reader: asyncio.StreamReader) -> bytes:
    lines: list[bytes] = []
    while (line := await reader.readline()) != b".\r\n":
        if not line:
            raise ConnectionError("the client left in the middle of DATA")
        # RFC 5321 4.5.2: the client doubled every leading dot.
        lines.append(line[1:] if line.startswith(b".") else line)
    return b"".join(lines)
