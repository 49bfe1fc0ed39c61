"""HTML pages: my certificates and progress, HR's certificate desk, public verification."""
from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.masking import mask_name
from lms.accounts.models import User
from lms.accounts.permissions import Permission, authorize, require, scoped_org
from lms.accounts.queries import get_user
from lms.certification import codes, present, queries, services
from lms.certification.api import count_verify_lookup, may_issue_to
from lms.certification.forms import IssueForm, ReasonForm
from lms.certification.models import Certificate
from lms.certification.pdf import render_certificate_pdf
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.web import client_addr, page_number

P = Permission
bp = Blueprint("certification", __name__)
EXPIRY_WINDOWS = present.EXPIRY_WINDOWS


def _row(certificate, today) -> dict:
    return {"number": certificate.number, "program": certificate.program.title,
            "holder": certificate.holder.name, "username": certificate.holder.username,
            "org": certificate.holder.org.name, "status": certificate.status_on(today).value,
            "status_label": present.status_label(certificate, today), "issued": certificate.issued_on,
            "expires": certificate.expires_on, "days_left": (certificate.expires_on - today).days,
            "verify_url": present.verify_url(certificate),
            "pdf_url": url_for("api.certificate_pdf", number=certificate.number),
            "renewal_of": certificate.renewal_of.number if certificate.renewal_of else None,
            "revoked_reason": certificate.revoked_reason}


@bp.get("/certificates")
@login_required
def mine():
    today = queries.local_today()
    rows = [_row(c, today) for c in queries.own_certificates(current_user)]
    return render_template("certification/mine.html", rows=rows, programs=present.progress_page(current_user),
                           star=queries.star_of(current_user, today=today))


@bp.get("/certificates/manage")
@require(P.MANAGE_CERTIFICATES)
def manage():
    filters = present.parse_filters(request.args, current_user, P.MANAGE_CERTIFICATES)
    window = present.parse_expiring(request.args)
    expiring = str(window) if window else ""
    page = page_number()
    today = queries.local_today()
    query = queries.filtered(current_user, P.MANAGE_CERTIFICATES, today=today,
                             expiring_within=int(expiring) if expiring else None, **filters.kwargs())
    order = (Certificate.expires_on, Certificate.id) if expiring else None
    items, has_next = queries.page_of(query, page, 50, order=order)
    counts = {d: db.session.scalar(queries.filtered(current_user, P.MANAGE_CERTIFICATES, today=today,
                                                    expiring_within=d).with_only_columns(
        sa.func.count(Certificate.id))) for d in EXPIRY_WINDOWS}
    programs = queries.list_programs(include_retired=True)
    form = IssueForm()
    form.program.choices = [(p.code, p.title) for p in programs if not p.is_retired]
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    export_args = urlencode({k: v for k, v in args.items() if k != "expiring"})
    return render_template("certification/manage.html", rows=[_row(c, today) for c in items], page=page,
                           has_next=has_next, page_args=lambda n: urlencode({**args, "page": n}), counts=counts,
                           expiring=expiring, args=args, programs=programs, form=form, reason_form=ReasonForm(),
                           export_args=export_args, statuses=present.STATUS_LABELS,
                           issuing_blocked=services.issuing_blocked_reason() is not None)


@bp.post("/certificates/issue")
@require(P.MANAGE_CERTIFICATES)
def issue():
    form = IssueForm()
    form.program.choices = [(p.code, p.title) for p in queries.list_programs()]
    if not form.validate_on_submit():
        raise ValidationError("；".join(e for errors in form.errors.values() for e in errors), code="invalid_form")
    user = get_user(form.username.data.strip())
    if user is None:
        raise NotFound(f"工号 {form.username.data.strip()} 不存在", code="user_not_found")
    authorize(current_user, P.MANAGE_CERTIFICATES, user)
    program = queries.get_program(form.program.data)
    certificate = services.issue_manually(current_user, user, program, form.reason.data, client_addr=client_addr())
    db.session.commit()
    flash(f"已向 {user.name} 发放《{program.title}》证书，编号 {certificate.number}。", "success")
    return redirect(url_for("certification.manage"), 303)


def _reason_action(number: str, action):
    certificate = queries.get_certificate(number[:48])
    if certificate is None:
        raise NotFound(f"证书 {number[:48]} 不存在")
    authorize(current_user, P.MANAGE_CERTIFICATES, certificate)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise ValidationError("；".join(e for errors in form.errors.values() for e in errors), code="invalid_form")
    result = action(current_user, certificate, form.reason.data, client_addr=client_addr())
    db.session.commit()
    return certificate, result


@bp.post("/certificates/<number>/revoke")
@require(P.MANAGE_CERTIFICATES)
def revoke(number):
    certificate, _ = _reason_action(number, services.revoke_certificate)
    flash(f"证书 {certificate.number} 已撤销。", "success")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url)
                    else url_for("certification.manage"), 303)


@bp.post("/certificates/<number>/renew")
@require(P.MANAGE_CERTIFICATES)
def renew(number):
    certificate, renewed = _reason_action(number, services.renew_certificate)
    flash(f"证书 {certificate.number} 已续发，新证书编号 {renewed.number}，有效期至 {renewed.expires_on}。", "success")
    return redirect(url_for("certification.manage"), 303)


def _verify_page(certificate, *, searched: str = "code", number: str = "", name: str = "", code: str = "",
                 error: str = "", status: int | None = None):
    """The public result (masked holder) or a not-found/error message, with the lookup forms."""
    values = {"searched": searched, "number": number[:48], "name": name[:40], "code": code[:40], "error": error}
    if certificate is None:
        return render_template("certification/verify.html", found=False, **values), status or 404
    today = queries.local_today()
    state = certificate.status_on(today)
    return render_template("certification/verify.html", found=True, number_found=certificate.number,
                           program=certificate.program.title, holder=mask_name(certificate.holder.name),
                           issued=certificate.issued_on, expires=certificate.expires_on, status=state.value,
                           status_label=present.STATUS_LABELS[state], **values), status or 200


@bp.get("/.well-known/lms-issuer.json")
def issuer_keys():
    """The county's public signing keys (old ones kept), for checking credentials anywhere."""
    response = jsonify(present.issuer_document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/verify/<code>")
def verify(code):
    count_verify_lookup()  # one counter for the page and the JSON route
    return _verify_page(queries.get_by_verify_code(code))


@bp.get("/verify")
def verify_form():
    """No query: the lookup forms. ?number=&name= (both must match) or ?code= (typed from the paper)."""
    args = {k: (request.args.get(k) or "").strip() for k in ("number", "name", "code")}
    if "code" in request.args:
        if not args["code"]:
            return _verify_page(None, searched="code", error="请填写核验码", status=400)
        count_verify_lookup()
        return _verify_page(queries.get_by_verify_code(args["code"]), searched="code", code=args["code"])
    if "number" not in request.args and "name" not in request.args:
        return render_template("certification/verify.html", found=None, searched="number", number="", name="",
                               code="", error="")
    missing = [label for key, label in (("number", "证书编号"), ("name", "持证人姓名")) if not args[key]]
    if missing:
        return _verify_page(None, searched="number", number=args["number"], name=args["name"],
                            error="请填写" + "和".join(missing), status=400)
    count_verify_lookup()
    return _verify_page(queries.find_by_number_and_name(args["number"], args["name"]), searched="number",
                        number=args["number"], name=args["name"])


# --- batch issue --------------------------------------------------------------------------------------------

def _batch_page(*, program_code: str = "", org_code: str = "", usernames: str = "", reason: str = "",
                only_qualified: bool = True, candidates=None, truncated: bool = False, result=None,
                errors=(), status: int = 200, preview: dict | None = None):
    programs = [p for p in queries.list_programs() if not p.is_retired]
    return render_template("certification/batch.html", programs=programs, program_code=program_code,
                           org_code=org_code, usernames=usernames, reason=reason, only_qualified=only_qualified,
                           candidates=candidates, truncated=truncated, result=result, errors=list(errors),
                           limit=_CANDIDATE_LIMIT, preview=preview), status


# --- preview before issuing: a 样张 PDF of the program's template with the holder's name ---------------------

SAMPLE_HOLDER = "张三"


def _preview(program, usernames) -> dict:
    """What the page shows above the confirm button: the first listed person HR may issue to, else a sample."""
    holder = None
    for name in usernames[:50]:
        user = get_user(name[:64]) if isinstance(name, str) else None
        if user is not None and user.id != current_user.id and may_issue_to(current_user, user):
            holder = user
            break
    args = {"program": program.code, **({"username": holder.username} if holder else {})}
    return {"url": url_for("certification.preview_pdf", **args), "program": program.title,
            "holder": holder.name if holder else f"{SAMPLE_HOLDER}（示例姓名）"}


@bp.get("/certificates/preview.pdf")
@require(P.MANAGE_CERTIFICATES)
def preview_pdf():
    """A 样张 of the program's certificate (template, seal, wording) with the holder's name; nothing is issued."""
    program = queries.get_program((request.args.get("program") or "").strip()[:32])
    if program is None or program.is_retired:
        raise NotFound("认证项目不存在或已停用", code="unknown_program")
    username = (request.args.get("username") or "").strip()[:64]
    name = SAMPLE_HOLDER
    if username:
        user = get_user(username)
        if user is None:
            raise NotFound(f"工号 {username} 不存在", code="user_not_found")
        authorize(current_user, P.MANAGE_CERTIFICATES, user)
        name = user.name
    body = render_certificate_pdf(present.preview_data(program, name, today=queries.local_today()))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": 'inline; filename="preview.pdf"', "Cache-Control": "no-store"})


@bp.post("/certificates/issue/preview")
@require(P.MANAGE_CERTIFICATES)
def issue_preview():
    """Step before 人工发证: the same form's values, checked, with the 样张 and a confirm button."""
    form = IssueForm()
    form.program.choices = [(p.code, p.title) for p in queries.list_programs() if not p.is_retired]
    if not form.validate_on_submit():
        raise ValidationError("；".join(e for errors in form.errors.values() for e in errors), code="invalid_form")
    username = form.username.data.strip()
    user = get_user(username)
    if user is None:
        raise NotFound(f"工号 {username} 不存在", code="user_not_found")
    authorize(current_user, P.MANAGE_CERTIFICATES, user)
    program = queries.get_program(form.program.data)
    return render_template("certification/issue_preview.html", form=form, user=user, program=program,
                           preview=_preview(program, [user.username]),
                           blocked=services.issuing_blocked_reason())


@bp.post("/certificates/batch/preview")
@require(P.MANAGE_CERTIFICATES)
def batch_preview():
    """Step before 批量发证: the list as typed, the 样张 of the program for its first person, then confirm."""
    form = request.form
    values = {"program_code": (form.get("program") or "").strip()[:32], "usernames": (form.get("usernames") or ""),
              "reason": (form.get("reason") or "").strip(), "only_qualified": form.get("only_qualified") == "1",
              "org_code": (form.get("org") or "").strip()[:32]}
    program = queries.get_program(values["program_code"]) if values["program_code"] else None
    if program is None or program.is_retired:
        message = f"认证项目 {values['program_code']} 不存在或已停用" if values["program_code"] else "请选择认证项目"
        return _batch_page(**values, errors=[message], status=422)
    try:
        names = services.split_usernames(values["usernames"])
    except ValidationError as exc:
        return _batch_page(**values, errors=[exc.message], status=422)
    if not names:
        return _batch_page(**values, errors=["请至少填写一个工号"], status=422)
    return _batch_page(**values, preview=_preview(program, names))


_CANDIDATE_LIMIT = 500


def _batch_org(code: str):
    return scoped_org(current_user, P.MANAGE_CERTIFICATES, code)


@bp.get("/certificates/batch")
@require(P.MANAGE_CERTIFICATES)
def batch_form():
    program_code = (request.args.get("program") or "").strip()[:32]
    org = _batch_org(request.args.get("org"))
    candidates, truncated = None, False
    if program_code:
        program = queries.get_program(program_code)
        if program is None or program.is_retired:
            raise ValidationError(f"认证项目 {program_code} 不存在或已停用", code="unknown_program")
        people, truncated = services.qualified_candidates(current_user, P.MANAGE_CERTIFICATES, program, org=org,
                                                          limit=_CANDIDATE_LIMIT)
        candidates = [{"name": u.name, "username": u.username, "org": u.org.name} for u in people]
    usernames = [c["username"] for c in candidates or []]
    return _batch_page(program_code=program_code, org_code=org.code if org else "", candidates=candidates,
                       truncated=truncated, usernames="\n".join(usernames),
                       preview=_preview(program, usernames) if program_code else None)


@bp.post("/certificates/batch")
@require(P.MANAGE_CERTIFICATES)
def batch_issue():
    form = request.form
    values = {"program_code": (form.get("program") or "").strip()[:32], "usernames": (form.get("usernames") or ""),
              "reason": (form.get("reason") or "").strip(), "only_qualified": form.get("only_qualified") == "1",
              "org_code": (form.get("org") or "").strip()[:32]}
    program = queries.get_program(values["program_code"]) if values["program_code"] else None
    try:
        if values["program_code"] and program is None:
            raise ValidationError(f"认证项目 {values['program_code']} 不存在", code="unknown_program")
        result = services.issue_batch(current_user, values["usernames"], program, values["reason"],
                                      may_issue=lambda user: may_issue_to(current_user, user),
                                      only_qualified=values["only_qualified"], client_addr=client_addr())
    except ValidationError as exc:
        db.session.rollback()
        return _batch_page(**values, errors=[exc.message], status=422)
    issued = [{"name": c.holder.name, "username": c.holder.username, "number": c.number,
               "expires": c.expires_on} for c in result.issued]
    names = {u.username: u.name for u in db.session.scalars(
        sa.select(User).where(User.username.in_([r["username"] for r in result.refused])))} if result.refused else {}
    refused = [{**r, "name": names.get(r["username"], "")} for r in result.refused]
    db.session.commit()
    return _batch_page(**{**values, "usernames": ""}, result={"issued": issued, "refused": refused,
                                                             "program": program.title if program else ""})
