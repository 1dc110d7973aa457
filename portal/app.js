// The candidate portal: one small module, no framework, no build. Pages follow the guide
// (cet-registration-guide.zh.txt) in order; every request goes to /api/… on this origin.
import {
  $, $$, ApiError, Markup, api, captchaField, fmtTime, html, idTypeLabel, idTypeSelect,
  onSubmit, showError, toast, wireCaptcha, yuan,
} from "/lib.js";

const main = $("#main");
// What the candidate just queried (E3) lives only in memory, for the confirmation page (E4).
const flow = { identity: null, query: null };
let account = null; // GET /api/passport/me, or null when logged out
let home = null; // GET /api/eligibility/home

// -- routing ------------------------------------------------------------------------------------

const routes = {
  "/": homePage,
  "/exam-time": examTimePage,
  "/faq": faqPage,
  "/login": loginPage,
  "/register": registerPage,
  "/account": accountPage,
  "/password/recovery": passwordRecoveryPage,
  "/password/reset": passwordResetPage,
  "/email/verify": emailVerifyPage,
  "/account-recovery": accountRecoveryPage,
  "/start": startPage,
  "/agreement": agreementPage,
  "/query": queryPage,
  "/confirm": confirmPage,
  "/notices": noticesPage,
  "/written": writtenPage,
  "/oral": oralPage,
  "/registration": registrationPage,
  "/pay": payPage,
};

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
async function render() {
  const id = ++renderId;
  const page = routes[location.pathname] || notFoundPage;
  try {
    await page(new URLSearchParams(location.search), () => id === renderId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      account = null;
      await header();
      return go("/login?next=" + encodeURIComponent(location.pathname + location.search), { replace: true });
    }
    setPage("出错了", html`<div class="card"><p class="error" role="alert">${error.message}</p>
      <p><a href="/" data-link>返回首页</a></p></div>`);
  }
}

function setPage(title, body) {
  document.title = `${title} - 全国大学英语四、六级考试网上报名`;
  main.innerHTML = String(body);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// -- the header: 姓名 / 考次 / 退出 (E8) ---------------------------------------------------------------

async function loadAccount() {
  try {
    account = await api("GET", "/passport/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) account = null;
    else throw error;
  }
  return account;
}

async function header() {
  const who = $("#who");
  if (!account) {
    who.innerHTML = String(html`<a href="/login" data-link>登录</a><a href="/register" data-link>注册</a>`);
    return;
  }
  const name = home ? home.header_name : "未设置";
  const session = home && home.exam_session_name ? home.exam_session_name : "—";
  who.innerHTML = String(html`<span>姓名: <strong id="header-name">${name}</strong></span>
    <span>考次: ${session}</span><button type="button" class="link" id="logout">退出</button>`);
  $("#logout").addEventListener("click", async () => {
    try { await api("DELETE", "/passport/sessions"); } catch { /* the cookie is gone either way */ }
    account = null;
    home = null;
    flow.identity = flow.query = null;
    await header();
    go("/");
  });
}

async function requireCandidate() {
  if (!account) await loadAccount();
  if (!account) throw new ApiError(401, { title: "请先登录", code: "not_authenticated" });
  home = await api("GET", "/eligibility/home");
  await header();
  return home;
}

const STEPS = ["注册", "登录", "资格验证", "笔试报名缴费", "口试报名缴费", "报名成功"];
const stepsBar = (done = 0) => html`<ol class="steps" aria-label="报名流程">${STEPS.map((s, i) => html`<li class="${i < done ? "done" : ""}">${s}</li>`)}</ol>`;

// -- home, exam time, FAQ ------------------------------------------------------------------------------

const NEWS = html`<section class="card" aria-labelledby="news-title">
  <h2 id="news-title">CET考试最新动态 <small class="hint">THE LATEST</small></h2>
  <h3>考试时间</h3>
  <p>笔试：上午 英语、日语、德语、俄语、法语四级；下午 英语、日语、俄语、德语六级。<br>
  口试（选）：英语四级口试、英语六级口试分别在笔试前约一个月的周末举行，具体日期以报名信息页面和准考证为准。</p>
  <h3>笔试科目准考证打印提示</h3>
  <ol>
    <li>请考生按规定领取或自行打印准考证。</li>
    <li>自行打印准考证的考生，请在准考证打印时间开始后登录本系统，在“报名信息”页面下载及打印，考试日前均可进行操作。</li>
    <li>自行打印准考证“考生须知”中有关条形码及题目作答顺序等内容仅针对英语四级和英语六级笔试科目。</li>
  </ol>
</section>`;

async function homePage() {
  if (account === null) await loadAccount();
  await header();
  setPage("首页", html`${stepsBar(0)}
  <div class="home">
    <nav class="menu" aria-label="报名入口">
      <a href="${account ? "/start" : "/login"}" data-link id="enter">进入报名<small>ENTRY</small></a>
      <a href="/register" data-link>注册新用户<small>REGISTER NEW USER</small></a>
      <a href="/account-recovery" data-link>找回已报名账号<small>RETRIEVE ACCOUNT</small></a>
      <a href="/faq" data-link>常见问题<small>COMMON PROBLEM</small></a>
      <a href="/exam-time" data-link>考试时间<small>APPLICATION NOTES</small></a>
    </nav>
    <div>
      <section class="card"><h2>全国大学英语四、六级考试（CET）</h2>
        <p>College English Test Band4 and Band6 —— 科学 客观 准确 公正</p>
        <p>报名流程：注册通行证账号 → 登录 → 资格验证 → 笔试报名缴费 → 口试报名缴费（选） → 报名成功。</p></section>
      ${NEWS}
    </div>
  </div>`);
}

async function examTimePage() {
  await header();
  setPage("考试时间", html`<div class="card"><h2>考试时间</h2>
    <p>每个考次的笔试日期、口试日期以及准考证打印时间，在登录后的“报名信息”页面“报名流程”中显示；以下为一般安排。</p></div>${NEWS}`);
}

async function faqPage() {
  await header();
  setPage("常见问题", html`<div class="card"><h2>常见问题</h2>
    <h3>忘记密码怎么办？</h3><p>在登录页面点击“找回密码”，输入注册邮箱和验证码，按邮件中的链接重新设置密码。</p>
    <h3>忘记了已报名的通行证账号？</h3><p>点击首页“找回已报名账号”，输入证件类型、证件号码、姓名即可找回；也可联系学校负责老师或客服。</p>
    <h3>注册邮箱填错了？</h3><p>记得密码：登录通行证后在“修改资料”中改为正确邮箱并验证。忘记密码且已通过学籍验证：请重新注册，再将通行证ID和新邮箱提供给客服，由客服为您重新绑定。</p>
    <h3>支付成功但显示未支付？</h3><p>在“报名信息”页面点击科目表格下方的“更新”按钮，系统会向支付平台查询并更新支付状态。</p>
    <h3>报考后多久必须支付？</h3><p>已报考科目如果24小时内未支付，将会被系统自动删除，报考完毕请尽快完成支付。</p>
    <p><a href="/" data-link>返回首页</a></p></div>`);
}

function notFoundPage() {
  setPage("页面不存在", html`<div class="card"><h2>页面不存在</h2><p><a href="/" data-link>返回首页</a></p></div>`);
}

// -- passport: log in, register, account page, recovery --------------------------------------------

async function loginPage(params) {
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
    await api("POST", "/passport/sessions", { email: data.email, password: data.password, captcha_token: data.captcha_token, captcha_answer: data.captcha_answer });
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

async function registerPage() {
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

async function accountPage(params) {
  if (!account) await loadAccount();
  if (!account) throw new ApiError(401, { title: "请先登录" });
  await header();
  const a = account;
  const mode = params.get("edit");
  setPage("账号信息", html`<div class="card"><h2>账号信息</h2>
    <div class="actions" style="margin-top:0"><a class="button secondary" href="/account?edit=profile" data-link>修改资料</a>
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

async function passwordRecoveryPage() {
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

async function passwordResetPage(params) {
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

async function emailVerifyPage(params) {
  await header();
  setPage("验证邮箱", html`<div class="card narrow"><h2>验证邮箱</h2><p id="verify-result" role="status">正在验证…</p>
    <p class="error" role="alert"></p><p><a href="/account" data-link>账号信息</a></p></div>`);
  try {
    const answer = await api("POST", "/passport/email/verify", { token: params.get("token") || "" });
    $("#verify-result").textContent = answer.message;
    $("#verify-result").className = "success";
  } catch (error) {
    $("#verify-result").textContent = "";
    showError(main.querySelector(".card"), error);
  }
}

async function accountRecoveryPage() {
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

// -- start, agreement, qualification query and confirmation (E2–E8) ---------------------------------

async function startPage() {
  const h = await requireCandidate();
  setPage("欢迎登录CET考试报名系统", html`${stepsBar(2)}<div class="card"><h2>欢迎登录CET考试报名系统</h2>
    <h3>基本信息</h3>
    <dl class="kv"><dt>考次名称:</dt><dd id="session-name">${h.exam_session_name || "当前没有开放的考次"}</dd>
      <dt>报名状态:</dt><dd id="registration-status">${h.registration_status}</dd></dl>
    <div class="actions"><button type="button" id="begin" ${h.exam_session_name ? "" : new Markup("disabled")}>开始报名</button>
      <a class="button secondary" href="/account" data-link>通行证账号信息</a></div></div>`);
  $("#begin").addEventListener("click", () => go(h.bound ? "/registration" : h.agreement_accepted ? "/query" : "/agreement"));
}

const AGREEMENT = [
  "本报名网站的所有权归教育部考试中心所有，考生必须完全同意本协议条款，方可进行网上报名。",
  "考生本人已认真阅读并同意遵守本网站提供的报名流程及考生须知。",
  "考生本人保证报名时的个人信息资料真实、正确，并将对个人信息不真实或不正确而导致无法参加考试以及其它直接或间接的后果负责。",
  "考生本人理解并同意，在报名过程中出现不可抗力所引起的无法正常报名的情况，本网站不承担任何直接或间接的责任。",
  "考生本人理解并同意，网上支付系统由支付平台所有并运营，在付费过程中由于支付平台网上系统问题所引起的后果，本网站不承担责任。",
  "遵守国家教育考试的有关规定，保证按规定的程序和要求参加考试，如有违反，自愿按《国家教育考试违规处理办法》有关条款接受处理。",
  "遵守全国大学英语四、六级考试有关报名规定，不弄虚作假，不伪造、使用假证明、假证书。如有违反，自愿按规定接受处理。",
  "服从考场工作人员和监考教师管理，自觉遵守考试纪律，考试诚实守信，不违规，不作弊。",
];

async function agreementPage() {
  await requireCandidate();
  const { version } = await api("GET", "/eligibility/agreement");
  setPage("报名协议", html`<div class="card"><h2>报名协议</h2>
    <ol>${AGREEMENT.map((item) => html`<li>${item}</li>`)}</ol>
    <form id="agreement" novalidate><p class="error" role="alert"></p>
      <label class="check"><input type="checkbox" name="accepted" id="accepted"><span><span class="req"></span>我已阅读并接受遵守本网站报名协议</span></label>
      <div class="actions"><button type="button" class="secondary" id="decline">不同意</button><button type="submit">同意</button></div></form></div>`);
  $("#decline").addEventListener("click", () => go("/start"));
  onSubmit($("#agreement"), async (data) => {
    await api("POST", "/eligibility/agreement", { version, accepted: data.accepted });
    go("/query");
  });
}

async function queryPage() {
  await requireCandidate();
  setPage("资格信息查询", html`<div class="card narrow"><h2>资格信息查询</h2>
  <form id="query" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="id_type" class="req">证件类型</label>${idTypeSelect("id_type", { selected: flow.identity?.id_type || "" })}
      <p class="hint">学籍证件类型（不支持军官证）</p></div>
    <div class="field"><label for="id_number" class="req">证件号码</label><input id="id_number" name="id_number" type="text" placeholder="请输入证件号码" required value="${flow.identity?.id_number || ""}"></div>
    <div class="field"><label for="name" class="req">姓名</label><input id="name" name="name" type="text" placeholder="请输入姓名" required value="${flow.identity?.name || ""}"></div>
    <div class="actions"><button type="submit">查 询</button></div></form></div>`);
  onSubmit($("#query"), async (data) => {
    if (!data.id_type) throw new Error("请选择证件类型");
    if (!data.id_number) throw new Error("请输入证件号码");
    if (!data.name) throw new Error("请输入姓名");
    const answer = await api("POST", "/eligibility/qualification/query", data);
    flow.identity = { id_type: data.id_type, id_number: data.id_number, name: data.name };
    flow.query = answer;
    toast(answer.message || "查询成功！");
    go("/confirm");
  });
}

const studentRecord = (r) => html`<div class="table-wrap"><table class="record"><caption>学籍信息</caption><tbody>
  <tr><th scope="row">笔试报名学校:</th><td colspan="3">${r.school}</td></tr>
  <tr><th scope="row">笔试报名校区:</th><td colspan="3">${r.campus}</td></tr>
  <tr><th scope="row">学历:</th><td>${r.education_level}</td><th scope="row">学制:</th><td>${r.program_years}</td></tr>
  <tr><th scope="row">入学年份:</th><td>${r.entry_year}</td><th scope="row">年级:</th><td>${r.grade}</td></tr>
  <tr><th scope="row">院系:</th><td>${r.department}</td><th scope="row">专业:</th><td>${r.major}</td></tr>
  <tr><th scope="row">班级:</th><td>${r.class_name}</td><th scope="row">学号:</th><td>${r.student_number}</td></tr>
  <tr><th scope="row">备注:</th><td colspan="3">${r.remarks || ""}</td></tr></tbody></table></div>`;

async function confirmPage() {
  await requireCandidate();
  if (!flow.query) return go("/query", { replace: true });
  const q = flow.query;
  const c = q.confirmation;
  const canSave = q.can_save;
  setPage("资格信息确认", html`${stepsBar(3)}<div class="card"><h2>资格信息确认</h2>
    <dl class="kv" id="person"><dt>姓名:</dt><dd>${c.name}</dd><dt>性别:</dt><dd>${c.gender}</dd>
      <dt>证件类型:</dt><dd>${c.id_type_label}</dd><dt>证件号码:</dt><dd>${c.id_number}</dd>
      <dt>资格科目:</dt><dd id="qualification">${c.qualification_subjects_text}</dd></dl>
    ${c.cet6_review_available ? html`<div class="actions"><button type="button" class="secondary" id="cet6">CET6资格复核</button></div>` : ""}
    ${studentRecord(c)}
    ${canSave ? "" : html`<p class="notice" id="window-note">${q.window === "before" || q.window === "not_open" ? "未到考生网上报名开始时间，只能查看资格信息，不能继续报名。" : "当前不在考生网上报名时间内，不能保存报名信息。"}</p>`}
    <form id="save" novalidate><p class="error" role="alert"></p>
      <label class="check"><input type="checkbox" name="confirmed" id="confirmed"><span><span class="req"></span>我已检查并确认学籍与资格信息正确</span></label>
      <p class="hint">保存成功后，学籍库信息的修改将无法影响到已保存的报名信息，保存前请务必确认自己信息正确！一个通行证账号只能绑定一个考生的报名信息。</p>
      <div class="actions"><a class="button secondary" href="/start" data-link>返回首页</a>
        <button type="submit" id="save-button" disabled>请勾选确认</button></div></form>
    <p id="recovery-hint" hidden><a href="/account-recovery" data-link>找回已报名账号</a></p></div>`);
  const box = $("#confirmed");
  const button = $("#save-button");
  box.addEventListener("change", () => {
    button.disabled = !box.checked || !canSave;
    button.textContent = box.checked ? "保存并继续" : "请勾选确认";
  });
  $("#cet6")?.addEventListener("click", () => openReviewDialog({ name: c.name, id_type: c.id_type, id_number: c.id_number }));
  onSubmit($("#save"), async (data) => {
    try {
      const answer = await api("POST", "/eligibility/registrations", { ...flow.identity, confirmed: data.confirmed });
      toast(answer.message || "保存成功!");
      home = await api("GET", "/eligibility/home");
      await header();
      go("/notices");
    } catch (error) {
      // E7: the candidate is bound to another account: point to 找回已报名账号.
      if (error instanceof ApiError && error.problem.recovery) $("#recovery-hint").hidden = false;
      throw error;
    }
  });
}

// -- CET6 资格复核 (E10): the dialog, and its masked status view -------------------------------------

async function openReviewDialog(prefill) {
  let existing = null;
  try {
    existing = await api("GET", "/eligibility/cet6-review");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) { toast(error.message); return; }
  }
  const dialog = document.createElement("dialog");
  dialog.setAttribute("aria-labelledby", "review-title");
  const form = (edit) => html`<h2 id="review-title">${edit ? "修改CET6资格复核申请" : "新增CET6资格复核申请"}</h2>
    <p class="notice">提示：CET四级笔试成绩为2005年之前的考生，请联系学校相关负责老师代为申请。</p>
    <form id="review-form" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="r-name" class="req">姓名：</label><input id="r-name" name="name" type="text" required value="${prefill.name || ""}"></div>
      <div class="field"><label for="r-id_type" class="req">证件类型：</label>${idTypeSelect("r-id_type", { selected: prefill.id_type || "" })}</div>
      <div class="field"><label for="r-id_number" class="req">证件号码：</label><input id="r-id_number" name="id_number" type="text" required value="${prefill.id_number && !prefill.id_number.includes("*") ? prefill.id_number : ""}"></div>
      <div class="field"><label for="r-ticket" class="req">准考证号：</label><input id="r-ticket" name="ticket_number" type="text" inputmode="numeric" required maxlength="20"></div>
      <label class="check"><input type="checkbox" name="confirmed" id="r-confirmed"><span><span class="req"></span>我确认提交复核的信息所有者为本人，且准考证号已通过CET四级笔试(分数≥425)</span></label>
      <div class="actions"><button type="submit">保存并提交复核</button><button type="button" class="secondary" data-close>关闭</button></div></form>`;
  const view = (r) => html`<h2 id="review-title">查看复核申请信息</h2>
    <dl class="kv" id="review-view"><dt>姓名：</dt><dd>${r.name}</dd><dt>证件类型：</dt><dd>${r.id_type}</dd>
      <dt>证件号码：</dt><dd>${r.id_number}</dd><dt>准考证号：</dt><dd>${r.ticket_number}</dd>
      <dt>复核状态：</dt><dd id="review-status">${r.status_label}</dd>
      ${r.decision_note ? html`<dt>复核意见：</dt><dd>${r.decision_note}</dd>` : ""}</dl>
    <p class="error" role="alert"></p>
    <div class="actions">${r.can_edit ? html`<button type="button" id="review-edit">修改并重新提交</button>` : ""}
      ${r.can_delete ? html`<button type="button" class="secondary" id="review-delete">删除申请</button>` : ""}
      <button type="button" class="secondary" data-close>关闭</button></div>`;
  const show = (markup, edit) => {
    dialog.innerHTML = String(markup);
    $$("[data-close]", dialog).forEach((b) => b.addEventListener("click", () => dialog.close()));
    const f = $("#review-form", dialog);
    if (f) {
      onSubmit(f, async (data) => {
        const answer = await api(edit ? "PUT" : "POST", "/eligibility/cet6-review", data);
        toast(answer.message);
        show(view(await api("GET", "/eligibility/cet6-review")));
      });
    }
    $("#review-edit", dialog)?.addEventListener("click", () => show(form(true), true));
    $("#review-delete", dialog)?.addEventListener("click", async () => {
      try { await api("DELETE", "/eligibility/cet6-review"); dialog.close(); toast("复核申请已删除"); } catch (e) { showError(dialog, e); }
    });
    $("input, button", dialog)?.focus();
  };
  show(existing ? view(existing) : form(false), false);
  dialog.addEventListener("close", () => { dialog.remove(); if (location.pathname === "/registration") render(); });
  document.body.append(dialog);
  dialog.showModal();
}

// -- enrolment: notices, written, oral, the registration info page (N3–N13) -------------------------

async function enrolmentRegistration(isCurrent) {
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

const noticeList = (items) => items.length ? html`${items.map((n) => html`<article class="notice-item"><h4>${n.title}</h4>${n.body.split("\n").map((line) => html`<p>${line}</p>`)}</article>`)}` : html`<p class="hint">暂无</p>`;

async function noticesPage(_, isCurrent) {
  const h = await requireCandidate();
  if (!h.bound) return go("/start", { replace: true });
  const reg = await enrolmentRegistration(isCurrent);
  setPage("报考须知及省通告", html`<div class="card"><h2>报考须知</h2>${noticeList(reg.notices.registration_notes)}
    <h2>省通告</h2>${noticeList(reg.notices.province)}
    <form id="ack" novalidate><p class="error" role="alert"></p>
      <div class="actions"><a class="button secondary" href="/registration" data-link>返回</a><button type="submit">我已阅读，继续报名</button></div></form></div>`);
  onSubmit($("#ack"), async () => {
    await api("POST", "/enrolment/me/notices/acknowledgement");
    go("/written");
  });
}

const WRITTEN_CODES = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

async function writtenPage(_, isCurrent) {
  const h = await requireCandidate();
  if (!h.bound) return go("/start", { replace: true });
  const reg = await enrolmentRegistration(isCurrent);
  if (!reg.notices_acknowledged) return go("/notices", { replace: true });
  const taken = new Set(reg.written.rows.map((r) => r.subject_code));
  const choices = reg.qualification_subjects.filter((s) => WRITTEN_CODES.includes(s.code));
  setPage("笔试报考", html`<div class="card"><h2>笔试报考</h2>
    <p class="notice">注：同级别科目仅能报考一科。如英语四级与日语四级无法同时报考。</p>
    <form id="written" novalidate><p class="error" role="alert"></p>
      <fieldset><legend>可报考的笔试科目（资格科目）</legend>
      ${choices.map((s) => html`<label class="check"><input type="checkbox" name="subject_${s.code}" value="${s.code}" ${taken.has(s.code) ? new Markup("checked disabled") : ""}>
        <span>(${s.code}) ${s.name}${taken.has(s.code) ? "（已报考）" : ""}</span></label>`)}</fieldset>
      <div class="actions"><a class="button secondary" href="/registration" data-link>返回</a><button type="submit">提交</button></div></form></div>`);
  onSubmit($("#written"), async (_data, form) => {
    const codes = $$("input[type=checkbox]:checked:not(:disabled)", form).map((b) => b.value);
    if (!codes.length) throw new Error("请选择要报考的笔试科目");
    await api("POST", "/enrolment/me/written", { subject_codes: codes });
    toast("报考成功，请在24小时内完成支付");
    go("/registration");
  });
}

const ORAL_NOTES = [
  "口试科目可报考要求考生具有科目报考资格、同级别笔试科目已经报考、科目考试日期非空、校区在报名时间内、有剩余容量、费用已设且大于0。",
  "口试报考科目的可报考校区受考生学籍校区、学籍学校口试报考设置限制，如有疑问请咨询学校相关老师。",
  "口试报考科目为选报科目，可以不报任何口试科目。",
  "已报未支付科目在24小时后会被系统删除。已报未支付科目在报名时间内可以取消。如已报未支付科目无法取消，请联系学校老师确认是否被集体缴费锁定。",
  "已支付科目不可取消报考。口试准考证打印时间在首页。准考证下载链接在可以打印准考证时会在考生详细页面显示。",
  "若科目剩余容量显示颜色为绿色，说明考位有设定容量一半以上；若为黄色，说明考位有设定容量一半以下；若为红色的“无”，说明已报满，无法勾选，此时可选择其他校区。",
];

async function oralPage(_, isCurrent) {
  const h = await requireCandidate();
  if (!h.bound) return go("/start", { replace: true });
  const reg = await enrolmentRegistration(isCurrent);
  const lists = await Promise.all(["F", "S"].map((code) => api("GET", `/enrolment/me/oral/${code}/campuses`)));
  const taken = new Set(reg.oral.rows.map((r) => r.subject_code));
  const names = { F: "英语四级口试", S: "英语六级口试" };
  const section = (list) => {
    const code = list.subject_code;
    if (!list.qualified) return html`<section class="card"><h3>${names[code]}</h3><p class="error" id="oral-${code}-message">${list.message}</p></section>`;
    if (taken.has(code)) return html`<section class="card"><h3>${names[code]}</h3><p class="success">已报考${names[code]}</p></section>`;
    return html`<section class="card" aria-labelledby="oral-${code}-title"><h3 id="oral-${code}-title">${names[code]}</h3>
      ${list.fixed ? html`<p class="hint">笔试报名校区不允许报考外校口试，已自动选定报名校区。</p>` : html`<p class="hint">报名学校校区：请选择${names[code]}报名学校校区</p>`}
      ${list.message ? html`<p class="notice">${list.message}</p>` : ""}
      <div class="table-wrap"><table id="campuses-${code}"><thead><tr><th scope="col">选择</th><th scope="col">科目</th><th scope="col">费用(元)</th><th scope="col">报名学校</th><th scope="col">报名校区</th><th scope="col">剩余容量</th><th scope="col">报名时间</th><th scope="col">考试日期</th></tr></thead>
      <tbody>${list.campuses.map((c, i) => html`<tr data-offering="${c.offering_id}">
        <td><input type="radio" name="oral_${code}" value="${c.offering_id}" id="o-${c.offering_id}" aria-label="选择 ${c.campus}" ${c.selectable ? (list.fixed && i === 0 ? new Markup("checked") : "") : new Markup("disabled")}></td>
        <td>${c.subject_name}</td><td>${c.fee_fen == null ? "" : yuan(c.fee_fen)}</td><td>${c.school}</td><td><label for="o-${c.offering_id}">${c.campus}</label></td>
        <td class="cap-${c.colour}" data-colour="${c.colour}">${c.remaining_label}</td>
        <td>${c.opens_at ? fmtTime(c.opens_at) : ""}${c.closes_at ? " 至 " + fmtTime(c.closes_at) : ""}</td><td>${c.exam_date || ""}</td></tr>
        ${c.selectable ? "" : html`<tr><td colspan="8"><button type="button" class="link" data-waitlist="${c.offering_id}">该校区已报满，加入候补</button></td></tr>`}`)}</tbody></table></div>
      <div class="school-notices" id="school-notices-${code}">${list.school_notices.length ? html`<h4>学校通告</h4>${noticeList(list.school_notices)}` : ""}</div></section>`;
  };
  setPage("口试科目报考", html`<div class="card"><h2>口试科目报考</h2><h3>口试科目报考须知：</h3>
    <ul>${ORAL_NOTES.map((n) => html`<li>${n}</li>`)}</ul><h3>省通告</h3>${noticeList(reg.notices.province)}</div>
    <form id="oral" novalidate>${lists.map(section)}<p class="error" role="alert"></p>
      <div class="actions"><button type="submit">提交</button><a class="button secondary" href="/registration" data-link>返回</a></div></form>`);
  const form = $("#oral");
  form.addEventListener("change", async (event) => {
    if (event.target.type !== "radio") return;
    const code = event.target.name.slice(5);
    try {
      const notices = await api("GET", `/enrolment/me/oral/offerings/${event.target.value}/notices`);
      $(`#school-notices-${code}`).innerHTML = String(notices.length ? html`<h4>学校通告</h4>${noticeList(notices)}` : "");
    } catch (error) { showError(form, error); }
  });
  $$("[data-waitlist]", form).forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", "/enrolment/me/waitlist", { offering_id: b.dataset.waitlist }); toast("已加入候补，有考位时将按顺序为您保留"); } catch (e) { showError(form, e); }
  }));
  onSubmit(form, async () => {
    const chosen = $$("input[type=radio]:checked", form).map((r) => r.value);
    if (!chosen.length) throw new Error("请选择口试报名校区");
    for (const offering of chosen) await api("POST", "/enrolment/me/oral", { offering_id: offering });
    toast("口试报考成功，请在24小时内完成支付");
    go("/registration");
  });
}

const subjectTable = (kind, t, emptyMessage) => html`<section class="card" aria-labelledby="${kind}-title">
  <h3 id="${kind}-title">${kind === "written" ? "笔试报考科目信息" : "口试报考科目信息"}</h3>
  ${t.rows.length ? html`<p>支付状态：<strong data-summary="${kind}">${t.payment_status}</strong> 未支付：<strong data-unpaid="${kind}">¥${yuan(t.unpaid_fen)}</strong></p>
  <div class="table-wrap"><table id="${kind}-table"><thead><tr><th scope="col">#</th><th scope="col">科目</th><th scope="col">费用(元)</th><th scope="col">支付状态</th><th scope="col">编排状态</th><th scope="col">科目报考方式</th><th scope="col">报名学校</th><th scope="col">报名校区</th><th scope="col">操作</th></tr></thead>
  <tbody>${t.rows.map((r) => html`<tr data-enrolment="${r.enrolment_id}"><td>${r.number}</td><td>${r.subject}</td><td>${yuan(r.fee_fen)}</td><td>${r.payment_status}</td><td>${r.arrangement_status}</td><td>${r.method}</td><td>${r.school}</td><td>${r.campus}</td>
    <td>${r.ticket_available ? html`<a href="/api/enrolment/me/enrolments/${r.enrolment_id}/ticket.pdf" download>下载准考证</a>` : ""}
      ${r.cancellable ? html`<button type="button" class="link" data-cancel="${r.enrolment_id}">取消报考</button>` : ""}
      ${r.locked ? "集体缴费锁定" : ""}${!r.paid && r.expires_at ? html`<span class="hint"> 请于${fmtTime(r.expires_at)}前支付</span>` : ""}</td></tr>`)}</tbody></table></div>
  <div class="actions">${t.rows.some((r) => !r.paid && !r.locked) ? html`<button type="button" data-pay="${kind}">支付</button>` : ""}<button type="button" class="secondary" data-refresh>更新</button></div>`
  : html`<p>${emptyMessage}</p>`}</section>`;

async function registrationPage(_, isCurrent) {
  const h = await requireCandidate();
  if (!h.bound) return go("/start", { replace: true });
  const [reg, mine] = await Promise.all([enrolmentRegistration(isCurrent), api("GET", "/eligibility/registrations/me")]);
  const p = reg.personal;
  setPage("报名信息", html`<div class="card"><h2>报名信息</h2>
    <div class="notice"><p><strong>提示：</strong></p><ol>
      <li>必须先完成笔试科目的报考，才可以报考同级别口试。</li><li>可以只报考笔试，但不可以只报考口试。</li>
      <li>不同科目可分多次报考、支付。只有支付成功的科目才算报名完成。</li>
      <li>所有已报考科目如果24小时内未支付，将会被系统自动删除，报考完毕请尽快完成支付。</li>
      <li>如果报考科目为空，报名信息会被系统自动删除。</li>
      <li>完成支付科目，可以在首页查看准考证打印时间，届时在本页面打印下载准考证。</li></ol></div>
    <dl class="kv" id="personal"><dt>姓 名：</dt><dd>${p.name}</dd><dt>性 别：</dt><dd>${p.gender}</dd>
      <dt>证件类型：</dt><dd>${idTypeLabel(p.id_type)}</dd><dt>证件号码：</dt><dd>${p.id_number}</dd>
      <dt>学 籍：</dt><dd>${reg.school} — ${reg.campus}</dd></dl>
    <h3>报名流程：</h3><ol class="flow" id="flow">${reg.flow.map((s) => html`<li class="${s.done ? "done" : ""}">${s.name}${s.state ? ` (${s.state})` : ""}</li>`)}</ol>
    ${reg.reminder ? html`<p class="error" id="reminder" role="alert">${reg.reminder}</p>` : ""}
    <p class="error" role="alert" id="page-error"></p>
    <div class="actions"><a class="button secondary" href="/start" data-link>返回首页</a>
      ${mine.registration.cet6_review_available ? html`<button type="button" class="secondary" id="cet6">CET6资格复核</button>` : ""}
      <a class="button" href="${reg.notices_acknowledged ? "/written" : "/notices"}" data-link id="to-written">笔试报考</a>
      <a class="button" href="/oral" data-link id="to-oral">口试报考</a></div></div>
    <section class="card"><h3>报名个人信息</h3><dl class="kv"><dt>学籍学校：</dt><dd>${reg.school}</dd><dt>学籍校区：</dt><dd>${reg.campus}</dd>
      <dt>资格科目：</dt><dd id="reg-qualification">${reg.qualification_subjects.map((s) => s.name).join("；")}</dd></dl></section>
    ${subjectTable("written", reg.written, "当前没有报考笔试科目，可通过“笔试报考”进行科目报考！")}
    ${subjectTable("oral", reg.oral, reg.oral_empty_message || "当前没有报考口试科目，可通过“口试报考”进行科目报考！")}
    ${reg.waiting.length ? html`<section class="card"><h3>候补</h3><ul>${reg.waiting.map((w) => html`<li>${w.subject_code} ${w.campus}（${fmtTime(w.joined_at)}加入）</li>`)}</ul></section>` : ""}
    <section class="card"><h3>通告信息</h3><h4>省通告</h4>${noticeList(reg.notices.province)}</section>`);
  const pageError = $("#page-error");
  $("#cet6")?.addEventListener("click", () => openReviewDialog({ name: p.name, id_type: p.id_type, id_number: "" }));
  $$("[data-cancel]").forEach((b) => b.addEventListener("click", async () => {
    if (!(await confirmDialog("取消报考", html`<p>确定取消该科目的报考吗？取消后考位将释放，如需参加考试须重新报考。</p>`, "确定"))) return;
    try { await api("DELETE", `/enrolment/me/enrolments/${b.dataset.cancel}`); toast("已取消报考"); render(); } catch (e) { showError(pageError, e); }
  }));
  $$("[data-refresh]").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      const results = await api("POST", `/payment/registrations/${reg.registration_id}/refresh`);
      toast(results.some((r) => r.settled_now) ? "支付状态已更新" : "已向支付平台查询，支付状态无变化");
      await new Promise((r) => setTimeout(r, 800));
      render();
    } catch (e) { showError(pageError, e); b.disabled = false; }
  }));
  $$("[data-pay]").forEach((b) => b.addEventListener("click", () => {
    const table = reg[b.dataset.pay];
    startPayment(table.rows.filter((r) => !r.paid && !r.locked).map((r) => r.enrolment_id), pageError);
  }));
}

// -- payment (Y1, Y2): 支付 → 去支付 → 确定 → the gateway choice → 温馨提示 → the gateway -------------------

function confirmDialog(title, body, okLabel, cancelLabel = "取消") {
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

const orderLines = (order) => html`<div class="table-wrap"><table><thead><tr><th scope="col">科目</th><th scope="col">费用(元)</th></tr></thead>
  <tbody>${order.lines.map((l) => html`<tr><td>(${l.subject_code}) ${l.subject_name}</td><td>${l.fee_yuan}</td></tr>`)}</tbody></table></div>
  <p>合计：<strong>${order.amount_yuan}</strong> 元</p>`;

async function startPayment(enrolmentIds, errorRegion) {
  try {
    const preview = await api("POST", "/payment/orders/preview", { enrolment_ids: enrolmentIds });
    if (!(await confirmDialog("确认报考信息", html`<p>${preview.confirmation}</p>${orderLines(preview)}`, "去支付"))) return;
    if (!(await confirmDialog("再次确认报考信息", html`<p>请再次确认报考信息，确认后将进入支付平台。</p>${orderLines(preview)}`, "确定"))) return;
    const order = await api("POST", "/payment/orders", { enrolment_ids: enrolmentIds });
    go(`/pay?order=${encodeURIComponent(order.order_id)}`);
  } catch (error) {
    showError(errorRegion, error);
  }
}

async function payPage(params) {
  await requireCandidate();
  const orderId = params.get("order") || "";
  const [order, gateways] = await Promise.all([api("GET", `/payment/orders/${encodeURIComponent(orderId)}`), api("GET", "/payment/gateways")]);
  const payease = gateways.find((g) => g.gateway === "payease");
  setPage("选择支付方式", html`<div class="card narrow"><h2>选择支付方式</h2>${orderLines(order)}
    <form id="checkout" novalidate><p class="error" role="alert"></p>
      <fieldset><legend>支付平台</legend>
      ${gateways.map((g, i) => html`<label class="check"><input type="radio" name="gateway" value="${g.gateway}" ${i === 0 ? new Markup("checked") : ""}><span>${g.label}</span></label>`)}</fieldset>
      ${payease ? html`<div class="field" id="bank-field" hidden><label for="bank" class="req">支付银行</label><select id="bank" name="bank">
        <option value="">- 请选择 -</option>${Object.entries(payease.banks).map(([code, label]) => html`<option value="${code}">${label}</option>`)}</select></div>` : ""}
      <div class="actions"><button type="submit">确定</button><a class="button secondary" href="/registration" data-link>返回报名信息</a></div></form></div>`);
  const form = $("#checkout");
  const bankField = $("#bank-field");
  form.addEventListener("change", () => { if (bankField) bankField.hidden = formGateway(form) !== "payease"; });
  onSubmit(form, async (data) => {
    const gateway = formGateway(form);
    if (gateway === "payease" && !data.bank) throw new Error("请选择支付银行");
    const checkout = await api("POST", `/payment/orders/${encodeURIComponent(orderId)}/checkout`, gateway === "payease" ? { gateway, bank: data.bank } : { gateway });
    if (!(await confirmDialog("温馨提示", html`<p id="checkout-confirmation">${checkout.confirmation}</p>`, "确定"))) return;
    submitToGateway(checkout.redirect);
  });
}

const formGateway = (form) => ($("input[name=gateway]:checked", form) || {}).value;

function submitToGateway(redirect) {
  // The gateway's page is a form post to its own origin, in its own charset (PayEase: GBK).
  const target = document.createElement("form");
  target.method = redirect.method || "POST";
  target.action = redirect.url;
  target.acceptCharset = redirect.charset || "utf-8";
  for (const [name, value] of Object.entries(redirect.fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    target.append(input);
  }
  document.body.append(target);
  target.submit();
}

render();
