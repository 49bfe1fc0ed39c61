"""Signed credentials: each certificate as an Open Badges 3.0 / W3C Verifiable Credential (pure module, no app).

The proof is a W3C Data Integrity proof, cryptosuite ``eddsa-jcs-2022`` (W3C "Data Integrity EdDSA
Cryptosuites v1.0", section 3.3):

1. ``proofConfig`` = the proof without ``proofValue``, with the document's ``@context``;
2. ``hashData`` = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document without ``proof``));
3. ``proofValue`` = ``z`` + base58btc(Ed25519 signature of hashData).

JCS is RFC 8785 for the values credentials hold here: objects, arrays, strings, integers, booleans and
null (keys sorted by UTF-16 code units, strings escaped as ECMAScript's JSON.stringify does); a
fractional number is refused rather than canonicalised approximately. The JSON-LD ``@context`` values
are plain strings: nothing is fetched, the proof covers the JSON as written.

Keys: Ed25519 via ``cryptography`` (no hand-written crypto). The county's keys live in
``<instance>/issuer-keys/<key id>.pem`` (PKCS#8, mode 600); ``current`` names the one that signs.
Rotating adds a key and keeps the old ones, so certificates signed before still verify.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
CRYPTOSUITE = "eddsa-jcs-2022"
WELL_KNOWN_PATH = "/.well-known/lms-issuer.json"
KEY_DIR = "issuer-keys"
_MULTIKEY_ED25519 = b"\xed\x01"  # multicodec prefix of an Ed25519 public key
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


# --- JCS (RFC 8785) and base58btc ------------------------------------------------------------------------

def canonical_json(value) -> bytes:
    """RFC 8785 canonical JSON (UTF-8) of ``value``; fractional numbers are refused (ValueError)."""
    return _jcs(value).encode("utf-8")


def _jcs(value) -> str:
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, int):
        if abs(value) > 2 ** 53:
            raise ValueError("integers beyond 2**53 are not canonical in JCS")
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= 2 ** 53:
            return str(int(value))
        raise ValueError("fractional numbers are not used in credentials")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object keys must be strings")
        ordered = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(key)}:{_jcs(value[key])}" for key in ordered) + "}"
    raise ValueError(f"not a JSON value: {type(value).__name__}")


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (multibase ``z`` without the prefix)."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    """Inverse of b58encode; ValueError on a character outside the alphabet."""
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError("not base58")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def public_multikey(key: Ed25519PublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` of an Ed25519 public key (``z6Mk…``)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(_MULTIKEY_ED25519 + raw)


def public_from_multikey(text: str) -> Ed25519PublicKey:
    """The key in a ``publicKeyMultibase``; ValueError when it is not an Ed25519 Multikey."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("not a base58btc multibase value")
    data = b58decode(text[1:])
    if not data.startswith(_MULTIKEY_ED25519) or len(data) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def key_id_of(key: Ed25519PublicKey) -> str:
    """A short stable key id: ``key-`` + 16 hex digits of the SHA-256 of the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "key-" + hashlib.sha256(raw).hexdigest()[:16]


# --- the county's keys in the instance folder --------------------------------------------------------------

class KeyRing:
    """Ed25519 keys in ``<instance>/issuer-keys``: all kept for checking, one current for signing."""

    def __init__(self, instance_path: str | os.PathLike):
        self.directory = Path(instance_path) / KEY_DIR

    def _load(self, path: Path) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        return key

    def keys(self) -> dict[str, Ed25519PrivateKey]:
        """Every stored key by id (oldest first by file time); empty before first use."""
        if not self.directory.is_dir():
            return {}
        paths = sorted(self.directory.glob("key-*.pem"), key=lambda p: (p.stat().st_mtime, p.name))
        return {path.stem: self._load(path) for path in paths}

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {key_id: key.public_key() for key_id, key in self.keys().items()}

    def current_id(self) -> str | None:
        marker = self.directory / "current"
        if marker.is_file():
            key_id = marker.read_text().strip()
            if (self.directory / f"{key_id}.pem").is_file():
                return key_id
        return None

    def current(self) -> tuple[str, Ed25519PrivateKey]:
        """The signing key, created (mode 600) on first use."""
        key_id = self.current_id()
        if key_id is None:
            return self.rotate()
        return key_id, self._load(self.directory / f"{key_id}.pem")

    def rotate(self) -> tuple[str, Ed25519PrivateKey]:
        """Create a new signing key; the previous ones stay for checking older credentials."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        key = Ed25519PrivateKey.generate()
        key_id = key_id_of(key.public_key())
        path = self.directory / f"{key_id}.pem"
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.chmod(path, 0o600)
        marker = self.directory / f"current.{key_id}.tmp"  # two workers on first use: each its own, both kept
        marker.write_text(key_id + "\n")
        os.replace(marker, self.directory / "current")
        return key_id, key


# --- building, signing and checking --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CredentialData:
    """What a credential states (plain values): the program as the achievement, the county as issuer."""

    base_url: str
    number: str
    verify_url: str
    status_url: str
    holder_name: str
    program_code: str
    program_title: str
    criteria: tuple[str, ...]
    issuer_name: str
    issued: dt.date
    expires: dt.date


def issuer_id(base_url: str) -> str:
    """The issuer's id: its published key document."""
    return base_url.rstrip("/") + WELL_KNOWN_PATH


def build_credential(data: CredentialData) -> dict:
    """The unsigned OpenBadgeCredential. The holder's name only: no ID card, phone or 工号."""
    base = data.base_url.rstrip("/")
    criteria = "；".join(data.criteria) if data.criteria else "由发证单位按规定审核发放"
    return {
        "@context": list(CONTEXTS),
        "id": data.verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": data.program_title,
        "issuer": {"id": issuer_id(base), "type": ["Profile"], "name": data.issuer_name, "url": base + "/"},
        "validFrom": dt.datetime.combine(data.issued, dt.time(0, 0), _SHANGHAI).isoformat(),
        "validUntil": dt.datetime.combine(data.expires, dt.time(23, 59, 59), _SHANGHAI).isoformat(),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": data.holder_name,
            "achievement": {
                "id": f"{base}/certificates/programs/{data.program_code}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": data.program_title,
                "description": f"{data.issuer_name}颁发的《{data.program_title}》，证书编号 {data.number}",
                "criteria": {"narrative": criteria},
            },
        },
        "credentialStatus": {"id": data.status_url, "type": "LmsCertificateStatus",
                             "description": "联网时读取此地址的 status：valid 有效、expired 已过期、revoked 已撤销"},
        "evidence": [{"id": data.verify_url, "type": ["Evidence"], "name": f"证书编号 {data.number}"}],
    }


def _hash_data(document: Mapping, proof_config: Mapping) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return (hashlib.sha256(canonical_json(proof_config)).digest()
            + hashlib.sha256(canonical_json(unsecured)).digest())


def sign(document: Mapping, key: Ed25519PrivateKey, verification_method: str, created: dt.datetime) -> dict:
    """``document`` with a DataIntegrityProof (eddsa-jcs-2022) by ``key``."""
    proof = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE,
             "created": created.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
             "verificationMethod": verification_method, "proofPurpose": "assertionMethod"}
    config = {**proof, "@context": document["@context"]}
    signature = key.sign(_hash_data(document, config))
    return {**{k: v for k, v in document.items() if k != "proof"}, "proof": {**proof,
                                                                             "proofValue": "z" + b58encode(signature)}}


class Verdict(enum.StrEnum):
    valid = "valid"
    tampered = "tampered"
    unknown_key = "unknown_key"
    malformed = "malformed"


@dataclasses.dataclass(frozen=True)
class Check:
    """The outcome of checking one credential."""

    verdict: Verdict
    key_id: str = ""
    detail: str = ""


def verify(document, resolve: Callable[[str], Ed25519PublicKey | None]) -> Check:
    """Check the proof of ``document``; ``resolve(verificationMethod)`` gives a trusted key or None."""
    if not isinstance(document, Mapping) or not isinstance(document.get("proof"), Mapping):
        return Check(Verdict.malformed, detail="没有签名（proof）")
    proof = document["proof"]
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return Check(Verdict.malformed, detail="签名类型不是 eddsa-jcs-2022")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        return Check(Verdict.malformed, detail="签名缺少密钥或签名值")
    key_id = method.rsplit("#", 1)[-1]
    key = resolve(method)
    if key is None:
        return Check(Verdict.unknown_key, key_id=key_id, detail=method)
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document.get("@context")
    try:
        signature = b58decode(value[1:])
        key.verify(signature, _hash_data(document, config))
    except (InvalidSignature, ValueError):
        return Check(Verdict.tampered, key_id=key_id)
    return Check(Verdict.valid, key_id=key_id)


def key_document(base_url: str, issuer_name: str, public_keys: Mapping[str, Ed25519PublicKey],
                 current: str | None) -> dict:
    """The published controller document: every key (old ones for checking), the current one first."""
    controller = issuer_id(base_url)
    ordered = sorted(public_keys, key=lambda key_id: key_id != current)
    methods = [{"id": f"{controller}#{key_id}", "type": "Multikey", "controller": controller,
                "publicKeyMultibase": public_multikey(public_keys[key_id])} for key_id in ordered]
    return {"@context": ["https://www.w3.org/ns/cid/v1"], "id": controller, "name": issuer_name,
            "verificationMethod": methods, "assertionMethod": [m["id"] for m in methods],
            "current": f"{controller}#{current}" if current else None}


def keys_from_document(document) -> dict[str, Ed25519PublicKey]:
    """verificationMethod id -> key from a saved key document (``--key``); ValueError when it is not one."""
    if not isinstance(document, Mapping) or not isinstance(document.get("verificationMethod"), list):
        raise ValueError("not a key document")
    found = {}
    for method in document["verificationMethod"]:
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            found[method["id"]] = public_from_multikey(method.get("publicKeyMultibase"))
    return found
