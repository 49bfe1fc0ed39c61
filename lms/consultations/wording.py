"""Word folding for the consultation checks (pure): the grid workers' dialect said in common words, and the
meaning-bearing words of a point, so that an answer in fresh words can be matched on what it says.

* ``fold_dialect`` writes the south-western dialect words the county's workers use in their common form
  (``莫得``/``没得`` → ``没有``, ``晓得`` → ``知道``, ``啥子`` → ``什么``, ``屋头`` → ``家里``, ``好多`` →
  ``多少``, ``莫`` → ``不要``…) on the answer and on the key's phrases alike, so either may be written either way.
* ``content_words`` cuts a folded phrase into its two-character words, leaving out particles and the function
  words (``可以``、``就是``、``你们``…) that carry no meaning of their own.
"""
from __future__ import annotations

import re

#: dialect -> common word; longer words first so ``莫得`` is not read as ``莫`` + ``得``.
DIALECT = (
    ("莫得", "没有"), ("没得", "没有"), ("冇得", "没有"), ("晓得", "知道"), ("啥子", "什么"), ("啥", "什么"),
    ("屋头", "家里"), ("屋里头", "家里"), ("屋里", "家里"), ("好多", "多少"), ("咋个", "怎么"), ("咋", "怎么"),
    ("不消", "不用"), ("嬢嬢", "阿姨"), ("孃孃", "阿姨"), ("老辈子", "老人家"), ("做不得", "不能做"),
    ("动不得", "不能动"), ("晓不得", "不知道"), ("搞不赢", "来不及"), ("赶不上趟", "来不及"), ("莫", "不要"),
    # official names said the short way
    ("社会保险事业中心", "社保中心"), ("社会保险事业局", "社保局"), ("社会保险", "社保"), ("医疗保障", "医保"),
    ("人力资源和社会保障", "人社"), ("缴", "交"),
    ("城头", "城里"), ("村头", "村里"), ("院头", "院里"), ("里头", "里面"), ("喊拢", "叫到一起"),
)
_DIALECT = re.compile("|".join(re.escape(a) for a, _ in sorted(DIALECT, key=lambda p: -len(p[0]))))
_DIALECT_MAP = dict(DIALECT)


def fold_dialect(text: str) -> str:
    """Dialect words written in their common form (text already NFKC and lower case)."""
    return _DIALECT.sub(lambda m: _DIALECT_MAP[m.group(0)], text)


#: two-character words that say nothing about a point on their own
STOP_WORDS = frozenset(
    "可以 就是 你们 我们 他们 你的 一个 这个 那个 什么 怎么 没有 不是 还是 就可 也可 都可 要是 如果 的话 因为 所以 "
    "但是 不过 然后 还有 以后 现在 已经 时候 一下 一样 这样 那样 自己 人家 东西 事情 问题 情况 知道 不要 不用 "
    "给你 你要 你去 你就 就去 就要 也要 都要 要去 去找 到时 可能 一般 其实 反正 这些 那些 出来 起来 上面 下面 里面 "
    "老人 家里 您的 多少 之前 之后 以前 以上 以下 还要 都是 也是 就不 也不 都不 是不".split())

_PARTICLES = re.compile(r"[了的地得着过呢啊呀吧嘛哦哈噻嗦哟咯]")
_RUNS = re.compile(r"\d+[年岁个月天元万]?|[\u4e00-\u9fff]+")


def content_words(folded: str) -> set[str]:
    """The content words of a folded phrase or clause: its two-character words (particles and STOP_WORDS left
    out) and its numbers with their unit (``15年``, one word, so ``15年`` never meets ``2030年``)."""
    out = set()
    for run in _RUNS.findall(_PARTICLES.sub("", folded)):
        if run[0].isdigit():
            out.add(run.rstrip("岁"))  # "年满60" is "满60岁"
            continue
        for i in range(len(run) - 1):
            if run[i:i + 2] not in STOP_WORDS:
                out.add(run[i:i + 2])
    return out
