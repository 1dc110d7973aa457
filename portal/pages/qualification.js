// 开始报名 → 报名协议 → 资格信息查询 → 资格信息确认 (E2–E8), and the CET6 资格复核 dialog (E10).
import { $, $$, ApiError, Markup, api, html, idTypeSelect, onSubmit, showError, toast } from "../lib.js";
import { state, go, render, setPage, header, requireCandidate, stepsBar } from "../core.js";

export async function startPage() {
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

export async function agreementPage() {
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

export async function queryPage() {
  await requireCandidate();
  setPage("资格信息查询", html`<div class="card narrow"><h2>资格信息查询</h2>
  <form id="query" novalidate><p class="error" role="alert"></p>
    <div class="field"><label for="id_type" class="req">证件类型</label>${idTypeSelect("id_type", { selected: state.flow.identity?.id_type || "" })}
      <p class="hint">学籍证件类型（不支持军官证）</p></div>
    <div class="field"><label for="id_number" class="req">证件号码</label><input id="id_number" name="id_number" type="text" placeholder="请输入证件号码" required value="${state.flow.identity?.id_number || ""}"></div>
    <div class="field"><label for="name" class="req">姓名</label><input id="name" name="name" type="text" placeholder="请输入姓名" required value="${state.flow.identity?.name || ""}"></div>
    <div class="actions"><button type="submit">查 询</button></div></form></div>`);
  onSubmit($("#query"), async (data) => {
    if (!data.id_type) throw new Error("请选择证件类型");
    if (!data.id_number) throw new Error("请输入证件号码");
    if (!data.name) throw new Error("请输入姓名");
    const answer = await api("POST", "/eligibility/qualification/query", data);
    state.flow.identity = { id_type: data.id_type, id_number: data.id_number, name: data.name };
    state.flow.query = answer;
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

export async function confirmPage() {
  await requireCandidate();
  if (!state.flow.query) return go("/query", { replace: true });
  const q = state.flow.query;
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
      const answer = await api("POST", "/eligibility/registrations", { ...state.flow.identity, confirmed: data.confirmed });
      toast(answer.message || "保存成功!");
      state.home = await api("GET", "/eligibility/home");
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

export async function openReviewDialog(prefill) {
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
