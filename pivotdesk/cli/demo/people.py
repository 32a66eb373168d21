"""The demo company's configuration and people: teams, agents, skills, customers, fields, categories, labels."""

from __future__ import annotations

from typing import Any, NamedTuple


class DemoAgent(NamedTuple):
    username: str
    display_name: str
    email: str
    role: str
    team: str  # key of TEAMS ("" for none)
    city: str  # key of CITIES
    languages: tuple[str, ...]
    seniority: int  # 1 junior … 4 expert
    skills: tuple[tuple[str, int], ...]  # (skill name, level 1–5)
    capacity: dict[str, int] | None = None


CITIES: dict[str, tuple[str, float, float]] = {
    # key: (Chinese name, latitude, longitude)
    "beijing": ("北京", 39.9042, 116.4074),
    "shanghai": ("上海", 31.2304, 121.4737),
    "shenzhen": ("深圳", 22.5431, 114.0579),
    "guangzhou": ("广州", 23.1291, 113.2644),
    "hangzhou": ("杭州", 30.2741, 120.1551),
    "chengdu": ("成都", 30.5728, 104.0668),
    "wuhan": ("武汉", 30.5928, 114.3055),
    "xian": ("西安", 34.3416, 108.9398),
    "nanjing": ("南京", 32.0603, 118.7969),
    "suzhou": ("苏州", 31.2989, 120.5853),
}

TEAMS: dict[str, tuple[str, str]] = {
    "tech": ("技术支持 Technical Support", "设备、软件、API 与账号问题 — devices, software, API and accounts."),
    "billing": ("账务与订单 Billing & Orders", "退款、发票、支付与物流 — refunds, invoices, payments and shipping."),
    "field": ("现场服务 Field Service", "上门安装与维修 — on-site installation and repair."),
}

SKILLS = (
    "退款与账单 Billing",
    "发票 Invoicing",
    "物流 Logistics",
    "账号安全 Account security",
    "设备维修 Device repair",
    "API 集成 API integration",
    "网络 Networking",
    "英文服务 English support",
    "VIP 客户 VIP care",
    "现场安装 On-site installation",
)

AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent(
        "admin",
        "王建国 Wang Jianguo",
        "admin@demo.pivotdesk.dev",
        "admin",
        "",
        "beijing",
        ("zh", "en"),
        4,
        (("VIP 客户 VIP care", 5), ("账号安全 Account security", 4)),
    ),
    DemoAgent(
        "supervisor",
        "陈静 Chen Jing",
        "chen.jing@demo.pivotdesk.dev",
        "supervisor",
        "tech",
        "shanghai",
        ("zh", "en"),
        4,
        (("VIP 客户 VIP care", 5), ("设备维修 Device repair", 4), ("英文服务 English support", 4)),
    ),
    DemoAgent(
        "liu.yang",
        "刘洋 Liu Yang",
        "liu.yang@demo.pivotdesk.dev",
        "supervisor",
        "billing",
        "shenzhen",
        ("zh",),
        3,
        (("退款与账单 Billing", 5), ("发票 Invoicing", 5), ("VIP 客户 VIP care", 4)),
    ),
    DemoAgent(
        "agent",
        "李明 Li Ming",
        "li.ming@demo.pivotdesk.dev",
        "agent",
        "tech",
        "hangzhou",
        ("zh", "en"),
        2,
        (("设备维修 Device repair", 4), ("API 集成 API integration", 3), ("英文服务 English support", 3)),
    ),
    DemoAgent(
        "zhang.wei",
        "张伟 Zhang Wei",
        "zhang.wei@demo.pivotdesk.dev",
        "agent",
        "tech",
        "guangzhou",
        ("zh",),
        3,
        (("API 集成 API integration", 5), ("网络 Networking", 4), ("账号安全 Account security", 3)),
    ),
    DemoAgent(
        "zhao.min",
        "赵敏 Zhao Min",
        "zhao.min@demo.pivotdesk.dev",
        "agent",
        "billing",
        "chengdu",
        ("zh",),
        2,
        (("退款与账单 Billing", 4), ("发票 Invoicing", 3), ("物流 Logistics", 2)),
    ),
    DemoAgent(
        "sun.li",
        "孙丽 Sun Li",
        "sun.li@demo.pivotdesk.dev",
        "agent",
        "billing",
        "wuhan",
        ("zh", "en"),
        1,
        (("物流 Logistics", 4), ("退款与账单 Billing", 2), ("英文服务 English support", 2)),
    ),
    DemoAgent(
        "emily.zhou",
        "Emily Zhou 周雨",
        "emily.zhou@demo.pivotdesk.dev",
        "agent",
        "tech",
        "shanghai",
        ("en", "zh"),
        3,
        (("英文服务 English support", 5), ("API 集成 API integration", 4), ("账号安全 Account security", 3)),
    ),
    DemoAgent(
        "david.wong",
        "David Wong 黄大卫",
        "david.wong@demo.pivotdesk.dev",
        "agent",
        "billing",
        "shenzhen",
        ("en", "zh"),
        2,
        (("英文服务 English support", 5), ("退款与账单 Billing", 3), ("物流 Logistics", 3)),
    ),
    DemoAgent(
        "zhou.qiang",
        "周强 Zhou Qiang",
        "zhou.qiang@demo.pivotdesk.dev",
        "agent",
        "field",
        "xian",
        ("zh",),
        4,
        (("现场安装 On-site installation", 5), ("设备维修 Device repair", 5), ("网络 Networking", 3)),
        {"email": 6, "chat": 1, "messaging": 3, "voice": 1},
    ),
    DemoAgent(
        "wu.lei",
        "吴磊 Wu Lei",
        "wu.lei@demo.pivotdesk.dev",
        "agent",
        "field",
        "nanjing",
        ("zh",),
        2,
        (("现场安装 On-site installation", 4), ("设备维修 Device repair", 3), ("网络 Networking", 4)),
        {"email": 6, "chat": 1, "messaging": 3, "voice": 1},
    ),
    DemoAgent(
        "zheng.fang",
        "郑芳 Zheng Fang",
        "zheng.fang@demo.pivotdesk.dev",
        "light_agent",
        "billing",
        "beijing",
        ("zh",),
        3,
        (("发票 Invoicing", 4),),
    ),
)

ORGANIZATIONS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    # (name, tier, email domain, account data)
    (
        "华东精密制造有限公司",
        "strategic",
        "hdjm.com.cn",
        {
            "contract": "战略合作 Strategic",
            "arr_cny": 2_400_000,
            "account_manager": "陈静",
            "renewal": "2027-06-30",
            "industry": "制造 Manufacturing",
            "sla": "24x7, 30 min response",
        },
    ),
    (
        "Acme Robotics Asia",
        "strategic",
        "acme-robotics.com",
        {
            "contract": "Enterprise",
            "arr_cny": 1_800_000,
            "account_manager": "Emily Zhou",
            "renewal": "2027-01-31",
            "industry": "Robotics",
            "sla": "24x7, 30 min response",
        },
    ),
    (
        "星河科技股份有限公司",
        "vip",
        "galaxytech.cn",
        {
            "contract": "VIP 金牌 Gold",
            "arr_cny": 860_000,
            "account_manager": "刘洋",
            "renewal": "2026-12-31",
            "industry": "零售科技 Retail tech",
            "sla": "1 h response",
        },
    ),
    (
        "蓝海物流集团",
        "vip",
        "blueocean-logistics.cn",
        {
            "contract": "VIP 金牌 Gold",
            "arr_cny": 640_000,
            "account_manager": "刘洋",
            "renewal": "2027-03-31",
            "industry": "物流 Logistics",
            "sla": "1 h response",
        },
    ),
    (
        "Spruce Health Clinics",
        "vip",
        "sprucehealth.sg",
        {
            "contract": "VIP Gold",
            "arr_cny": 520_000,
            "account_manager": "Emily Zhou",
            "renewal": "2027-02-28",
            "industry": "Healthcare",
            "sla": "1 h response",
        },
    ),
    (
        "美味餐饮连锁",
        "standard",
        "meiwei-food.com",
        {"contract": "标准 Standard", "arr_cny": 96_000, "industry": "餐饮 Restaurants", "stores": 42},
    ),
    (
        "远航教育科技",
        "standard",
        "yuanhang-edu.cn",
        {"contract": "标准 Standard", "arr_cny": 48_000, "industry": "教育 Education"},
    ),
    (
        "Northwind Trading Ltd",
        "standard",
        "northwind-trading.com",
        {"contract": "Standard", "arr_cny": 72_000, "industry": "Wholesale"},
    ),
    (
        "Contoso Retail HK",
        "standard",
        "contoso-retail.hk",
        {"contract": "Standard", "arr_cny": 55_000, "industry": "Retail"},
    ),
    (
        "百家便利店",
        "standard",
        "baijia-mart.cn",
        {"contract": "标准 Standard", "arr_cny": 120_000, "industry": "零售 Convenience stores", "stores": 180},
    ),
)

# (surname, pinyin) and (given name, pinyin) pools for Chinese contacts.
ZH_SURNAMES = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
)
ZH_GIVEN = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("秀英", "xiuying"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀兰", "xiulan"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂英", "guiying"),
    ("浩然", "haoran"),
    ("子涵", "zihan"),
    ("雨轩", "yuxuan"),
)
EN_FIRST = (
    "James",
    "Olivia",
    "Michael",
    "Emma",
    "Daniel",
    "Sophia",
    "David",
    "Grace",
    "Ryan",
    "Chloe",
    "Kevin",
    "Hannah",
    "Jason",
    "Rachel",
    "Lucas",
    "Mia",
    "Ethan",
    "Priya",
    "Arjun",
    "Nadia",
    "Tom",
    "Sarah",
    "Wei Ling",
    "Marcus",
)
EN_LAST = (
    "Smith",
    "Johnson",
    "Lee",
    "Brown",
    "Tan",
    "Wong",
    "Garcia",
    "Miller",
    "Davis",
    "Ng",
    "Clarke",
    "Kumar",
    "Walker",
    "Lim",
    "Chan",
    "Taylor",
    "Martin",
    "Nguyen",
    "O'Brien",
    "Fischer",
)
PERSONAL_DOMAINS_ZH = ("qq.com", "163.com", "126.com", "foxmail.com", "sina.com")
PERSONAL_DOMAINS_EN = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")

DEVICE_MODELS = ("PD-100 扫码枪 Scanner", "PD-200 收银机 POS", "PD-300 自助终端 Kiosk", "PD-X1 路由器 Router")

# key: (English, Chinese, parent key or "")
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "billing": ("Billing", "账务", ""),
    "refunds": ("Refunds", "退款", "billing"),
    "invoices": ("Invoices", "发票", "billing"),
    "payments": ("Payments", "支付", "billing"),
    "orders": ("Orders", "订单", ""),
    "shipping": ("Shipping", "物流配送", "orders"),
    "returns": ("Returns & exchanges", "退换货", "orders"),
    "account": ("Account", "账号", ""),
    "login": ("Login & password", "登录与密码", "account"),
    "permissions": ("Users & permissions", "用户与权限", "account"),
    "technical": ("Technical", "技术问题", ""),
    "device": ("Device faults", "设备故障", "technical"),
    "api": ("API & integrations", "API 与集成", "technical"),
    "software": ("Software & apps", "软件与应用", "technical"),
    "field": ("Field service", "现场服务", ""),
    "installation": ("Installation", "上门安装", "field"),
    "repair": ("On-site repair", "上门维修", "field"),
    "feedback": ("Feedback", "投诉与建议", ""),
    "complaint": ("Complaints", "投诉", "feedback"),
    "suggestion": ("Suggestions", "建议", "feedback"),
}

# Which reply pool and which team serve a top-level category.
REPLY_GROUP = {
    "billing": "billing",
    "orders": "orders",
    "account": "account",
    "technical": "technical",
    "field": "field",
    "feedback": "feedback",
}
TEAM_FOR = {
    "billing": "billing",
    "orders": "billing",
    "account": "tech",
    "technical": "tech",
    "field": "field",
    "feedback": "tech",
}

# (key, English label, Chinese label, type, options)
CUSTOM_FIELDS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("device_model", "Device model", "设备型号", "select", DEVICE_MODELS),
    ("order_number", "Order number", "订单号", "text", ()),
    ("affected_users", "Affected users", "影响用户数", "number", ()),
    ("warranty", "Under warranty", "保修", "checkbox", ()),
    ("purchase_date", "Purchase date", "购买日期", "date", ()),
)

# (category, English label, Chinese label, is the category's default)
STATUS_LABELS: tuple[tuple[str, str, str, bool], ...] = (
    ("open", "In progress", "处理中", True),
    ("pending", "Waiting for customer", "等待客户回复", True),
    ("on_hold", "Waiting for parts", "等待备件", False),
    ("on_hold", "Waiting for on-site visit", "等待上门", False),
    ("on_hold", "Escalated to engineering", "已升级至研发", True),
)

# (name, filters) of shared saved views.
SAVED_VIEWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("未分配 Unassigned", {"unassigned": True, "status": ["new", "open"]}),
    ("紧急与高优先级 Urgent & high", {"priority": ["urgent", "high"], "status": ["new", "open", "pending"]}),
    ("等待中 On hold", {"status": ["on_hold"]}),
    ("微信与 IM Messaging", {"channel": ["wechat", "whatsapp", "telegram"]}),
)
