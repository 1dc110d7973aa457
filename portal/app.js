// The candidate portal: plain ES modules, no framework, no build. Pages follow the guide
// (cet-registration-guide.zh.txt) in order, one module per part of it; every request goes to
// /api/… on this origin. Imports are relative so the versioned asset folder carries them all.
import { render, routes } from "./core.js";
import { accountPage, accountRecoveryPage, emailVerifyPage, loginPage, passwordRecoveryPage, passwordResetPage, registerPage } from "./pages/account.js";
import { noticesPage, writtenPage } from "./pages/enrolment.js";
import { guidePage } from "./pages/guide.js";
import { examTimePage, faqPage, homePage } from "./pages/home.js";
import { oralPage } from "./pages/oral.js";
import { agreementPage, confirmPage, queryPage, startPage } from "./pages/qualification.js";
import { payPage, registrationPage } from "./pages/registration.js";

Object.assign(routes, {
  "/": homePage,
  "/about": guidePage("about"),
  "/candidate-notes": guidePage("candidate-notes"),
  "/exam-time": examTimePage,
  "/process": guidePage("process"),
  "/special-notes": guidePage("special-notes"),
  "/faq": faqPage,
  "/login": loginPage,
  "/register": registerPage,
  "/account": accountPage,
  "/password/recovery": passwordRecoveryPage,
  "/password/reset": passwordResetPage,
  "/email/verify": emailVerifyPage,
  "/account-recovery": accountRecoveryPage,
  "/start": startPage,
  "/agreement": agreementPage,
  "/query": queryPage,
  "/confirm": confirmPage,
  "/notices": noticesPage,
  "/written": writtenPage,
  "/oral": oralPage,
  "/registration": registrationPage,
  "/pay": payPage,
});

render();
