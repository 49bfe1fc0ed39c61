"""The sentence of every action the application records (see lms/audit/render.py for how to add one).

Details are read with .get: entries written by older code lack newer keys, and some actions are still being
built (user.*, users.import, org.update, progress.remind, quiz.grant, certificate.batch, record.export).
"""
from __future__ import annotations

from lms.audit.render import STATUS_WORDS, label, sentence


def _target_user(e, n) -> str:
    """The person an account action is about: details' username (newer entries) or the target."""
    username = e.d.get("username") or e.target
    return n.user(username) if username else "某人"


def _counts(e, n, keys=(("created", "新增"), ("new", "新增"), ("updated", "更新"), ("unchanged", "未变"),
                        ("disabled", "停用"), ("retired", "停用"), ("errors", "有误"), ("warnings", "跳过"))) -> str:
    parts = [f"{word} {n.count(e.d.get(key))}" for key, word in keys if key in e.d]
    return "，".join(parts)


# --- sign-in -------------------------------------------------------------------------------------------------

@sentence("auth.login", "登录", group="登录")
def _login(e, n):
    return f"{n.actor(e)} 登录了系统"


@sentence("auth.logout", "退出", group="登录")
def _logout(e, n):
    return f"{n.actor(e)} 退出了登录"


@sentence("auth.login_failed", "登录失败", group="登录")
def _login_failed(e, n):
    if e.actor_id is None:
        return f"有人以工号“{e.target or e.actor_name}”登录失败（没有这个工号）"
    return f"{n.actor(e)} 登录失败：密码不正确"


@sentence("auth.lockout", "锁定", group="登录")
def _lockout(e, n):
    who = n.actor(e) if e.actor_id is not None else f"工号“{e.target or e.actor_name}”"
    return f"{who} 连续输错密码，暂时锁定"


@sentence("auth.login_refused", "停用账号尝试登录", group="登录")
def _login_refused(e, n):
    return f"{n.actor(e)} 的账号已停用，登录被拒绝"


@sentence("accounts.change_password", "修改密码", group="登录")
def _change_password(e, n):
    return f"{n.actor(e)} 修改了自己的密码"


@sentence("tokens.create", "创建令牌", group="登录")
def _token(e, n):
    return f"{n.actor(e)} 为 {n.user(e.target)} 创建了接口令牌（Bearer）"


@sentence("tokens.revoke", "撤销令牌", group="登录")
def _token_revoke(e, n):
    return f"{n.actor(e)} 撤销了 {n.user(e.target)} 的一个接口令牌（编号 {n.count(e.d.get('token'))}）"


# --- accounts ------------------------------------------------------------------------------------------------

def _create(e, n):
    org = e.d.get("org")
    where = n.org(org) if org and org.isascii() else (org or n.org_path(e.org_path))
    return f"{n.actor(e)} 新建了 {where} 的账号 {_target_user(e, n)}"


sentence("accounts.create", "创建账号", group="账号")(_create)
sentence("user.create", "创建账号", group="账号")(_create)


@sentence("accounts.update", "修改账号信息", group="账号")
@sentence("user.update", "修改账号信息", group="账号")
def _update(e, n):
    fields = e.d.get("fields") or e.d.get("changed") or []
    what = "、".join(str(f) for f in fields if not str(f).isascii()) if isinstance(fields, list) else ""
    return f"{n.actor(e)} 修改了 {_target_user(e, n)} 的账号信息" + (f"（{what}）" if what else "")


def _roles(e, n):
    def grants(values):
        values = values if isinstance(values, list) else []
        return n.grants([v for v in values if "@" in str(v)]) if any("@" in str(v) for v in values) \
            else "、".join(str(v) for v in values)
    added, removed = grants(e.d.get("added")), grants(e.d.get("removed"))
    parts = ([f"授予 {added}"] if added else []) + ([f"撤销 {removed}"] if removed else [])
    return f"{n.actor(e)} 调整了 {_target_user(e, n)} 的角色：" + ("；".join(parts) or "无变化")


sentence("roles.change", "角色变更", group="账号")(_roles)
sentence("user.roles", "角色变更", group="账号")(_roles)


def _disable(e, n):
    return f"{n.actor(e)} 停用了 {_target_user(e, n)} 的账号"


def _enable(e, n):
    return f"{n.actor(e)} 重新启用了 {_target_user(e, n)} 的账号"


sentence("accounts.disable", "停用账号", group="账号")(_disable)
sentence("user.disable", "停用账号", group="账号")(_disable)
sentence("accounts.enable", "启用账号", group="账号")(_enable)
sentence("user.enable", "启用账号", group="账号")(_enable)


@sentence("accounts.reset_password", "重置密码", group="账号")
def _reset(e, n):
    return f"{n.actor(e)} 重置了 {_target_user(e, n)} 的密码"


def _import(e, n):
    counts = _counts(e, n)
    return f"{n.actor(e)} 导入了人员名单“{e.d.get('file') or e.target or '名单'}”" + (f"：{counts}" if counts else "")


sentence("accounts.import", "导入人员", group="账号")(_import)
sentence("users.import", "导入人员", group="账号")(_import)


@sentence("pii.view", "查看个人信息", group="账号")
def _pii(e, n):
    usernames = e.d.get("usernames") if isinstance(e.d.get("usernames"), list) else []
    who = n.users(usernames, limit=3) if usernames else (e.target or "若干人")
    return f"{n.actor(e)} 查看了 {who} 的完整身份证号和手机号"


# --- org tree ------------------------------------------------------------------------------------------------

@sentence("org.import", "导入组织", group="组织")
def _org_import(e, n):
    counts = _counts(e, n)
    return f"{n.actor(e)} 导入了组织架构文件“{e.target or e.d.get('file') or '文件'}”" + (f"：{counts}" if counts else "")


@sentence("org.update", "修改组织", group="组织")
def _org_update(e, n):
    name = e.d.get("name") or n.org(e.d.get("code") or e.target)
    parts = []
    if e.d.get("old_name") and e.d.get("old_name") != name:
        parts.append(f"将“{e.d['old_name']}”改名为“{name}”")
    if e.d.get("parent_to") and e.d.get("parent_to") != e.d.get("parent_from"):
        parts.append(f"将“{name}”从“{e.d.get('parent_from') or '（无）'}”移到“{e.d['parent_to']}”之下")
    fields = e.d.get("fields") if isinstance(e.d.get("fields"), list) else []
    labels = "、".join(str(f) for f in fields if not str(f).isascii())
    return f"{n.actor(e)} " + ("，".join(parts) or f"修改了“{name}”" + (f"的{labels}" if labels else ""))


# --- courses -------------------------------------------------------------------------------------------------

@sentence("course.create", "新建课程", group="课程")
def _course_create(e, n):
    return f"{n.actor(e)} 新建了课程{n.course(e.target)}"


@sentence("course.update", "修改课程", group="课程")
def _course_update(e, n):
    return f"{n.actor(e)} 修改了课程{n.course(e.target)}的信息"


@sentence("course.publish", "发布课程", group="课程")
def _course_publish(e, n):
    return f"{n.actor(e)} 发布了课程{n.course(e.target)}"


@sentence("course.unpublish", "撤回课程", group="课程")
def _course_unpublish(e, n):
    return f"{n.actor(e)} 撤回了课程{n.course(e.target)}"


@sentence("course.asset", "上传课程图片", group="课程")
def _course_asset(e, n):
    course, _, name = str(e.target or "").partition("/")
    return f"{n.actor(e)} 给课程{n.course(course)}上传了图片“{name or '图片'}”"


@sentence("lesson.save", "保存课时", group="课程")
def _lesson_save(e, n):
    course = str(e.target or "").partition("/")[0]
    return f"{n.actor(e)} 保存了课程{n.course(course)}的课时{n.lesson(e.target)}"


@sentence("assignment.create", "指派学习", group="课程")
def _assignment(e, n):
    what = f"课程{n.course(e.d['course'])}" if e.d.get("course") else f"测验{n.quiz(e.d.get('quiz'))}"
    whom = f"{n.org(e.d.get('org'))} 的{n.role(e.d.get('role'))}" if e.d.get("org") else n.org_path(e.org_path)
    due = f"，截止 {n.date(e.d.get('due'))}" if e.d.get("due") else ""
    return f"{n.actor(e)} 给 {whom} 指派了{what}{due}"


@sentence("content.import", "导入内容文件", group="课程")
def _content_import(e, n):
    kinds = {"courses": "课程", "lessons": "课时", "banks": "题库", "questions": "试题", "quizzes": "测验",
             "drills": "演练", "taxonomy": "分类表", "programs": "认证项目", "consultations": "政策答询",
             "point_rules": "积分规则"}
    parts = []
    for kind, counts in e.d.items():
        if isinstance(counts, dict) and (kind in kinds or not kind.isascii()):
            changed = (counts.get("new") or 0) + (counts.get("updated") or 0)
            parts.append(f"{kinds.get(kind, kind)} 新增或更新 {changed}")
    errors = e.d.get("errors")
    tail = "，".join(parts) + (f"，有误 {errors} 个文件" if errors else "")
    return f"{n.actor(e)} 导入了课程和题库文件" + (f"：{tail}" if tail else "")


# --- quizzes -------------------------------------------------------------------------------------------------

@sentence("quizzes.import_bank", "导入题库", group="题库与测验")
def _bank_import(e, n):
    counts = _counts(e, n)
    file = f"（文件“{e.d['file']}”）" if e.d.get("file") else ""
    return f"{n.actor(e)} 向题库{n.bank(e.target)}导入了试题{file}" + (f"：{counts}" if counts else "")


@sentence("quizzes.export_bank", "导出题库", group="导出")
def _bank_export(e, n):
    return f"{n.actor(e)} 把题库{n.bank(e.target)}导出为 {n.format(e.d.get('format'))}，共 {n.count(e.d.get('questions'))} 题"


@sentence("quizzes.question_saved", "保存试题", group="题库与测验")
def _question_saved(e, n):
    version = f"（第 {e.d['version']} 版）" if e.d.get("version") else ""
    return f"{n.actor(e)} 保存了题库{n.bank(e.d.get('bank'))}的试题{n.question(e.target)}{version}"


@sentence("quizzes.question_retired", "停用试题", group="题库与测验")
def _question_retired(e, n):
    return f"{n.actor(e)} 停用了试题{n.question(e.target)}"


@sentence("quizzes.question_restored", "恢复试题", group="题库与测验")
def _question_restored(e, n):
    return f"{n.actor(e)} 恢复了试题{n.question(e.target)}"


@sentence("quizzes.quiz_saved", "保存测验", group="题库与测验")
def _quiz_saved(e, n):
    return f"{n.actor(e)} 保存了测验{n.quiz(e.target)}的设置"


@sentence("quizzes.paper_saved", "保存试卷", group="题库与测验")
def _paper_saved(e, n):
    return (f"{n.actor(e)} 保存了固定试卷{n.quiz(e.target)}：{n.count(e.d.get('questions'))} 题，"
            f"共 {n.count(e.d.get('total'))} 分")


@sentence("quizzes.questions_tagged", "批量加标签", group="题库与测验")
def _questions_tagged(e, n):
    return f"{n.actor(e)} 给 {n.count(e.d.get('count'))} 道试题加上了标签“{n.text(e.d.get('tag'))}”"


@sentence("quizzes.questions_untagged", "批量去标签", group="题库与测验")
def _questions_untagged(e, n):
    return f"{n.actor(e)} 从 {n.count(e.d.get('count'))} 道试题去掉了标签“{n.text(e.d.get('tag'))}”"


@sentence("quizzes.questions_moved", "移动试题", group="题库与测验")
def _questions_moved(e, n):
    return f"{n.actor(e)} 把 {n.count(e.d.get('moved'))} 道试题移到了题库{n.bank(e.d.get('to') or e.target)}"


@sentence("quizzes.questions_retired_many", "批量停用试题", group="题库与测验")
def _questions_retired_many(e, n):
    return f"{n.actor(e)} 停用了 {n.count(e.d.get('changed'))} 道试题"


@sentence("quizzes.questions_restored_many", "批量恢复试题", group="题库与测验")
def _questions_restored_many(e, n):
    return f"{n.actor(e)} 恢复了 {n.count(e.d.get('changed'))} 道试题"


@sentence("quizzes.questions_exported", "导出所选试题", group="导出")
def _questions_exported(e, n):
    return f"{n.actor(e)} 把所选的 {n.count(e.d.get('count'))} 道试题导出为 {n.format(e.d.get('format'))}"


@sentence("quizzes.export_results", "导出测验成绩", group="导出")
def _quiz_results(e, n):
    quiz = e.d.get("quiz") or e.target
    return f"{n.actor(e)} 导出了测验{n.quiz(quiz)}的成绩（{n.format(e.d.get('format') or 'xlsx')}，{n.count(e.d.get('rows'))} 行）"


def _grant(e, n):
    shown = e.d.get("user") if isinstance(e.d.get("user"), str) and not e.d["user"].isascii() else None
    who = shown or n.user(e.d.get("username") or (e.target if e.target_type == "user" else None))
    quiz = e.d.get("quiz") or (e.target if e.target_type == "quiz" else None)
    extra = e.d.get("extra_attempts")
    reason = f"，理由：{n.text(e.d.get('reason'))}" if e.d.get("reason") else ""
    return f"{n.actor(e)} 给 {who} 增加了测验{n.quiz(quiz)}的 {n.count(extra)} 次补考机会{reason}"


sentence("quiz.grant", "补考", group="题库与测验")(_grant)
sentence("quizzes.grant_attempts", "补考", group="题库与测验")(_grant)


# --- drills --------------------------------------------------------------------------------------------------

@sentence("drill.create", "新建演练", group="演练")
def _drill_create(e, n):
    return f"{n.actor(e)} 新建了演练{n.drill(e.target)}（草稿）"


@sentence("drill.edit", "修改演练", group="演练")
def _drill_edit(e, n):
    return f"{n.actor(e)} 修改了演练{n.drill(e.target)}（第 {n.count(e.d.get('version'))} 版，未发布）"


@sentence("drill.publish", "发布演练", group="演练")
def _drill_publish(e, n):
    return f"{n.actor(e)} 发布了演练{n.drill(e.target)}（第 {n.count(e.d.get('version'))} 版）"


@sentence("drill.add_synonym", "给演练加同义说法", group="演练")
def _drill_add_synonym(e, n):
    return (f"{n.actor(e)} 把“{n.text(e.d.get('words'))}”加为演练{n.drill(e.target)}中关键事实"
            f"“{n.text(e.d.get('fact'))}”的说法（第 {n.count(e.d.get('version'))} 版）")


@sentence("drill.review", "复核演练报告", group="演练")
def _drill_review(e, n):
    after = e.d.get("after") if isinstance(e.d.get("after"), list) else []
    verdict = STATUS_WORDS.get(str(after[0]), "") if after else ""
    score = f"，{after[1]} 分" if len(after) > 1 and after[1] is not None else ""
    comment = f"，评语：{n.text(e.d.get('comment'))}" if e.d.get("comment") else ""
    result = f"：改判为{verdict}{score}" if verdict else ""
    return f"{n.actor(e)} 复核了 {n.user(e.d.get('worker'))} 在演练{n.drill(e.d.get('drill'))}中的报告{result}{comment}"


# --- consultation drills (政策答询) ------------------------------------------------------------------------------

@sentence("consultation.review", "复核政策答询回答", group="演练")
def _consultation_review(e, n):
    after = e.d.get("after") if isinstance(e.d.get("after"), list) else []
    verdict = STATUS_WORDS.get(str(after[0]), "") if after else ""
    score = f"，{after[1]} 分" if len(after) > 1 and after[1] is not None else ""
    comment = f"，评语：{n.text(e.d.get('comment'))}" if e.d.get("comment") else ""
    result = f"：改判为{verdict}{score}" if verdict else ""
    title = f"《{n.text(e.d.get('title'))}》" if e.d.get("title") else n.text(e.d.get("consultation"))
    return f"{n.actor(e)} 复核了 {n.user(e.d.get('worker'))} 对政策答询{title}的回答{result}{comment}"


def _consultation_title(e, n) -> str:
    return f"《{n.text(e.d.get('title'))}》" if e.d.get("title") else n.text(e.target)


@sentence("consultation.create", "新建政策答询", group="演练")
def _consultation_create(e, n):
    return f"{n.actor(e)} 新建了政策答询{_consultation_title(e, n)}（草稿）"


@sentence("consultation.edit", "修改政策答询", group="演练")
def _consultation_edit(e, n):
    return f"{n.actor(e)} 修改了政策答询{_consultation_title(e, n)}（第 {n.count(e.d.get('version'))} 版，未发布）"


@sentence("consultation.publish", "发布政策答询", group="演练")
def _consultation_publish(e, n):
    return f"{n.actor(e)} 发布了政策答询{_consultation_title(e, n)}（第 {n.count(e.d.get('version'))} 版）"


@sentence("consultation.retire", "停用政策答询", group="演练")
def _consultation_retire(e, n):
    return f"{n.actor(e)} 停用了政策答询{_consultation_title(e, n)}"


@sentence("consultation.add_synonym", "给政策答询加同义讲法", group="演练")
def _consultation_add_synonym(e, n):
    return (f"{n.actor(e)} 把“{n.text(e.d.get('words'))}”加为政策答询{_consultation_title(e, n)}中要点"
            f"“{n.text(e.d.get('point'))}”的讲法（第 {n.count(e.d.get('version'))} 版）")


# --- mentoring -----------------------------------------------------------------------------------------------

@sentence("mentoring.pairing_create", "建立结对", group="老带新")
def _pairing_create(e, n):
    mentees = e.d.get("mentees") if isinstance(e.d.get("mentees"), list) else []
    period = f"（{n.date(e.d.get('start'))}至{n.date(e.d.get('end'))}）" if e.d.get("start") else ""
    return f"{n.actor(e)} 为导师 {n.user(e.d.get('mentor'))} 结对了新网格员 {n.users(mentees)}{period}"


@sentence("mentoring.pairing_end", "结束结对", group="老带新")
def _pairing_end(e, n):
    reason = f"，理由：{n.text(e.d.get('reason'))}" if e.d.get("reason") else ""
    mentees = e.d.get("mentees") if isinstance(e.d.get("mentees"), list) else []
    if e.d.get("mentor"):  # entries since December 2026 name the people; older ones only the pairing's id
        pairing = f"导师 {n.user(e.d['mentor'])}" + (f" 与 {n.users(mentees)}" if mentees else "") + " 的结对"
    else:
        pairing = n.pairing(e.target)
    return f"{n.actor(e)} 提前结束了{pairing}{reason}"


# --- certificates --------------------------------------------------------------------------------------------

def _holder(e, n):
    return n.user(e.d.get("holder"))


@sentence("certificates.issue", "发放证书", group="证书")
def _issue(e, n):
    how = "自动" if e.d.get("automatic") else ""
    reason = f"，理由：{n.text(e.d.get('reason'))}" if e.d.get("reason") and not e.d.get("automatic") else ""
    expires = f"，有效期至 {n.date(e.d.get('expires'))}" if e.d.get("expires") else ""
    return f"{n.actor(e)} {how}给 {_holder(e, n)} 发放了{n.program(e.d.get('program'))}证书 {e.target}{expires}{reason}"


@sentence("certificates.renew", "换发证书", group="证书")
def _renew(e, n):
    expires = f"，有效期至 {n.date(e.d.get('expires'))}" if e.d.get("expires") else ""
    return f"{n.actor(e)} 给 {_holder(e, n)} 换发了{n.program(e.d.get('program'))}证书 {e.target}{expires}"


@sentence("certificates.revoke", "撤销证书", group="证书")
def _revoke(e, n):
    return (f"{n.actor(e)} 撤销了 {_holder(e, n)} 的{n.program(e.d.get('program'))}证书 {e.target}，"
            f"理由：{n.text(e.d.get('reason'))}")


@sentence("certificates.expire", "证书到期", group="证书")
def _expire(e, n):
    return f"{_holder(e, n)} 的{n.program(e.d.get('program'))}证书 {e.target} 已于 {n.date(e.d.get('expired_on'))} 到期"


@sentence("certificate.batch", "批量发证", group="证书")
def _batch(e, n):
    issued, refused = e.d.get("issued"), e.d.get("refused")
    issued = len(issued) if isinstance(issued, list) else issued
    refused = len(refused) if isinstance(refused, list) else refused
    reason = f"，理由：{n.text(e.d.get('reason'))}" if e.d.get("reason") else ""
    return (f"{n.actor(e)} 批量发放{n.program(e.d.get('program'))}证书：发出 {n.count(issued)} 张，"
            f"未发 {n.count(refused or 0)} 人{reason}")


# --- follow-up -----------------------------------------------------------------------------------------------

@sentence("progress.remind", "提醒未完成的人", group="学习跟进")
def _remind(e, n):
    what = e.d.get("对象") or e.target or "学习任务"
    scope = e.d.get("范围") or n.org_path(e.org_path)
    sent = e.d.get("提醒人数", e.d.get("sent"))
    return f"{n.actor(e)} 提醒了 {scope} {n.count(sent)} 位未完成{what}的人"


@sentence("records.download", "下载学时档案", group="导出")
def _record_download(e, n):
    return f"{n.actor(e)} 下载了 {n.user(e.target)} 的学时档案（{n.format(e.d.get('format') or 'pdf')}）"


@sentence("accounts.password_sheet", "下载初始密码表", group="账号")
def _password_sheet(e, n):
    return f"{n.actor(e)} 下载了名单“{e.d.get('file') or e.target or '名单'}”的初始密码表"


@sentence("record.export", "导出学时档案", group="导出")
def _record_export(e, n):
    usernames = e.d.get("usernames") if isinstance(e.d.get("usernames"), list) else []
    who = n.users(usernames, limit=3) if usernames else (n.user(e.d.get("username")) if e.d.get("username")
                                                         else f"{n.count(e.d.get('rows'))} 人")
    return f"{n.actor(e)} 导出了 {who} 的学时档案（{n.format(e.d.get('format') or 'xlsx')}）"


# --- exports -------------------------------------------------------------------------------------------------

def _export(what: str):
    def write(e, n):
        org = e.d.get("org")
        scope = f"{n.org(org)} " if org else ""
        program = n.program(e.d["program"]) if e.d.get("program") else ""
        extra = n.details(e, {"rows": "行数"})
        return f"{n.actor(e)} 导出了 {scope}{program}{what}" + (f"（{extra}）" if extra else "")
    return write


sentence("export.certificates", "导出证书", group="导出")(_export("的证书名单"))
sentence("export.certificates_pdf", "导出证书 PDF", group="导出")(_export("的证书 PDF 压缩包"))
sentence("export.team_gaps", "导出网格队伍缺口", group="导出")(_export("的网格队伍缺口名单"))
sentence("export.trainings", "导出培训统计", group="导出")(_export("的培训统计"))
sentence("export.pairings", "导出结对成效", group="导出")(_export("结对成效"))
sentence("export.drill_stats", "导出演练统计", group="导出")(_export("的演练退回率统计"))
sentence("export.consultation_stats", "导出政策答询统计", group="导出")(_export("的政策答询统计"))
sentence("export.progress", "导出学习进度", group="导出")(_export("学习进度"))
label("export.quiz_results", "导出测验成绩", group="导出")


# --- training paperwork (lms.trainings.paperwork) ---------------------------------------------------------------

def _training(e, n) -> str:
    return f"培训“{n.text(e.d.get('training') or e.target)}”"


@sentence("training.material_add", "添加培训材料", group="线下培训")
def _training_material_add(e, n):
    return f"{n.actor(e)} 为{_training(e, n)}添加了材料“{n.text(e.d.get('title'))}”"


@sentence("training.material_remove", "删除培训材料", group="线下培训")
def _training_material_remove(e, n):
    return f"{n.actor(e)} 删除了{_training(e, n)}的材料“{n.text(e.d.get('title'))}”"


@sentence("training.evaluate", "评价培训", group="线下培训")
def _training_evaluate(e, n):
    return f"{n.actor(e)} 提交了{_training(e, n)}的满意度评价"


@sentence("export.training_sheet", "打印培训签到表", group="导出")
def _training_sheet(e, n):
    return f"{n.actor(e)} 打印了{_training(e, n)}的签到表（{n.count(e.d.get('rows'))} 人）"


@sentence("export.training_attendance", "导出培训出勤", group="导出")
def _training_attendance(e, n):
    if e.d.get("training"):
        return f"{n.actor(e)} 导出了{_training(e, n)}的出勤（{n.count(e.d.get('rows'))} 行）"
    scope = f"{n.org(e.d['org'])} " if e.d.get("org") else ""
    return (f"{n.actor(e)} 导出了 {scope}{e.d.get('from', '')} 至 {e.d.get('to', '')} 的培训出勤"
            f"（{n.count(e.d.get('rows'))} 行）")


# --- field outcomes (the grid platform's events) ---------------------------------------------------------------

@sentence("field.import", "导入现场上报结果", group="现场上报")
def _field_import(e, n):
    counts = _counts(e, n, (("added", "新增"), ("unchanged", "未变"), ("errors", "错误")))
    return f"{n.actor(e)} 导入了现场上报结果“{e.d.get('file') or e.target or '事件导出'}”" + (f"：{counts}" if counts else "")


# --- field: remediation, field points, outcome export (lms.field) ---------------------------------------------

@sentence("field.remediation", "发送补训任务", group="现场上报")
def _field_remediation(e, n):
    period = f"{e.d.get('from', '')}至{e.d.get('to', '')}" if e.d.get("from") else ""
    return (f"{n.actor(e)} 按 {n.org(e.d.get('org') or e.target)} {period}的现场上报结果，向 "
            f"{n.count(e.d.get('people'))} 人发送了补训任务（共 {n.count(e.d.get('items'))} 项，"
            f"{e.d.get('due', '')}截止）")


@sentence("field.points", "按现场上报结果记积分", group="现场上报")
def _field_points(e, n):
    return f"{n.actor(e)} 按现场上报结果记入积分 {n.count(e.d.get('entries'))} 条（涉及 {n.count(e.d.get('people'))} 人）"


sentence("export.field_outcomes", "导出培训成效（现场）", group="导出")(_export("的培训成效（现场上报退回率）"))
