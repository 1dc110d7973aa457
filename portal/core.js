// What every page of the portal shares: the router, the header, who is logged in, dialogs.
// Each page is its own module (pages/*.js); app.js registers them in `routes`.
import { $, ApiError, api, html, renewSessionWith } from "./lib.js";

const main = $("#main");
export const state = {
  account: null, // GET /api/passport/me, or null when logged out
  home: null, // GET /api/eligibility/home
  // What the candidate just queried (E3) lives only in memory, for the confirmation page (E4).
  flow: { identity: null, query: null },
};

export const routes = {};

function notFoundPage() {
  setPage("页面不存在", html`<div class="card"><h2>页面不存在</h2><p><a href="/" data-link>返回首页</a></p></div>`);
}

export function go(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(link.getAttribute("href"));
});
window.addEventListener("popstate", render);

let renderId = 0;
export async function render() {
  const id = ++renderId;
  const page = routes[location.pathname] || notFoundPage;
  try {
    await page(new URLSearchParams(location.search), () => id === renderId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      state.account = null;
      await header();
      return go("/login?next=" + encodeURIComponent(location.pathname + location.search), { replace: true });
    }
    setPage("出错了", html`<div class="card"><p class="error" role="alert">${error.message}</p>
      <p><a href="/" data-link>返回首页</a></p></div>`);
  }
}

// Runs `task` every `ms` while the page is visible (document.visibilityState), at once when it
// becomes visible again, and never after the candidate has moved to another page.
export function whileVisible(ms, task, isCurrent) {
  let timer = null;
  const stop = () => { clearInterval(timer); timer = null; };
  const done = () => { stop(); document.removeEventListener("visibilitychange", onVisibility); };
  const tick = () => (isCurrent() ? task() : done());
  const start = () => { stop(); timer = setInterval(tick, ms); };
  const onVisibility = () => {
    if (!isCurrent()) return done();
    if (document.visibilityState === "visible") { tick(); start(); } else stop();
  };
  document.addEventListener("visibilitychange", onVisibility);
  if (document.visibilityState === "visible") start();
  return done;
}

export function setPage(title, body) {
  document.title = `${title} - 全国大学英语四、六级考试网上报名`;
  main.innerHTML = String(body);
  for (const link of document.querySelectorAll("nav.top a")) {
    if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// -- the session: renewed without the password ------------------------------------------------------
// Access tokens live minutes; passport's refresh cookie (HttpOnly, sent only to /api/passport/sessions)
// renews them shortly before they expire and whenever an answer is 401, so a candidate who keeps
// the portal open through a peak is never sent back to the log-in page. Each refresh token works
// once (one used twice ends the session), so renewals take turns: one at a time in a tab, and across
// the candidate's tabs through the Web Locks API, each sending the cookie the previous one received.

let renewal = null; // the renewal in flight in this tab
let renewTimer = null;
let noSession = false; // passport said there is no session to renew: ask again only after a log-in

async function refreshOnce() {
  try {
    const session = await api("POST", "/passport/sessions/refresh");
    sessionStarted(session.expires_in);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error; // busy or offline: say so, keep the session
    noSession = true;
    return false;
  }
}

export function renewSession() {
  if (noSession) return Promise.resolve(false);
  if (!renewal) {
    const turn = navigator.locks ? navigator.locks.request("cet-session-renewal", refreshOnce) : refreshOnce();
    renewal = turn.finally(() => { renewal = null; });
  }
  return renewal;
}
renewSessionWith(renewSession);

// Called with the access token's lifetime (seconds) after a log-in or a renewal.
export function sessionStarted(expiresIn) {
  noSession = false;
  clearTimeout(renewTimer);
  renewTimer = setTimeout(() => renewSession().catch(() => { /* the next 401 tries again */ }), Math.max(expiresIn - 60, 10) * 1000);
}

function sessionEnded() {
  clearTimeout(renewTimer);
  noSession = true;
}

// -- the header: 姓名 / 考次 / 退出 (E8) ---------------------------------------------------------------

export async function loadAccount() {
  try {
    state.account = await api("GET", "/passport/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) state.account = null;
    else throw error;
  }
  return state.account;
}

export async function header() {
  const who = $("#who");
  if (!state.account) {
    who.innerHTML = String(html`<a href="/login" data-link>登录</a><a href="/register" data-link>注册</a>`);
    return;
  }
  const name = state.home ? state.home.header_name : "未设置";
  const session = state.home && state.home.exam_session_name ? state.home.exam_session_name : "—";
  who.innerHTML = String(html`<span>姓名: <strong id="header-name">${name}</strong></span>
    <span>考次: ${session}</span><button type="button" class="link" id="logout">退出</button>`);
  $("#logout").addEventListener("click", async () => {
    try { await api("DELETE", "/passport/sessions"); } catch { /* the cookie is gone either way */ }
    sessionEnded();
    state.account = null;
    state.home = null;
    state.flow.identity = state.flow.query = null;
    await header();
    go("/");
  });
}

export async function requireCandidate() {
  if (!state.account) await loadAccount();
  if (!state.account) throw new ApiError(401, { title: "请先登录", code: "not_authenticated" });
  state.home = await api("GET", "/eligibility/home");
  await header();
  return state.home;
}

const STEPS = ["注册", "登录", "资格验证", "笔试报名缴费", "口试报名缴费", "报名成功"];
export const stepsBar = (done = 0) => html`<ol class="steps" aria-label="报名流程">${STEPS.map((s, i) => html`<li class="${i < done ? "done" : ""}">${s}</li>`)}</ol>`;

// -- shared by the enrolment pages ---------------------------------------------------------------

export async function enrolmentRegistration(isCurrent) {
  // Right after 保存并继续 the registration reaches enrolment through Kafka; wait a moment for it.
  for (let attempt = 0; ; attempt++) {
    try {
      return await api("GET", "/enrolment/me/registration");
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "registration_not_found") || attempt >= 20 || !isCurrent()) throw error;
      if (attempt === 0) setPage("报名信息", html`<div class="card"><p role="status">报名信息同步中，请稍候…</p></div>`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export const noticeList = (items) => items.length ? html`${items.map((n) => html`<article class="notice-item"><h4>${n.title}</h4>${n.body.split("\n").map((line) => html`<p>${line}</p>`)}</article>`)}` : html`<p class="hint">暂无</p>`;

export function confirmDialog(title, body, okLabel, cancelLabel = "取消") {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.setAttribute("aria-labelledby", "dlg-title");
    dialog.innerHTML = String(html`<h2 id="dlg-title">${title}</h2>${body}
      <div class="actions"><button type="button" data-ok>${okLabel}</button><button type="button" class="secondary" data-cancel>${cancelLabel}</button></div>`);
    let answer = false;
    $("[data-ok]", dialog).addEventListener("click", () => { answer = true; dialog.close(); });
    $("[data-cancel]", dialog).addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    $("[data-ok]", dialog).focus();
  });
}
