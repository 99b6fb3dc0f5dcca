"""Generated names for the demo organisation: people, places, ordinals.

Names are assembled from a surname and one or two given-name characters drawn
at random, so no record describes a real person even when a combination
happens to be a common name. Surname weights are rounded and only follow the
rough order of the published frequency rankings (王, 李, 张, 刘, 陈 first);
the given-name characters lean by gender the way Chinese given names do.
Place names are two generated syllables (清河, 石桥 …) with no real location.
"""

from __future__ import annotations

import numpy as np

# (surname, weight in per cent of the population, rounded)
_SURNAMES = ["王7.1", "李7.1", "张6.8", "刘5.4", "陈4.5", "杨3.1", "黄2.4", "赵2.3", "吴2.1", "周1.9", "徐1.6", "孙1.5", "马1.5", "朱1.3", "胡1.3", "郭1.2", "何1.2", "林1.1", "高1.1", "罗1.1", "郑1.0", "梁0.9", "谢0.8", "宋0.8", "唐0.8", "许0.7", "韩0.7", "冯0.7", "邓0.7", "曹0.7", "彭0.6", "曾0.6", "肖0.6", "田0.6", "董0.6", "潘0.5", "袁0.5", "于0.5", "蒋0.5", "蔡0.5", "余0.5", "杜0.5", "叶0.5", "程0.5", "苏0.4", "魏0.4", "吕0.4", "丁0.4", "任0.4", "沈0.4", "姚0.4", "卢0.4", "姜0.4", "崔0.3", "钟0.3", "谭0.3", "陆0.3", "汪0.3", "范0.3", "金0.3", "石0.3", "廖0.3", "贾0.3", "夏0.2", "韦0.2", "付0.2", "方0.2", "白0.2", "邹0.2", "孟0.2", "熊0.2", "秦0.2", "邱0.2", "江0.1", "尹0.1", "薛0.1", "闫0.1", "段0.1", "雷0.1", "侯0.1", "龙0.1", "史0.1", "陶0.1", "黎0.1", "贺0.1", "顾0.1", "毛0.1", "郝0.1", "龚0.1", "邵0.1"]
SURNAMES = np.array([entry[0] for entry in _SURNAMES])
SURNAME_WEIGHTS = np.array([float(entry[1:]) for entry in _SURNAMES]) / sum(float(e[1:]) for e in _SURNAMES)

_NEUTRAL = "建国明华文晓志海春平宇新振立永中光学东嘉思子一天安宁成和德远清林阳秋晨乐世云"
_MALE = "伟强军杰磊勇涛斌鹏辉刚峰浩亮超鑫鸿俊毅波宏龙飞坤健彬凯锋"
_FEMALE = "芳娜敏静丽艳娟霞燕玲萍红琳婷雪颖倩慧丹洁梅兰琴月悦欣怡佳璐薇"
GIVEN_MALE = np.array(list(_NEUTRAL + _MALE + _MALE))
GIVEN_FEMALE = np.array(list(_NEUTRAL + _FEMALE + _FEMALE))
TWO_CHARACTER_GIVEN_NAME_SHARE = 0.75

PLACE_SYLLABLES = np.array(
    list("云川安宁清河平阳江山东西南长丰兴华泰和新福宝龙凤金石桥湖溪岭源林峰田桂松柳花庄塘坪湾港城乐永")
)

_DIGITS = "零一二三四五六七八九"


def person_names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """One generated full name per entry of ``female`` (a boolean array)."""
    n = len(female)
    surnames = SURNAMES[rng.choice(len(SURNAMES), size=n, p=SURNAME_WEIGHTS)]
    first = _given_characters(rng, female)
    second = _given_characters(rng, female)
    second[rng.random(n) >= TWO_CHARACTER_GIVEN_NAME_SHARE] = ""
    return np.strings.add(np.strings.add(surnames, first), second)


def _given_characters(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    u = rng.random(len(female))
    male_pick = GIVEN_MALE[(u * len(GIVEN_MALE)).astype(np.intp)]
    female_pick = GIVEN_FEMALE[(u * len(GIVEN_FEMALE)).astype(np.intp)]
    return np.where(female, female_pick, male_pick)


class PlaceNames:
    """An endless, seeded supply of two-syllable place names (no doubled syllable)."""

    def __init__(self, rng: np.random.Generator, batch: int = 4096) -> None:
        self._rng = rng
        self._batch = batch
        self._pending: list[str] = []

    def next(self) -> str:
        if not self._pending:
            pairs = self._rng.integers(0, len(PLACE_SYLLABLES), size=(self._batch, 2))
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
            self._pending = [PLACE_SYLLABLES[a] + PLACE_SYLLABLES[b] for a, b in pairs[::-1]]
        return self._pending.pop()


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三, 105 → 一百零五 (for 第N党支部 and the like)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        if rest == 0:
            tail = ""
        elif rest < 10:
            tail = "零" + _DIGITS[rest]
        elif rest < 20:
            tail = "一" + chinese_number(rest)
        else:
            tail = chinese_number(rest)
        return _DIGITS[n // 100] + "百" + tail
    return str(n)
