"""What a staff member may read (issue 15, least privilege): operations everything, a province
administrator their province, a school teacher their school. Asking for another school or province
is refused with 403 `out_of_scope` (the same answer whether or not it exists)."""

from __future__ import annotations

from dataclasses import dataclass

from cet_shared.auth import Principal
from cet_shared.problems import Problem, forbidden


def out_of_scope() -> Problem:
    return Problem(403, "out_of_scope", "无权查看其他学校或省份的数据")


@dataclass(frozen=True)
class ReadScope:
    """None: not narrowed. A school implies its province (the first two digits of its code)."""

    province: str | None = None
    school: str | None = None

    def narrowed(self, *, province: str | None = None, school: str | None = None) -> ReadScope:
        """The filter a reader asked for, inside this scope (or out_of_scope)."""
        other_school = school is not None and self.school is not None and school != self.school
        school_elsewhere = school is not None and self.province is not None and school[:2] != self.province
        other_province = province is not None and self.province is not None and province != self.province
        if other_school or school_elsewhere or other_province:
            raise out_of_scope()
        return ReadScope(province=province or self.province or (school[:2] if school else None), school=school or self.school)


def read_scope(principal: Principal, *, roles: tuple[str, ...] = ("ops", "province_admin", "teacher")) -> ReadScope:
    """The scope of the first of `roles` the principal holds (the most privileged first)."""
    for role in roles:
        if not principal.has(role):
            continue
        if role == "province_admin":
            if principal.province_code:
                return ReadScope(province=principal.province_code)
        elif role == "teacher":
            if principal.school_code:
                return ReadScope(province=principal.school_code[:2], school=principal.school_code)
        else:
            return ReadScope()
    raise forbidden()
