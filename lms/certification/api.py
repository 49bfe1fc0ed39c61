"""JSON routes: certificate lists, issue/renew/revoke, PDF, progress, public verification."""
from __future__ import annotations

import json

from flask import Response, jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, can, has_permission
from lms.accounts.queries import get_user
from lms.api import bp, document, json_body, page_args
from lms.certification import codes, present, queries, services
from lms.certification.pdf import render_certificate_pdf
from lms.db import write_intent
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.web import client_addr

P = Permission

_PROGRAM = {"type": "object", "properties": {"code": {"type": "string"}, "title": {"type": "string"}}}
CERTIFICATE_SCHEMA = {"type": "object", "properties": {
    "number": {"type": "string"}, "program": _PROGRAM,
    "holder": {"type": "object", "properties": {"username": {"type": "string"}, "name": {"type": "string"}}},
    "status": {"enum": ["valid", "expired", "revoked"]}, "issued": {"type": "string", "format": "date"},
    "expires": {"type": "string", "format": "date"}, "verify_code": {"type": "string"},
    "verify_url": {"type": "string"}, "renewal_of": {"type": ["string", "null"]}}}
_LIST_SCHEMA = {"type": "object", "properties": {
    "certificates": {"type": "array", "items": CERTIFICATE_SCHEMA}, "next": {"type": ["integer", "null"]}}}
_QUERY = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
          for n, d in (("org", "组织编码（子树）"), ("program", "认证项目编码"), ("status", "valid | expired | revoked"),
                       ("expiring", "30 | 60 | 90：只列出这么多天内到期的有效证书"),
                       ("page", "页码"), ("per_page", "每页条数，最多 500"))]
_REASON = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 500}}}
_PROGRESS_SCHEMA = {"type": "object", "properties": {"programs": {"type": "array", "items": {
    "type": "object", "properties": {
        "code": {"type": "string"}, "title": {"type": "string"}, "star": {"type": ["integer", "null"]},
        "held": {"type": "boolean"}, "met": {"type": "boolean"},
        "certificate": {"type": ["object", "null"]},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "key": {"type": "string"}, "label": {"type": "string"},
            "met": {"type": "boolean"}}}},
        "missing": {"type": "array", "items": {"type": "string"}}}}}}}
_VERIFY_SCHEMA = {"type": "object", "properties": {
    "number": {"type": "string"}, "program": _PROGRAM, "holder": {"type": "string", "description": "脱敏姓名，如 张*明"},
    "issued": {"type": "string"}, "expires": {"type": "string"}, "status": {"enum": ["valid", "expired", "revoked"]}}}


def _certificate_or_404(number: str):
    certificate = queries.get_certificate(number[:48])
    if certificate is None:
        raise NotFound(f"证书 {number[:48]} 不存在")
    return certificate


@bp.get("/certificates")
@document("/certificates", "GET", summary="证书列表（人事按管辖范围；网格员看自己的）", who="hr in scope; a worker sees own",
          response_schema=_LIST_SCHEMA, errors=(400, 403, 404, 422), params=_QUERY)
@login_required
def list_certificates():
    page, per_page = page_args()
    manager = has_permission(current_user, P.MANAGE_CERTIFICATES)
    filters = present.parse_filters(request.args, current_user, P.MANAGE_CERTIFICATES if manager else None,
                                    dates=False)
    expiring = present.parse_expiring(request.args)
    today = queries.local_today()
    query = queries.filtered(current_user, P.MANAGE_CERTIFICATES, today=today, expiring_within=expiring,
                             holder=None if manager else current_user, **filters.kwargs())
    items, has_next = queries.page_of(query, page, per_page)
    return jsonify({"certificates": [present.certificate_json(c, today) for c in items],
                    "next": page + 1 if has_next else None})


@bp.post("/certificates")
@document("/certificates", "POST", summary="人工发证（须写明理由），记入审计", who="hr in scope",
          request_schema={"type": "object", "required": ["username", "program", "reason"], "properties": {
              "username": {"type": "string"}, "program": {"type": "string"}, "reason": {"type": "string"}}},
          response_schema=CERTIFICATE_SCHEMA, status=201, errors=(400, 403, 404, 409, 422))
@login_required
def issue_certificate():
    data = json_body()
    username, program_code = data.get("username"), data.get("program")
    if not isinstance(username, str) or not username.strip():
        raise ValidationError("请填写工号 username", code="username_required")
    if not isinstance(program_code, str) or not program_code.strip():
        raise ValidationError("请填写认证项目编码 program", code="program_required")
    user = get_user(username.strip()[:64])
    if user is None:
        raise NotFound(f"工号 {username.strip()[:64]} 不存在", code="user_not_found")
    authorize(current_user, P.MANAGE_CERTIFICATES, user)
    program = queries.get_program(program_code.strip()[:32])
    if program is None:
        raise ValidationError(f"认证项目 {program_code.strip()[:32]} 不存在", code="unknown_program")
    certificate = services.issue_manually(current_user, user, program, data.get("reason"),
                                          client_addr=client_addr())
    db.session.commit()
    return jsonify(present.certificate_json(certificate, queries.local_today())), 201


_BATCH_REQUEST = {"type": "object", "required": ["usernames", "program", "reason"], "properties": {
    "usernames": {"type": "array", "items": {"type": "string"}, "maxItems": services.MAX_BATCH},
    "program": {"type": "string"}, "reason": {"type": "string", "maxLength": 500},
    "only_qualified": {"type": "boolean", "description": "true：只发给已满足认证条件的人，其余列入 refused"}}}
_BATCH_SCHEMA = {"type": "object", "properties": {
    "issued": {"type": "array", "items": CERTIFICATE_SCHEMA},
    "refused": {"type": "array", "items": {"type": "object", "properties": {
        "username": {"type": "string"}, "reason": {"type": "string"}}}}}}


def may_issue_to(actor, user) -> bool:
    """HR's scope over the holder (one's own account is refused by the batch itself, with its reason)."""
    return can(actor, P.MANAGE_CERTIFICATES, user.org)


def batch_json(result, today) -> dict:
    return {"issued": [present.certificate_json(c, today) for c in result.issued], "refused": result.refused}


@bp.post("/certificates/batch")
@document("/certificates/batch", "POST", summary="批量发证：逐人发放，不能发的列出原因（不在管辖范围、已持有有效证书、未满足条件、本人等）",
          who="hr in scope", request_schema=_BATCH_REQUEST, response_schema=_BATCH_SCHEMA, errors=(400, 403, 422))
@login_required
def issue_batch():
    authorize(current_user, P.MANAGE_CERTIFICATES)
    data = json_body()
    code = data.get("program")
    if not isinstance(code, str) or not code.strip():
        raise ValidationError("请填写认证项目编码 program", code="program_required")
    program = queries.get_program(code.strip()[:32])
    if program is None:
        raise ValidationError(f"认证项目 {code.strip()[:32]} 不存在", code="unknown_program")
    only = data.get("only_qualified", False)
    if not isinstance(only, bool):
        raise ValidationError("only_qualified 只能是 true 或 false", code="invalid_only_qualified")
    result = services.issue_batch(current_user, data.get("usernames"), program, data.get("reason"),
                                  may_issue=lambda user: may_issue_to(current_user, user), only_qualified=only,
                                  client_addr=client_addr())
    reply = batch_json(result, queries.local_today())
    db.session.commit()
    return jsonify(reply), 200


@bp.post("/certificates/<number>/revoke")
@document("/certificates/<number>/revoke", "POST", summary="撤销证书（须写明理由），记入审计", who="hr in scope",
          request_schema=_REASON, response_schema=CERTIFICATE_SCHEMA, errors=(400, 403, 404, 409, 422))
@login_required
def revoke_certificate(number):
    certificate = _certificate_or_404(number)
    authorize(current_user, P.MANAGE_CERTIFICATES, certificate)
    data = json_body()
    services.revoke_certificate(current_user, certificate, data.get("reason"), client_addr=client_addr())
    db.session.commit()
    return jsonify(present.certificate_json(certificate, queries.local_today()))


@bp.post("/certificates/<number>/renew")
@document("/certificates/<number>/renew", "POST",
          summary="续发证书：新证书接续原证书有效期，原证书保留为历史，记入审计", who="hr in scope",
          request_schema=_REASON, response_schema=CERTIFICATE_SCHEMA, status=201, errors=(400, 403, 404, 409, 422))
@login_required
def renew_certificate(number):
    certificate = _certificate_or_404(number)
    authorize(current_user, P.MANAGE_CERTIFICATES, certificate)
    data = json_body()
    renewed = services.renew_certificate(current_user, certificate, data.get("reason"), client_addr=client_addr())
    db.session.commit()
    return jsonify(present.certificate_json(renewed, queries.local_today())), 201


@bp.get("/certificates/<number>.pdf")
@document("/certificates/<number>.pdf", "GET", summary="证书 PDF（A4，内嵌中文字体，含核验二维码；附件为签名的电子证书 JSON）",
          who="holder, hr in scope", response_schema={"type": "string", "format": "binary"}, errors=(403, 404))
@login_required
def certificate_pdf(number):
    certificate = _certificate_or_404(number)
    if certificate.holder_id != current_user.id and not can(current_user, P.MANAGE_CERTIFICATES, certificate):
        raise Forbidden("只有证书持有人或管辖范围内的人事可以下载此证书")
    signed = json.dumps(present.signed_credential(certificate), ensure_ascii=False, indent=2).encode()
    body = render_certificate_pdf(present.pdf_data(certificate, present.issuing_unit()), credential_json=signed)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certificate.number}.pdf"', "Cache-Control": "no-store"})


@bp.get("/certificates/<number>.credential.json")
@document("/certificates/<number>.credential.json", "GET",
          summary="电子证书：Open Badges 3.0 / W3C 可验证凭证，县里的 Ed25519 密钥签名（DataIntegrityProof，eddsa-jcs-2022）；"
                  "公钥见 /.well-known/lms-issuer.json，可离线用 flask certificates verify 核验",
          who="holder, hr in scope", response_schema={"type": "object"}, errors=(403, 404))
@login_required
def certificate_credential(number):
    certificate = _certificate_or_404(number)
    if certificate.holder_id != current_user.id and not can(current_user, P.MANAGE_CERTIFICATES, certificate):
        raise Forbidden("只有证书持有人或管辖范围内的人事可以下载此电子证书")
    body = present.signed_credential(certificate)
    response = jsonify(body)
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.number}.credential.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/certificates/status-list")
@document("/certificates/status-list", "GET",
          summary="吊销状态列表：W3C Bitstring Status List（BitstringStatusListCredential，县里的密钥签名）；"
                  "电子证书的 credentialStatus 指向这里，核验方联网时读取其中该证书的那一位（1 = 已吊销）",
          who="public", response_schema={"type": "object"}, public=True)
def certificate_status_list():
    response = jsonify(present.status_list_credential())
    response.headers["Cache-Control"] = "public, max-age=300"  # a revocation shows within five minutes
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/certificates/progress")
@document("/certificates/progress", "GET", summary="我的认证进度：每个认证项目逐项列出还差什么", who="any",
          response_schema=_PROGRESS_SCHEMA)
@login_required
def certificate_progress():
    return jsonify({"programs": present.progress(current_user)})


@bp.get("/verify/<code>")
@document("/verify/<code>", "GET", summary="公开核验证书（脱敏姓名，无其他个人信息）；按来源地址限频", who="public",
          response_schema=_VERIFY_SCHEMA, errors=(404, 429), public=True)
def verify_certificate(code):
    count_verify_lookup()
    if not codes.is_verify_code(code):
        raise NotFound("核验码无效：请核对证书上的二维码或核验码")
    certificate = queries.get_by_verify_code(code)
    if certificate is None:
        raise NotFound("未找到该核验码对应的证书")
    return jsonify(present.public_json(certificate, queries.local_today()))


_LOOKUP_PARAMS = [{"name": "number", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 48},
                   "description": "证书编号"},
                  {"name": "name", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 40},
                   "description": "持证人全名（须与证书一致）"}]


@bp.get("/verify")
@document("/verify", "GET", summary="按证书编号＋持证人全名核验（两者都须相符；姓名错误与编号不存在同样答 404）；与 /verify/<code> 共用限频",
          who="public", response_schema=_VERIFY_SCHEMA, errors=(400, 404, 429), public=True, params=_LOOKUP_PARAMS)
def verify_by_number():
    number, name = ((request.args.get(k) or "").strip() for k in ("number", "name"))
    missing = [label for value, label in ((number, "证书编号 number"), (name, "持证人姓名 name")) if not value]
    if missing:
        raise ValidationError("请填写" + "和".join(missing), code="invalid_parameter", status=400)
    count_verify_lookup()
    certificate = queries.find_by_number_and_name(number, name)
    if certificate is None:
        raise NotFound("未找到符合的证书：请核对证书编号和持证人姓名")
    return jsonify(present.public_json(certificate, queries.local_today()))


def count_verify_lookup() -> None:
    """Count this lookup in its own short write transaction, so a 429 holds across app servers."""
    db.session.commit()  # end any read transaction: SQLite must begin the write IMMEDIATE
    with write_intent():
        try:
            services.count_lookup(client_addr())
        finally:
            db.session.commit()
