"""Service halls for the demo cities, generated from the city's own townships.

``small``: the county centre and one hall per township (11 halls). ``shangrao``: a Shanggao-like
set of 24 halls (the county centre and 23 township halls) with about ten windows each. The same
city and seed always give the same halls.
"""

from __future__ import annotations

import random

from backend.halls.model import DEFAULT_HOURS, Hall, HallData, HallStaff, Shift, Window
from backend.refdata.model import CityData

#: How many halls each demo city watches (Shanggao: 24 halls under video supervision).
HALL_COUNT = {"small": 11, "shangrao": 24}

#: 事项: what windows serve, grouped as a township hall groups them.
SERVICES: tuple[tuple[str, ...], ...] = (
    ("社保参保登记", "社保待遇申领"),
    ("医保参保", "医保报销"),
    ("户籍迁移", "居民身份证"),
    ("最低生活保障", "临时救助", "特困供养"),
    ("不动产登记", "宅基地审批"),
    ("农业补贴", "土地承包"),
    ("退役军人服务", "优抚"),
    ("残疾人证", "残疾人补贴"),
    ("生育登记", "计划生育奖励扶助"),
    ("个体工商户登记", "食品经营许可"),
    ("税费缴纳", "发票代开"),
    ("公积金提取", "公积金贷款"),
    ("综合受理", "咨询引导"),
    ("水电气报装",),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉"
MORNING = ("08:30", "12:00")
AFTERNOON = ("14:00", "17:30")


def generate_halls(city: CityData, kind: str = "small", seed: int = 7) -> HallData:
    """The halls of a demo city: the first county's centre, then township halls."""
    rng = random.Random(f"gridwatch:halls:{kind}:{seed}")
    count = HALL_COUNT.get(kind, 11)
    counties = city.areas_at("county")
    townships = city.areas_at("township")
    first = counties[0]
    ordered = [t for t in townships if t.parent_code == first.code]
    ordered += [t for t in townships if t.parent_code != first.code]
    halls = [Hall(f"H{first.code}", f"{first.name}便民服务中心", "county", first.code, first.code)]
    for t in ordered[: count - 1]:
        county = t.parent_code or first.code
        halls.append(Hall(f"H{t.code}", f"{t.name}便民服务中心", "township", t.code, county))
    windows: list[Window] = []
    staff: list[HallStaff] = []
    shifts: list[Shift] = []
    for h in halls:
        n = rng.randint(12, 16) if h.kind == "county" else rng.randint(8, 12)
        for i in range(1, n + 1):
            code = f"{i:02d}"
            services = SERVICES[(i - 1) % len(SERVICES)]
            windows.append(Window(h.code, code, f"{i}号窗口", services))
            people = 1 if rng.random() < 0.6 else 2
            for k in range(people):
                sid = f"{h.code}-{code}-{k + 1}"
                name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2)))
                phone = f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}"
                staff.append(HallStaff(sid, name, h.code, code, phone))
                # one person works the whole day; two split it, morning and afternoon
                if k == 0:
                    shifts.append(Shift(sid, h.code, code, *MORNING))
                if k == 1 or people == 1:
                    shifts.append(Shift(sid, h.code, code, *AFTERNOON))
    return HallData(halls, windows, staff, shifts)


__all__ = ["DEFAULT_HOURS", "HALL_COUNT", "generate_halls"]
