// 口试报考 (N9–N11, N14): the campus chooser with its remaining capacity, said in words as well as
// colour, kept current while the candidate looks at it, and every choice's result reported.
import { $, $$, Markup, api, fmtTime, html, onSubmit, showError, toast, yuan } from "../lib.js";
import { enrolmentRegistration, go, noticeList, requireCandidate, setPage, whileVisible } from "../core.js";

const ORAL_NOTES = [
  "口试科目可报考要求考生具有科目报考资格、同级别笔试科目已经报考、科目考试日期非空、校区在报名时间内、有剩余容量、费用已设且大于0。",
  "口试报考科目的可报考校区受考生学籍校区、学籍学校口试报考设置限制，如有疑问请咨询学校相关老师。",
  "口试报考科目为选报科目，可以不报任何口试科目。",
  "已报未支付科目在24小时后会被系统删除。已报未支付科目在报名时间内可以取消。如已报未支付科目无法取消，请联系学校老师确认是否被集体缴费锁定。",
  "已支付科目不可取消报考。口试准考证打印时间在首页。准考证下载链接在可以打印准考证时会在考生详细页面显示。",
  "剩余容量标为绿色“充足”，说明考位有设定容量一半以上；标为黄色“紧张”，说明考位有设定容量一半以下；标为红色的“无”，说明已报满，无法勾选，此时可选择其他校区或加入候补。",
];
const NAMES = { F: "英语四级口试", S: "英语六级口试" };
// Red's label is already the word 无; the other two colours get theirs beside the number.
const CAPACITY_WORDS = { green: "充足", yellow: "紧张" };
export const REFRESH_MS = 15_000; // while the page is visible; at once after a seats_full answer

const remaining = (c) => html`<span class="cap-${c.colour}" data-colour="${c.colour}">${c.remaining_label}</span>${
  CAPACITY_WORDS[c.colour] ? html` <span class="cap-word cap-word-${c.colour}">${CAPACITY_WORDS[c.colour]}</span>` : ""}`;

const COLUMNS = ["选择", "科目", "费用(元)", "报名学校", "报名校区", "剩余容量", "报名时间", "考试日期"];

function campusTable(list) {
  const code = list.subject_code;
  // Under 700 px each campus is a card (style.css: table.cards), its cells labelled by data-label,
  // so 剩余容量 is never scrolled out of sight.
  return html`<div class="table-wrap"><table id="campuses-${code}" class="cards"><caption class="skip">${NAMES[code]}可报考校区</caption>
    <thead><tr>${COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${list.campuses.map((c, i) => html`<tr data-offering="${c.offering_id}">
      <td data-label="选择"><span><input type="radio" name="oral_${code}" value="${c.offering_id}" id="o-${c.offering_id}" aria-label="选择 ${c.campus}" ${c.selectable ? (list.fixed && i === 0 ? new Markup("checked") : "") : new Markup("disabled")}>
        ${c.selectable ? "" : html`<button type="button" class="link" data-waitlist="${c.offering_id}">该校区已报满，加入候补</button>`}</span></td>
      <td data-label="科目">${c.subject_name}</td><td data-label="费用(元)">${c.fee_fen == null ? "" : yuan(c.fee_fen)}</td>
      <td data-label="报名学校">${c.school}</td><td data-label="报名校区"><label for="o-${c.offering_id}">${c.campus}</label></td>
      <td data-label="剩余容量" class="remaining"><span>${remaining(c)}</span></td>
      <td data-label="报名时间">${c.opens_at ? fmtTime(c.opens_at) : ""}${c.closes_at ? " 至 " + fmtTime(c.closes_at) : ""}</td>
      <td data-label="考试日期">${c.exam_date || ""}</td></tr>`)}</tbody></table></div>`;
}

function section(list, taken) {
  const code = list.subject_code;
  if (!list.qualified) return html`<section class="card"><h3>${NAMES[code]}</h3><p class="error" id="oral-${code}-message">${list.message}</p></section>`;
  if (taken.has(code)) return html`<section class="card"><h3>${NAMES[code]}</h3><p class="success" id="oral-${code}-taken">已报考${NAMES[code]}</p></section>`;
  return html`<section class="card" aria-labelledby="oral-${code}-title"><h3 id="oral-${code}-title">${NAMES[code]}</h3>
    ${list.fixed ? html`<p class="hint">笔试报名校区不允许报考外校口试，已自动选定报名校区。</p>` : html`<p class="hint">报名学校校区：请选择${NAMES[code]}报名学校校区</p>`}
    ${list.message ? html`<p class="notice">${list.message}</p>` : ""}
    ${campusTable(list)}
    <div class="school-notices" id="school-notices-${code}">${list.school_notices.length ? html`<h4>学校通告</h4>${noticeList(list.school_notices)}` : ""}</div></section>`;
}

const loadLists = () => Promise.all(["F", "S"].map((code) => api("GET", `/enrolment/me/oral/${code}/campuses`)));
const takenCodes = (reg) => new Set(reg.oral.rows.map((r) => r.subject_code));

export async function oralPage(_, isCurrent) {
  const h = await requireCandidate();
  if (!h.bound) return go("/start", { replace: true });
  const reg = await enrolmentRegistration(isCurrent);
  const lists = await loadLists();
  setPage("口试科目报考", html`<div class="card"><h2>口试科目报考</h2><h3>口试科目报考须知：</h3>
    <ul>${ORAL_NOTES.map((n) => html`<li>${n}</li>`)}</ul><h3>省通告</h3>${noticeList(reg.notices.province)}</div>
    <form id="oral" novalidate><div id="oral-lists">${lists.map((list) => section(list, takenCodes(reg)))}</div>
      <p class="hint" id="capacity-updated" role="status">剩余容量更新于 ${fmtTime(new Date())}</p>
      <div id="oral-results" role="status"></div><p class="error" role="alert"></p>
      <div class="actions"><button type="submit">提交</button><a class="button secondary" href="/registration" data-link>返回</a></div></form>`);
  const form = $("#oral");

  // Redraws the chooser from fresh answers, keeping the candidate's choices that are still open.
  const refresh = async () => {
    const [fresh, now] = await Promise.all([loadLists(), api("GET", "/enrolment/me/registration")]);
    if (!isCurrent()) return;
    const chosen = $$("input[type=radio]:checked", form).map((r) => r.id);
    const notices = Object.fromEntries(["F", "S"].map((code) => [code, $(`#school-notices-${code}`)?.innerHTML]));
    const focused = document.activeElement?.id;
    $("#oral-lists").innerHTML = String(html`${fresh.map((list) => section(list, takenCodes(now)))}`);
    for (const id of chosen) {
      const radio = document.getElementById(id);
      if (radio && !radio.disabled) {
        radio.checked = true;
        const box = $(`#school-notices-${radio.name.slice(5)}`);
        if (box && notices[radio.name.slice(5)] !== undefined) box.innerHTML = notices[radio.name.slice(5)];
      }
    }
    if (focused) document.getElementById(focused)?.focus();
    $("#capacity-updated").textContent = `剩余容量更新于 ${fmtTime(new Date())}`;
  };
  whileVisible(REFRESH_MS, () => refresh().catch((error) => showError(form, error)), isCurrent);

  form.addEventListener("change", async (event) => {
    if (event.target.type !== "radio") return;
    const code = event.target.name.slice(5);
    try {
      const notices = await api("GET", `/enrolment/me/oral/offerings/${event.target.value}/notices`);
      $(`#school-notices-${code}`).innerHTML = String(notices.length ? html`<h4>学校通告</h4>${noticeList(notices)}` : "");
    } catch (error) { showError(form, error); }
  });
  form.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-waitlist]");
    if (!button) return;
    try { await api("POST", "/enrolment/me/waitlist", { offering_id: button.dataset.waitlist }); toast("已加入候补，有考位时将按顺序为您保留"); } catch (e) { showError(form, e); }
  });
  onSubmit(form, async () => {
    const chosen = $$("input[type=radio]:checked", form).map((r) => ({ code: r.name.slice(5), offering: r.value }));
    if (!chosen.length) throw new Error("请选择口试报名校区");
    $("#oral-results").textContent = "";
    const results = [];
    for (const choice of chosen) {
      try {
        await api("POST", "/enrolment/me/oral", { offering_id: choice.offering });
        results.push({ ...choice, error: null });
      } catch (error) {
        results.push({ ...choice, error });
      }
    }
    const failed = results.filter((r) => r.error);
    if (!failed.length) {
      toast("口试报考成功，请在24小时内完成支付");
      return go("/registration");
    }
    // A later choice failed: say what happened to each, and show the seats as they are now.
    $("#oral-results").innerHTML = String(html`<ul class="results">${results.map((r) => html`<li data-result="${r.code}" class="${r.error ? "error" : "success"}">${NAMES[r.code]}：${r.error ? r.error.message : "报考成功，请在24小时内完成支付"}</li>`)}</ul>`);
    if (failed.some((r) => r.error.code === "seats_full") || failed.length < results.length) await refresh().catch(() => {});
    throw failed[0].error;
  });
}
