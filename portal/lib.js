// Shared by the candidate portal and the staff console: the /api client and small DOM helpers.
// The access token lives only in the HttpOnly, SameSite=Strict cookie passport sets at log-in;
// no script here ever sees it, and nothing is kept in localStorage.

export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super((problem.title || "请求未能完成") + (retryAfter ? `（${whenToRetry(retryAfter)}）` : ""));
    this.status = status;
    this.code = problem.code || "error";
    this.problem = problem;
    this.retryAfter = retryAfter; // seconds, from a 429's retry_after (or its Retry-After header)
  }
}

export function whenToRetry(seconds) {
  if (seconds < 60) return `${seconds}秒后可再试`;
  return `${Math.ceil(seconds / 60)}分钟后可再试`;
}

function retryAfterOf(response, problem) {
  if (response.status !== 429 && response.status !== 503) return null;
  const value = Number(problem?.retry_after ?? response.headers.get("retry-after"));
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : null;
}

const NETWORK_ERROR = { title: "网络连接失败，请检查网络后重试", code: "network_error" };

// The access token is short-lived; a 401 first asks `renewSession` (the portal sets it: core.js) for a
// new one through the refresh cookie, and the request is sent once more if it got one.
let renewSession = null;
export function renewSessionWith(renew) { renewSession = renew; }
const SESSION_PATHS = "/passport/sessions";

export async function api(method, path, body, { raw = false, contentType, headers: extra = {}, renewed = false } = {}) {
  const headers = { accept: "application/json, application/problem+json", ...extra };
  let payload;
  if (body !== undefined) {
    if (contentType) {
      headers["content-type"] = contentType;
      payload = body;
    } else {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch("/api" + path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, NETWORK_ERROR);
  }
  if (response.status === 401 && renewSession && !renewed && !path.startsWith(SESSION_PATHS) && (await renewSession())) {
    return api(method, path, body, { raw, contentType, headers: extra, renewed: true });
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    // Every service answers RFC 9457 problem+json with a Chinese title; anything else is the gateway.
    const problem = data && data.title ? data : { title: response.status >= 500 ? "系统繁忙，请稍后再试" : "请求未能完成", code: "http_" + response.status };
    throw new ApiError(response.status, problem, retryAfterOf(response, data));
  }
  return data;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

// html`...` escapes every interpolated value unless it is already markup made by html``.
class Markup { constructor(s) { this.s = s; } toString() { return this.s; } }
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => {
    if (Array.isArray(v)) out += v.map((x) => (x instanceof Markup ? x.s : esc(x))).join("");
    else if (v instanceof Markup) out += v.s;
    else if (v !== false && v !== null && v !== undefined) out += esc(v);
    out += strings[i + 1];
  });
  return new Markup(out);
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

export function formData(form) {
  const data = {};
  for (const [key, value] of new FormData(form).entries()) data[key] = typeof value === "string" ? value.trim() : value;
  for (const box of $$("input[type=checkbox][name]", form)) data[box.name] = box.checked;
  return data;
}

// Shows an error where the user is looking: in the form's alert region, focused for screen readers.
export function showError(target, error) {
  const region = target.matches?.(".error") ? target : $(".error[role=alert]", target);
  let message = error instanceof ApiError ? error.message : String(error?.message || error || "");
  // A Chinese detail (e.g. why a password is too weak) says what to change.
  const detail = error?.problem?.detail;
  if (detail && /[\u4e00-\u9fff]/.test(detail)) message += "：" + detail;
  if (!region) { toast(message); return; }
  // A 422 names the fields it refused: say which, in the form's own words, and mark them.
  const form = region.closest("form") || target.closest?.("form");
  $$("[aria-invalid=true]", form || document).forEach((field) => field.removeAttribute("aria-invalid"));
  const fields = (error?.problem?.errors || [])
    .map((e) => form && form.querySelector(`[name="${CSS.escape(String((e.loc || []).at(-1)))}"]`))
    .filter(Boolean);
  if (fields.length) {
    fields.forEach((field) => field.setAttribute("aria-invalid", "true"));
    const labels = fields.map((field) => form.querySelector(`label[for="${CSS.escape(field.id)}"]`)?.textContent.trim()).filter(Boolean);
    if (labels.length) message += `（请检查：${[...new Set(labels)].join("、")}）`;
  }
  region.textContent = message;
  region.setAttribute("tabindex", "-1");
  region.focus({ preventScroll: false });
}

export function clearError(target) {
  const region = target.matches?.(".error") ? target : $(".error[role=alert]", target);
  if (region) region.textContent = "";
}

// A submit handler that disables the form's buttons while the request runs and shows its error.
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const buttons = $$("button", form);
    buttons.forEach((b) => (b.disabled = true));
    try {
      await handler(formData(form), form, event.submitter);
    } catch (error) {
      showError(form, error);
      if (form.refreshCaptcha) form.refreshCaptcha();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

let toastTimer;
export function toast(message) {
  let box = $("#toast");
  if (!box) {
    box = document.createElement("div");
    box.id = "toast";
    box.className = "toast";
    box.setAttribute("role", "status");
    document.body.append(box);
  }
  box.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.textContent = ""), 4000);
}

// The captcha field: GET /api/passport/captcha gives a sealed token and the image; every captcha
// works once, so it is redrawn after each attempt.
export function captchaField(id = "captcha") {
  return html`<div class="field">
    <label for="${id}" class="req">验证码</label>
    <div class="captcha">
      <input id="${id}" name="captcha_answer" type="text" autocomplete="off" autocapitalize="characters" maxlength="8" required aria-describedby="${id}-hint">
      <img alt="验证码图片，点击换一张" width="120" height="44" data-captcha-img tabindex="0" role="button">
      <input type="hidden" name="captcha_token">
    </div>
    <p class="hint" id="${id}-hint">看不清？点击图片换一张（不区分大小写）</p>
  </div>`;
}

export async function wireCaptcha(form) {
  const img = $("[data-captcha-img]", form);
  const token = $("input[name=captcha_token]", form);
  const answer = $("input[name=captcha_answer]", form);
  const load = async () => {
    try {
      const challenge = await api("GET", "/passport/captcha");
      img.src = challenge.image;
      token.value = challenge.captcha_token;
    } catch (error) {
      showError(form, error);
    }
    answer.value = "";
  };
  img.addEventListener("click", load);
  img.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); load(); } });
  form.refreshCaptcha = load;
  await load();
}

export const ID_TYPES = [
  ["resident_id_card", "中华人民共和国居民身份证"],
  ["taiwan_pass", "台湾居民往来大陆通行证"],
  ["hk_macao_pass", "港澳居民来往内地通行证"],
  ["passport", "护照"],
  ["hong_kong_id", "香港身份证"],
  ["macao_id", "澳门身份证"],
];
export const idTypeLabel = (value) => (ID_TYPES.find(([v]) => v === value) || [value, value])[1];

export function idTypeSelect(id = "id_type", { required = true, selected = "" } = {}) {
  return html`<select id="${id}" name="id_type" ${required ? new Markup("required") : ""}>
    <option value="">- 请选择 -</option>
    ${ID_TYPES.map(([v, label]) => html`<option value="${v}" ${v === selected ? new Markup("selected") : ""}>${label}</option>`)}
  </select>`;
}

export const SUBJECT_NAMES = {
  1: "英语四级笔试", 2: "英语六级笔试", 3: "日语四级笔试", 4: "日语六级笔试", 5: "德语四级笔试", 6: "德语六级笔试",
  7: "俄语四级笔试", 8: "俄语六级笔试", 9: "法语四级笔试", F: "英语四级口试", S: "英语六级口试",
};

export const yuan = (fen) => (Number(fen || 0) / 100).toFixed(2);

export function fmtTime(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

// The console's datetime-local fields mean Beijing time whatever the browser's own zone is
// (China has kept UTC+8 without daylight saving since 1991).
const SHANGHAI_OFFSET = "+08:00";
export function shanghaiInputToIso(value) {
  if (!value) return undefined;
  const seconds = value.length === 16 ? ":00" : "";
  return `${value}${seconds}${SHANGHAI_OFFSET}`;
}
export function isoToShanghaiInput(value) {
  if (!value) return "";
  const d = new Date(new Date(value).getTime() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
}

export { Markup };
