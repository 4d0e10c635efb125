"""The key that signs vote links and ballot reply tokens.

``secret_key`` given: it must be at least :data:`MIN_KEY_LENGTH` characters.
Empty: a key is kept in ``secret_file``. The first use generates it into a
temporary file in the same folder (mode 0600), fsyncs it, and publishes it
with ``os.link`` (a rename that never replaces): of processes racing the
first use, one wins and every other reads the winner's key, so there is one
key. A reader never sees a half-written file. A key file that is empty or too
short is refused (never used to sign); one readable by group or others is
made 0600 with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: The shortest key accepted (characters). A generated key has 64.
MIN_KEY_LENGTH = 32


def check_key(key: str, *, source: str) -> str:
    """``key`` stripped, if long enough. Raises ConfigError naming ``source``
    (never the key itself) and the fix."""
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{source} is {'empty' if not key else 'too short'}: a signing key needs at least "
            f"{MIN_KEY_LENGTH} characters. Set a longer secret_key (for example the output of "
            "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`), or leave "
            "secret_key empty and delete the secret file so that a key is generated.")
    return key


def _private(path: Path) -> None:
    """Make ``path`` 0600 when group or others may read it (with a warning).
    Raises ConfigError when that cannot be done."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 == 0:
        return
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(f"the secret file {path} is readable by others (mode {mode:o}) and "
                          f"cannot be made private ({exc}); run chmod 600 {path}") from None
    log.warning("the secret file %s was readable by others (mode %o); it is now 0600 "
                "(links signed before may have been seen: consider a new key)", path, mode)


def _read(path: Path) -> str:
    _private(path)
    return check_key(path.read_text(encoding="utf-8"), source=f"the secret file {path}")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def key_from_file(path: Path) -> str:
    """The key kept in ``path``, generated atomically on first use (see the
    module doc). Raises ConfigError for an empty or short file, or one that
    cannot be made private."""
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process published first
        except FileExistsError:
            return _read(path)
        _fsync_dir(path.parent)
        log.info("generated a new signing key in %s", path)
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def signing_key(secret_key: str, secret_file: Path) -> str:
    """``secret_key`` (checked) when given, else the key of ``secret_file``."""
    if secret_key:
        return check_key(secret_key, source="secret_key")
    return key_from_file(secret_file)
