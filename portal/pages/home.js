// The public pages: home (news and notices from operations), exam time, FAQ and the guide's pages.
import { api, fmtTime, html } from "../lib.js";
import { state, setPage, loadAccount, header, stepsBar } from "../core.js";

// 最新动态, 通知公告 and 省通告 come from operations and province administrators (enrolment's /news), published items only.
const newsBody = (n) => n.body.split("\n").filter((line) => line.trim()).map((line) => html`<p>${line}</p>`);
const newsList = (items, kind) => {
  const chosen = items.filter((n) => n.kind === kind);
  return chosen.length ? html`${chosen.map((n) => html`<article class="news-item" data-news="${n.id}"><h3>${n.title}</h3>
    <p class="hint">发布时间：<time datetime="${n.publish_at}">${fmtTime(n.publish_at)}</time></p>${newsBody(n)}</article>`)}`
    : html`<p class="hint">暂无</p>`;
};

async function newsSections() {
  let items;
  try {
    items = await api("GET", "/enrolment/news");
  } catch (error) {
    return html`<section class="card"><p class="error" role="alert">${error.message}</p></section>`;
  }
  return html`<section class="card" aria-labelledby="news-title" id="news">
      <h2 id="news-title">CET考试最新动态 <small class="hint">THE LATEST</small></h2>${newsList(items, "news")}</section>
    <section class="card" aria-labelledby="notices-title" id="notices">
      <h2 id="notices-title">通知公告 <small class="hint">NOTICES</small></h2>${newsList(items, "notice")}</section>
    <section class="card" aria-labelledby="province-notices-title" id="province-notices">
      <h2 id="province-notices-title">省通告 <small class="hint">PROVINCES</small></h2>${newsList(items, "province")}</section>`;
}

export async function homePage() {
  if (state.account === null) await loadAccount();
  await header();
  const news = await newsSections();
  setPage("首页", html`${stepsBar(0)}
  <div class="home">
    <nav class="menu" aria-label="报名入口">
      <a href="${state.account ? "/start" : "/login"}" data-link id="enter">进入报名<small>ENTRY</small></a>
      <a href="/register" data-link>注册新用户<small>REGISTER NEW USER</small></a>
      <a href="/account-recovery" data-link>找回已报名账号<small>RETRIEVE ACCOUNT</small></a>
      <a href="/faq" data-link>常见问题<small>COMMON PROBLEM</small></a>
      <a href="/exam-time" data-link>考试时间<small>APPLICATION NOTES</small></a>
    </nav>
    <div>
      <section class="card"><h2>全国大学英语四、六级考试（CET）</h2>
        <p>College English Test Band4 and Band6 —— 科学 客观 准确 公正</p>
        <p>报名流程：注册通行证账号 → 登录 → 资格验证 → 笔试报名缴费 → 口试报名缴费（选） → 报名成功。</p></section>
      ${news}
    </div>
  </div>`);
}

export async function examTimePage() {
  await header();
  const news = await newsSections();
  setPage("考试时间", html`<div class="card"><h2>考试时间</h2>
    <p>每个考次的笔试日期、口试日期以及准考证打印时间，在登录后的“报名信息”页面“报名流程”中显示；以下为一般安排。</p>
    <h3>笔试</h3><p>上午：英语、日语、德语、俄语、法语四级；下午：英语、日语、俄语、德语六级。</p>
    <h3>口试（选）</h3><p>英语四级口试、英语六级口试分别在笔试前约一个月的周末举行，具体日期以报名信息页面和准考证为准。</p>
    <h3>笔试科目准考证打印提示</h3><ol>
      <li>请考生按规定领取或自行打印准考证。</li>
      <li>自行打印准考证的考生，请在准考证打印时间开始后登录本系统，在“报名信息”页面下载及打印，考试日前均可进行操作。</li>
      <li>自行打印准考证“考生须知”中有关条形码及题目作答顺序等内容仅针对英语四级和英语六级笔试科目。</li></ol></div>${news}`);
}

export async function faqPage() {
  await header();
  setPage("常见问题", html`<div class="card"><h2>常见问题</h2>
    <h3>忘记密码怎么办？</h3><p>在登录页面点击“找回密码”，输入注册邮箱和验证码，按邮件中的链接重新设置密码。</p>
    <h3>忘记了已报名的通行证账号？</h3><p>点击首页“找回已报名账号”，输入证件类型、证件号码、姓名即可找回；也可联系学校负责老师或客服。</p>
    <h3>注册邮箱填错了？</h3><p>记得密码：登录通行证后在“修改资料”中改为正确邮箱并验证。忘记密码且已通过学籍验证：请重新注册，再将通行证ID和新邮箱提供给客服，由客服为您重新绑定。</p>
    <h3>支付成功但显示未支付？</h3><p>在“报名信息”页面点击科目表格下方的“更新”按钮，系统会向支付平台查询并更新支付状态。</p>
    <h3>报考后多久必须支付？</h3><p>已报考科目如果24小时内未支付，将会被系统自动删除，报考完毕请尽快完成支付。</p>
    <p><a href="/" data-link>返回首页</a></p></div>`);
}
