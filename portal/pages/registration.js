// 报名信息 (N12, N13) and paying (Y1, Y2): 支付 → 去支付 → 确定 → the gateway → 温馨提示 → the gateway.
import { $, $$, Markup, api, fmtTime, html, idTypeLabel, onSubmit, showError, toast, yuan } from "../lib.js";
import { go, render, setPage, requireCandidate, enrolmentRegistration, noticeList, confirmDialog } from "../core.js";
import { openReviewDialog } from "./qualification.js";

// A card per subject on a phone (style.css: table.cards), like the oral campus chooser.
const SUBJECT_COLUMNS = ["#", "科目", "费用(元)", "支付状态", "编排状态", "科目报考方式", "报名学校", "报名校区", "操作"];
const subjectTable = (kind, t, emptyMessage) => html`<section class="card" aria-labelledby="${kind}-title">
  <h3 id="${kind}-title">${kind === "written" ? "笔试报考科目信息" : "口试报考科目信息"}</h3>
  ${t.rows.length ? html`<p>支付状态：<strong data-summary="${kind}">${t.payment_status}</strong> 未支付：<strong data-unpaid="${kind}">¥${yuan(t.unpaid_fen)}</strong></p>
  <div class="table-wrap"><table id="${kind}-table" class="cards"><thead><tr>${SUBJECT_COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
  <tbody>${t.rows.map((r) => html`<tr data-enrolment="${r.enrolment_id}"><td data-label="#">${r.number}</td><td data-label="科目">${r.subject}</td>
    <td data-label="费用(元)">${yuan(r.fee_fen)}</td><td data-label="支付状态">${r.payment_status}</td><td data-label="编排状态">${r.arrangement_status}</td>
    <td data-label="科目报考方式">${r.method}</td><td data-label="报名学校">${r.school}</td><td data-label="报名校区">${r.campus}</td>
    <td data-label="操作"><span>${r.ticket_available ? html`<a href="/api/enrolment/me/enrolments/${r.enrolment_id}/ticket.pdf" download>下载准考证</a>` : ""}
      ${r.cancellable ? html`<button type="button" class="link" data-cancel="${r.enrolment_id}">取消报考</button>` : ""}
      ${r.locked ? "集体缴费锁定" : ""}${!r.paid && r.expires_at ? html`<span class="hint"> 请于${fmtTime(r.expires_at)}前支付</span>` : ""}</span></td></tr>`)}</tbody></table></div>
  <div class="actions">${t.rows.some((r) => !r.paid && !r.locked) ? html`<button type="button" data-pay="${kind}">支付</button>` : ""}<button type="button" class="secondary" data-refresh>更新</button></div>`
  : html`<p>${emptyMessage}</p>`}</section>`;

export async function registrationPage(_, isCurrent) {
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

export async function payPage(params) {
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
