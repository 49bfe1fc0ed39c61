// Trainer's check-in screen: fetch the next code every 30 s (the server derives it from the clock; no state here).
(function () {
  "use strict";
  var screen = document.querySelector(".checkin-screen[data-code-url]");
  if (!screen) { return; }
  var url = screen.getAttribute("data-code-url");
  var codeEl = screen.querySelector("[data-role=code]");
  var qrEl = screen.querySelector("[data-role=qr]");
  var countEl = screen.querySelector("[data-role=count]");
  var stateEl = screen.querySelector("[data-role=state]");
  var countdownEl = screen.querySelector("[data-role=countdown]");
  var left = parseInt(screen.getAttribute("data-seconds-left"), 10) || 30;
  var timer = null;

  function show(data) {
    codeEl.textContent = data.code;
    qrEl.setAttribute("src", data.qr_url);
    countEl.textContent = data.attendance_count;
    stateEl.textContent = data.open
      ? "签到进行中：用平板扫描二维码，或在“线下培训”中输入下方 6 位签到码"
      : "现在不在签到时间内（开始前 30 分钟至结束）";
    left = data.seconds_left;
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          // Session over: stop polling rather than show a code that no longer refreshes.
          window.clearInterval(timer);
          codeEl.textContent = "------";
          stateEl.textContent = "登录已过期，请刷新页面并重新登录后继续显示签到码";
          return null;
        }
        if (!r.ok) { throw new Error(r.status); }
        return r.json().then(show);
      })
      .catch(function () { stateEl.textContent = "网络中断，正在重试……（旧签到码稍后失效）"; left = 5; });
  }

  timer = window.setInterval(function () {
    left -= 1;
    if (countdownEl) { countdownEl.textContent = Math.max(left, 0); }
    if (left <= 0) { left = 30; refresh(); }
  }, 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  window.addEventListener("pagehide", function () { window.clearInterval(timer); });
}());

// Learner's check-in form: note when the code was typed, so a slow or delayed submit is checked against the
// code that was on the screen then (the server accepts that moment's code within the session's window).
(function () {
  "use strict";
  var form = document.querySelector(".checkin-form");
  if (!form) { return; }
  var code = form.querySelector("input[name=code]");
  var captured = form.querySelector("input[name=captured_at]");
  if (!code || !captured) { return; }
  function stamp() {
    if (!captured.value) { captured.value = new Date().toISOString(); }
  }
  code.addEventListener("input", stamp);
  if (code.value) { stamp(); }  // filled in from the QR link: the code of the moment the page opened
}());
