// 报考须知及省通告 and 笔试报考 (N3–N7); 口试报考 is pages/oral.js.
import { $, $$, Markup, api, html, onSubmit, toast } from "../lib.js";
import { go, setPage, requireCandidate, enrolmentRegistration, noticeList } from "../core.js";

export async function noticesPage(_, isCurrent) {
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

export async function writtenPage(_, isCurrent) {
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
