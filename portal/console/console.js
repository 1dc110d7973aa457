// The staff console: school teachers, support agents and operations, each seeing only the tools
// their role allows (the services check the role again on every request).
import { $, $$, ApiError, SUBJECT_NAMES, api, fmtTime, html, idTypeSelect, onSubmit, shanghaiInputToIso, showError, toast, yuan } from "../lib.js";
import { arrangement } from "./arrangement.js";
import { audit } from "./audit.js";
import { exportsPanel } from "./exports.js";
import { importsPanel } from "./imports.js";
import { loginView } from "./login.js";
import { news } from "./news.js";
import { staff } from "./staff.js";

const main = $("#main");
let me = null;
let poller = null;

const TOOLS = {
  teacher: [["reviews", "CET6资格复核"], ["apply", "代考生申请复核"], ["imports", "学籍导入"], ["lock", "集体缴费锁定"], ["exports", "数据导出"], ["audit", "操作审计"]],
  support: [["search", "查找报名信息"]],
  province_admin: [["staff", "员工账号管理"], ["news", "省通告"], ["audit", "操作审计"]],
  ops: [["session", "考次设置与发布"], ["capacity", "考位容量监控"], ["arrangement", "考场编排"], ["news", "首页动态与通知"], ["imports", "学籍与成绩导入"], ["staff", "员工账号管理"], ["exports", "数据导出"], ["audit", "操作审计"]],
};
const ROLE_LABELS = { teacher: "学校负责老师", province_admin: "省级管理员", support: "客服", ops: "考试中心运维" };

function set(body) { main.innerHTML = String(body); }

async function start() {
  try {
    me = await api("GET", "/passport/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return loginView(main, start);
    throw error;
  }
  const roles = me.roles.filter((r) => TOOLS[r]);
  if (!roles.length) {
    set(html`<div class="card narrow"><p class="error" role="alert">该账号没有管理权限，请使用学校老师、客服或运维账号登录。</p>
      <button type="button" id="logout">退出</button></div>`);
    $("#logout").addEventListener("click", logout);
    return;
  }
  me = { ...me, province_code: (await api("GET", "/passport/staff/me")).province_code };
  const scope = me.school_code ? ` · 学校${me.school_code}` : me.province_code ? ` · 省份${me.province_code}` : "";
  $("#who").innerHTML = String(html`<span>${me.email}（${roles.map((r) => ROLE_LABELS[r]).join("、")}${scope}）</span>
    <button type="button" class="link" id="logout">退出</button>`);
  $("#logout").addEventListener("click", logout);
  const tools = [...new Map(roles.flatMap((r) => TOOLS[r])).entries()];
  set(html`<div class="tabs" role="tablist" aria-label="管理功能">${tools.map(([id, label], i) => html`<button type="button" role="tab" id="tab-${id}" aria-selected="${i === 0 ? "true" : "false"}" aria-controls="panel" data-tool="${id}">${label}</button>`)}</div>
    <div id="panel" role="tabpanel"></div>`);
  const tabs = $$("[data-tool]");
  tabs.forEach((tab) => tab.addEventListener("click", () => {
    tabs.forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    show(tab.dataset.tool);
  }));
  show(tools[0][0]);
}

async function logout() {
  try { await api("DELETE", "/passport/sessions"); } catch { /* the cookie is gone either way */ }
  location.reload();
}

function show(tool) {
  clearInterval(poller);
  poller = null;
  const panel = $("#panel");
  ({ reviews, apply, lock, search, session, capacity, arrangement, news, imports: importsPanel, staff, exports: exportsPanel, audit })[tool](panel, me);
}

// -- teachers ------------------------------------------------------------------------------------------

async function reviews(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>待复核的CET6资格复核申请</h2><p class="error" role="alert"></p><div id="review-list">正在加载…</div></div>`);
  const card = $(".card", panel);
  try {
    const { items } = await api("GET", "/eligibility/teacher/cet6-reviews?status=pending");
    $("#review-list").innerHTML = String(items.length ? html`<div class="table-wrap"><table id="reviews"><thead><tr><th scope="col">姓名</th><th scope="col">证件类型</th><th scope="col">证件号码</th><th scope="col">准考证号</th><th scope="col">提交次数</th><th scope="col">提交时间</th><th scope="col">复核</th></tr></thead>
      <tbody>${items.map((r) => html`<tr data-review="${r.id}"><td>${r.name}</td><td>${r.id_type_label}</td><td>${r.id_number}</td><td>${r.ticket_number}</td><td>${r.submissions}</td><td>${fmtTime(r.submitted_at)}</td>
        <td><label for="note-${r.id}">复核意见</label><input id="note-${r.id}" type="text" maxlength="500">
        <div class="actions"><button type="button" data-decide="approve" data-id="${r.id}">复核通过</button><button type="button" class="secondary" data-decide="reject" data-id="${r.id}">复核不通过</button></div></td></tr>`)}</tbody></table></div>`
      : html`<p id="no-reviews">没有“未复核”状态的申请。</p>`);
    $$("[data-decide]", panel).forEach((b) => b.addEventListener("click", async () => {
      const note = $(`#note-${b.dataset.id}`).value.trim();
      try {
        const result = await api("POST", `/eligibility/teacher/cet6-reviews/${b.dataset.id}/${b.dataset.decide}`, note ? { note } : {});
        toast(`已处理：${result.status_label}`);
        reviews(panel);
      } catch (e) { showError(card, e); }
    }));
  } catch (e) { $("#review-list").textContent = ""; showError(card, e); }
}

function apply(panel) {
  panel.innerHTML = String(html`<div class="card narrow"><h2>代考生申请CET6资格复核</h2>
    <p class="hint">适用于CET四级笔试成绩为2005年之前或忘记准考证号的考生，请核验考生提供的证明后提交。</p>
    <form id="teacher-apply" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="id_type" class="req">证件类型</label>${idTypeSelect()}</div>
      <div class="field"><label for="id_number" class="req">证件号码</label><input id="id_number" name="id_number" type="text" required></div>
      <div class="field"><label for="name" class="req">姓名</label><input id="name" name="name" type="text" required></div>
      <div class="field"><label for="ticket_number">准考证号（如有）</label><input id="ticket_number" name="ticket_number" type="text"></div>
      <div class="field"><label for="note" class="req">证明材料说明</label><input id="note" name="note" type="text" required maxlength="500"></div>
      <div class="actions"><button type="submit">提交并通过复核</button></div></form></div>`);
  onSubmit($("#teacher-apply"), async (data, form) => {
    const body = { ...data };
    if (!body.ticket_number) delete body.ticket_number;
    const result = await api("POST", "/eligibility/teacher/cet6-reviews", body);
    toast(result.message);
    form.reset();
  });
}

async function lock(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>集体缴费锁定</h2><p class="hint">锁定后，考生不能取消这些未支付科目，由学校集体缴费。</p>
    <form id="lock-form" novalidate><p class="error" role="alert"></p><div id="unpaid">正在加载…</div>
    <div class="actions"><button type="submit" name="action" value="lock">锁定所选</button><button type="submit" name="action" value="unlock" class="secondary">解除锁定</button></div></form></div>`);
  const form = $("#lock-form");
  try {
    const rows = await api("GET", "/enrolment/teacher/unpaid-subjects");
    $("#unpaid").innerHTML = String(rows.length ? html`<div class="table-wrap"><table id="unpaid-table"><thead><tr><th scope="col">选择</th><th scope="col">科目</th><th scope="col">费用(元)</th><th scope="col">锁定</th><th scope="col">支付期限</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><td><input type="checkbox" value="${r.id}" aria-label="选择 ${r.subject}"></td><td>(${r.subject_code}) ${r.subject}</td><td>${yuan(r.fee_fen)}</td><td>${r.locked ? "已锁定" : "未锁定"}</td><td>${fmtTime(r.expires_at)}</td></tr>`)}</tbody></table></div>`
      : html`<p>本校没有未支付的科目。</p>`);
  } catch (e) { $("#unpaid").textContent = ""; showError(form, e); }
  onSubmit(form, async (_data, f, submitter) => {
    const ids = $$("input[type=checkbox]:checked", f).map((b) => b.value);
    if (!ids.length) throw new Error("请选择科目");
    const result = await api("PUT", "/enrolment/teacher/collective-lock", { enrolment_ids: ids, locked: submitter?.value !== "unlock" });
    toast(`已处理${result.changed}个科目`);
    lock(panel);
  });
}

// -- support -------------------------------------------------------------------------------------------

function search(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>查找报名信息</h2>
    <form id="support-search" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="id_type" class="req">证件类型</label>${idTypeSelect()}</div>
      <div class="field"><label for="id_number" class="req">证件号码</label><input id="id_number" name="id_number" type="text" required></div>
      <div class="actions"><button type="submit">查找</button></div></form><div id="found"></div></div>`);
  onSubmit($("#support-search"), async (data) => {
    const { items } = await api("POST", "/eligibility/support/registrations/search", data);
    $("#found").innerHTML = String(items.length ? html`${items.map((r) => html`<section class="card" data-registration="${r.registration_id}">
      <dl class="kv"><dt>考次</dt><dd>${r.exam_session.name}</dd><dt>姓名</dt><dd>${r.name}</dd><dt>证件号码</dt><dd>${r.id_number}</dd>
        <dt>通行证ID</dt><dd data-passport>${r.passport_id}</dd><dt>保存时间</dt><dd>${fmtTime(r.saved_at)}</dd><dt>报名号</dt><dd>${r.registration_id}</dd></dl>
      <form class="rebind" novalidate><h3>重新绑定到新通行证</h3><p class="error" role="alert"></p>
        <div class="field"><label for="np-${r.registration_id}" class="req">新通行证ID</label><input id="np-${r.registration_id}" name="new_passport_id" type="text" required maxlength="64"></div>
        <div class="field"><label for="rs-${r.registration_id}" class="req">原因</label><input id="rs-${r.registration_id}" name="reason" type="text" required maxlength="500" placeholder="如：注册邮箱错误且忘记密码，考生已重新注册"></div>
        <div class="actions"><button type="submit">重新绑定</button><button type="button" class="secondary" data-refresh="${r.registration_id}">更新支付状态</button></div></form></section>`)}`
      : html`<p id="not-found">没有找到该证件的报名信息。</p>`);
    $$("form.rebind", panel).forEach((form) => onSubmit(form, async (body) => {
      const id = form.closest("[data-registration]").dataset.registration;
      const result = await api("POST", `/eligibility/support/registrations/${id}/rebind`, body);
      $("[data-passport]", form.closest("section")).textContent = result.new_passport_id;
      toast(result.message);
    }));
    $$("[data-refresh]", panel).forEach((b) => b.addEventListener("click", async () => {
      try {
        const results = await api("POST", `/payment/registrations/${b.dataset.refresh}/refresh`);
        toast(results.length ? results.map((r) => `订单${r.order_id.slice(0, 8)}：${r.status}${r.settled_now ? "（已补登支付）" : ""}`).join("；") : "该报名没有支付订单");
      } catch (e) { showError(b.closest("form"), e); }
    }));
  });
}

// -- operations ----------------------------------------------------------------------------------------

const SAMPLE_CAMPUSES = JSON.stringify({
  campuses: [{ province_code: "99", school_code: "99101", school_name: "测试学校", campus_code: "991010", campus_name: "99101-0校区", accepts_other_schools: false,
    offerings: [{ subject: "1", fee_fen: 1 }, { subject: "2", fee_fen: 1 }, { subject: "F", fee_fen: 1, capacity: 30 }, { subject: "S", fee_fen: 1, capacity: 30 }] }],
  notices: [{ scope: "registration_notes", title: "报考须知", body: "请认真阅读报考须知。" }, { scope: "province", province_code: "99", title: "(99)测试省", body: "一、遵守时间\n二、遵守记录" }],
}, null, 2);

const currentSession = { id: sessionStorage.getItem("console.session") || "" };

function session(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>考次设置</h2><form id="session-form" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="s-name" class="req">考次名称</label><input id="s-name" name="name" type="text" required placeholder="2017年下半年CET考试"></div>
    <div class="field"><label for="s-year" class="req">年份</label><input id="s-year" name="year" type="number" min="2000" max="2099" required></div>
    <div class="field"><label for="s-half" class="req">上/下半年</label><select id="s-half" name="half"><option value="1">上半年</option><option value="2">下半年</option></select></div>
    <div class="field"><label for="s-open" class="req">考生网上报名开始时间（北京时间）</label><input id="s-open" name="opens_at" type="datetime-local" required></div>
    <div class="field"><label for="s-close" class="req">考生网上报名结束时间（北京时间）</label><input id="s-close" name="closes_at" type="datetime-local" required></div>
    <div class="field"><label for="s-written">笔试日期</label><input id="s-written" name="written_exam_date" type="date"></div>
    <div class="field"><label for="s-f">英语四级口试日期</label><input id="s-f" name="oral_F" type="date"></div>
    <div class="field"><label for="s-s">英语六级口试日期</label><input id="s-s" name="oral_S" type="date"></div>
    <div class="field"><label for="s-doc">校区、科目、费用（分）、容量与通告（JSON）</label><textarea id="s-doc" name="doc">${SAMPLE_CAMPUSES}</textarea></div>
    <div class="actions"><button type="submit">创建考次</button></div></form></div>
    <div class="card"><h2>发布考次</h2><form id="publish-form" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="p-id" class="req">考次ID</label><input id="p-id" name="id" type="text" required value="${currentSession.id}"></div>
      <div class="actions"><button type="submit">发布</button></div><p class="success" role="status" data-result></p></form></div>`);
  onSubmit($("#session-form"), async (d) => {
    let extra;
    try { extra = d.doc ? JSON.parse(d.doc) : {}; } catch { throw new Error("JSON格式不正确，请检查校区与通告设置"); }
    const oral = {};
    if (d.oral_F) oral.F = d.oral_F;
    if (d.oral_S) oral.S = d.oral_S;
    const body = { name: d.name, year: Number(d.year), half: Number(d.half), registration: { opens_at: shanghaiInputToIso(d.opens_at), closes_at: shanghaiInputToIso(d.closes_at) },
      oral_exam_dates: oral, ...extra };
    if (d.written_exam_date) body.written_exam_date = d.written_exam_date;
    const created = await api("POST", "/enrolment/ops/sessions", body);
    currentSession.id = created.id;
    sessionStorage.setItem("console.session", created.id);
    $("#p-id").value = created.id;
    toast("考次已创建，请核对后发布");
  });
  onSubmit($("#publish-form"), async (d, form) => {
    const event = await api("POST", `/enrolment/ops/sessions/${encodeURIComponent(d.id)}/publication`);
    currentSession.id = d.id;
    sessionStorage.setItem("console.session", d.id);
    $("[data-result]", form).textContent = `已发布：${event.name}`;
  });
}

function capacity(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>考位容量监控</h2><form id="watch-form" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="w-id" class="req">考次ID</label><input id="w-id" name="id" type="text" required value="${currentSession.id}"></div>
    <div class="actions"><button type="submit">开始监控</button></div></form>
    <p class="hint" role="status" id="watch-status"></p><div id="offerings"></div></div>`);
  const form = $("#watch-form");
  const draw = async (id) => {
    const overview = await api("GET", `/enrolment/ops/sessions/${encodeURIComponent(id)}`);
    const focused = document.activeElement?.id;
    const typed = Object.fromEntries($$("input[data-capacity]", panel).map((i) => [i.dataset.capacity, i.value]));
    $("#offerings").innerHTML = String(html`<div class="table-wrap"><table id="capacity-table"><thead><tr><th scope="col">校区</th><th scope="col">科目</th><th scope="col">容量</th><th scope="col">已占用</th><th scope="col">剩余容量</th><th scope="col">修改容量</th></tr></thead>
      <tbody>${overview.offerings.map((o) => {
        const colour = o.capacity == null ? "green" : o.remaining <= 0 ? "red" : o.remaining * 2 > o.capacity ? "green" : "yellow";
        return html`<tr data-offering="${o.id}"><td>(${o.campus_code})${o.campus_name}</td><td>(${o.subject_code}) ${SUBJECT_NAMES[o.subject_code] || ""}</td><td>${o.capacity ?? "不限"}</td><td>${o.held}</td>
          <td class="cap-${colour}" data-remaining>${o.remaining == null ? "不限" : o.remaining <= 0 ? "无" : o.remaining}</td>
          <td>${o.capacity == null ? "" : html`<label for="c-${o.id}" class="skip">新容量</label><input id="c-${o.id}" type="number" min="0" data-capacity="${o.id}" value="${typed[o.id] ?? o.capacity}" class="short">
            <button type="button" data-set="${o.id}">修改</button>`}</td></tr>`;
      })}</tbody></table></div>`);
    if (focused) document.getElementById(focused)?.focus();
    $("#watch-status").textContent = `${overview.session.name}：每3秒自动刷新，最近刷新 ${new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })}`;
    $$("[data-set]", panel).forEach((b) => b.addEventListener("click", async () => {
      try {
        const value = Number($(`#c-${b.dataset.set}`).value);
        await api("PUT", `/enrolment/ops/offerings/${b.dataset.set}/capacity`, { capacity: value });
        toast("容量已修改");
        delete typed[b.dataset.set];
        $(`#c-${b.dataset.set}`).removeAttribute("data-capacity");
        await draw(id);
      } catch (e) { showError(form, e); }
    }));
  };
  onSubmit(form, async (d) => {
    clearInterval(poller);
    currentSession.id = d.id;
    sessionStorage.setItem("console.session", d.id);
    await draw(d.id);
    poller = setInterval(() => draw(d.id).catch((e) => showError(form, e)), 3000);
  });
}

start().catch((error) => set(html`<div class="card"><p class="error" role="alert">${error.message}</p></div>`));
