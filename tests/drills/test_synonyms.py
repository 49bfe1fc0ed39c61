"""The checker learns from trainers: an accepting override proposes the worker's words for the missed fact."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml

from lms.audit.models import AuditEntry
from lms.drills import queries
from lms.drills.content import Fact
from lms.drills.definition import from_definition
from lms.drills.rules import evaluate
from lms.drills.synonyms import check_synonym, propose, words_for
from lms.extensions import db
from tests.drills.factories import NOISE, model_report
from tests.factories import make_user

URL = f"/api/v1/drills/{NOISE}/reports"
FACT = "已连续多日"


def _said_differently() -> dict:
    """The model report with "已连续3天" said as a worker might: the key_facts rule misses it."""
    report = model_report()
    report["description"] = report["description"].replace("该工地夜间施工已连续3天", "这个工地这几天晚上天天干")
    assert "连续3天" not in report["description"]
    return report


def _post_form(api, url, data):
    return api.client.post(url, data=data | {"csrf_token": api.csrf})


@pytest.fixture
def trainer(tree, noise):
    return make_user("tr-syn", "trainer", tree["county"], name="陈晓燕")


@pytest.fixture
def overridden(api, worker, trainer, noise):
    """A report key_facts returned, accepted by the trainer; the trainer is logged in."""
    api.login("w-qs")
    result = api.post(URL, json=_said_differently()).get_json()
    assert result["verdict"] == "returned"
    assert [c["rule"] for c in result["checks"] if not c["passed"]] == ["key_facts"]
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("tr-syn")
    api.post(f"/api/v1/drill-reports/{result['id']}/review", json={"verdict": "accepted", "score": 90})
    return result["id"]


def _browser_owned(code: str = NOISE) -> None:
    queries.get_drill(code).is_detached = True  # a file drill since edited in the browser
    db.session.commit()


# -- pure

def test_the_proposal_is_the_workers_clause_most_like_the_fact(noise):
    drill = from_definition(noise.definition, NOISE)
    [proposal] = propose(_said_differently(), drill)
    assert proposal.fact == FACT and "天天干" in proposal.words and len(proposal.words) <= 12
    assert "连续3天" in proposal.synonyms
    snippet = yaml.safe_load(proposal.yaml_snippet())
    assert snippet == [{"name": FACT, "any": [*proposal.synonyms, proposal.words]}]
    assert propose(model_report(), drill) == []  # nothing missed, nothing proposed


def test_no_resembling_clause_proposes_empty_words_and_odd_reports_do_not_raise():
    fact = Fact("停药约一个月", ("停药", "不吃药"))
    assert words_for(fact, {"description": "今天天气很好。"}) == ""
    assert words_for(fact, {"description": "他妈说药一个月没喂进去，管不了"}) .startswith("他妈说药一个月没喂进去")


@pytest.mark.parametrize("words, reason", [("", "请填写"), ("   ", "请填写"), (None, "请填写"), (["列表"], "请填写"),
                                           ("天天干、连着干", "一次只加一个说法"), ("第一行\n第二行", "一次只加一个说法"),
                                           ("长" * 41, "最多 40 个字")])
def test_bad_synonyms_are_refused_with_a_chinese_reason(words, reason):
    with pytest.raises(ValueError, match=reason):
        check_synonym(words)


# -- pages

def test_a_file_drill_offers_a_yaml_snippet_not_a_button(api, overridden):
    page = api.get(f"/drill-reports/{overridden}").get_data(as_text=True)
    assert "data-synonyms" in page and f'data-proposal="{FACT}"' in page
    assert "data-yaml-snippet" in page and "加为同义说法" not in page
    response = _post_form(api, f"/drill-reports/{overridden}/synonyms", {"fact": FACT, "words": "天天干"})
    assert response.status_code == 409 and "来自题库文件" in response.get_data(as_text=True)
    assert queries.get_drill(NOISE).version == 1


def test_one_click_adds_the_words_as_a_new_version_audited_and_later_reports_pass(api, overridden):
    _browser_owned()
    page = api.get(f"/drill-reports/{overridden}").get_data(as_text=True)
    assert "加为同义说法" in page and 'name="words" value="' in page
    response = _post_form(api, f"/drill-reports/{overridden}/synonyms", {"fact": FACT, "words": " 天天干 "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/drill-reports/{overridden}#synonyms")
    drill = queries.get_drill(NOISE)
    assert drill.version == 2 and "天天干" in next(f["any"] for f in drill.definition["facts"] if f["name"] == FACT)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "drill.add_synonym"))
    assert entry is not None and entry.details["words"] == "天天干" and entry.details["report"] == overridden
    # the fact is now found: the proposal is gone, and the same words pass from now on
    assert "data-synonyms" not in api.get(f"/drill-reports/{overridden}").get_data(as_text=True)
    assert evaluate(_said_differently(), from_definition(drill.definition, NOISE)).verdict == "accepted"
    # adding it again says so, changes nothing
    again = _post_form(api, f"/drill-reports/{overridden}/synonyms", {"fact": FACT, "words": "天天干"})
    assert again.status_code == 422 and "“天天干”已经是“已连续多日”的说法了" in again.get_data(as_text=True)
    assert queries.get_drill(NOISE).version == 2


@pytest.mark.parametrize("form, status, message", [
    ({"fact": FACT, "words": ""}, 422, "请填写要加入的说法"),
    ({"fact": FACT, "words": "天天干、连着干"}, 422, "一次只加一个说法"),
    ({"fact": "没有这个要点", "words": "天天干"}, 422, "没有“没有这个要点”这个关键事实"),
    ({"fact": FACT, "words": "连续3天"}, 422, "已经是"),
])
def test_bad_one_click_input_is_a_chinese_message_and_nothing_changes(api, overridden, form, status, message):
    _browser_owned()
    response = _post_form(api, f"/drill-reports/{overridden}/synonyms", form)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert queries.get_drill(NOISE).version == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "drill.add_synonym")) == 0


def test_only_a_trainer_in_scope_adds_and_the_worker_never_sees_proposals(api, tree, overridden):
    _browser_owned()
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w-qs")
    assert "data-synonyms" not in api.get(f"/drill-reports/{overridden}").get_data(as_text=True)
    assert _post_form(api, f"/drill-reports/{overridden}/synonyms", {"fact": FACT, "words": "天天干"}).status_code == 403
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("tr-far", "trainer", tree["t2"])
    api.login("tr-far")
    assert _post_form(api, f"/drill-reports/{overridden}/synonyms", {"fact": FACT, "words": "天天干"}).status_code == 403
    assert queries.get_drill(NOISE).version == 1


def test_the_synonym_form_needs_csrf(api, overridden):
    _browser_owned()
    response = api.client.post(f"/drill-reports/{overridden}/synonyms", data={"fact": FACT, "words": "天天干"})
    assert response.status_code in (400, 403)
    assert queries.get_drill(NOISE).version == 1
