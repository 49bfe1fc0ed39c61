"""Revocation through a W3C Bitstring Status List: each credential names its bit, the county serves the list."""
from __future__ import annotations

import datetime as dt
import gzip
import base64
import json
import random

import pytest

from lms.accounts.permissions import SYSTEM
from lms.certification import credential
from lms.certification import services as certification
from lms.certification.models import Certificate
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

BASE = "http://lms.test"


@pytest.fixture
def people(tree):
    program = make_program(requires={"drills_accepted": 3})
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    other = make_user("w002", "worker", tree["g2"], name="李四")
    return {"certificate": make_certificate(holder, program, seed=5),
            "second": make_certificate(other, program, seed=6), "program": program}


@pytest.fixture
def fetched(app, client):
    """Fetch through the Flask test client (the verifier's fetch function is injectable); records the URLs."""
    urls = []

    def fetch(url, timeout):
        urls.append(url)
        response = client.get(url.removeprefix(BASE))
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        return response.get_data()

    app.config["CERTIFICATE_STATUS_FETCH"] = fetch
    return urls


def _credential(api, certificate, who="w001"):
    api.login(who)
    return api.get(f"/api/v1/certificates/{certificate.number}.credential.json").get_json()


def _save(tmp_path, body, name="c.json"):
    path = tmp_path / name
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def _own_keys(app):
    keys = credential.KeyRing(app.instance_path).public_keys()
    return lambda method: keys.get(method.rsplit("#", 1)[-1])


def test_each_certificate_gets_its_own_random_bit(people):
    indexes = [people["certificate"].status_index, people["second"].status_index]
    assert None not in indexes and len(set(indexes)) == 2
    assert all(0 <= i < credential.LIST_BITS for i in indexes)


def test_a_taken_bit_is_retried_not_shared(people, tree):
    taken = people["certificate"].status_index

    class Rigged(random.Random):
        picks = [taken, taken + 1 if taken + 1 < credential.LIST_BITS else taken - 1]

        def randrange(self, *args):
            return self.picks.pop(0) if self.picks else super().randrange(*args)

    holder = make_user("w003", "worker", tree["g1"], name="王五")
    third = certification.issue_certificate(None, holder, people["program"], reason="测试", rng=Rigged(1))
    db.session.commit()
    assert third.status_index != taken and Rigged.picks == []  # the taken bit was tried, then another
    assert len({c.status_index for c in db.session.scalars(db.select(Certificate))}) == 3


def test_the_credential_names_its_bit_in_the_revocation_list(api, people):
    status = _credential(api, people["certificate"])["credentialStatus"]
    index = people["certificate"].status_index
    assert status == {"id": f"{BASE}/api/v1/certificates/status-list#{index}", "type": "BitstringStatusListEntry",
                      "statusPurpose": "revocation", "statusListIndex": str(index),
                      "statusListCredential": f"{BASE}/api/v1/certificates/status-list"}


def test_the_status_list_is_public_signed_and_sets_only_revoked_bits(client, people, app):
    certification.revoke_certificate(SYSTEM, people["certificate"], "测试撤销")
    db.session.commit()
    response = client.get("/api/v1/certificates/status-list")  # not logged in
    assert response.status_code == 200 and "max-age" in response.headers["Cache-Control"]
    body = response.get_json()
    assert body["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert body["id"] == f"{BASE}/api/v1/certificates/status-list"
    assert credential.verify(body, _own_keys(app)).verdict == credential.Verdict.valid
    subject = body["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    encoded = subject["encodedList"]
    assert encoded.startswith("u") and "=" not in encoded  # multibase base64url, no padding
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024  # the spec's minimum: 131,072 bits
    revoked, valid = people["certificate"].status_index, people["second"].status_index
    assert credential.bit_is_set(raw, revoked) and not credential.bit_is_set(raw, valid)
    assert sum(bin(byte).count("1") for byte in raw) == 1


def test_bits_are_counted_from_the_left_of_the_first_byte():
    raw = credential.decode_list(credential.encode_list([0, 9], 16 * 8))
    assert raw[:2] == bytes([0b1000_0000, 0b0100_0000])
    with pytest.raises(ValueError):
        credential.encode_list([credential.LIST_BITS], credential.LIST_BITS)
    assert credential.list_bits_for(None) == credential.list_bits_for(credential.LIST_BITS - 1) == credential.LIST_BITS
    assert credential.list_bits_for(credential.LIST_BITS) == 2 * credential.LIST_BITS


def test_a_list_that_inflates_too_far_is_refused():
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(20 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(ValueError):
        credential.decode_list(bomb)
    with pytest.raises(ValueError):
        credential.decode_list("zNotBase64url")


def test_verify_online_reports_a_revoked_certificate_as_revoked(api, people, runner, tmp_path, app, fetched):
    path = _save(tmp_path, _credential(api, people["certificate"]))
    assert runner.invoke(args=["certificates", "verify", str(path), "--online"]).exit_code == 0
    certification.revoke_certificate(SYSTEM, people["certificate"], "测试撤销")
    db.session.commit()
    document = json.loads(path.read_text(encoding="utf-8"))
    # The list alone says so (what an outside verifier without this database sees):
    check = credential.check_revocation(document, _own_keys(app), lambda url: app.config[
        "CERTIFICATE_STATUS_FETCH"](url, 3))
    assert check.state == credential.Revocation.revoked
    result = runner.invoke(args=["certificates", "verify", str(path), "--online"])
    assert result.exit_code == 1 and "已吊销" in result.output
    assert fetched[-1] == f"{BASE}/api/v1/certificates/status-list"
    # The other certificate on the same list is not revoked.
    other = _save(tmp_path, _credential(api, people["second"], who="w002"), "other.json")
    result = runner.invoke(args=["certificates", "verify", str(other)])
    assert result.exit_code == 0 and "未被撤销" in result.output


def test_without_network_the_offline_verdict_stands_and_says_so(api, people, runner, tmp_path, app):
    path = _save(tmp_path, _credential(api, people["certificate"]))

    def down(url, timeout):
        raise OSError("连接超时")

    app.config["CERTIFICATE_STATUS_FETCH"] = down
    result = runner.invoke(args=["certificates", "verify", str(path)])
    assert result.exit_code == 0 and result.output.startswith("有效") and "未能联网检查吊销状态" in result.output
    result = runner.invoke(args=["certificates", "verify", str(path), "--online"])
    assert result.exit_code == 1 and "未能联网检查吊销状态" in result.output
    result = runner.invoke(args=["certificates", "verify", str(path), "--offline"])
    assert result.exit_code == 0 and "--offline" in result.output


def test_the_default_fetch_gives_up_quickly_on_an_unreachable_server(api, people, runner, tmp_path, app):
    body = _credential(api, people["certificate"])
    app.config.pop("CERTIFICATE_STATUS_FETCH", None)
    unsigned = {k: v for k, v in body.items() if k != "proof"}
    # port 9 (discard) on loopback: refused at once, as a server that is down
    unsigned["credentialStatus"] = credential.status_entry("http://127.0.0.1:9/api/v1/certificates/status-list", 1)
    _, key = credential.KeyRing(app.instance_path).current()
    signed = credential.sign(unsigned, key, body["proof"]["verificationMethod"], dt.datetime.now(dt.timezone.utc))
    path = _save(tmp_path, signed)
    result = runner.invoke(args=["certificates", "verify", str(path)])
    assert result.exit_code == 0 and "未能联网检查吊销状态" in result.output


def test_a_list_signed_by_someone_else_is_not_trusted(api, people, runner, tmp_path, app, client):
    path = _save(tmp_path, _credential(api, people["certificate"]))
    forged = client.get("/api/v1/certificates/status-list").get_json()
    forged["credentialSubject"]["encodedList"] = credential.encode_list([people["certificate"].status_index])
    foreign_id, foreign = credential.KeyRing(tmp_path / "elsewhere").current()
    forged = credential.sign({k: v for k, v in forged.items() if k != "proof"}, foreign,
                             f"{BASE}/.well-known/lms-issuer.json#{foreign_id}", dt.datetime.now(dt.timezone.utc))
    app.config["CERTIFICATE_STATUS_FETCH"] = lambda url, timeout: json.dumps(forged).encode()
    result = runner.invoke(args=["certificates", "verify", str(path), "--online"])
    assert result.exit_code == 1 and "未能联网检查吊销状态" in result.output and "签名无法确认" in result.output
    # A changed byte in the list's own JSON breaks its signature too.
    listed = client.get("/api/v1/certificates/status-list").get_json()
    listed["issuer"]["name"] = "冒名单位"
    app.config["CERTIFICATE_STATUS_FETCH"] = lambda url, timeout: json.dumps(listed).encode()
    assert runner.invoke(args=["certificates", "verify", str(path), "--online"]).exit_code == 1


def test_a_changed_byte_in_the_credential_fails_before_any_lookup(api, people, runner, tmp_path, fetched):
    body = _credential(api, people["certificate"])
    body["credentialStatus"]["statusListIndex"] = str(people["second"].status_index)
    result = runner.invoke(args=["certificates", "verify", str(_save(tmp_path, body))])
    assert result.exit_code == 1 and "无效" in result.output and fetched == []


def test_old_key_after_rotation_still_verifies_with_the_list(api, people, runner, tmp_path, fetched):
    path = _save(tmp_path, _credential(api, people["certificate"]))
    assert runner.invoke(args=["certificates", "rotate-key"]).exit_code == 0
    result = runner.invoke(args=["certificates", "verify", str(path), "--online"])
    assert result.exit_code == 0 and "未被撤销" in result.output  # the list is now signed by the new key


def test_a_credential_from_before_status_lists_has_no_entry(app):
    legacy = {"credentialStatus": {"id": "x", "type": "LmsCertificateStatus"}}
    assert credential.check_revocation(legacy, lambda m: None, lambda u: b"").state == credential.Revocation.no_entry


@pytest.fixture
def live(app):
    """The app served over real HTTP on loopback (werkzeug, in a thread): the verifier's default fetch reaches it."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    app.config.pop("CERTIFICATE_STATUS_FETCH", None)
    yield app.config["PUBLIC_URL"]
    server.shutdown()
    thread.join(5)


def test_the_default_fetch_reads_the_list_over_http(api, people, runner, tmp_path, app, live):
    from lms.certification.cli import fetch_url

    body = _credential(api, people["certificate"])
    assert body["credentialStatus"]["statusListCredential"] == f"{live}/api/v1/certificates/status-list"
    path = _save(tmp_path, body)
    db.session.commit()
    result = runner.invoke(args=["certificates", "verify", str(path), "--online"])
    assert result.exit_code == 0 and "已联网核对吊销状态列表：未被撤销" in result.output, result.output
    certification.revoke_certificate(SYSTEM, people["certificate"], "测试撤销")
    db.session.commit()
    check = credential.check_revocation(body, _own_keys(app), fetch_url)
    assert check.state == credential.Revocation.revoked
