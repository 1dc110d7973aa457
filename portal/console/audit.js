// The audit trail (操作审计): every staff action and money movement of one service, newest first,
// filtered by actor, candidate, school, kind and time (Beijing time), a page at a time (keyset),
// and exported as CSV with the same filters. Operations see everything, a teacher their school.
import { $, api, fmtTime, html, onSubmit, shanghaiInputToIso } from "../lib.js";

const SERVICES = { enrolment: "报考（考次、容量、编排、锁定）", eligibility: "资格（学籍、成绩、复核、重新绑定）", payment: "支付（缴费、退款、对账）", passport: "通行证（管理人员账号）" };
const FILTERS = [["actor", "操作人通行证ID"], ["candidate", "考生通行证ID"], ["school", "学校代码"], ["kind", "操作类型"]];

function query(data, extra = {}) {
  const params = new URLSearchParams();
  for (const [key] of FILTERS) if (data[key]) params.set(key, data[key].trim());
  const since = shanghaiInputToIso(data.since);
  const until = shanghaiInputToIso(data.until);
  if (since) params.set("since", since);
  if (until) params.set("until", until);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

const change = (value) => (value == null ? "" : JSON.stringify(value));

export function audit(panel, me) {
  panel.innerHTML = String(html`<div class="card"><h2>操作审计</h2>
    <form id="audit-form" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="a-service" class="req">服务</label><select id="a-service" name="service">
        ${Object.entries(SERVICES).map(([value, label]) => html`<option value="${value}">${label}</option>`)}</select></div>
      ${FILTERS.map(([name, label]) => html`<div class="field"><label for="a-${name}">${label}</label><input id="a-${name}" name="${name}" type="text" maxlength="64"${name === "school" && me.school_code ? html` value="${me.school_code}" readonly` : ""}></div>`)}
      <div class="field"><label for="a-since">起始时间（北京时间）</label><input id="a-since" name="since" type="datetime-local"></div>
      <div class="field"><label for="a-until">截止时间（北京时间）</label><input id="a-until" name="until" type="datetime-local"></div>
      <div class="actions"><button type="submit">查询</button><a class="button secondary" id="audit-export" download>导出CSV</a></div></form>
    <div id="audit-list"></div><div class="actions"><button type="button" class="secondary" id="audit-more" hidden>下一页</button></div></div>`);
  const form = $("#audit-form");
  const list = $("#audit-list");
  const more = $("#audit-more");
  let next = null;
  let last = null;
  const exportLink = () => {
    const data = Object.fromEntries(new FormData(form));
    $("#audit-export").href = `/api/${data.service}/ops/audit/export?${query(data)}`;
  };
  const load = async (data, append) => {
    const page = await api("GET", `/${data.service}/ops/audit?${query(data, append && next ? { before_id: next } : {})}`);
    const rows = page.items.map((r) => html`<tr data-audit="${r.id}"><td>${fmtTime(r.at)}</td><td>${r.actor_id}<br><small>${r.actor_role}</small></td><td>${r.address || ""}</td>
      <td>${r.kind}</td><td>${r.subject_type} ${r.subject_id}</td><td>${r.candidate || ""}</td><td>${r.school_code || ""}</td>
      <td><code>${change(r.before)}</code></td><td><code>${change(r.after)}</code></td></tr>`);
    if (!append) {
      list.innerHTML = String(page.items.length ? html`<div class="table-wrap"><table id="audit-table"><thead><tr><th scope="col">时间</th><th scope="col">操作人</th><th scope="col">来源地址</th>
        <th scope="col">操作类型</th><th scope="col">对象</th><th scope="col">考生</th><th scope="col">学校</th><th scope="col">操作前</th><th scope="col">操作后</th></tr></thead><tbody></tbody></table></div>`
        : html`<p class="hint" id="audit-empty">没有符合条件的记录。</p>`);
    }
    const body = $("#audit-table tbody", list);
    if (body) body.insertAdjacentHTML("beforeend", rows.map(String).join(""));
    next = page.next;
    more.hidden = next == null;
  };
  form.addEventListener("input", exportLink);
  onSubmit(form, async (data) => { last = data; exportLink(); await load(data, false); });
  more.addEventListener("click", () => load(last, true).catch(() => { more.hidden = true; }));
  exportLink();
}
