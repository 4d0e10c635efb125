"""Real mail servers for tests, started on loopback by the tests themselves:
aiosmtpd (SMTP) and a private dovecot instance (IMAP)."""

from __future__ import annotations

import contextvars
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.smtp_helpers import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists()
                                      else None)



@dataclass
class Imap:
    """A running dovecot: one mailbox ``user``/``password`` on ``host:port``."""

    host: str
    port: int
    user: str
    password: str
    folder: Path

    def settings(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "ssl": False, "username": self.user,
                "password": self.password, "folder": "INBOX", "poll_seconds": 5}

    def append(self, message: EmailMessage | bytes) -> None:
        from imapclient import IMAPClient

        raw = bytes(message) if isinstance(message, EmailMessage) else message
        with IMAPClient(self.host, port=self.port, ssl=False, timeout=10) as c:
            c.login(self.user, self.password)
            c.append("INBOX", raw)
            c.logout()

    def unseen(self) -> int:
        from imapclient import IMAPClient

        with IMAPClient(self.host, port=self.port, ssl=False, timeout=10) as c:
            c.login(self.user, self.password)
            c.select_folder("INBOX")
            n = len(c.search(["UNSEEN"]))
            c.logout()
            return n


def _users() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid). dovecot will
    not run its login or mail processes as root, so as root the Debian package's
    own unprivileged users are used."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        return me, grp.getgrgid(os.getgid()).gr_name, me, os.getuid(), os.getgid()
    d = pwd.getpwnam("dovecot")
    login = "dovenull" if _has_user("dovenull") else "nobody"
    return "dovecot", grp.getgrgid(d.pw_gid).gr_name, login, d.pw_uid, d.pw_gid


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextmanager
def dovecot(user: str = "ballots@alliance.example", password: str = "s3cret") -> Iterator[Imap]:
    """Start dovecot with a config of its own in a temp dir (plain auth from a
    passwd-file, maildir in the temp dir) on a free loopback port; stop it after."""
    assert DOVECOT is not None
    base = Path(tempfile.mkdtemp(prefix="convene-dovecot-"))
    os.chmod(base, 0o755)
    internal, group, login, uid, gid = _users()
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(base / sub, uid, gid)
    (base / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    os.chmod(base / "passwd", 0o644)
    port = free_port()
    (base / "dovecot.conf").write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(base / "dovecot.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() \
                    else ""
                out = proc.stdout.read().decode() if proc.stdout and proc.poll() else ""
                raise RuntimeError(f"dovecot did not start: {out}\n{log}")
            time.sleep(0.1)
        yield Imap("127.0.0.1", port, user, password, base / "mail")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Smtp:
    """A running aiosmtpd on loopback; ``messages`` are what it received."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "security": "none"}

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


@contextmanager
def smtpd() -> Iterator[Smtp]:
    """aiosmtpd on a free loopback port, keeping every message it receives."""
    from aiosmtpd.controller import Controller

    box = Smtp("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = message_from_bytes(envelope.content, policy=policy.default)
            with box.lock:
                box.messages.append(msg)  # type: ignore[arg-type]
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextmanager
def http_app(app: object, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on loopback (``port`` or a free one);
    yields its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning", lifespan="off"))
    # The test's context (its clock) goes with the server: see tests/clock.py.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(server.run,),
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
