"""Emerging topics (pure): recent out-of-scope tickets grouped by what they talk about, each named by its top terms.

1. Each text becomes terms: the classifier's words (`classify.tokenize`: jieba for Chinese), without stop words,
   numbers or codes, plus the pairs of neighbouring words ("face recognition", "人脸" + "识别" → "人脸识别").
2. TF-IDF vectors whose IDF comes from the background (all recent tickets of the workspace, in scope or not), so a
   word every ticket uses (订单, order, 您好) weighs little.
3. Average-linkage agglomerative clustering on cosine similarity, cut where the average similarity between two
   groups falls below `threshold`; groups smaller than `min_size` are noise, not topics.
4. A topic's label: its terms ranked by class-based TF-IDF (the share of the topic's texts that use a term times
   the term's IDF over the background), so its own vocabulary wins over the desk's everyday words.
5. Its key: a hash of its sorted top terms, so a recompute over a few more tickets finds the same topic.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pivotdesk.ai.domain.classify import tokenize

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DIGIT = re.compile(r"\d")

# Words every support text uses whatever its problem: greetings, requests, pronouns, particles, time words.
_WORDS_EN = """a about after again all also am an and any are as at be been before but by can could did do does don't for
    from get got had has have hello help hi how i i'm if in into is it it's its just me my no not now of on or our
    please so thanks thank that the their them then there this to today up us was we what when why will with would
    yes yet you your dear regards team issue problem still since some there's can't cannot being which who also
    again very one two says said shows every time same several since"""
_WORDS_ZH = """的 了 是 我 你 您 他 她 它 我们 你们 他们 在 和 与 及 或 也 都 就 还 又 把 被 让 给 对 从 向 到 为 为了 吗 呢 吧 啊 呀
    提示 以后 好几个 遇到 不行 不了 就是 是不是 明明 最后 全部 试过 再试 一直 总是 老是 还是 可是 结果 发现 出现 显示
    哦 嗯 请 请问 您好 你好 谢谢 麻烦 一下 一个 这个 那个 这样 那样 什么 怎么 怎么办 为什么 如何 没有 没 不 有 能 能否 可以
    可能 需要 要 想 会 已经 现在 今天 昨天 刚才 之前 之后 然后 但是 但 而且 因为 所以 如果 还是 一直 总是 问题 情况
    帮忙 帮 尽快 处理 解决 一样 这边 那边 时候 几次 多次 感谢 好的 下 上 里 中 后 前 个 次 说 看 用 再 很 非常 又 已 着
    过 啦 哈 呗 么 这 那 其 该 每 各 等 等等 通过 要求"""
STOPWORDS = frozenset(_WORDS_EN.split()) | frozenset(_WORDS_ZH.split())


@dataclass(frozen=True)
class TopicConfig:
    """How texts are grouped and named."""

    threshold: float = 0.15  # groups merge while their average cosine similarity is at least this
    min_size: int = 3  # fewer texts than this are noise, not a topic
    top_terms: int = 6  # terms kept per topic
    label_terms: int = 3  # terms in the label (and in the key)
    min_term_share: float = 0.25  # a term names a topic only if at least this share of its texts use it
    max_documents: int = 1500  # the newest texts clustered (the clustering is quadratic in memory)


@dataclass(frozen=True)
class Topic:
    """One group of texts: its stable key, a readable label, its top terms and its members (most typical first)."""

    key: str
    label: str
    terms: tuple[str, ...]
    members: tuple[int, ...]


def _keep(word: str) -> bool:
    if word in STOPWORDS or _DIGIT.search(word):
        return False
    if _CJK.search(word):
        return len(word) >= 2
    return len(word) >= 3


def _join(left: str, right: str) -> str:
    return f"{left}{right}" if _CJK.search(left[-1]) and _CJK.search(right[0]) else f"{left} {right}"


def words_of(text: str, tokenizer: Callable[[str], list[str]] = tokenize) -> list[str]:
    """The words of a text that can say what it is about, in order ("" where a stop word, number or code was)."""
    return [w if _keep(w) else "" for w in tokenizer(text)]


def terms_of(words: Sequence[str]) -> list[str]:
    """Label candidates: the kept words, then each pair of kept words that stood next to each other."""
    return [w for w in words if w] + list(pairs_of(words))


def features_of(words: Sequence[str]) -> list[str]:
    """What similarity reads: the kept words, and the two-character pieces of longer Chinese words (so 人脸识别
    meets 人脸, and 活体检测 meets 活体, whatever jieba made of each text)."""
    features = [w for w in words if w]
    for word in features[:]:
        if len(word) > 2 and _CJK.search(word):
            features += [word[i : i + 2] for i in range(len(word) - 1) if _CJK.search(word[i : i + 2])]
    return features


def document_frequency(term_lists: Sequence[Sequence[str]]) -> Counter[str]:
    """In how many texts each term occurs."""
    df: Counter[str] = Counter()
    for terms in term_lists:
        df.update(set(terms))
    return df


def idf(df: Counter[str], n: int) -> Callable[[str], float]:
    """Smoothed inverse document frequency over `n` background texts (a term never seen there is the rarest)."""
    return lambda term: math.log((1 + n) / (1 + df.get(term, 0))) + 1.0


def vectors(term_lists: Sequence[Sequence[str]], weight: Callable[[str], float]) -> NDArray[np.float64]:
    """Rows of sublinear TF-IDF, L2-normalised (a text without terms is a zero row)."""
    vocabulary = sorted({t for terms in term_lists for t in terms})
    index = {t: i for i, t in enumerate(vocabulary)}
    matrix = np.zeros((len(term_lists), len(vocabulary)))
    for row, terms in enumerate(term_lists):
        for term, count in Counter(terms).items():
            matrix[row, index[term]] = (1.0 + math.log(count)) * weight(term)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def average_linkage(similarity: NDArray[np.float64], threshold: float) -> list[list[int]]:
    """Average-linkage clusters of a symmetric similarity matrix: groups merge, most similar pair first, while the
    mean similarity between their members is at least `threshold`. Each cluster's indices ascending, clusters by
    their first index."""
    n = similarity.shape[0]
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2.0
    tree = linkage(squareform(distance, checks=False), method="average")
    # fcluster keeps merges at a distance <= t; tiny slack so a merge at exactly the threshold is kept.
    labels = fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def pairs_of(words: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each word pair of a text (as `terms_of` writes it) → its two words."""
    return {_join(a, b): (a, b) for a, b in itertools.pairwise(words) if a and b and a != b}


def rank_terms(
    member_terms: Sequence[Sequence[str]],
    weight: Callable[[str], float],
    config: TopicConfig,
    parts: Mapping[str, tuple[str, str]] | None = None,
) -> list[str]:
    """A group's terms by class-based TF-IDF (share of its texts using the term × background IDF), used by at least
    `min_term_share` of them (and two texts). Terms that share a word with a better one are left out, except a word
    pair nearly as common as its word, which replaces it ("face" → "face recognition")."""
    parts = parts or {}
    size = len(member_terms)
    df = document_frequency(member_terms)
    least = max(2, math.ceil(config.min_term_share * size)) if size > 1 else 1
    scored = sorted(
        ((df[t] / size * weight(t), t) for t in df if df[t] >= least), key=lambda st: (-st[0], -len(st[1]), st[1])
    )

    def pieces(term: str) -> tuple[str, ...]:
        return parts.get(term, (term,))

    def overlaps(a: str, b: str) -> bool:
        return any(p in q or q in p for p in pieces(a) for q in pieces(b))

    chosen: list[str] = []
    for _score, term in scored:
        overlap = [c for c in chosen if overlaps(term, c)]
        if not overlap:
            chosen.append(term)
        elif all(c in pieces(term) and c != term and df[term] >= 0.8 * df[c] for c in overlap):
            chosen[chosen.index(overlap[0])] = term  # the pair names it better than its word
            chosen = [c for c in chosen if c not in overlap[1:]]
        if len(chosen) >= config.top_terms:
            break
    return chosen


def topic_key(terms: Sequence[str]) -> str:
    """A stable signature of a topic: the hash of its sorted label terms."""
    return hashlib.sha256("\n".join(sorted(terms)).encode()).hexdigest()[:32]


def label_of(terms: Sequence[str]) -> str:
    return " · ".join(terms)


def find_topics(
    documents: Sequence[tuple[int, str]],
    background: Sequence[str],
    config: TopicConfig | None = None,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> list[Topic]:
    """The topics among `documents` ((id, text) pairs, e.g. recent out-of-scope tickets), named against the
    `background` texts (every recent ticket; the documents are counted in it too). Largest topic first."""
    config = config or TopicConfig()
    documents = list(documents)[-config.max_documents :]
    doc_words = [words_of(text, tokenizer) for _id, text in documents]
    doc_terms = [terms_of(words) for words in doc_words]
    parts = {pair: words for text_words in doc_words for pair, words in pairs_of(text_words).items()}
    background_words = [words_of(text, tokenizer) for text in background]
    background_df = document_frequency([terms_of(w) + features_of(w) for w in background_words])
    background_df.update(document_frequency([terms_of(w) + features_of(w) for w in doc_words]))
    weight = idf(background_df, len(background) + len(documents))
    # Similarity reads the words alone: pairs would add one rare feature per pair of neighbours and dilute it.
    usable = [i for i, words in enumerate(doc_words) if any(words)]
    matrix = vectors([features_of(doc_words[i]) for i in usable], weight)
    similarity = matrix @ matrix.T
    topics: list[Topic] = []
    keys: set[str] = set()
    for group in sorted(average_linkage(similarity, config.threshold), key=lambda g: (-len(g), g[0])):
        if len(group) < config.min_size:
            continue
        terms = rank_terms([doc_terms[usable[i]] for i in group], weight, config, parts)
        if not terms:
            continue
        centroid = matrix[group].mean(axis=0)
        typical = sorted(group, key=lambda i: (-float(matrix[i] @ centroid), documents[usable[i]][0]))
        label_terms = terms[: config.label_terms]
        key = topic_key(label_terms)
        if key in keys:  # two groups share their label terms: the longer term list (or the members) tells them apart
            key = topic_key([*terms, *(str(m) for m in sorted(documents[usable[i]][0] for i in group))])
        keys.add(key)
        topics.append(
            Topic(
                key=key,
                label=label_of(label_terms),
                terms=tuple(terms),
                members=tuple(documents[usable[i]][0] for i in typical),
            )
        )
    return sorted(topics, key=lambda t: (-len(t.members), t.key))
