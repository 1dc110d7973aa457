// 管理人员登录: the password, then a code from an authenticator app. At the first log-in the
// console shows the QR code (and the otpauth link and key to type by hand) to enrol, then the
// recovery codes once.
import { $, api, captchaField, html, onSubmit, wireCaptcha } from "../lib.js";

export async function loginView(main, onLoggedIn) {
  $("#who").textContent = "";
  main.innerHTML = String(html`<div class="card narrow"><h2>管理人员登录</h2><form id="login" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="email" class="req">账号</label><input id="email" name="email" type="email" autocomplete="username" required></div>
    <div class="field"><label for="password" class="req">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
    ${captchaField()}<div class="actions"><button type="submit">登录</button></div></form></div>`);
  const form = $("#login");
  await wireCaptcha(form);
  onSubmit(form, async (data) => {
    const challenge = await api("POST", "/passport/staff/sessions", data);
    secondFactorView(main, challenge, onLoggedIn);
  });
}

function secondFactorView(main, challenge, onLoggedIn) {
  const enrol = challenge.second_factor === "enrol";
  main.innerHTML = String(html`<div class="card narrow"><h2>${enrol ? "绑定动态验证码" : "动态验证码"}</h2>
    ${enrol ? html`<p class="hint">首次登录须绑定身份验证器：请用手机上的身份验证器应用扫描二维码，或手动输入密钥，然后填写应用显示的6位动态验证码。</p>
      <p><img id="totp-qr" src="${challenge.qr_svg}" alt="动态验证码绑定二维码" width="180" height="180"></p>
      <dl class="kv"><dt>密钥</dt><dd><code id="totp-secret">${challenge.secret}</code></dd>
        <dt>绑定链接</dt><dd><a id="totp-uri" href="${challenge.otpauth_uri}">在本机的身份验证器中打开</a></dd></dl>` : html`<p class="hint">请填写身份验证器应用显示的6位动态验证码；手机丢失时可填写恢复码。</p>`}
    <form id="second-factor" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="totp-code">${enrol ? "6位动态验证码" : "动态验证码"}</label><input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"></div>
      ${enrol ? "" : html`<div class="field"><label for="recovery-code">恢复码（手机丢失时）</label><input id="recovery-code" name="recovery_code" type="text" autocomplete="off" maxlength="32"></div>`}
      <div class="actions"><button type="submit">验证并登录</button></div></form></div>`);
  const form = $("#second-factor");
  $("#totp-code").focus();
  onSubmit(form, async (data) => {
    const body = { challenge: challenge.challenge };
    if (data.recovery_code) body.recovery_code = data.recovery_code;
    else if (data.code) body.code = data.code;
    else throw new Error("请填写动态验证码");
    const session = await api("POST", "/passport/staff/sessions/second-factor", body);
    if (session.recovery_codes) return recoveryCodesView(main, session.recovery_codes, onLoggedIn);
    await onLoggedIn();
  });
}

function recoveryCodesView(main, codes, onLoggedIn) {
  main.innerHTML = String(html`<div class="card narrow"><h2>恢复码</h2>
    <p class="hint">动态验证码已绑定。以下恢复码只显示这一次，每个只能使用一次：请抄写或打印后妥善保管，手机丢失时用于登录。</p>
    <ol id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
    <div class="actions"><button type="button" id="codes-kept">我已保存恢复码，进入管理平台</button></div></div>`);
  $("#codes-kept").addEventListener("click", () => onLoggedIn());
}
