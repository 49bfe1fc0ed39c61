"""Signed credentials: each certificate as an Open Badges 3.0 / W3C Verifiable Credential (pure module, no app).

The proof is a W3C Data Integrity proof, cryptosuite ``eddsa-jcs-2022`` (W3C "Data Integrity EdDSA
Cryptosuites v1.0", section 3.3):

1. ``proofConfig`` = the proof without ``proofValue``, with the document's ``@context``;
2. ``hashData`` = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document without ``proof``));
3. ``proofValue`` = ``z`` + base58btc(Ed25519 signature of hashData).

JCS is RFC 8785, by the ``rfc8785`` library (Trail of Bits). The JSON-LD ``@context`` values are plain
strings: nothing is fetched, the proof covers the JSON as written.

Revocation: a W3C Bitstring Status List v1.0. Each credential carries a ``BitstringStatusListEntry``
(statusPurpose ``revocation``, its certificate's bit); the county serves one signed
``BitstringStatusListCredential`` whose ``encodedList`` is multibase base64url (``u``, no padding) of the
GZIP-compressed bitstring, at least 16 KB (131,072 bits), bit 0 the leftmost bit of the first byte.

Keys: Ed25519 via ``cryptography`` (no hand-written crypto). The county's keys live in
``<instance>/issuer-keys/<key id>.pem`` (PKCS#8, mode 600); ``current`` names the one that signs.
Rotating adds a key and keeps the old ones, so certificates signed before still verify.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

import rfc8785
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
    """RFC 8785 canonical JSON (UTF-8) of ``value``, by the ``rfc8785`` library; ValueError when it has none."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"not canonicalisable JSON: {exc}") from None
    except (TypeError, RecursionError) as exc:
        raise ValueError(f"not a JSON value: {exc}") from None


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
    #: the revocation list (BitstringStatusListCredential) and this certificate's bit in it; None: no entry
    status_list_url: str | None
    status_index: int | None
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
        **({"credentialStatus": status_entry(data.status_list_url, data.status_index)}
           if data.status_list_url and data.status_index is not None else {}),
        "evidence": [{"id": data.verify_url, "type": ["Evidence"], "name": f"证书编号 {data.number}"}],
    }


def status_entry(list_url: str, index: int) -> dict:
    """A BitstringStatusListEntry: bit ``index`` of the revocation list at ``list_url``."""
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": list_url}


# --- the revocation status list (W3C Bitstring Status List v1.0) --------------------------------------------

#: the spec's minimum length (16 KB): a list this long says little about how many certificates exist
LIST_BITS = 131072
#: a fetched list larger than this (decompressed) is refused, not inflated
_MAX_LIST_BYTES = 16 * 1024 * 1024


def list_bits_for(highest_index: int | None) -> int:
    """Length of a list holding bit ``highest_index``: a whole number of LIST_BITS blocks."""
    return LIST_BITS * (1 + max(highest_index or 0, 0) // LIST_BITS)


def encode_list(set_bits, length: int = LIST_BITS) -> str:
    """``encodedList``: multibase base64url (no padding) of the GZIP of the bitstring with ``set_bits`` set."""
    data = bytearray(length // 8)
    for index in set_bits:
        if not 0 <= index < length:
            raise ValueError(f"index {index} outside the list of {length} bits")
        data[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(data), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``; ValueError when it is not one (or inflates beyond 16 MB)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper
        data = inflater.decompress(packed, _MAX_LIST_BYTES + 1)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"encodedList does not decode: {exc}") from None
    if len(data) > _MAX_LIST_BYTES or inflater.unconsumed_tail:
        raise ValueError("encodedList is too large")
    return data


def bit_is_set(bitstring: bytes, index: int) -> bool:
    """Bit ``index`` (0 = leftmost bit of the first byte); IndexError beyond the list."""
    if index < 0 or index // 8 >= len(bitstring):
        raise IndexError(index)
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def build_status_list(base_url: str, list_url: str, issuer_name: str, revoked_bits, length: int,
                      now: dt.datetime) -> dict:
    """The unsigned BitstringStatusListCredential of revoked certificates (sign it with ``sign``)."""
    base = base_url.rstrip("/")
    return {
        "@context": [CONTEXTS[0]],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer_id(base), "name": issuer_name},
        "validFrom": now.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": encode_list(revoked_bits, length)},
    }


class Revocation(enum.StrEnum):
    """What the status list says about a credential."""

    not_revoked = "not_revoked"
    revoked = "revoked"
    #: the list could not be fetched (no network, server down): nothing known
    unreachable = "unreachable"
    #: the credential names no status list (issued before status lists)
    no_entry = "no_entry"
    #: fetched, but not a list this issuer signed, or the bit is outside it
    untrusted = "untrusted"


@dataclasses.dataclass(frozen=True)
class StatusCheck:
    state: Revocation
    detail: str = ""


def _issuer_of(document) -> str | None:
    issuer = document.get("issuer") if isinstance(document, Mapping) else None
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def check_revocation(document, resolve: Callable[[str], Ed25519PublicKey | None],
                     fetch: Callable[[str], bytes]) -> StatusCheck:
    """Read the revocation bit of a (signature-checked) credential from its issuer's status list.

    ``fetch(url) -> bytes`` gets the list (OSError or TimeoutError: unreachable); the list must carry a
    valid proof by a key ``resolve`` trusts and name the credential's issuer.
    """
    entries = document.get("credentialStatus") if isinstance(document, Mapping) else None
    entries = entries if isinstance(entries, list) else [entries]
    entry = next((e for e in entries if isinstance(e, Mapping) and e.get("type") == "BitstringStatusListEntry"
                  and e.get("statusPurpose") == "revocation"), None)
    if entry is None:
        return StatusCheck(Revocation.no_entry)
    url, raw_index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or not isinstance(raw_index, str) \
            or not raw_index.isdigit():
        return StatusCheck(Revocation.untrusted, "吊销状态条目不完整")
    try:
        body = fetch(url)
    except (OSError, TimeoutError, ValueError) as exc:
        return StatusCheck(Revocation.unreachable, f"{url}：{exc}")
    try:
        status_list = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return StatusCheck(Revocation.untrusted, "吊销状态列表不是 JSON")
    if not isinstance(status_list, Mapping) or verify(status_list, resolve).verdict != Verdict.valid:
        return StatusCheck(Revocation.untrusted, "吊销状态列表的签名无法确认")
    subject = status_list.get("credentialSubject")
    if _issuer_of(status_list) != _issuer_of(document) or not isinstance(subject, Mapping) \
            or subject.get("statusPurpose") != "revocation" or status_list.get("id") != url:
        return StatusCheck(Revocation.untrusted, "吊销状态列表与证书的发证单位不符")
    try:
        revoked = bit_is_set(decode_list(subject.get("encodedList")), int(raw_index))
    except (ValueError, IndexError):
        return StatusCheck(Revocation.untrusted, "吊销状态列表无法读取或不含该证书")
    return StatusCheck(Revocation.revoked if revoked else Revocation.not_revoked)


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
