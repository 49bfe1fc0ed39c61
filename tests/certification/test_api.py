"""Certificate API and pages: lists, issue/revoke/renew, PDF, progress, public verification, refusals."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms.audit.models import AuditEntry
from lms.certification import services
from lms.certification.models import Certificate, CertificateStatus
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def people(tree):
    sg = make_program("WG-SG", "网格员上岗证", requires={"drills_accepted": 3})
    star = make_program("STAR-1", "一星级网格员", valid_months=12, star=1, position=1,
                        requires={"certificates": ["WG-SG"], "points": 60})
    w1 = make_user("w1", "worker", tree["g1"], name="李小红")
    w2 = make_user("w2", "worker", tree["g2"], name="欧阳明华")
    hr1 = make_user("hr1", "hr", tree["t1"], name="人事一")
    hr_county = make_user("hrc", "hr", tree["county"], name="县人事")
    c1 = make_certificate(w1, sg, seed=1)
    c2 = make_certificate(w2, sg, seed=2)
    return {"sg": sg, "star": star, "w1": w1, "w2": w2, "hr1": hr1, "hrc": hr_county, "c1": c1, "c2": c2}


def test_hr_lists_certificates_in_scope_only(api, people):
    api.login("hr1")
    body = api.get("/api/v1/certificates").get_json()
    assert [c["number"] for c in body["certificates"]] == [people["c1"].number] and body["next"] is None
    item = body["certificates"][0]
    assert item["program"] == {"code": "WG-SG", "title": "网格员上岗证"}
    assert item["holder"] == {"username": "w1", "name": "李小红"} and item["status"] == "valid"
    assert item["verify_url"] == f"http://lms.test/verify/{people['c1'].verify_code}"
    assert item["issued"] == "2026-06-03" and item["expires"] == "2029-06-02"


def test_county_hr_filters_by_org_program_status_and_pages(api, people):
    api.login("hrc")
    assert len(api.get("/api/v1/certificates").get_json()["certificates"]) == 2
    assert [c["holder"]["username"] for c in
            api.get("/api/v1/certificates?org=HX02").get_json()["certificates"]] == ["w2"]
    assert api.get("/api/v1/certificates?program=STAR-1").get_json()["certificates"] == []
    assert api.get("/api/v1/certificates?status=revoked").get_json()["certificates"] == []
    page = api.get("/api/v1/certificates?per_page=1").get_json()
    assert len(page["certificates"]) == 1 and page["next"] == 2


@pytest.mark.parametrize("query, status, code", [
    ("org=NOPE", 404, "not_found"), ("program=NOPE", 422, "unknown_program"), ("status=lost", 422, "invalid_status"),
    ("page=x", 400, "bad_request"), ("expiring=45", 422, "invalid_window"),
])
def test_list_bad_filters(api, people, query, status, code):
    api.login("hrc")
    response = api.get(f"/api/v1/certificates?{query}")
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_hr_filter_outside_scope_is_refused_not_widened(api, people):
    api.login("hr1")
    assert api.get("/api/v1/certificates?org=HX02").status_code == 403


def test_worker_sees_only_own_certificates(api, people):
    api.login("w2")
    body = api.get("/api/v1/certificates").get_json()
    assert [c["holder"]["username"] for c in body["certificates"]] == ["w2"]


def test_manual_issue_is_audited(api, people):
    api.login("hr1")
    response = api.post("/api/v1/certificates", json={"username": "w1", "program": "STAR-1", "reason": "表彰先进"})
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    assert certificate.issued_by_id == people["hr1"].id and certificate.reason == "表彰先进"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "certificates.issue",
                                                          AuditEntry.target == number))
    assert entry.actor_name == "hr1" and entry.details["reason"] == "表彰先进"


@pytest.mark.parametrize("body, status, code", [
    ({"program": "STAR-1", "reason": "x"}, 422, "username_required"),
    ({"username": "w1", "reason": "x"}, 422, "program_required"),
    ({"username": "w1", "program": "STAR-1"}, 422, "reason_required"),
    ({"username": "w1", "program": "STAR-1", "reason": "x" * 501}, 422, "reason_too_long"),
    ({"username": "nobody", "program": "STAR-1", "reason": "x"}, 404, "user_not_found"),
    ({"username": "w1", "program": "NOPE", "reason": "x"}, 422, "unknown_program"),
    ({"username": "w1", "program": "WG-SG", "reason": "x"}, 409, "already_certified"),
    ({"username": ["w1"], "program": "WG-SG", "reason": "x"}, 422, "username_required"),
])
def test_manual_issue_bad_input(api, people, body, status, code):
    api.login("hr1")
    response = api.post("/api/v1/certificates", json=body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 2


def test_issue_body_must_be_a_json_object(api, people):
    api.login("hr1")
    assert api.post("/api/v1/certificates", data="[]", content_type="application/json").status_code == 400


def test_township_hr_cannot_issue_or_revoke_in_another_township(api, people):
    api.login("hr1")
    assert api.post("/api/v1/certificates", json={"username": "w2", "program": "STAR-1",
                                                  "reason": "x"}).status_code == 403
    number = people["c2"].number
    assert api.post(f"/api/v1/certificates/{number}/revoke", json={"reason": "x"}).status_code == 403
    assert api.post(f"/api/v1/certificates/{number}/renew", json={"reason": "x"}).status_code == 403
    assert api.get(f"/api/v1/certificates/{number}.pdf").status_code == 403
    assert db.session.get(Certificate, people["c2"].id).status == CertificateStatus.valid


def test_worker_cannot_issue_or_revoke(api, people):
    api.login("w1")
    assert api.post("/api/v1/certificates", json={"username": "w1", "program": "STAR-1",
                                                  "reason": "x"}).status_code == 403
    assert api.post(f"/api/v1/certificates/{people['c1'].number}/revoke", json={"reason": "x"}).status_code == 403


def test_revoke_then_revoke_again(api, people):
    api.login("hr1")
    number = people["c1"].number
    assert api.post(f"/api/v1/certificates/{number}/revoke", json={}).status_code == 422
    response = api.post(f"/api/v1/certificates/{number}/revoke", json={"reason": "离岗"})
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
    again = api.post(f"/api/v1/certificates/{number}/revoke", json={"reason": "离岗"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_revoked"
    assert api.post("/api/v1/certificates/NOPE-2026-000001/revoke", json={"reason": "x"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.action == "certificates.revoke")) == 1


def test_renew_through_the_api(api, people):
    api.login("hr1")
    response = api.post(f"/api/v1/certificates/{people['c1'].number}/renew", json={"reason": "复训合格"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["renewal_of"] == people["c1"].number and body["expires"] == "2032-06-02"
    assert api.post(f"/api/v1/certificates/{people['c1'].number}/renew",
                    json={"reason": "x"}).get_json()["error"]["code"] == "already_renewed"


def test_pdf_for_holder_has_number_and_full_name(api, people):
    api.login("w1")
    response = api.get(f"/api/v1/certificates/{people['c1'].number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert people["c1"].number in text and "李小红" in text and "网格员上岗证" in text
    assert "lms.test/verify/" in text
    assert api.get(f"/api/v1/certificates/{people['c2'].number}.pdf").status_code == 403
    assert api.get("/api/v1/certificates/NOPE-2026-000001.pdf").status_code == 404


def test_hr_in_scope_downloads_the_pdf(api, people):
    api.login("hr1")
    assert api.get(f"/api/v1/certificates/{people['c1'].number}.pdf").status_code == 200


def test_progress_lists_missing_items(api, people):
    api.login("w1")
    programs = {p["code"]: p for p in api.get("/api/v1/certificates/progress").get_json()["programs"]}
    assert programs["WG-SG"]["held"] and programs["WG-SG"]["certificate"]["number"] == people["c1"].number
    star = programs["STAR-1"]
    assert not star["met"] and star["missing"] == ["积分达到 60 分"]
    assert [i["met"] for i in star["items"]] == [True, False]


def test_progress_and_my_page(client, api, people):
    api.login("w1")
    page = client.get("/certificates")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and people["c1"].number in text and "积分达到 60 分" in text


def test_verify_json_shape_and_masking(client, people):
    response = client.get(f"/api/v1/verify/{people['c2'].verify_code}")
    assert response.status_code == 200
    assert response.get_json() == {"number": people["c2"].number,
                                   "program": {"code": "WG-SG", "title": "网格员上岗证"},
                                   "holder": "欧**华", "issued": "2026-06-03", "expires": "2029-06-02",
                                   "status": "valid"}


def test_verify_shows_revoked_status(client, api, people):
    api.login("hr1")
    api.post(f"/api/v1/certificates/{people['c1'].number}/revoke", json={"reason": "离岗"})
    body = client.get(f"/api/v1/verify/{people['c1'].verify_code}").get_json()
    assert body["status"] == "revoked" and body["holder"] == "李*红"


@pytest.mark.parametrize("code", ["Zz" * 11, "short", "x" * 65, "bad-code!!!!!!!!!!!!", "a" * 2000])
def test_verify_unknown_garbage_or_overlong_is_404(client, people, code):
    response = client.get(f"/api/v1/verify/{code}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_verify_page_is_public_and_masked(client, people):
    response = client.get(f"/verify/{people['c1'].verify_code}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "李*红" in text and "李小红" not in text and "有效" in text
    assert client.get("/verify/nothing-here").status_code == 404


def test_verify_is_rate_limited_per_client_address(app, client, people):
    app.config["VERIFY_RATE_LIMIT"] = 5
    code = people["c1"].verify_code
    for i in range(5):
        url = f"/api/v1/verify/{code}" if i % 2 else f"/verify/{code}"  # page and JSON share the counter
        assert client.get(url, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200
    blocked = client.get(f"/api/v1/verify/{code}", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert blocked.status_code == 429 and blocked.get_json()["error"]["code"] == "too_many_requests"
    assert client.get(f"/verify/{code}", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 429
    assert client.get(f"/api/v1/verify/{code}", environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code == 200


def test_default_limit_is_30_lookups(client, people):
    for _ in range(30):
        client.get("/api/v1/verify/unknowncode000000000000", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert client.get("/api/v1/verify/unknowncode000000000000",
                      environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429


def test_routes_need_login(client, people):
    assert client.get("/api/v1/certificates").status_code == 401
    assert client.get("/api/v1/certificates/progress").status_code == 401
    assert client.get(f"/api/v1/certificates/{people['c1'].number}.pdf").status_code == 401


def test_me_reports_star_level(api, people):
    make_certificate(people["w1"], people["star"])
    api.login("w1")
    assert api.get("/api/v1/me").get_json()["star"] == 1


def test_expiring_window_lists_certificates_ending_soon(api, people):
    # Issued 340 days ago with 12 months' validity: about 25 days left.
    services.issue_certificate(None, people["w1"], people["star"], reason="x",
                               now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=340))
    db.session.commit()
    api.login("hr1")
    soon = api.get("/api/v1/certificates?expiring=30").get_json()["certificates"]
    assert [c["program"]["code"] for c in soon] == ["STAR-1"]
    assert len(api.get("/api/v1/certificates?expiring=90").get_json()["certificates"]) == 1
