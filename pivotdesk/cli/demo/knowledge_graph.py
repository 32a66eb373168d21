"""A knowledge graph for the demo workspace: a catalogue of the demo's devices, parts, fault codes, symptoms and
solutions (the names `pivotdesk.cli.demo` writes its tickets with, in Chinese and English), then every ticket and
article indexed and the edges rebuilt. Not wired into `pivotdesk demo`; call `seed_graph(workspace)` after seeding.

A model is catalogued without the demo's full device string ("PD-100 扫码枪 Scanner") as an alias: the longest
name found claims its text, so the product in it would never be found.

The demo's names are repeated here rather than imported: `knowledge` sits below `cli` and may not import it.
"""

from __future__ import annotations

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.knowledge.models import EntityKind
from pivotdesk.knowledge.services import graph

SYSTEM = Actor.system("knowledge graph")

# (kind, label, other spellings)
CATALOGUE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (EntityKind.PRODUCT, "扫码枪", ("Scanner", "barcode scanner")),
    (EntityKind.PRODUCT, "收银机", ("POS", "cash register")),
    (EntityKind.PRODUCT, "自助终端", ("Kiosk",)),
    (EntityKind.PRODUCT, "路由器", ("Router",)),
    (EntityKind.MODEL, "PD-100", ()),
    (EntityKind.MODEL, "PD-200", ()),
    (EntityKind.MODEL, "PD-300", ()),
    (EntityKind.MODEL, "PD-X1", ()),
    (EntityKind.COMPONENT, "4G 模块", ("4G module",)),
    (EntityKind.COMPONENT, "网络模块", ("network module",)),
    (EntityKind.COMPONENT, "触摸屏", ("touchscreen",)),
    (EntityKind.PART, "主板", ("mainboard",)),
    (EntityKind.PART, "电池", ("battery",)),
    (EntityKind.PART, "小票打印机", ("receipt printer",)),
    (EntityKind.FAULT_CODE, "E-1043", ()),
    (EntityKind.FAULT_CODE, "E-2210", ()),
    (EntityKind.FAULT_CODE, "NET-504", ()),
    (EntityKind.FAULT_CODE, "PWR-07", ()),
    (EntityKind.FAULT_CODE, "SCN-12", ()),
    (EntityKind.FAULT_CODE, "DB-3001", ()),
    (EntityKind.FAULT_CODE, "HTTP-502", ()),
    (EntityKind.FAULT_CODE, "TMO-15", ()),
    (EntityKind.SYMPTOM, "离线", ("offline",)),
    (EntityKind.SYMPTOM, "打印空白", ("打出来是空白纸", "prints blank receipts", "blank receipts")),
    (EntityKind.SYMPTOM, "扫码变慢", ("scanning is much slower", "scanning is slow")),
    (EntityKind.SYMPTOM, "触摸屏失灵", ("点不动", "doesn't respond", "touchscreen unresponsive")),
    (EntityKind.SOLUTION, "强制重启", ("长按电源键", "force a restart", "hold the power button")),
    (EntityKind.SOLUTION, "导出诊断日志", ("export the diagnostic log",)),
    (EntityKind.SOLUTION, "更换主板", ("主板已更换", "mainboard was replaced", "replace the mainboard")),
    (EntityKind.SOLUTION, "发布补丁", ("补丁已发布", "the patch is out")),
)


def seed_graph(workspace: Workspace) -> int:
    """Enter the demo catalogue (as the system), index the workspace's tickets and articles, rebuild the edges;
    returns the number of edges. Running it again gives the same graph."""
    actor = Actor.system("demo")
    for kind, label, aliases in CATALOGUE:
        graph.catalogue_save(actor=actor, workspace=workspace, kind=kind, label=label, aliases=aliases)
    graph.index_workspace(actor=SYSTEM, workspace_id=workspace.pk)
    return int(graph.rebuild(actor=SYSTEM, workspace_id=workspace.pk))
