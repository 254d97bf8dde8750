"""The teacher's key and the signed tokens made from it.

Tokens are itsdangerous' URL-safe timed serializers (HMAC-SHA1 over the payload and a timestamp), keyed by
the teacher's key with one salt per kind, so a student token is never accepted as a teacher's and rotating
the key voids every token handed out before. The key itself is compared with hmac.compare_digest.
"""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Optional

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..runs.store import default_root

ENV_KEY = "SEQGAN_TEACHER_KEY"
ENV_CLASS = "SEQGAN_CLASS"          # "1": roles apply (set by `class serve`; the app also turns it on off-loopback)

TEACHER, STUDENT, VIEWER, LESSON = "teacher", "student", "viewer", "lesson"
MAX_AGE_S = {TEACHER: 12 * 3600, STUDENT: 12 * 3600, VIEWER: 7 * 24 * 3600, LESSON: None}   # None: no expiry
MIN_KEY_CHARS = 16


def class_dir(root: Optional[Path] = None) -> Path:
    return Path(root or default_root()) / ".class"


def key_path(root: Optional[Path] = None) -> Path:
    return class_dir(root) / "teacher.key"


def class_mode() -> bool:
    return os.environ.get(ENV_CLASS, "") == "1"


def teacher_key(root: Optional[Path] = None) -> Optional[str]:
    """The key from SEQGAN_TEACHER_KEY, else the key file; None before the first start."""
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        return env
    try:
        return key_path(root).read_text().strip() or None
    except FileNotFoundError:
        return None


def _write_key(path: Path, key: str) -> None:
    """Written through a 0600 descriptor: the key is never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_key(root: Optional[Path] = None) -> str:
    """The teacher's key, made (and stored with mode 0600) the first time."""
    key = teacher_key(root)
    if key is None:
        key = secrets.token_urlsafe(24)
        _write_key(key_path(root), key)
    if len(key) < MIN_KEY_CHARS:
        raise ValueError(f"{ENV_KEY} must have at least {MIN_KEY_CHARS} characters")
    return key


def rotate_key(root: Optional[Path] = None) -> str:
    """A new key in the key file: every token signed with the old one stops working."""
    if os.environ.get(ENV_KEY, "").strip():
        raise ValueError(f"the key comes from {ENV_KEY}: change that variable instead")
    key = secrets.token_urlsafe(24)
    _write_key(key_path(root), key)
    return key


def is_teacher_key(given: str, root: Optional[Path] = None) -> bool:
    key = teacher_key(root)
    if not key or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), key.encode())


def _serializer(kind: str, root: Optional[Path] = None) -> Optional[URLSafeTimedSerializer]:
    key = teacher_key(root)
    return URLSafeTimedSerializer(key, salt=f"seqgan-{kind}") if key else None


def sign(kind: str, payload: dict, root: Optional[Path] = None) -> str:
    s = _serializer(kind, root)
    if s is None:
        raise RuntimeError("no teacher key yet: start the class with `python -m seqgan_core class serve`")
    return s.dumps(payload)


def read_token(kind: str, token: Optional[str], root: Optional[Path] = None) -> Optional[dict]:
    """The payload of a token of this kind, or None when it is forged, of another kind, signed with an old key
    or older than the kind's lifetime."""
    s = _serializer(kind, root)
    if s is None or not token or len(token) > 4096:
        return None
    try:
        payload = s.loads(token, max_age=MAX_AGE_S[kind])
    except BadSignature:         # SignatureExpired is a BadSignature
        return None
    return payload if isinstance(payload, dict) else None
