// Exports (数据导出): streamed CSV (UTF-8 with BOM, opens in Excel) of the roster of a school or
// campus, paid subjects, unpaid holds, refunds and CET6 review decisions, per province or school.
// A teacher's school is fixed: the services refuse another school's data anyway.
import { $, html } from "../lib.js";

const EXPORTS = [
  ["enrolment/exports/roster", "考生名单"],
  ["enrolment/exports/paid", "已缴费科目"],
  ["enrolment/exports/unpaid", "未缴费科目（考位保留中）"],
  ["enrolment/exports/arrangement", "编排结果（考场、座位、准考证号）"],
  ["enrolment/exports/refunds", "退款记录"],
  ["eligibility/exports/reviews", "CET6资格复核结果"],
];

export function exportsPanel(panel, me) {
  const school = me.school_code || "";
  panel.innerHTML = String(html`<div class="card"><h2>数据导出</h2><p class="hint">导出文件为CSV（UTF-8），可直接用Excel打开；数据量大时下载需要一些时间。</p>
    <form id="export-form" novalidate>
      <div class="field"><label for="e-province">省份代码</label><input id="e-province" name="province" type="text" inputmode="numeric" maxlength="2" pattern="\\d{2}"${school ? html` value="${school.slice(0, 2)}" readonly` : ""}></div>
      <div class="field"><label for="e-school">学校代码</label><input id="e-school" name="school" type="text" inputmode="numeric" maxlength="5" pattern="\\d{5}"${school ? html` value="${school}" readonly` : ""}></div>
      <div class="field"><label for="e-campus">校区代码（考生名单、已缴费、未缴费）</label><input id="e-campus" name="campus" type="text" inputmode="numeric" maxlength="6" pattern="\\d{6}"></div>
      <div class="field"><label for="e-session">考次ID（可选）</label><input id="e-session" name="session" type="text" maxlength="36"></div>
      <div class="actions">${EXPORTS.map(([path, label]) => html`<a class="button secondary" download data-export="${path}">${label}</a>`)}</div></form></div>`);
  const form = $("#export-form");
  const links = () => {
    const data = Object.fromEntries(new FormData(form));
    for (const link of form.querySelectorAll("[data-export]")) {
      const reviews = link.dataset.export.startsWith("eligibility");
      const params = new URLSearchParams();
      for (const key of reviews ? ["province", "school"] : ["province", "school", "campus", "session"]) if (data[key]) params.set(key, data[key].trim());
      link.href = `/api/${link.dataset.export}?${params}`;
    }
  };
  form.addEventListener("input", links);
  links();
}
