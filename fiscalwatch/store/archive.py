"""Content-addressed archive: every fetched file is kept once, under its sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def archive(storage_dir: Path, content: bytes) -> tuple[str, str]:
    """Store bytes (atomically, once) and return (sha256, path relative to the storage dir)."""
    digest = sha256_of(content)
    relative = relative_path(digest)
    target = storage_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    return digest, relative
