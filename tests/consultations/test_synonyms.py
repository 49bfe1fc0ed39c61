"""The checker learns from trainers (consultations): a trainer's accepting override of an answer key_points
returned proposes the worker's words for each point still missed; one click for browser-owned consultations
(a new version, audited), a YAML snippet for file ones."""
from __future__ import annotations

import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.consultations import queries, services
from lms.consultations.content import from_definition
from lms.consultations.rules import evaluate
from lms.consultations.synonyms import propose
from lms.extensions import db
from tests.consultations.factories import MODEL, PENSION
from tests.consultations.test_authoring import form, post
from tests.factories import make_user

#: the model answer with its "20年" point said in the worker's own words ("得交够二十个年头")
OWN_WORDS = MODEL.replace("从2030年起，最低缴费年限每年增加半年，逐步提高到20年", "往后最低要交够二十个年头")


def _returned(tree, item):
    worker = make_user("w-s", "worker", tree["g1"])
    row, _ = services.submit_answer(worker, item, OWN_WORDS)
    db.session.commit()
    assert row.verdict.value == "returned"
    assert [c["rule"] for c in row.checks if not c["passed"]] == ["key_points"]
    return row


def test_proposal_is_the_workers_clause_for_the_missed_point(tree, pension):
    proposals = propose(OWN_WORDS, from_definition(pension.definition))
    assert [p.fact for p in proposals] == ["最低缴费年限从2030年起逐步提高到20年"]
    assert proposals[0].words == "往后最低要交够二十个年头"
    assert "name: 最低缴费年限从2030年起逐步提高到20年" in proposals[0].yaml_snippet()
    assert propose(MODEL, from_definition(pension.definition)) == []


def test_file_consultation_gets_the_yaml_snippet_not_a_button(api, tree, pension):
    row = _returned(tree, pension)
    make_user("tr", "trainer", tree["county"])
    api.login("tr")
    before = api.get(f"/consultation-answers/{row.id}").get_data(as_text=True)
    assert "让自动检查学会这种讲法" not in before  # only after an accepting override
    api.client.post(f"/consultation-answers/{row.id}/review",
                    data={"verdict": "accepted", "score": "90", "comment": "讲对了", "csrf_token": api.csrf})
    page = api.get(f"/consultation-answers/{row.id}").get_data(as_text=True)
    assert "让自动检查学会这种讲法" in page and "data-yaml-snippet" in page and "加为同义讲法" not in page
    refused = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                              data={"point": "最低缴费年限从2030年起逐步提高到20年", "words": "二十个年头",
                                    "csrf_token": api.csrf})
    assert refused.status_code == 409 and "来自题库文件" in refused.get_data(as_text=True)


def test_one_click_for_a_browser_consultation_adds_a_version_and_later_answers_pass(api, tree):
    make_user("tr", "trainer", tree["county"])
    api.login("tr")
    post(api, "/consultations/new", form(), action="publish")
    item = queries.list_authored(make_user("tr2", "trainer", tree["county"]))[0]
    own = OWN_WORDS
    worker = make_user("w-s", "worker", tree["g1"])
    row, _ = services.submit_answer(worker, item, own)
    db.session.commit()
    assert row.verdict.value == "returned"
    api.client.post(f"/consultation-answers/{row.id}/review",
                    data={"verdict": "accepted", "score": "90", "comment": "", "csrf_token": api.csrf})
    page = api.get(f"/consultation-answers/{row.id}").get_data(as_text=True)
    assert "加为同义讲法" in page and 'name="point" value="最低缴费年限逐步提高到20年"' in page
    bad = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                          data={"point": "最低缴费年限逐步提高到20年", "words": "", "csrf_token": api.csrf})
    assert bad.status_code == 422 and "请填写要加入的说法" in bad.get_data(as_text=True)
    unknown = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                              data={"point": "没有这条", "words": "二十个年头", "csrf_token": api.csrf})
    assert unknown.status_code == 422 and "没有“没有这条”这个要点" in unknown.get_data(as_text=True)
    version = item.version
    ok = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                         data={"point": "最低缴费年限逐步提高到20年", "words": "二十个年头", "csrf_token": api.csrf})
    assert ok.status_code == 302
    db.session.refresh(item)
    assert item.version == version + 1 and "二十个年头" in item.definition["points"][0]["any"]
    assert evaluate(own, from_definition(item.definition)).verdict == "accepted"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "consultation.add_synonym")).one()
    assert entry.details["words"] == "二十个年头" and entry.details["answer"] == row.id
    again = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                            data={"point": "最低缴费年限逐步提高到20年", "words": "二十个年头", "csrf_token": api.csrf})
    assert again.status_code in (200, 422)  # the point is no longer missed, or the words are already there


def test_a_village_trainer_cannot_add_words_to_a_county_consultation(api, tree):
    make_user("tr", "trainer", tree["county"])
    api.login("tr")
    post(api, "/consultations/new", form(), action="publish")
    item = queries.list_authored(make_user("tr2", "trainer", tree["county"]))[0]
    worker = make_user("w-s", "worker", tree["g1"])
    row, _ = services.submit_answer(worker, item, OWN_WORDS)
    db.session.commit()
    make_user("vt", "trainer", tree["v1"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("vt")
    response = api.client.post(f"/consultation-answers/{row.id}/synonyms",
                               data={"point": "最低缴费年限逐步提高到20年", "words": "二十个年头",
                                     "csrf_token": api.csrf})
    assert response.status_code == 403
