"""Who did what, in words: the actor codes of the event log as the leader reads them."""

from __future__ import annotations

from backend.queries.people import Person
from layouts.leader import words


def test_actors_are_named_in_the_readers_language(system):
    ref = system.ref
    unit = sorted(ref.units)[0]
    staff = {"GW000001": Person("GW000001", "张三", unit)}
    name = ref.units[unit].name
    assert words.actor("clock", staff, ref, "zh") == "系统时钟"
    assert words.actor("clock", staff, ref, "en") == "system clock"
    assert words.actor("sim:grid_worker", staff, ref, "zh") == "模拟网格员"
    assert words.actor(f"sim:{unit}", staff, ref, "zh") == f"模拟承办人（{name}）"
    assert words.actor("leader:web", staff, ref, "zh") == "领导（驾驶舱）"
    assert words.actor("citizen:qr", staff, ref, "zh") == "群众（扫码上报）"
    assert words.actor("api:hotline-12345", staff, ref, "zh") == "接口：hotline-12345"
    assert words.actor("user:zhang", staff, ref, "zh") == "用户 zhang"
    assert words.actor("GW000001", staff, ref, "zh") == f"张三（{name}）"
    assert words.person("GW000001", staff, ref, "en") == f"张三 ({name})"
    assert words.person_name("GW000001", staff, ref, "zh") == "张三"
    # a code on no one's card is said to be one, not passed off as a name
    assert words.person("H2853", staff, ref, "zh") == "其他（H2853）"
    assert words.person(None, staff, ref, "zh") == "—"
    assert words.risk_basis("unit+category", 34, "zh") == "同单位同类 34 件"
    assert words.risk_basis("past due", 0, "zh") == "已超过时限"
    assert words.risk_basis(None, None, "zh") == "—"
