// 员工账号管理: operations manage every staff account, a province administrator the teachers of
// their province's schools (passport checks the scope again on every request). A new account
// gets a mail with a link to set its password; nobody else ever knows it.
import { $, $$, api, fmtTime, html, onSubmit, showError, toast } from "../lib.js";

const ROLES = { teacher: "学校负责老师", province_admin: "省级管理员", support: "客服", ops: "考试中心运维" };

export function staff(panel, me) {
  const ops = me.roles.includes("ops");
  const roles = ops ? Object.entries(ROLES) : [["teacher", ROLES.teacher]];
  panel.innerHTML = String(html`<div class="card"><h2>新建员工账号</h2>
    <form id="staff-form" novalidate><p class="error" role="alert"></p>
      <div class="field"><label for="st-email" class="req">邮箱</label><input id="st-email" name="email" type="email" required maxlength="254"></div>
      <div class="field"><label for="st-role" class="req">角色</label><select id="st-role" name="role">${roles.map(([v, l]) => html`<option value="${v}">${l}</option>`)}</select></div>
      <div class="field" data-for="teacher"><label for="st-school" class="req">学校代码（5位）</label><input id="st-school" name="school_code" type="text" inputmode="numeric" maxlength="5"></div>
      <div class="field" data-for="province_admin" hidden><label for="st-province" class="req">省份代码（2位）</label><input id="st-province" name="province_code" type="text" inputmode="numeric" maxlength="2"></div>
      <p class="hint">创建后系统向该邮箱发送设置密码的链接；首次登录时须绑定动态验证码。</p>
      <div class="actions"><button type="submit">创建账号</button></div></form></div>
    <div class="card"><h2>员工账号</h2><p class="error" role="alert" id="staff-error"></p><div id="staff-list">正在加载…</div></div>`);
  const form = $("#staff-form");
  const role = $("#st-role");
  const toggle = () => $$("[data-for]", form).forEach((f) => { f.hidden = f.dataset.for !== role.value; });
  role.addEventListener("change", toggle);
  toggle();
  const list = async () => {
    const items = await api("GET", "/passport/staff/accounts");
    $("#staff-list").innerHTML = String(items.length ? html`<div class="table-wrap"><table id="staff-table"><thead><tr><th scope="col">邮箱</th><th scope="col">角色</th>
      <th scope="col">范围</th><th scope="col">状态</th><th scope="col">动态验证码</th><th scope="col">最近登录</th><th scope="col">操作</th></tr></thead>
      <tbody>${items.map((a) => html`<tr data-staff="${a.passport_id}"><td>${a.email}</td><td>${ROLES[a.role] || a.role}</td>
        <td>${a.school_code ? `学校${a.school_code}` : a.province_code ? `省份${a.province_code}` : "全国"}</td>
        <td data-state>${a.disabled ? "已停用" : "正常"}</td><td>${a.second_factor ? "已绑定" : "未绑定"}</td>
        <td data-last-login>${a.last_login_at ? `${fmtTime(a.last_login_at)}（${a.last_login_address}）` : "从未登录"}</td>
        <td><button type="button" class="link" data-action="${a.disabled ? "enable" : "disable"}">${a.disabled ? "启用" : "停用"}</button>
          <button type="button" class="link" data-action="password-link">重置密码</button>
          ${a.second_factor ? html`<button type="button" class="link" data-action="second-factor-reset">重置动态验证码</button>` : ""}</td></tr>`)}</tbody></table></div>`
      : html`<p class="hint">暂无账号</p>`);
    $$("[data-action]", panel).forEach((b) => b.addEventListener("click", async () => {
      const id = b.closest("[data-staff]").dataset.staff;
      try {
        const result = await api("POST", `/passport/staff/accounts/${id}/${b.dataset.action}`);
        const done = { "password-link": result.message, "second-factor-reset": "动态验证码已重置，下次登录时重新绑定" };
        toast(done[b.dataset.action] || (result.disabled ? "账号已停用" : "账号已启用"));
        await list();
      } catch (e) { showError($("#staff-error"), e); }
    }));
  };
  onSubmit(form, async (d) => {
    const body = { email: d.email, role: d.role };
    if (d.role === "teacher") body.school_code = d.school_code;
    if (d.role === "province_admin") body.province_code = d.province_code;
    const created = await api("POST", "/passport/staff/accounts", body);
    toast(created.message);
    form.reset();
    toggle();
    await list();
  });
  list().catch((e) => showError($("#staff-error"), e));
}
