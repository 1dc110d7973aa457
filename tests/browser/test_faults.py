"""The fault collector itself (faults.py): every kind of fault a page can meet is noticed, so a
browser test that passes met none of them. The page here misbehaves on purpose; the test then
takes the faults it asserted on off the list, so the visit's own teardown check passes."""

from __future__ import annotations

from cet_shared.testing import wait_for

MISBEHAVE = """() => {
  const styled = document.createElement("div");
  styled.setAttribute("style", "color: red");           // blocked: style-src 'self' has no 'unsafe-inline'
  document.body.append(styled);
  console.error("a console error");
  Promise.reject(new Error("a rejection nobody handles"));
  setTimeout(() => { throw new Error("an uncaught exception"); });
  fetch("/api/enrolment/ops/news").catch(() => {});      // 401: no token
  fetch("/api/enrolment/news?refused").catch(() => {});   // the connection is refused (routed below)
}"""
KINDS = (
    "CSP violation: style-src-attr",
    "console error: a console error",
    "unhandled promise rejection: Error: a rejection nobody handles",
    "uncaught: ",
    "request failed: GET",
    "error answer nobody expected: GET /api/enrolment/ops/news 401",
)


async def test_every_kind_of_fault_is_noticed(visit) -> None:
    v = await visit()
    page = v.page
    await page.goto("/faq")
    await page.route("**/api/enrolment/news?refused", lambda route: route.abort("connectionrefused"))
    await page.evaluate(MISBEHAVE)

    def noticed() -> bool:
        found = v.faults.unexpected()
        return all(any(kind in fault for fault in found) for kind in KINDS)

    await wait_for(noticed, timeout=10, what=f"every kind of fault noticed: {KINDS}")
    assert any("a rejection nobody handles" in f for f in v.faults.seen)
    assert any("an uncaught exception" in f for f in v.faults.seen)
    # What a test declares it provokes is not a fault; nothing else is forgiven.
    v.expect_failure("/api/enrolment/ops/news", 401)
    assert not any("/api/enrolment/ops/news" in f for f in v.faults.unexpected())
    v.faults.seen.clear()
