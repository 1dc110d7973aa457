"""Issue 15, least privilege: who reads which slice of the audit trail and the exports."""

from __future__ import annotations

import pytest

from cet_shared.auth import Principal
from cet_shared.problems import Problem
from cet_shared.staff_scope import ReadScope, read_scope


def principal(*roles: str, school: str | None = None, province: str | None = None) -> Principal:
    return Principal("A" * 32, frozenset(roles), school_code=school, province_code=province)


def test_operations_read_everything_and_may_narrow_to_any_school() -> None:
    assert read_scope(principal("ops")) == ReadScope()
    assert read_scope(principal("ops")).narrowed(school="99101") == ReadScope(province="99", school="99101")


def test_a_province_administrator_reads_their_province_only() -> None:
    scope = read_scope(principal("province_admin", province="99"))
    assert scope == ReadScope(province="99")
    assert scope.narrowed(school="99301") == ReadScope(province="99", school="99301")
    for other in ({"province": "11"}, {"school": "11101"}):
        with pytest.raises(Problem) as refused:
            scope.narrowed(**other)
        assert refused.value.status == 403 and refused.value.code == "out_of_scope"


def test_a_teacher_reads_their_school_only_and_others_nothing() -> None:
    scope = read_scope(principal("teacher", school="99101"))
    assert scope == ReadScope(province="99", school="99101") == scope.narrowed(province="99", school="99101")
    with pytest.raises(Problem, match="out_of_scope"):
        scope.narrowed(school="99301")
    # no staff reader, or a scoped role without its scope: the answers require_scoped_role gives too
    for nobody, code in (
        (principal("candidate"), "forbidden"),
        (principal("support"), "forbidden"),
        (principal("teacher"), "teacher_without_school"),
        (principal("province_admin"), "province_admin_without_province"),
    ):
        with pytest.raises(Problem) as refused:
            read_scope(nobody)
        assert refused.value.status == 403 and refused.value.code == code
