"""Signed credentials: Open Badges 3.0 / VC with an eddsa-jcs-2022 proof, checked offline by the CLI."""
from __future__ import annotations

import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pypdf import PdfReader

from lms.accounts.permissions import SYSTEM
from lms.certification import credential
from lms.certification import services as certification
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def people(tree):
    program = make_program(requires={"drills_accepted": 3})
    holder = make_user("w001", "worker", tree["g1"], name="张小明", phone="13800138000")
    other = make_user("w002", "worker", tree["g2"], name="李四")
    make_user("hr1", "hr", tree["county"], name="人事")
    return {"holder": holder, "other": other, "certificate": make_certificate(holder, program, seed=5)}


def _download(api, people, who="w001"):
    api.login(who)
    response = api.get(f"/api/v1/certificates/{people['certificate'].number}.credential.json")
    return response


@pytest.fixture(autouse=True)
def status_over_test_client(app, client):
    """The verifier reads the status list through the test client (the fetch function is injectable)."""
    fetched = []

    def fetch(url, timeout):
        fetched.append(url)
        assert url.startswith("http://lms.test/") and timeout <= 5
        response = client.get(url.removeprefix("http://lms.test"))
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        return response.get_data()

    app.config["CERTIFICATE_STATUS_FETCH"] = fetch
    return fetched


def _verify(runner, path, *extra):
    return runner.invoke(args=["certificates", "verify", str(path), *extra])


def test_jcs_matches_rfc_8785_for_the_values_used():
    assert credential.canonical_json({"b": [1, True, None], "a": "中\n\"", "\u00e9": 0, "A": {}}) == \
        '{"A":{},"a":"中\\n\\"","b":[1,true,null],"é":0}'.encode()
    # RFC 8785 section 3.2.2.3 number samples: ECMAScript's shortest form
    assert credential.canonical_json([4.50, 2e-3, 1e30, 333333333.33333329, 1e-27]) == \
        b"[4.5,0.002,1e+30,333333333.3333333,1e-27]"
    with pytest.raises(ValueError):
        credential.canonical_json({"x": 2 ** 60})  # beyond IEEE 754 integers
    with pytest.raises(ValueError):
        credential.canonical_json({1: "key not a string"})


DATA = Path(__file__).parent / "data"


def test_a_credential_signed_with_the_former_hand_written_jcs_still_verifies(runner, tmp_path):
    """tests/certification/data/legacy-*.json were signed before rfc8785 replaced the hand-written JCS."""
    legacy = json.loads((DATA / "legacy-credential.json").read_text(encoding="utf-8"))
    keys = credential.keys_from_document(json.loads((DATA / "legacy-issuer.json").read_text(encoding="utf-8")))
    assert credential.verify(legacy, keys.get).verdict == credential.Verdict.valid
    legacy["credentialSubject"]["name"] = "张大明"
    assert credential.verify(legacy, keys.get).verdict == credential.Verdict.tampered
    result = _verify(runner, DATA / "legacy-credential.json", "--key", str(DATA / "legacy-issuer.json"))
    assert result.exit_code == 0 and result.output.startswith("有效") and "张小明" in result.output


def test_base58_round_trips_leading_zeros():
    for data in (b"", b"\0\0abc", bytes(range(40))):
        assert credential.b58decode(credential.b58encode(data)) == data


def test_the_holder_downloads_a_signed_open_badge(api, people, app):
    response = _download(api, people)
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert all(isinstance(c, str) for c in body["@context"])
    assert body["credentialSubject"]["name"] == "张小明"
    assert "13800138000" not in response.get_data(as_text=True) and "w001" not in response.get_data(as_text=True)
    achievement = body["credentialSubject"]["achievement"]
    assert achievement["name"] == "网格员上岗证" and "3" in achievement["criteria"]["narrative"]
    assert body["validFrom"].startswith(people["certificate"].issued_on.isoformat())
    assert body["validUntil"].startswith(people["certificate"].expires_on.isoformat())
    assert body["id"].startswith("http://lms.test/verify/")
    proof = body["proof"]
    assert proof["cryptosuite"] == "eddsa-jcs-2022" and proof["proofValue"].startswith("z")
    assert proof["verificationMethod"].startswith("http://lms.test/.well-known/lms-issuer.json#key-")


def test_the_key_is_created_once_with_mode_600_and_published(api, people, app, client):
    first = _download(api, people).get_json()
    again = _download(api, people).get_json()
    assert first == again  # same key, deterministic signature
    keys = list((Path(app.instance_path) / "issuer-keys").glob("key-*.pem"))
    assert len(keys) == 1 and stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    published = client.get("/.well-known/lms-issuer.json").get_json()
    assert published["verificationMethod"][0]["id"] == first["proof"]["verificationMethod"]
    assert published["verificationMethod"][0]["publicKeyMultibase"].startswith("z6Mk")


def test_others_may_not_download_it(api, people):
    assert _download(api, people, who="w002").status_code == 403
    assert _download(api, people, who="hr1").status_code == 200
    api.login("w001")
    missing = api.get("/api/v1/certificates/NOPE-2026-000001.credential.json")
    assert missing.status_code == 404 and "不存在" in missing.get_json()["error"]["message"]


def test_cli_says_valid_offline_and_a_changed_byte_is_tampered(api, people, runner, tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(_download(api, people).get_data())
    result = _verify(runner, path)
    assert result.exit_code == 0 and result.output.startswith("有效") and "张小明" in result.output
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("张小明", "张大明"), encoding="utf-8")
    result = _verify(runner, path)
    assert result.exit_code == 1 and "无效" in result.output


def test_a_changed_proof_value_is_tampered(api, people, runner, tmp_path):
    body = _download(api, people).get_json()
    value = body["proof"]["proofValue"]
    body["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    result = _verify(runner, path)
    assert result.exit_code == 1 and "无效" in result.output


def test_a_foreign_key_is_unknown_unless_given_with_key(api, people, runner, tmp_path, app):
    body = _download(api, people).get_json()
    foreign = credential.KeyRing(tmp_path / "other-county")
    key_id, key = foreign.current()
    unsigned = {k: v for k, v in body.items() if k != "proof"}
    signed = credential.sign(unsigned, key, f"https://lms.other.gov.cn/.well-known/lms-issuer.json#{key_id}",
                             dt.datetime(2026, 6, 3, tzinfo=dt.timezone.utc))
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(signed, ensure_ascii=False), encoding="utf-8")
    result = _verify(runner, path)
    assert result.exit_code == 1 and "无法确认" in result.output and "--key" in result.output
    published = credential.key_document("https://lms.other.gov.cn", "外县", foreign.public_keys(), key_id)
    key_file = tmp_path / "other.json"
    key_file.write_text(json.dumps(published), encoding="utf-8")
    assert _verify(runner, path, "--key", str(key_file)).exit_code == 0
    pem = tmp_path / "other.pem"
    pem.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    assert _verify(runner, path, "--key", str(pem)).exit_code == 0


def test_after_rotation_old_credentials_still_verify(api, people, runner, tmp_path, client):
    old = tmp_path / "old.json"
    old.write_bytes(_download(api, people).get_data())
    result = runner.invoke(args=["certificates", "rotate-key"])
    assert result.exit_code == 0 and "已生成新的签名密钥" in result.output
    new = _download(api, people).get_json()
    assert new["proof"]["verificationMethod"] != json.loads(old.read_text())["proof"]["verificationMethod"]
    assert _verify(runner, old).exit_code == 0
    published = client.get("/.well-known/lms-issuer.json").get_json()
    assert len(published["verificationMethod"]) == 2
    assert published["current"] == new["proof"]["verificationMethod"]


def test_a_revoked_certificate_reports_revoked(api, people, runner, tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(_download(api, people).get_data())
    certification.revoke_certificate(SYSTEM, people["certificate"], "测试撤销")
    db.session.commit()
    result = _verify(runner, path)
    assert result.exit_code == 1 and "已吊销" in result.output


@pytest.mark.parametrize("content, message", [("not json", "无法读取"), ("{}", "无法读取"),
                                              ('{"proof": {"type": "x"}}', "无法读取")])
def test_junk_files_are_refused_in_chinese(runner, tmp_path, app, content, message):
    path = tmp_path / "junk.json"
    path.write_text(content, encoding="utf-8")
    result = _verify(runner, path)
    assert result.exit_code == 1 and message in result.output
    assert _verify(runner, tmp_path / "missing.json").exit_code == 1


def test_the_pdf_carries_the_signed_credential_as_an_attachment(api, people, runner, tmp_path):
    api.login("w001")
    body = api.get(f"/api/v1/certificates/{people['certificate'].number}.pdf").get_data()
    attachments = PdfReader(io.BytesIO(body)).attachments
    name = f"{people['certificate'].number}.credential.json"
    assert list(attachments) == [name]
    path = tmp_path / name
    path.write_bytes(attachments[name][0])
    result = _verify(runner, path)
    assert result.exit_code == 0 and result.output.startswith("有效")
