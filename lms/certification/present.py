"""Shared by the API, the pages and the exports: filter parsing, JSON shapes, PDF data, progress."""
from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask import current_app, url_for
from werkzeug.routing import BuildError

from lms.accounts.masking import mask_name
from lms.accounts.permissions import Permission, authorize
from lms.api import iso
from lms.certification import codes, credential, queries, rules
from lms.certification.facts import holder_facts
from lms.certification.models import STATUS_LABELS, Certificate, CertificateStatus
from lms.certification.pdf import CertificateData
from lms.db import utcnow
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.org.queries import get_org, get_root


@dataclasses.dataclass(frozen=True)
class Filters:
    org: object = None
    program: object = None
    status: str | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None

    def as_audit(self) -> dict:
        """The filter as plain values for the audit log."""
        return {"org": getattr(self.org, "code", None), "program": getattr(self.program, "code", None),
                "status": self.status, "issued_from": iso(self.issued_from), "issued_to": iso(self.issued_to)}

    def kwargs(self) -> dict:
        return {"org": self.org, "program": self.program, "status": self.status, "issued_from": self.issued_from,
                "issued_to": self.issued_to}


def _date(args, name: str) -> dt.date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10]) if len(raw) <= 10 else dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name} 必须是日期，格式 YYYY-MM-DD，而不是“{raw[:40]}”", code="invalid_date") from None


def parse_filters(args, actor, perm: Permission | None, *, dates: bool = True) -> Filters:
    """org/program/status[/issued_from/issued_to] from query args; an org outside actor's scope is refused (403)."""
    org = None
    code = (args.get("org") or "").strip()
    if code:
        org = get_org(code[:32])
        if org is None:
            raise NotFound(f"组织编码 {code[:32]} 不存在")
        if perm is not None:
            authorize(actor, perm, org)  # refused, never silently narrowed or widened
    program = None
    program_code = (args.get("program") or "").strip()
    if program_code:
        program = queries.get_program(program_code[:32])
        if program is None:
            raise ValidationError(f"认证项目 {program_code[:32]} 不存在", code="unknown_program")
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in CertificateStatus.__members__:
        raise ValidationError("status 只能是 valid（有效）、expired（已过期）或 revoked（已撤销）", code="invalid_status")
    issued_from = _date(args, "issued_from") if dates else None
    issued_to = _date(args, "issued_to") if dates else None
    if issued_from and issued_to and issued_from > issued_to:
        raise ValidationError("issued_from 不能晚于 issued_to", code="invalid_date")
    return Filters(org, program, status, issued_from, issued_to)


EXPIRY_WINDOWS = (30, 60, 90)


def parse_expiring(args) -> int | None:
    """The expiry window in days (30, 60 or 90) or None; 422 for anything else."""
    raw = (args.get("expiring") or "").strip()
    if not raw:
        return None
    if raw not in {str(d) for d in EXPIRY_WINDOWS}:
        raise ValidationError("expiring 只能是 30、60 或 90（天）", code="invalid_window")
    return int(raw)


def verify_url(certificate: Certificate) -> str:
    """Public verification URL on PUBLIC_URL (LMS_PUBLIC_URL)."""
    return codes.public_verify_url(current_app.config["PUBLIC_URL"], certificate.verify_code)


def certificate_json(certificate: Certificate, today: dt.date) -> dict:
    """API.md's certificate item."""
    return {
        "number": certificate.number,
        "program": {"code": certificate.program.code, "title": certificate.program.title},
        "holder": {"username": certificate.holder.username, "name": certificate.holder.name},
        "status": certificate.status_on(today).value,
        "issued": iso(certificate.issued_on),
        "expires": iso(certificate.expires_on),
        "verify_code": certificate.verify_code,
        "verify_url": verify_url(certificate),
        "renewal_of": certificate.renewal_of.number if certificate.renewal_of else None,
    }


def public_json(certificate: Certificate, today: dt.date) -> dict:
    """What anyone may learn from a verification code: nothing personal beyond the masked name."""
    return {
        "number": certificate.number,
        "program": {"code": certificate.program.code, "title": certificate.program.title},
        "holder": mask_name(certificate.holder.name),
        "issued": iso(certificate.issued_on),
        "expires": iso(certificate.expires_on),
        "status": certificate.status_on(today).value,
    }


def status_label(certificate: Certificate, today: dt.date) -> str:
    return STATUS_LABELS[certificate.status_on(today)]


def issuing_unit() -> str:
    """The unit printed on certificates: configurable, else the root unit's centre."""
    configured = current_app.config.get("CERTIFICATE_ISSUER")
    if configured:
        return configured
    root = get_root()
    return f"{root.name}网格化服务管理中心" if root else "网格化服务管理中心"


def template_values(program, issuer: str | None = None) -> dict:
    """The wording a program's certificates print: its template (certificate-templates.yaml), each missing
    key from the LMS_CERTIFICATE_* settings; ``issuer`` is the default issuing unit (issuing_unit())."""
    config = current_app.config
    template = dict(program.template or {}) if program is not None else {}
    defaults = {"issuer": issuer if issuer is not None else issuing_unit(),
                "seal_text": str(config.get("CERTIFICATE_SEAL_TEXT") or "").strip(),
                "signatory": str(config.get("CERTIFICATE_SIGNATORY") or "").strip(),
                "footer": str(config.get("CERTIFICATE_FOOTER") or "").strip(), "wording": ""}
    return {key: template[key] if isinstance(template.get(key), str) else default
            for key, default in defaults.items()}


def pdf_data(certificate: Certificate, issuer: str) -> CertificateData:
    """What the PDF prints: the holder's full name (it is their own certificate), the program's template."""
    values = template_values(certificate.program, issuer)
    return CertificateData(holder_name=certificate.holder.name, program_title=certificate.program.title,
                           number=certificate.number, issued=certificate.issued_on,
                           expires=certificate.expires_on, issuing_unit=values["issuer"],
                           verify_url=verify_url(certificate), star=certificate.program.star,
                           verify_code=codes.normalize_verify_code(certificate.verify_code) or "",
                           seal_text=values["seal_text"], signatory=values["signatory"], footer=values["footer"],
                           wording=values["wording"],
                           font_file=str(current_app.config.get("CERTIFICATE_FONT") or "").strip())


def preview_data(program, holder_name: str, *, today: dt.date) -> CertificateData:
    """A sample page of ``program`` for HR before issuing: the template, the holder, a 样张 number and link."""
    from lms.certification.services import validity_end  # late: services import present's neighbours
    values = template_values(program)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return CertificateData(holder_name=holder_name, program_title=program.title, number="样张（发证时编号）",
                           issued=today, expires=validity_end(today, program.valid_months),
                           issuing_unit=values["issuer"], verify_url=f"{base}/verify", star=program.star,
                           verify_code="样张无核验码", seal_text=values["seal_text"], signatory=values["signatory"],
                           footer=values["footer"], wording=values["wording"], sample=True,
                           font_file=str(current_app.config.get("CERTIFICATE_FONT") or "").strip())


def _titles(table_name: str) -> dict[str, str]:
    """code -> title from another feature's table when it exists (built apart: guarded)."""
    table = db.metadata.tables.get(table_name)
    if table is None or "code" not in table.c or "title" not in table.c:
        return {}
    return {code: title for code, title in db.session.execute(sa.select(table.c.code, table.c.title))}


def progress(user, *, now=None, facts_provider=None) -> list[dict]:
    """Per active program: held or not, met or not, and every requirement with what is still missing."""
    today = queries.local_today(now)
    programs = queries.list_programs()
    if not programs:
        return []
    facts = (facts_provider or holder_facts)(user, today=today)
    course_titles, quiz_titles = _titles("courses"), _titles("quizzes")
    program_titles = {p.code: p.title for p in programs}
    held = {c.program.code: c for c in queries.valid_certificates(user, today=today)}
    result = []
    for program in programs:
        evaluation = rules.evaluate(queries.as_rule_program(program), facts, course_titles=course_titles,
                                    quiz_titles=quiz_titles, program_titles=program_titles)
        certificate = held.get(program.code)
        result.append({
            "code": program.code, "title": program.title, "star": program.star,
            "held": certificate is not None,
            "certificate": ({"number": certificate.number, "expires": iso(certificate.expires_on),
                             # issued by HR by hand (with its reason) rather than because the rules held
                             "manual": certificate.issued_by_id is not None, "reason": certificate.reason}
                            if certificate else None),
            "met": evaluation.met,
            "items": [{"kind": i.kind, "key": i.key, "label": i.label_zh, "required": i.required,
                       "actual": i.actual, "met": i.met} for i in evaluation.items],
            "missing": [i.label_zh for i in evaluation.missing],
        })
    return result


#: requirement kind -> (endpoint, whether it takes the item's code, link text): the thing to do next
_NEXT_STEPS = {
    rules.COURSE: ("courses.course", True, "去学习"),
    rules.QUIZ: ("quizzes.confirm_start", True, "去测验"),
    rules.DRILLS: ("drills.index", False, "去演练"),
    rules.TRAINING_HOURS: ("trainings.index", False, "看培训安排"),
    rules.MENTORING: ("mentoring.confirm_list", False, "去确认活动"),
    rules.POINTS: ("points.history", False, "看积分"),
}


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _current(item: dict) -> str:
    """What the person has now, for a numeric requirement: 「目前 60 分」, 「尚未参加」."""
    actual = item["actual"]
    if isinstance(actual, bool):
        return ""
    if item["kind"] == rules.QUIZ:
        return "尚未参加" if actual is None else f"目前最好 {_number(actual)} 分"
    unit = {rules.TRAINING_HOURS: " 学时", rules.DRILLS: " 次", rules.MENTORING: " 次", rules.POINTS: " 分"}
    return "" if actual is None else f"目前 {_number(actual)}{unit.get(item['kind'], '')}"


def _next_step(item: dict, anchors: dict[str, str]) -> dict | None:
    if item["met"]:
        return None
    if item["kind"] == rules.CERTIFICATE:
        anchor = anchors.get(item["key"])
        return {"url": f"#{anchor}", "label": "看该项目"} if anchor else None
    endpoint, with_code, label = _NEXT_STEPS.get(item["kind"], (None, False, ""))
    if endpoint is None:
        return None
    try:
        url = url_for(endpoint, code=item["key"]) if with_code else url_for(endpoint)
    except BuildError:  # a feature switched off in this deployment: no link rather than a broken page
        return None
    return {"url": url, "label": label}


def progress_page(user, *, now=None) -> list[dict]:
    """progress() for 我的证书: per program a status line; per requirement ✓/✗, what is current and a link to
    the thing to do next. A certificate HR issued by hand says so instead of 已持有 above unmet rules."""
    programs = progress(user, now=now)
    anchors = {p["code"]: f"prog-{i}" for i, p in enumerate(programs, start=1)}
    for program in programs:
        program["anchor"] = anchors[program["code"]]
        certificate = program["certificate"]
        if certificate and certificate["manual"]:
            program["state"], program["state_label"] = "manual", f"已由人工发放：{certificate['reason']}"
        elif certificate:
            program["state"], program["state_label"] = "held", f"已持有，有效期至 {certificate['expires']}"
        elif program["met"]:
            program["state"], program["state_label"] = "met", "条件已满足，即将发证"
        else:
            program["state"], program["state_label"] = "missing", f"还差 {len(program['missing'])} 项"
        program["rows"] = [{"met": item["met"], "mark": "✓ 已达" if item["met"] else "✗ 未达",
                            "label": item["label"], "current": _current(item), "next": _next_step(item, anchors)}
                           for item in program["items"]]
        program["met_count"] = sum(1 for item in program["items"] if item["met"])
    return programs


def keyring() -> credential.KeyRing:
    """The county's signing keys in the instance folder."""
    return credential.KeyRing(current_app.instance_path)


def credential_data(certificate: Certificate) -> credential.CredentialData:
    """What the signed credential states: holder's full name (it is theirs to show), no ID card or phone."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    criteria = rules.evaluate(queries.as_rule_program(certificate.program), rules.HolderFacts(),
                              course_titles=_titles("courses"), quiz_titles=_titles("quizzes"),
                              program_titles={p.code: p.title for p in queries.list_programs(include_retired=True)})
    return credential.CredentialData(
        base_url=base, number=certificate.number, verify_url=verify_url(certificate),
        status_list_url=status_list_url(), status_index=certificate.status_index,
        holder_name=certificate.holder.name,
        program_code=certificate.program.code, program_title=certificate.program.title,
        criteria=tuple(item.label_zh for item in criteria.items),
        issuer_name=template_values(certificate.program)["issuer"],
        issued=certificate.issued_on, expires=certificate.expires_on)


def signed_credential(certificate: Certificate) -> dict:
    """The certificate as an OpenBadgeCredential signed with the county's current key (created on first use)."""
    data = credential_data(certificate)
    key_id, key = keyring().current()
    method = f"{credential.issuer_id(data.base_url)}#{key_id}"
    return credential.sign(credential.build_credential(data), key, method, certificate.created_at)


#: where the county's revocation list is served (API.md addition)
STATUS_LIST_PATH = "/api/v1/certificates/status-list"


def status_list_url() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + STATUS_LIST_PATH


def status_list_credential(now=None) -> dict:
    """The signed revocation list: a bit set for every revoked certificate (expired ones expire by validUntil)."""
    revoked = list(db.session.scalars(sa.select(Certificate.status_index).where(
        Certificate.status == CertificateStatus.revoked, Certificate.status_index.is_not(None))))
    highest = db.session.scalar(sa.select(sa.func.max(Certificate.status_index)))
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    now = now or utcnow()
    document = credential.build_status_list(base, status_list_url(), issuing_unit(), revoked,
                                            credential.list_bits_for(highest), now)
    key_id, key = keyring().current()
    return credential.sign(document, key, f"{credential.issuer_id(base)}#{key_id}", now)


def issuer_document() -> dict:
    """The published key document (/.well-known/lms-issuer.json): every key, current first."""
    ring = keyring()
    ring.current()  # publish a key from the start, so the first credential's key is already listed
    return credential.key_document(current_app.config["PUBLIC_URL"], issuing_unit(), ring.public_keys(),
                                   ring.current_id())
