// 通行证 (P1–P8): log in, register, the account page, password and email recovery, 找回已报名账号.
import { $, ApiError, api, captchaField, html, idTypeSelect, onSubmit, showError, toast, wireCaptcha } from "../lib.js";
import { state, go, setPage, loadAccount, header, sessionStarted } from "../core.js";

export async function loginPage(params) {
  await header();
  setPage("考生登录", html`<div class="card narrow"><h2>考生登录 <small class="hint">LOGIN</small></h2>
  <form id="login" novalidate>
    <p class="error" role="alert"></p>
    <div class="field"><label for="email" class="req">账号</label><input id="email" name="email" type="email" autocomplete="username" required placeholder="注册邮箱"></div>
    <div class="field"><label for="password" class="req">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <a href="/password/recovery" data-link>找回密码</a></div>
    ${captchaField()}
    <div class="actions"><button type="submit">登录</button><button type="reset" class="secondary">重置</button></div>
    <p>没有通行证？<a href="/register" data-link>点击注册</a> ｜ 忘记已报名账号？<a href="/account-recovery" data-link>找回账号</a></p>
  </form></div>`);
  const form = $("#login");
  await wireCaptcha(form);
  onSubmit(form, async (data) => {
    if (!data.email || !data.password || !data.captcha_answer) throw new Error("请输入账号、密码及验证码");
    const session = await api("POST", "/passport/sessions", { email: data.email, password: data.password, captcha_token: data.captcha_token, captcha_answer: data.captcha_answer });
    sessionStarted(session.expires_in);
    await loadAccount();
    const next = params.get("next");
    go(next && next.startsWith("/") && !next.startsWith("//") ? next : "/start");
  });
}

const profileFields = (a = {}) => html`
  <div class="field"><label for="phone">手机</label><input id="phone" name="phone" type="tel" autocomplete="tel" value="${a.phone || ""}"></div>
  <div class="field"><label for="id_type">证件类型</label>${idTypeSelect("id_type", { required: false, selected: a.id_type || "" })}</div>
  <div class="field"><label for="id_number">证件号</label><input id="id_number" name="id_number" type="text" value="${a.id_number || ""}"></div>
  <div class="field"><label for="name">姓名</label><input id="name" name="name" type="text" autocomplete="name" value="${a.name || ""}"></div>`;

function profileBody(data) {
  const body = {};
  for (const key of ["phone", "id_type", "id_number", "name"]) if (data[key]) body[key] = data[key];
  return body;
}

export async function registerPage() {
  await header();
  setPage("注册通行证账号", html`<div class="card narrow"><h2>注册通行证账号</h2>
  <form id="register" novalidate>
    <p class="error" role="alert"></p>
    <div class="field"><label for="email" class="req">电子邮箱</label><input id="email" name="email" type="email" autocomplete="email" required></div>
    <div class="field"><label for="password" class="req">密码</label><input id="password" name="password" type="password" autocomplete="new-password" required></div>
    <div class="field"><label for="confirm_password" class="req">确认密码</label><input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required></div>
    <fieldset><legend>个人资料（选填）</legend>${profileFields()}</fieldset>
    ${captchaField()}
    <div class="actions"><button type="submit">提交</button></div>
  </form></div>`);
  const form = $("#register");
  await wireCaptcha(form);
  onSubmit(form, async (data) => {
    if (data.password !== data.confirm_password) throw new Error("两次输入的密码不一致");
    const answer = await api("POST", "/passport/accounts", {
      email: data.email, password: data.password, confirm_password: data.confirm_password,
      captcha_token: data.captcha_token, captcha_answer: data.captcha_answer, ...profileBody(data),
    });
    setPage("注册成功", html`<div class="card narrow"><h2>注册成功</h2><p class="success" role="status">${answer.message}</p>
      <p><a class="button" href="/login" data-link>登录</a></p></div>`);
  });
}

export async function accountPage(params) {
  if (!state.account) await loadAccount();
  if (!state.account) throw new ApiError(401, { title: "请先登录" });
  await header();
  const a = state.account;
  const mode = params.get("edit");
  setPage("账号信息", html`<div class="card"><h2>账号信息</h2>
    <div class="actions flush"><a class="button secondary" href="/account?edit=profile" data-link>修改资料</a>
      <a class="button secondary" href="/account?edit=password" data-link>修改密码</a></div>
    <p class="error" role="alert" id="account-error"></p>
    <dl class="kv" id="account-info">
      <dt>通行证ID</dt><dd id="passport-id">${a.passport_id}</dd>
      <dt>电子邮箱</dt><dd>${a.email} ${a.email_verified ? html`<span class="success">（已验证）</span>` : html`<button type="button" class="link" id="verify-email">验证邮箱</button>`}</dd>
      <dt>手机</dt><dd>${a.phone || ""}</dd>
      <dt>证件类型</dt><dd>${a.id_type_label || ""}</dd>
      <dt>证件号</dt><dd>${a.id_number || ""}</dd>
      <dt>姓名</dt><dd>${a.name || ""}</dd>
    </dl></div>
    ${mode === "profile" ? html`<div class="card"><h3>修改资料</h3>
      <form id="profile" novalidate><p class="error" role="alert"></p>${profileFields(a)}
      <div class="actions"><button type="submit">保存资料</button></div></form>
      <h3>修改电子邮箱</h3><form id="email-change" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="new_email" class="req">电子邮箱</label><input id="new_email" name="new_email" type="email" required></div>
      ${captchaField("captcha-email")}<div class="actions"><button type="submit">提交</button></div></form></div>` : ""}
    ${mode === "password" ? html`<div class="card narrow"><h3>修改密码</h3><form id="password-change" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="old_password" class="req">原密码</label><input id="old_password" name="old_password" type="password" autocomplete="current-password" required></div>
      <div class="field"><label for="new_password" class="req">新密码</label><input id="new_password" name="new_password" type="password" autocomplete="new-password" required></div>
      <div class="field"><label for="confirm_password" class="req">确认新密码</label><input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required></div>
      <div class="actions"><button type="submit">提交</button></div></form></div>` : ""}`);
  $("#verify-email")?.addEventListener("click", async () => {
    try { toast((await api("POST", "/passport/me/email/verification")).message); } catch (e) { showError($("#account-error"), e); }
  });
  const profile = $("#profile");
  if (profile) {
    onSubmit(profile, async (data) => {
      toast((await api("PUT", "/passport/me/profile", profileBody(data))).message);
      await loadAccount();
      go("/account", { replace: true });
    });
    const emailForm = $("#email-change");
    await wireCaptcha(emailForm);
    onSubmit(emailForm, async (data) => {
      const answer = await api("POST", "/passport/me/email", { new_email: data.new_email, captcha_token: data.captcha_token, captcha_answer: data.captcha_answer });
      emailForm.innerHTML = String(html`<p class="success" role="status">${answer.message}</p>`);
    });
  }
  const password = $("#password-change");
  if (password) {
    onSubmit(password, async (data) => {
      if (data.new_password !== data.confirm_password) throw new Error("两次输入的新密码不一致");
      const answer = await api("POST", "/passport/me/password", data);
      password.innerHTML = String(html`<p class="success" role="status">${answer.message}</p>`);
    });
  }
}

export async function passwordRecoveryPage() {
  await header();
  setPage("找回密码", html`<div class="card narrow"><h2>找回密码</h2>
  <form id="recovery" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="email" class="req">邮箱</label><input id="email" name="email" type="email" autocomplete="email" required></div>
    ${captchaField()}<div class="actions"><button type="submit">找回密码</button></div></form></div>`);
  const form = $("#recovery");
  await wireCaptcha(form);
  onSubmit(form, async (data) => {
    const answer = await api("POST", "/passport/password/recovery", data);
    form.innerHTML = String(html`<h3>完成找回密码</h3><p class="success" role="status">${answer.message}</p>`);
  });
}

export async function passwordResetPage(params) {
  await header();
  const token = params.get("token") || "";
  setPage("重置密码", html`<div class="card narrow"><h2>重置密码</h2>
  <form id="reset" novalidate><p class="error" role="alert">${token ? "" : "链接无效，请重新找回密码"}</p>
    <div class="field"><label for="email" class="req">邮箱</label><input id="email" name="email" type="email" autocomplete="username" required></div>
    <div class="field"><label for="password" class="req">新密码</label><input id="password" name="password" type="password" autocomplete="new-password" required></div>
    <div class="field"><label for="confirm_password" class="req">确认密码</label><input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required></div>
    <div class="actions"><button type="submit">提交</button></div></form></div>`);
  const form = $("#reset");
  onSubmit(form, async (data) => {
    if (data.password !== data.confirm_password) throw new Error("两次输入的密码不一致");
    const answer = await api("POST", "/passport/password/reset", { token, ...data });
    form.innerHTML = String(html`<p class="success" role="status">${answer.message}</p><p><a class="button" href="/login" data-link>重新登录</a></p>`);
  });
}

export async function emailVerifyPage(params) {
  await header();
  setPage("验证邮箱", html`<div class="card narrow"><h2>验证邮箱</h2><p id="verify-result" role="status">正在验证…</p>
    <p class="error" role="alert"></p><p><a href="/account" data-link>账号信息</a></p></div>`);
  try {
    const answer = await api("POST", "/passport/email/verify", { token: params.get("token") || "" });
    $("#verify-result").textContent = answer.message;
    $("#verify-result").className = "success";
  } catch (error) {
    $("#verify-result").textContent = "";
    showError($("#main .card"), error);
  }
}

export async function accountRecoveryPage() {
  await header();
  setPage("找回已报名账号", html`<div class="card narrow"><h2>最近考次报名账号找回</h2>
  <form id="account-recovery" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="id_type" class="req">证件类型</label>${idTypeSelect()}</div>
    <div class="field"><label for="id_number" class="req">证件号码</label><input id="id_number" name="id_number" type="text" required></div>
    <div class="field"><label for="name" class="req">姓名</label><input id="name" name="name" type="text" required></div>
    ${captchaField()}<div class="actions"><button type="submit">提交</button></div></form>
  <div id="recovered" role="status"></div></div>`);
  const form = $("#account-recovery");
  await wireCaptcha(form);
  onSubmit(form, async (data) => {
    if (!data.id_type || !data.id_number || !data.name) throw new Error("请填写证件类型、证件号码和姓名");
    const answer = await api("POST", "/eligibility/account-recovery", data);
    form.refreshCaptcha();
    if (!answer.found) throw new Error(answer.message);
    $("#recovered").innerHTML = String(html`<p class="success">${answer.message}！</p><p>您的通行证账号为：<strong id="recovered-email">${answer.email}</strong></p>
      <p><a class="button" href="/" data-link>首页</a></p>`);
  });
}
