"""What the portal must notice about itself in every browser test: CSP violations, console errors,
uncaught exceptions and unhandled promise rejections, failed requests and error answers, and any
request that leaves the gateway. A test that provokes a refusal on purpose says which
(`Visit.expect_failure(path, status)`); everything else fails the test at teardown."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The page reports what only it can see: CSP violations and promise rejections nobody handled.
PAGE_WATCH = """
window.addEventListener("securitypolicyviolation", (e) => {
  window.__cetFault?.(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || location.pathname}:${e.lineNumber}`);
});
window.addEventListener("unhandledrejection", (e) => {
  window.__cetFault?.(`unhandled promise rejection: ${e.reason && e.reason.stack || e.reason}`);
});
"""

# Questions the portal asks knowing "no" is an answer it handles, not a fault: who is logged in
# (401 for a visitor, and 401 to the renewal it then tries), whether enrolment has the registration just saved yet (404 while its
# projection catches up; the portal waits and asks again), whether a CET6 review exists (404: none).
ALWAYS_EXPECTED = (
    ("GET", "/api/passport/me", 401),
    ("POST", "/api/passport/sessions/refresh", 401),
    ("GET", "/api/enrolment/me/registration", 404),
    ("GET", "/api/eligibility/cet6-review", 404),
)


@dataclass
class Faults:
    gateway: str
    own: tuple[str, ...]  # origins the portal may load from (the gateway, data:, the payment sandbox)
    expected: list[tuple[str, int]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status) of every 4xx/5xx

    async def watch(self, context) -> None:
        await context.expose_binding("__cetFault", lambda _source, message: self.seen.append(str(message)))
        await context.add_init_script(PAGE_WATCH)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.seen.append(f"uncaught: {error.error}"))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)
        context.on("request", self._request)

    def _console(self, message) -> None:
        # "Failed to load resource: … status of 409" repeats an answer already judged in _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded"):
            self.seen.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _request(self, request) -> None:
        if not request.url.startswith(self.own):
            self.seen.append(f"request outside the gateway: {request.url}")

    def _request_failed(self, request) -> None:
        reason = request.failure or ""
        # Chromium aborts what a page still had in flight when it is left (a link, a form post to the
        # payment gateway, a download handed to the download manager); the portal itself never aborts.
        if reason == "net::ERR_ABORTED":
            return
        self.seen.append(f"request failed: {request.method} {request.url} {reason}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.answers.append((response.request.method, urlsplit(response.url).path, response.status))

    def unexpected(self) -> list[str]:
        found = list(self.seen)
        for method, path, status in self.answers:
            if (method, path, status) in ALWAYS_EXPECTED:
                continue
            if not any(path.startswith(prefix) and status == code for prefix, code in self.expected):
                found.append(f"error answer nobody expected: {method} {path} {status}")
        return found
