// Arrangement (编排, N13): operations start the arrangement of a closed exam session, watch its
// progress live (a background job of the enrolment worker, a batch at a time) and download the
// result (CSV, UTF-8 with BOM). Asking again while it runs shows the same job.
import { $, api, fmtTime, html, onSubmit, showError } from "../lib.js";

const EVERY_MS = 2000;

const base = (session) => `/enrolment/ops/sessions/${encodeURIComponent(session)}/arrangement`;

function drawJob(box, job) {
  const percent = Math.floor(job.progress * 100);
  box.innerHTML = String(html`<dl class="kv" id="arrangement-job" data-status="${job.status}">
      <dt>任务状态</dt><dd id="arrangement-status">${job.status_label}</dd>
      <dt>待编排科目</dt><dd id="arrangement-total">${job.total}</dd>
      <dt>已编排科目</dt><dd id="arrangement-arranged">${job.arranged}</dd>
      <dt>进度</dt><dd><progress max="100" value="${percent}" aria-label="编排进度">${percent}%</progress> <span id="arrangement-percent">${percent}%</span></dd>
      <dt>提交时间</dt><dd>${fmtTime(job.created_at)}</dd>
      <dt>完成时间</dt><dd>${job.finished_at ? fmtTime(job.finished_at) : "—"}</dd></dl>
    ${job.error ? html`<p class="error" role="alert">${job.error}</p>` : ""}
    ${job.status === "done" ? html`<div class="actions"><a class="button" id="arrangement-download" download
      href="/api/enrolment/exports/arrangement?session=${encodeURIComponent(job.exam_session_id)}">下载编排结果（CSV）</a></div>` : ""}`);
}

export function arrangement(panel) {
  panel.innerHTML = String(html`<div class="card"><h2>考场编排</h2>
    <p class="hint">报名结束后，为所有已缴费科目分配考场、座位和准考证号。编排在后台分批进行，期间考生缴费和学校操作不受影响；编排后新缴费的科目，再次编排即可补排。</p>
    <form id="arrangement-form" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="arrangement-session" class="req">考次ID</label><input id="arrangement-session" name="session" type="text" required maxlength="36"
        value="${sessionStorage.getItem("console.session") || ""}"></div>
      <div class="actions"><button type="submit" name="action" value="start">开始编排</button><button type="submit" name="action" value="watch" class="secondary">查看最近一次编排</button></div>
    </form><div id="arrangement-progress" aria-live="polite"></div></div>`);
  const form = $("#arrangement-form");
  const box = $("#arrangement-progress");
  let timer = null;
  const stop = () => { clearTimeout(timer); timer = null; };
  // Polls while the job runs and this tab is still the one shown.
  const watch = (session, job) => {
    stop();
    drawJob(box, job);
    if (job.status !== "queued" && job.status !== "running") return;
    timer = setTimeout(async () => {
      if (!box.isConnected) return stop();
      try {
        watch(session, await api("GET", `${base(session)}/jobs/${job.id}`));
      } catch (e) { showError(form, e); watch(session, job); }
    }, EVERY_MS);
  };
  onSubmit(form, async (data, _form, submitter) => {
    if (!data.session) throw new Error("请输入考次ID");
    sessionStorage.setItem("console.session", data.session);
    if (submitter?.value === "watch") {
      const { items } = await api("GET", `${base(data.session)}/jobs`);
      if (!items.length) { stop(); box.innerHTML = String(html`<p class="hint" id="arrangement-none">该考次尚未编排。</p>`); return; }
      return watch(data.session, items[0]);
    }
    watch(data.session, await api("POST", base(data.session), undefined, { headers: { prefer: "respond-async" } }));
  });
}
