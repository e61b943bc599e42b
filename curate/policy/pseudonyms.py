"""Keyed pseudonyms: HMAC-SHA256 of a raw identifier under a secret key that never leaves the machine.

Why keyed: numbering ids in sort order (``patient_0001`` …) or hashing them with a public seed lets anyone
who knows or can guess the raw ids (sequential MRNs, national ids) recover them. An HMAC under a 256-bit
secret cannot be inverted or recomputed without the key, yet stays stable across runs, so the same patient
gets the same pseudonym in every file the publisher makes with that key.

The key is a file of 64 hex characters. It is read from, in this order: the ``key_file`` argument
(``--key-file`` on the command line), the ``CURATE_PSEUDONYM_KEY`` environment variable (a path), or
``$XDG_CONFIG_HOME/curate/pseudonym.key`` (default ``~/.config/curate/pseudonym.key``), which is created
with mode 0600 on first use. A key inside an output folder is refused, and no output ever contains the key
or anything derived from it except the pseudonyms themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from curate.errors import InputError

KEY_ENV = "CURATE_PSEUDONYM_KEY"
#: Hex digits of the HMAC kept in a pseudonym: 64 bits, so collisions are negligible below ~10^8 ids.
DIGITS = 16
METHOD = ("HMAC-SHA256 of the raw identifier under a secret 256-bit key held by the publisher outside "
          "every published file; the key is not published and pseudonyms cannot be recomputed without it")


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "curate" / "pseudonym.key"


@dataclass(frozen=True)
class PseudonymKey:
    """A loaded secret key; ``path`` says where it lives (never printed into outputs)."""

    secret: bytes
    path: Path
    created: bool = False

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"PseudonymKey(path={str(self.path)!r})"

    def check_outside(self, *folders: str | Path) -> None:
        """Refuse a key stored inside a folder that is about to be published."""
        key = self.path.resolve()
        for folder in folders:
            root = Path(folder).resolve()
            if key == root or root in key.parents:
                raise InputError(f"--key-file: the pseudonym key must be stored outside the output folder "
                                 f"'{folder}' (it would be published with it)")

    def pseudonym(self, raw: object, *, kind: str = "patient", context: str = "") -> str:
        """``kind_<16 hex>`` for one raw id; ``context`` (e.g. a dataset id) separates namespaces."""
        msg = f"{kind}\x00{context}\x00{raw}".encode()
        return f"{kind}_{hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:DIGITS]}"

    def pseudonymise(self, values: Iterable[object], *, kind: str = "patient", context: str = "") -> list:
        """Pseudonyms for many raw ids; missing values (None/NaN) stay missing."""
        out = []
        for v in values:
            missing = v is None or (isinstance(v, float) and v != v)
            out.append(None if missing else self.pseudonym(v, kind=kind, context=context))
        return out


def _read(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--key-file: cannot read pseudonym key '{path}' "
                         f"({exc.__class__.__name__})") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise InputError(f"--key-file: '{path}' is not a pseudonym key (expected 64 hex characters)")
    return secret


def load_key(key_file: str | Path | None = None, *, create: bool = True) -> PseudonymKey:
    """Load the publisher's key (see the module docstring for the search order); create the default one."""
    if key_file is not None or os.environ.get(KEY_ENV):
        path = Path(key_file if key_file is not None else os.environ[KEY_ENV]).expanduser()
        if not path.is_file():
            raise InputError(f"--key-file: pseudonym key '{path}' does not exist")
        return PseudonymKey(_read(path), path)
    path = default_key_path()
    if path.is_file():
        return PseudonymKey(_read(path), path)
    if not create:
        raise InputError(f"--key-file: no pseudonym key at '{path}'")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created by a concurrent run
        return PseudonymKey(_read(path), path)
    except OSError as exc:
        raise InputError(f"--key-file: cannot create pseudonym key '{path}' ({exc.strerror})") from None
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret.hex() + "\n")
    return PseudonymKey(secret, path, created=True)


def generate_key_file(path: str | Path) -> Path:
    """Write a fresh key to ``path`` (refuses to overwrite an existing file)."""
    p = Path(path).expanduser()
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"--key-file: '{p}' exists; curate never overwrites a key") from None
    except OSError as exc:
        raise InputError(f"--key-file: cannot create '{p}' ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_bytes(32).hex() + "\n")
    return p
