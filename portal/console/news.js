// Operations write the portal's home page: 最新动态, 通知公告 and 省通告, each with a publish time
// entered in Beijing time; a province administrator only their province's 省通告. Candidates see
// an item from its publish time on (enrolment checks who writes what).
import { $, $$, api, fmtTime, html, isoToShanghaiInput, onSubmit, shanghaiInputToIso, showError, toast } from "../lib.js";

const KINDS = { news: "最新动态", notice: "通知公告", province: "省通告" };

export function news(panel, me) {
  const province = me.roles.includes("ops") ? null : me.province_code;  // a province administrator's own province
  const kinds = province ? [["province", KINDS.province]] : Object.entries(KINDS);
  panel.innerHTML = String(html`<div class="card"><h2>${province ? `省通告（省份${province}）` : "首页动态与通知"}</h2>
    <form id="news-form" novalidate><p class="error" role="alert"></p><input type="hidden" name="id">
      <div class="field"><label for="n-kind" class="req">栏目</label><select id="n-kind" name="kind">
        ${kinds.map(([value, label]) => html`<option value="${value}">${label}</option>`)}</select></div>
      <div class="field" id="n-province-field"><label for="n-province" class="req">省份代码（2位）</label>
        <input id="n-province" name="province_code" type="text" inputmode="numeric" maxlength="2" value="${province || ""}" ${province ? "readonly" : ""}></div>
      <div class="field"><label for="n-title" class="req">标题</label><input id="n-title" name="title" type="text" required maxlength="200"></div>
      <div class="field"><label for="n-body" class="req">正文</label><textarea id="n-body" name="body" class="prose" required></textarea>
        <p class="hint">每行一段。</p></div>
      <div class="field"><label for="n-publish" class="req">发布时间（北京时间）</label><input id="n-publish" name="publish_at" type="datetime-local" required>
        <p class="hint">到发布时间后考生在首页可见；留空时间前请确认。</p></div>
      <div class="actions"><button type="submit" id="news-save">保存</button><button type="reset" class="secondary">清空</button></div></form></div>
    <div class="card"><h2>已有动态与通知</h2><div id="news-list">正在加载…</div></div>`);
  const form = $("#news-form");
  const showProvince = () => { $("#n-province-field").hidden = form.elements.kind.value !== "province"; };
  form.elements.kind.addEventListener("change", showProvince);
  showProvince();
  $("#n-publish").value = isoToShanghaiInput(new Date().toISOString());
  const list = async () => {
    const items = await api("GET", "/enrolment/ops/news");
    $("#news-list").innerHTML = String(items.length ? html`<div class="table-wrap"><table id="news-table"><thead><tr><th scope="col">栏目</th><th scope="col">标题</th>
      <th scope="col">发布时间（北京时间）</th><th scope="col">状态</th><th scope="col">操作</th></tr></thead>
      <tbody>${items.map((n) => html`<tr data-news="${n.id}"><td>${KINDS[n.kind]}${n.province_code ? `（${n.province_code}）` : ""}</td><td>${n.title}</td><td data-publish>${fmtTime(n.publish_at)}</td>
        <td>${n.published ? "已发布" : "待发布"}</td><td><button type="button" class="link" data-edit="${n.id}">修改</button>
        <button type="button" class="link" data-delete="${n.id}">撤下</button></td></tr>`)}</tbody></table></div>` : html`<p class="hint">暂无</p>`);
    $$("[data-edit]", panel).forEach((b) => b.addEventListener("click", () => {
      const item = items.find((n) => n.id === b.dataset.edit);
      form.elements.id.value = item.id;
      form.elements.kind.value = item.kind;
      form.elements.province_code.value = item.province_code || "";
      showProvince();
      form.elements.title.value = item.title;
      form.elements.body.value = item.body;
      form.elements.publish_at.value = isoToShanghaiInput(item.publish_at);
      form.elements.title.focus();
    }));
    $$("[data-delete]", panel).forEach((b) => b.addEventListener("click", async () => {
      try { await api("DELETE", `/enrolment/ops/news/${b.dataset.delete}`); toast("已撤下"); await list(); } catch (e) { showError(form, e); }
    }));
  };
  form.addEventListener("reset", () => { form.elements.id.value = ""; setTimeout(() => { form.elements.province_code.value = province || ""; showProvince(); }); });
  onSubmit(form, async (d) => {
    const body = { kind: d.kind, title: d.title, body: d.body, publish_at: shanghaiInputToIso(d.publish_at) };
    if (d.kind === "province") body.province_code = d.province_code;
    if (!body.publish_at) throw new Error("请填写发布时间");
    await api(d.id ? "PUT" : "POST", d.id ? `/enrolment/ops/news/${d.id}` : "/enrolment/ops/news", body);
    toast(d.id ? "已修改" : "已保存");
    form.reset();
    form.elements.id.value = "";
    form.elements.publish_at.value = isoToShanghaiInput(new Date().toISOString());
    await list();
  });
  list().catch((e) => showError(form, e));
}
