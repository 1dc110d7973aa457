// Registry and score imports (学籍与成绩导入, issue 15): a file of any size is sent with
// `Prefer: respond-async` and becomes a background job; its progress (rows read / valid / imported,
// errors, state) is shown live, and a file with errors offers its error report (CSV, one line per
// error: 行号, 字段, 原因). A teacher imports and sees their own school's registry only.
import { $, api, fmtTime, html, onSubmit, showError } from "../lib.js";

const KINDS = {
  students: { title: "学籍导入", label: "CSV文件（UTF-8编码）", hint: "列：province_code, province_name, school_code, school_name, campus_code, …, qualification_subjects, cet6_barred。老师只能导入本校学生；文件可达数百万行，在后台导入。" },
  scores: { title: "成绩导入", label: "成绩CSV文件（UTF-8编码）", hint: "列：ticket_number, id_number, name, score, year, half（CET6资格复核使用）。" },
};
const KIND_LABELS = { students: "学籍", scores: "四级成绩" };
const POLL_MS = 1000;

const errorsHref = (job) => `/api/eligibility/registry/imports/${job.id}/errors.csv`;
const progressOf = (job) => html`<progress max="1" value="${job.progress}" aria-label="导入进度">${Math.round(job.progress * 100)}%</progress>
  <span data-progress-text>${Math.round(job.progress * 100)}% · ${job.status_label}</span>`;
const countsOf = (job) => `已读${job.rows_read}行 · 有效${job.rows_valid}行 · 已导入${job.rows_merged}行 · 错误${job.error_count}处`;
const finished = (job) => job.status === "done" || job.status === "rejected";

export function importsPanel(panel, me) {
  const kinds = me.roles.includes("ops") ? ["students", "scores"] : ["students"];
  panel.innerHTML = String(html`${kinds.map((kind) => html`<div class="card"><h2>${KINDS[kind].title}</h2><p class="hint">${KINDS[kind].hint}</p>
      <form id="${kind}-upload" novalidate><p class="error" role="alert"></p>
        <div class="field"><label for="${kind}-file" class="req">${KINDS[kind].label}</label><input id="${kind}-file" name="file" type="file" accept=".csv,text/csv" required></div>
        <div class="actions"><button type="submit">上传导入</button></div>
        <div data-watch hidden></div><p class="success" role="status" data-result></p></form></div>`)}
    <div class="card"><h2>导入任务</h2><div id="import-jobs">正在加载…</div></div>`);
  const box = $("#import-jobs", panel);
  let timer = null;
  // Stops by itself once another tab replaced this panel.
  const schedule = (task) => { clearTimeout(timer); timer = setTimeout(() => { if (document.contains(box)) task(); }, POLL_MS); };

  const drawJobs = async () => {
    const { jobs } = await api("GET", "/eligibility/registry/imports?limit=20");
    box.innerHTML = String(jobs.length ? html`<div class="table-wrap"><table id="import-table"><thead><tr><th scope="col">提交时间</th><th scope="col">类型</th>
        <th scope="col">学校</th><th scope="col">进度</th><th scope="col">行数</th><th scope="col">错误报告</th></tr></thead><tbody>
        ${jobs.map((job) => html`<tr data-job="${job.id}" data-status="${job.status}"><td>${fmtTime(job.created_at)}</td><td>${KIND_LABELS[job.kind]}</td>
          <td>${job.school_code || "全部"}</td><td>${progressOf(job)}</td><td>${countsOf(job)}</td>
          <td>${job.error_count ? html`<a download href="${errorsHref(job)}">下载错误报告</a>` : ""}</td></tr>`)}</tbody></table></div>`
      : html`<p class="hint">还没有导入任务。</p>`);
    if (jobs.some((job) => !finished(job))) schedule(() => drawJobs().catch(() => {}));
  };

  for (const kind of kinds) {
    const form = $(`#${kind}-upload`, panel);
    const watch = $("[data-watch]", form);
    const result = $("[data-result]", form);
    const follow = async (id) => {
      const job = await api("GET", `/eligibility/registry/imports/${id}`);
      watch.hidden = false;
      watch.innerHTML = String(html`${progressOf(job)}<p class="hint">${countsOf(job)}</p>
        ${job.error_count ? html`<a class="button secondary" download href="${errorsHref(job)}" data-errors>下载错误报告</a>` : ""}`);
      if (job.status === "done") result.textContent = `导入成功：共${job.rows_merged}行，新增${job.created}，更新${job.updated}`;
      else if (job.status === "rejected") showError(form, new Error(`导入文件有错误，未导入任何数据：共${job.error_count}处错误，请下载错误报告修改后重新导入`));
      else schedule(() => follow(id).catch((error) => showError(form, error)));
      if (finished(job)) drawJobs().catch(() => {});
    };
    onSubmit(form, async () => {
      const file = $("input[type=file]", form).files[0];
      if (!file) throw new Error("请选择要上传的CSV文件");
      result.textContent = "";
      watch.hidden = true;
      // The file itself is the body: the browser streams it, however large.
      const accepted = await api("POST", `/eligibility/registry/${kind}`, file, { contentType: "text/csv", headers: { prefer: "respond-async" } });
      await drawJobs();
      await follow(accepted.job.id);
    });
  }
  drawJobs().catch((error) => { box.textContent = error.message; });
}
