"""The demo's root-cause tree (物流 › 偏远地区配送延迟 / 分拣中心漏发 / 快递员未派送; 账户 › …; 设备 › …), each leaf
answered by a published solution template. Written through the services; running it again changes nothing."""

from __future__ import annotations

from collections.abc import Mapping

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.knowledge import services as article_services
from pivotdesk.knowledge.models import Article, ArticleStatus, RootCause
from pivotdesk.knowledge.services.rootcause import root_cause_save

# (code, 中文名, English name, [(code, 中文名, English name, template title, template body), …])
TREE: tuple[tuple[str, str, str, tuple[tuple[str, str, str, str, str], ...]], ...] = (
    (
        "logistics",
        "物流",
        "Logistics",
        (
            (
                "logistics-remote-delay",
                "偏远地区配送延迟",
                "Delivery delay in a remote area",
                "偏远地区配送延迟的答复",
                "您好，您的包裹已到达偏远地区的末端网点，该地区配送需额外 2–4 天。我们已联系承运商优先派送，"
                "并为您登记了延误补偿。",
            ),
            (
                "logistics-sorting-missed",
                "分拣中心漏发",
                "Missed at the sorting centre",
                "分拣中心漏发的答复",
                "您好，经核查您的包裹在分拣中心漏扫未发出。我们已要求分拣中心今日补发，并为您升级为加急配送，"
                "新的物流单号会短信通知您。",
            ),
            (
                "logistics-courier-no-delivery",
                "快递员未派送",
                "Courier did not deliver",
                "快递员未派送的答复",
                "您好，您的包裹已到达派送网点但快递员未按时派送。我们已向承运商投诉并要求今日派送，如仍未送达请回复本工单。",
            ),
        ),
    ),
    (
        "account",
        "账户",
        "Account",
        (
            (
                "account-licence-expired",
                "授权失效",
                "Licence no longer valid",
                "软件授权失效的处理",
                "打开设置 → 授权，点击“重新激活”；如提示授权已被占用，请先在旧设备上注销。",
            ),
            (
                "account-wrong-password",
                "密码错误",
                "Wrong password",
                "密码错误与重设",
                "在登录页点击“忘记密码”，按短信验证码重设；连续输错 5 次会锁定 30 分钟。",
            ),
        ),
    ),
    (
        "device",
        "设备",
        "Device",
        (
            (
                "device-firmware-defect",
                "固件缺陷",
                "Firmware defect",
                "固件缺陷：升级固件",
                "该问题由旧版固件缺陷引起。请在 App 的“设备 → 固件升级”中升级到最新版本，升级时保持通电。",
            ),
            (
                "device-hardware-fault",
                "硬件故障",
                "Hardware fault",
                "硬件故障：申请维修",
                "经诊断为硬件故障。请在“我的设备”中申请维修，我们会安排上门取件，保修期内免费。",
            ),
        ),
    ),
)


def seed_root_causes(
    workspace: Workspace, actor: Actor, templates: Mapping[str, Article] | None = None
) -> dict[str, RootCause]:
    """Create the demo's root-cause tree and its solution templates (codes that exist already are left alone);
    the codes by their code. `templates` gives a leaf an existing article as its template (by the leaf's code)
    instead of a new one."""
    templates = templates or {}
    existing = {c.code: c for c in RootCause.objects.filter(workspace=workspace)}
    for code, name_zh, name_en, leaves in TREE:
        if code not in existing:
            existing[code] = root_cause_save(
                actor=actor, workspace=workspace, code=code, name_zh=name_zh, name_en=name_en
            )
        for leaf_code, leaf_zh, leaf_en, title, body in leaves:
            if leaf_code in existing:
                continue
            template = templates.get(leaf_code) or article_services.article_save(
                actor=actor, workspace=workspace, title=title, body=body, status=ArticleStatus.PUBLISHED
            )
            existing[leaf_code] = root_cause_save(
                actor=actor,
                workspace=workspace,
                code=leaf_code,
                name_zh=leaf_zh,
                name_en=leaf_en,
                parent=existing[code],
                template=template,
            )
    return existing
