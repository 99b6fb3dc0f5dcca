"""The category values an import accepts: the stored value, its Chinese label, and common spellings.

Stored values are the ones the models' CHECK constraints and the demo generator
use (``full``, ``M``, ``committee``, ``bachelor``, ``Han`` …). A spreadsheet may
say the same thing in Chinese (正式党员, 男, 党委, 大学本科, 汉族) or with a common
variant (本科, 预备, 党总支部); every spelling below maps to one stored value.
Matching ignores case, spaces and full-width forms (NFKC).

The national party-member management system (全国党员管理信息系统) and the
statistics built on it write finer values than the product keeps — 工作岗位
``非公有制经济控制企业工人``, 单位性质 ``公立医院``. Those are listed where they
are common, and a vocabulary may add ``rules``: (fragment, stored value) pairs
tried in order on a cell no spelling matches, so ``事业单位专业技术人员`` and
``公有制经济控制企业管理人员`` land in the occupation group the screens show
(专业技术人员, 管理人员) without listing every combination. docs/import.md has
the table.

Ethnicity accepts all 56 recognised ethnic groups (GB/T 3304) and its two
extra codes, not only the ones the demo generator draws.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property

# A range (本科以上, 高中以下) spans groups: refused unless listed as a spelling, never guessed by a rule.
RANGE_WORDS = ("以上", "以下")


def normalise(text: str) -> str:
    """How a cell is compared with a vocabulary: NFKC, no spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass(frozen=True)
class Vocabulary:
    """One category: ``terms`` maps each stored value to (Chinese label, other accepted spellings…)."""

    name: str
    terms: dict[str, tuple[str, ...]]
    rules: tuple[tuple[str, str], ...] = ()

    @cached_property
    def lookup(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for value, spellings in self.terms.items():
            for spelling in (value, *spellings):
                table.setdefault(normalise(spelling), value)
        return table

    def value_of(self, cell: str) -> str | None:
        """The stored value a cell means, or None if it is neither an accepted spelling nor matched by a rule."""
        text = normalise(cell)
        found = self.lookup.get(text)
        if found is None and text and not any(word in text for word in RANGE_WORDS):
            found = next((value for fragment, value in self.rules if fragment in text), None)
        return found

    def label(self, value: str, lang: str) -> str:
        """What an export writes for ``value``: the Chinese label, or the stored value in English."""
        return self.terms[value][0] if lang == "zh" else value

    def accepted(self, limit: int = 12) -> str:
        """The accepted values for an error message: ``full (正式党员), probationary (预备党员), …``."""
        shown = [f"{value} ({spellings[0]})" for value, spellings in list(self.terms.items())[:limit]]
        rest = len(self.terms) - limit
        return ", ".join(shown) + (f" … (+{rest}, docs/import.md)" if rest > 0 else "")


ORG_KIND = Vocabulary("kind", {
    "committee": ("党委", "党委员会", "基层党委", "党工委", "党的基层委员会", "党的委员会", "基层委员会", "党组织委员会",
                  "committee"),
    "general_branch": ("党总支", "党总支部", "总支", "党的总支部委员会", "党总支部委员会", "总支部委员会", "general branch"),
    "branch": ("党支部", "支部", "联合党支部", "联合支部", "临时党支部", "党的支部委员会", "党支部委员会", "支部委员会"),
    "group": ("党小组", "小组", "party group"),
})

# 单位性质 / 单位类别 as the national system writes them, folded into the six the product keeps.
UNIT_TYPE = Vocabulary("unit type", {
    "government": ("机关", "党政机关", "政府机关", "乡镇", "街道", "乡镇(街道)", "乡", "镇", "国家机关", "人大机关",
                   "政协机关", "审判机关", "检察机关", "群团机关"),
    "institution": ("事业单位", "事业", "公立医院", "医院", "中小学校", "中小学", "学校", "高等学校", "高校",
                    "科研院所", "科研机构"),
    "enterprise": ("企业", "公司", "国有企业", "国有控股企业", "民营企业", "私营企业", "非公有制企业", "外资企业",
                   "集体企业", "混合所有制企业"),
    "social": ("社会组织", "社会团体", "民办非企业单位", "社会服务机构", "基金会"),
    "village": ("农村", "行政村", "村", "建制村", "村委会", "村民委员会"),
    "community": ("城市社区", "社区", "社区(居委会)", "居委会", "社区居民委员会"),
}, rules=(("企业", "enterprise"), ("公司", "enterprise"), ("医院", "institution"), ("学校", "institution"),
          ("事业", "institution"), ("机关", "government"), ("居委", "community"), ("社区", "community"),
          ("村", "village"), ("社会", "social")))

STAGE = Vocabulary("stage", {
    "applicant": ("入党申请人", "申请人", "申请入党"),
    "activist": ("入党积极分子", "积极分子"),
    "development_target": ("发展对象", "development target"),
    "probationary": ("预备党员", "预备"),
    "full": ("正式党员", "正式", "full member"),
})

# 人员类别 / 党员状态: 正式 / 预备 — only party members have a status; the stage says the rest.
STATUS = Vocabulary("status", {
    "full": ("正式党员", "正式", "full member"),
    "probationary": ("预备党员", "预备"),
})

# 党籍状态: a field of its own. Only members in good standing are imported (see members.py).
MEMBERSHIP = Vocabulary("membership", {
    "normal": ("正常", "正常党籍", "在籍", "good standing"),
    "suspended": ("停止党籍", "停止党籍(失联)", "失联", "suspended"),
    "left": ("出党", "退党", "除名", "开除党籍", "死亡", "left"),
})

GENDER = Vocabulary("gender", {
    "M": ("男", "男性", "male", "man"),
    "F": ("女", "女性", "female", "woman"),
})

EDUCATION = Vocabulary("education", {
    "postgraduate": ("研究生", "博士研究生", "硕士研究生", "博士", "硕士", "研究生及以上", "硕士/博士研究生",
                     "研究生(硕士)", "研究生(博士)", "在职研究生"),
    "bachelor": ("大学本科", "本科", "大学"),
    "college": ("大学专科", "大专", "专科", "高职"),
    "secondary": ("中专、高中、初中", "中专", "高中", "初中", "中等专科", "职高", "技校", "中专/高中/初中",
                  "初中及以下", "高中/中专", "中技", "中等职业教育", "普通高中"),
    "primary_or_below": ("小学及以下", "小学", "文盲", "半文盲", "不识字或识字很少", "primary", "primary or below"),
}, rules=(("研究生", "postgraduate"), ("博士", "postgraduate"), ("硕士", "postgraduate"), ("专科", "college"),
          ("大专", "college"), ("本科", "bachelor"), ("学士", "bachelor"), ("中专", "secondary"),
          ("高中", "secondary"), ("初中", "secondary"), ("中技", "secondary"), ("小学", "primary_or_below")))

# 工作岗位 (the national system's finer post categories) folded into the eight occupation groups of the
# national statistics (中国共产党党内统计公报), which the screens show.
OCCUPATION = Vocabulary("occupation", {
    "worker": ("工人", "工勤技能人员", "产业工人", "进城务工人员", "农民工"),
    "farmer": ("农牧渔民", "农民", "牧民", "渔民"),
    "professional": ("专业技术人员", "企事业单位、社会组织专业技术人员"),
    "manager": ("企事业单位、社会组织管理人员", "管理人员", "企事业单位管理人员"),
    "party_government": ("党政机关工作人员", "机关工作人员", "公务员", "党政机关公务员", "参照公务员法管理人员",
                         "party/government"),
    "student": ("学生", "在校学生", "研究生在校生"),
    "other": ("其他职业人员", "其他", "无固定职业", "自由职业者", "军人", "解放军", "武警"),
    "retired": ("离退休人员", "离退休", "退休", "离休", "退休人员"),
}, rules=(("离退休", "retired"), ("退休", "retired"), ("离休", "retired"), ("学生", "student"),
          ("专业技术人员", "professional"), ("管理人员", "manager"), ("公务员", "party_government"),
          ("机关工作人员", "party_government"), ("工勤", "worker"), ("工人", "worker"), ("农", "farmer"),
          ("牧", "farmer"), ("渔", "farmer"), ("其他", "other")))

POST = Vocabulary("post", {
    "secretary": ("书记", "党委书记", "总支书记", "支部书记", "党支部书记"),
    "deputy_secretary": ("副书记", "党委副书记", "支部副书记", "deputy secretary"),
    "committee_member": ("委员", "党委委员", "支委", "支部委员", "committee member"),
    "group_leader": ("党小组组长", "组长", "小组长", "group leader"),
})

LINK_KIND = Vocabulary("link kind", {
    "partnership": ("共建", "结对共建", "党建共建", "co-building"),
})

# GB/T 3304: the 56 groups in the standard's order, then its two extra codes.
# English names as in data/statistics.json (tests check they agree).
_ETHNIC_GROUPS = (
    ("Han", "汉族"), ("Mongol", "蒙古族"), ("Hui", "回族"), ("Tibetan", "藏族"), ("Uyghur", "维吾尔族"),
    ("Miao", "苗族"), ("Yi", "彝族"), ("Zhuang", "壮族"), ("Buyei", "布依族"), ("Korean", "朝鲜族"),
    ("Manchu", "满族"), ("Dong", "侗族"), ("Yao", "瑶族"), ("Bai", "白族"), ("Tujia", "土家族"),
    ("Hani", "哈尼族"), ("Kazakh", "哈萨克族"), ("Dai", "傣族"), ("Li", "黎族"), ("Lisu", "傈僳族"),
    ("Wa", "佤族"), ("She", "畲族"), ("Gaoshan", "高山族"), ("Lahu", "拉祜族"), ("Sui", "水族"),
    ("Dongxiang", "东乡族"), ("Naxi", "纳西族"), ("Jingpo", "景颇族"), ("Kyrgyz", "柯尔克孜族"), ("Tu", "土族"),
    ("Daur", "达斡尔族"), ("Mulao", "仫佬族"), ("Qiang", "羌族"), ("Blang", "布朗族"), ("Salar", "撒拉族"),
    ("Maonan", "毛南族"), ("Gelao", "仡佬族"), ("Xibe", "锡伯族"), ("Achang", "阿昌族"), ("Pumi", "普米族"),
    ("Tajik", "塔吉克族"), ("Nu", "怒族"), ("Uzbek", "乌孜别克族"), ("Russian", "俄罗斯族"), ("Ewenki", "鄂温克族"),
    ("De'ang", "德昂族"), ("Bonan", "保安族"), ("Yugur", "裕固族"), ("Gin", "京族"), ("Tatar", "塔塔尔族"),
    ("Derung", "独龙族"), ("Oroqen", "鄂伦春族"), ("Hezhen", "赫哲族"), ("Monba", "门巴族"), ("Lhoba", "珞巴族"),
    ("Jino", "基诺族"),
    ("Unrecognised", "其他未识别民族"), ("Naturalised", "外国血统中国籍人士"),
)
_ETHNIC_VARIANTS = {"Uyghur": ("Uygur", "Uighur"), "Gin": ("Jing",), "Korean": ("Chaoxian",), "Unrecognised": ("其他", "未识别民族")}

ETHNICITY = Vocabulary("ethnicity", {
    name: (zh, zh.removesuffix("族"), *_ETHNIC_VARIANTS.get(name, ()))
    for name, zh in _ETHNIC_GROUPS
})
