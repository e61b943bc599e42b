"""Turn operating-system and network failures into one specific ``error:`` line (never ``unexpected``).

Permission denied, a broken symbolic link, a folder where a file is expected, a full disk or no network
for a push are problems the user can fix, so ``curate.cli.main`` prints what happened and to which path.
Library code may still raise them as plain ``OSError``; only the CLI words them.
"""

from __future__ import annotations

import errno
import os

_NETWORK_MODULES = ("requests", "urllib3", "httpx", "httpcore", "huggingface_hub", "aiohttp")
_NETWORK_NAMES = {"ConnectionError", "ConnectError", "ConnectTimeout", "ReadTimeout", "Timeout",
                  "TimeoutException", "NewConnectionError", "MaxRetryError", "ProxyError", "SSLError",
                  "OfflineModeIsEnabled", "NetworkError", "gaierror"}


def _first_line(text: object, limit: int = 300) -> str:
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _network(exc: BaseException) -> str | None:
    mro = type(exc).__mro__
    names = {c.__name__ for c in mro}
    from_net = any(c.__module__.split(".")[0].startswith(_NETWORK_MODULES) for c in mro)
    if (from_net or "gaierror" in names) and names & _NETWORK_NAMES:
        return f"cannot reach the network ({type(exc).__name__}: {_first_line(exc)}); check the connection"
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if (from_net or "HfHubHTTPError" in names) and status is not None:
        return f"the Hugging Face Hub refused the request (HTTP {status}): {_first_line(exc)}"
    return None


def _os_error(exc: OSError) -> str:
    path = exc.filename
    where = f" '{path}'" if path is not None else ""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied:{where}"
    if code == errno.ENOENT:
        if path is not None and os.path.islink(path):
            target = os.readlink(path)
            return f"'{path}' is a broken symbolic link (it points to '{target}', which is missing)"
        return f"no such file or folder:{where}"
    if code == errno.EISDIR:
        return f"{where.strip() or 'the path'} is a folder where a file is expected"
    if code == errno.ENOTDIR:
        return f"{where.strip() or 'the path'}: a part of it is not a folder"
    if code == errno.ENOSPC:
        return f"no space left on the device (writing{where})"
    if code == errno.EROFS:
        return f"read-only file system:{where}"
    if code == errno.ELOOP:
        return f"too many levels of symbolic links:{where}"
    reason = (exc.strerror or _first_line(exc) or type(exc).__name__).rstrip(".")
    return f"{reason[:1].lower()}{reason[1:]}:{where}" if where else reason


def describe(exc: BaseException | None) -> str | None:
    """One line for a failure the user can fix (OS, network, truncated input), else None (a bug)."""
    if exc is None:
        return None
    message = _network(exc)
    if message is not None:
        return message
    if isinstance(exc, OSError):
        if exc.errno is not None or exc.strerror:
            return _os_error(exc)
        return f"input/output error: {_first_line(exc) or type(exc).__name__}"  # e.g. pyarrow's OSError
    if isinstance(exc, EOFError):
        return f"an input ended too early: it is empty or truncated ({_first_line(exc) or 'EOF'})"
    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large for this machine (see docs/cli.md, Limits)"
    return None
