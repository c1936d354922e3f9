"""The outbox as one file for a USB stick: integrity-checked, optionally encrypted with a passphrase.

Layout: a magic line, a JSON header line, then the body (gzip'd JSON of the records and the design
files they need). An HMAC-SHA256 over header and body, keyed with the site token's hash (which the
van derives from its token and the central site stores), proves the file is whole and came from a
holder of that van's token: a damaged or altered file is refused whole, before anything is applied.
With a passphrase the body is encrypted with AES-256-GCM under a key derived by scrypt
(`cryptography`, maintained by the PyCA), the header being authenticated as associated data.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from fablabctl.errors import Invalid
from fablabctl.i18n import Text

MAGIC = b"FABLABSYNC1\n"
FORMAT = "fablabctl-sync-file/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_HEADER = 64 * 1024


@dataclass(frozen=True, slots=True)
class Contents:
    site: str
    cohort_id: int
    items: list[dict[str, Any]]
    files: dict[str, bytes]


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in header.items() if k != "mac"}, sort_keys=True).encode()


def _mac(key: bytes, header: dict[str, Any], body: bytes) -> str:
    return hmac.new(key, _canonical(header) + b"\n" + body, hashlib.sha256).hexdigest()


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def write_bundle(
    *,
    key: bytes,
    site: str,
    cohort_id: int,
    created_at: str,
    items: list[dict[str, Any]],
    files: dict[str, bytes],
    passphrase: str | None,
) -> bytes:
    body = gzip.compress(
        json.dumps(
            {"items": items, "files": {sha: base64.b64encode(data).decode() for sha, data in files.items()}}
        ).encode(),
        mtime=0,
    )
    header: dict[str, Any] = {
        "format": FORMAT,
        "site": site,
        "cohort_id": cohort_id,
        "created_at": created_at,
        "records": len(items),
        "encrypted": passphrase is not None,
    }
    if passphrase is not None:
        salt, nonce = os.urandom(16), os.urandom(12)
        header["kdf"] = {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()}
        header["nonce"] = nonce.hex()
        body = AESGCM(_derive(passphrase, salt)).encrypt(nonce, body, _canonical(header))
    header["mac"] = _mac(key, header, body)
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body


def _damaged() -> Invalid:
    return Invalid(
        "SYNC_FILE_DAMAGED",
        Text(
            "Fichier d'échange endommagé ou modifié : refusé en entier, rien n'a été importé. "
            "Refaites l'export sur le poste du camion.",
            "Exchange file damaged or altered: refused whole, nothing was imported. "
            "Export it again on the van.",
        ),
    )


def read_header(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header (site, cohort, encrypted...) and the body, before any check of integrity."""
    if not data.startswith(MAGIC):
        raise Invalid(
            "SYNC_FILE_NOT_EXPORT",
            Text(
                "Ce fichier n'est pas un export « fablabctl sync export ».",
                "This is not a 'fablabctl sync export' file.",
            ),
        )
    rest = data[len(MAGIC) :]
    end = rest.find(b"\n", 0, MAX_HEADER)
    try:
        header = json.loads(rest[:end]) if end >= 0 else None
    except ValueError:
        header = None
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT
        or not isinstance(header.get("mac"), str)
    ):
        raise _damaged()
    if not isinstance(header.get("site"), str) or not isinstance(header.get("cohort_id"), int):
        raise _damaged()
    return header, rest[end + 1 :]


def open_bundle(data: bytes, keys: list[bytes], passphrase: str | None) -> Contents:
    """Check integrity against the live tokens' keys, decrypt, and return the contents."""
    header, body = read_header(data)
    if not any(hmac.compare_digest(_mac(key, header, body), header["mac"]) for key in keys):
        raise _damaged()
    if header.get("encrypted"):
        if not passphrase:
            raise Invalid(
                "SYNC_PASSPHRASE_NEEDED",
                Text(
                    "Ce fichier est chiffré : donnez sa phrase secrète (--passphrase).",
                    "This file is encrypted: give its passphrase (--passphrase).",
                ),
            )
        try:
            salt, nonce = bytes.fromhex(header["kdf"]["salt"]), bytes.fromhex(header["nonce"])
            body = AESGCM(_derive(passphrase, salt)).decrypt(nonce, body, _canonical(header))
        except InvalidTag:
            raise Invalid(
                "SYNC_BAD_PASSPHRASE",
                Text(
                    "Phrase secrète incorrecte : rien n'a été importé.",
                    "Wrong passphrase: nothing was imported.",
                ),
            ) from None
        except (KeyError, TypeError, ValueError):
            raise _damaged() from None
    try:
        content = json.loads(gzip.decompress(body))
        files = {sha: base64.b64decode(b64) for sha, b64 in content["files"].items()}
        items = content["items"]
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError):
        raise _damaged() from None
    if not isinstance(items, list) or any(hashlib.sha256(d).hexdigest() != sha for sha, d in files.items()):
        raise _damaged()
    return Contents(header["site"], header["cohort_id"], items, files)
