"""Staff scopes (issue 15, least privilege; README "Staff scopes"), the one way every service checks
them: operations act everywhere, a province administrator in their province, a school teacher in
their school. `read_scope` is a caller's scope, `require_scoped_role` the same check as a route's
dependency. Holding none of the roles asked for is 403 `forbidden`; a scoped role without its scope
is 403 `teacher_without_school` / `province_admin_without_province`; asking for another school or
province is 403 `out_of_scope` (the same answer whether or not it exists); a record outside the
scope, asked for by its id, is 404 as if it did not exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends

from cet_shared.auth import CurrentPrincipal, Principal
from cet_shared.problems import Problem, forbidden

# Every staff role that reads, the most privileged first: the first one held gives the scope.
STAFF_READERS = ("ops", "province_admin", "teacher")
_NO_SCOPE = {
    "teacher": ("teacher_without_school", "教师账号未关联学校"),
    "province_admin": ("province_admin_without_province", "省级管理员账号未关联省份"),
}


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


def _scope_as(role: str, principal: Principal) -> ReadScope | None:
    """What `role` lets the principal reach; None: a scoped role whose scope the token lacks."""
    if role == "province_admin":
        return ReadScope(province=principal.province_code) if principal.province_code else None
    if role == "teacher":
        return ReadScope(province=principal.school_code[:2], school=principal.school_code) if principal.school_code else None
    return ReadScope()  # ops, support: not narrowed


def read_scope(principal: Principal, *, roles: tuple[str, ...] = STAFF_READERS) -> ReadScope:
    """The scope of the first of `roles` the principal holds with its scope."""
    held = [role for role in roles if principal.has(role)]
    if not held:
        raise forbidden()
    for role in held:
        scope = _scope_as(role, principal)
        if scope is not None:
            return scope
    raise Problem(403, *_NO_SCOPE[held[0]])


def require_scoped_role(*roles: str) -> Any:  # what Depends() returns: a FastAPI dependency marker
    """Dependency: the caller holds one of `roles` and, for a scoped role, carries its scope (`read_scope`)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        read_scope(principal, roles=roles)
        return principal

    return Depends(check)
