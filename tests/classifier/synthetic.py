"""Labelled messages for any number of classes, made up from Chinese characters: a city
retraining on its own history can have tens to hundreds of categories. Each class has its
own words; messages mix them with words every class uses, and a few of a neighbour's."""
from __future__ import annotations

import random

from classifier.dataset import Example

# Common characters, none of them a stop word alone.
_CHARS = ("路灯道桥水电气暖房屋楼梯井盖垃圾噪音油烟污染医院学校老师工资社保医保公交地铁出租车站"
          "停车收费价格市场超市餐馆食品药品广告装修物业小区业主电梯消防安全河湖树木绿化公园"
          "农田种子化肥养殖村庄乡镇街道社区户口证件窗口办理审批补贴救助养老托育残疾退役就业培训")
SHARED = ("希望", "尽快", "处理", "反映", "问题", "一直", "没有", "解决", "市民", "附近", "影响", "生活")


def class_words(count: int, per_class: int = 6, seed: int = 0) -> list[list[str]]:
    """Distinct two-character words, per_class for each of count classes."""
    rng = random.Random(seed)
    pool = sorted({a + b for a in _CHARS for b in _CHARS if a != b})
    rng.shuffle(pool)
    return [pool[i * per_class:(i + 1) * per_class] for i in range(count)]


def synthetic_examples(classes: int, per_class: int, *, seed: int = 0, noise: float = 0.1) -> list[Example]:
    words = class_words(classes)
    rng = random.Random(seed + 1)
    examples = []
    for k in range(classes):
        for n in range(per_class):
            def word() -> str:
                source = words[(k + 1) % classes] if rng.random() < noise else words[k]
                return rng.choice(source)
            title = word() + rng.choice(SHARED) + word()
            body = "".join(rng.choice([word, lambda: rng.choice(SHARED)])() for _ in range(rng.randint(8, 14)))
            examples.append(Example(title=title, body=body + "。", label=f"类别{k:03d}", group=f"{k}-{n}"))
    rng.shuffle(examples)
    return examples
