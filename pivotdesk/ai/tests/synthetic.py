"""Small synthetic bilingual tickets for the classification tests (fast, deterministic)."""

from __future__ import annotations

import random

TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for my {x} subscription, please refund",
        "Invoice for {x} shows the wrong amount, billing error",
        "Refund request: payment for {x} taken twice from my card",
        "我的{y}订阅被重复扣款了，请退款",
        "{y}的发票金额不对，账单有误",
        "付款扣了两次，{y}的钱请退回",
    ],
    "shipping": [
        "My {x} package has not arrived, where is my delivery",
        "Tracking number for the {x} parcel shows no update, shipping delayed",
        "The courier lost my {x} order, delivery never came",
        "我的{y}快递还没到，物流一直不更新",
        "{y}包裹显示已签收但我没收到",
        "快递员把{y}送错地址了，什么时候能送到",
    ],
    "login": [
        "I cannot log in to my {x} account, password reset email never arrives",
        "Two-factor code for {x} is rejected, locked out of my account",
        "Forgot my {x} password and the reset link is expired",
        "{y}账号登录不了，密码重置邮件收不到",
        "{y}的验证码一直错误，账号被锁定了",
        "忘记{y}密码，重置链接失效了",
    ],
}
NOUNS_EN = ["phone", "laptop", "camera", "tablet", "printer", "watch", "speaker", "router"]
NOUNS_ZH = ["手机", "电脑", "相机", "平板", "打印机", "手表", "音箱", "路由器"]


def dataset(n_per_class: int = 20, seed: int = 0) -> tuple[list[str], list[str]]:
    """Texts and labels, balanced, mixing Chinese and English."""
    rng = random.Random(seed)
    texts, labels = [], []
    for label, templates in TEMPLATES.items():
        for i in range(n_per_class):
            template = templates[i % len(templates)]
            texts.append(template.format(x=rng.choice(NOUNS_EN), y=rng.choice(NOUNS_ZH)))
            labels.append(label)
    return texts, labels
