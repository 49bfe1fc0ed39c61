/* Answering screen: one question per screen, autosave with per-attempt sequence numbers,
 * answers kept in localStorage under "lms.quiz.<user id>.<attempt>" and retried when the connection returns
 * (app.js counts, sends and clears these keys at logout), countdown on the server's clock, submit
 * confirmation listing unanswered questions. */
(function () {
  "use strict";

  var app = document.getElementById("quiz-app");
  if (!app) { return; }

  var attemptId = app.dataset.attemptId;
  var apiUrl = app.dataset.api;
  var resultUrl = app.dataset.resultUrl;
  var LMS = window.LMS || null;
  // Keyed by the user's id like every other per-user key, so app.js can match it exactly at logout.
  var storeKey = "lms.quiz." + (LMS && LMS.user ? LMS.user : app.dataset.user) + "." + attemptId;
  var legacyKey = "lms.quiz." + app.dataset.user + "." + attemptId;  // before ids: by username
  try {
    if (legacyKey !== storeKey && window.localStorage.getItem(legacyKey) !== null) {
      if (window.localStorage.getItem(storeKey) === null) {
        window.localStorage.setItem(storeKey, window.localStorage.getItem(legacyKey));
      }
      window.localStorage.removeItem(legacyKey);
    }
  } catch (e) { /* storage blocked */ }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var TYPES = { single: "单选题", multiple: "多选题", judge: "判断题", fill: "填空题" };
  var RETRY_MS = 5000;

  var paper = null;          // {questions, deadline, now}
  var current = 0;
  var offset = 0;            // server clock − device clock, ms
  var flushing = false;
  var again = false;
  var closed = false;
  var submitting = false;
  var finished = false;      // submitted or closed: nothing of this attempt is kept any more
  var online = navigator.onLine !== false;
  var state = load();

  function role(name) { return app.querySelector('[data-role="' + name + '"]'); }
  function action(name) { return app.querySelector('[data-action="' + name + '"]'); }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey));
      if (saved && typeof saved.seq === "number" && saved.answers) { return saved; }
    } catch (e) { /* unreadable: start afresh */ }
    return { seq: 0, answers: {}, paper: null };
  }

  function persist() {
    if (finished) { return; }
    state.api = apiUrl;  // lets the logout guard send what is left from any page
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }

  function forget() {
    finished = true;
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
  }

  // The site-wide banner (app.js) follows our requests too: a failed save means the server is unreachable.
  function reached(response) {
    if (!LMS) { return; }
    if (response && response.status >= 502 && response.status <= 504) { LMS.connection.lost(); }
    else { LMS.connection.restored(); }
  }

  function unreachable() {
    if (LMS) { LMS.connection.lost(); }
  }

  function showMessage(text) {
    var box = role("message");
    box.textContent = text;
    box.hidden = !text;
  }

  function setNetwork(isOnline) {
    online = isOnline;
    var el = role("network");
    el.textContent = isOnline ? "网络正常" : "网络已断开：答案先保存在本机，恢复后自动提交";
    el.classList.toggle("is-offline", !isOnline);
  }

  function isBlank(answer) {
    if (answer === null || answer === undefined || answer === "") { return true; }
    if (Array.isArray(answer)) {
      return answer.every(function (a) { return a === null || String(a).trim() === ""; });
    }
    return false;
  }

  function unsavedCount() {
    return Object.keys(state.answers).filter(function (qid) { return !state.answers[qid].saved; }).length;
  }

  // Server answers win unless this device holds a newer, not yet saved one.
  function merge(serverAnswers) {
    Object.keys(serverAnswers || {}).forEach(function (qid) {
      var server = serverAnswers[qid];
      var mine = state.answers[qid];
      if (!mine || mine.seq <= server.seq) {
        state.answers[qid] = { answer: server.answer, seq: server.seq, saved: true };
      }
      state.seq = Math.max(state.seq, server.seq);
    });
    persist();
  }

  // --- rendering -------------------------------------------------------------------------------------

  function saveText(qid) {
    var entry = state.answers[qid];
    if (!entry || isBlank(entry.answer)) { return entry && !entry.saved ? "尚未保存" : "未作答"; }
    return entry.saved ? "已保存" : "尚未保存";
  }

  function renderMap() {
    var map = role("map");
    map.textContent = "";
    paper.questions.forEach(function (q, index) {
      var entry = state.answers[q.qid];
      var answered = entry && !isBlank(entry.answer);
      var unsaved = entry && !entry.saved;
      var button = document.createElement("button");
      button.type = "button";
      button.className = (answered ? "is-answered " : "") + (unsaved ? "is-unsaved " : "") +
        (index === current ? "is-current" : "");
      var mark = unsaved ? "待保存" : (answered ? "已答" : "未答");
      if (index === current) { button.setAttribute("aria-current", "step"); }
      // The accessible name is the visible text plus hidden words: "第 1 题，已答".
      var before = document.createElement("span");
      before.className = "visually-hidden";
      before.textContent = "第 ";
      var after = document.createElement("span");
      after.className = "visually-hidden";
      after.textContent = " 题，";
      button.appendChild(before);
      button.appendChild(document.createTextNode(String(index + 1)));
      button.appendChild(after);
      var small = document.createElement("span");
      small.className = "map-mark";
      small.textContent = mark;
      button.appendChild(small);
      button.addEventListener("click", function () { current = index; renderQuestion(); });
      map.appendChild(button);
    });
  }

  function updateSaveState() {
    var q = paper.questions[current];
    var el = role("save-state");
    var text = saveText(q.qid);
    el.textContent = text;
    el.classList.toggle("is-saved", text === "已保存");
    el.classList.toggle("is-unsaved", text === "尚未保存");
  }

  function choice(type, name, value, labelHtml, key, checked, onChange) {
    var label = document.createElement("label");
    label.className = "choice";
    var input = document.createElement("input");
    input.type = type;
    input.name = name;
    input.value = value;
    input.checked = checked;
    input.addEventListener("change", onChange);
    label.appendChild(input);
    if (key) {
      var k = document.createElement("span");
      k.className = "choice-key";
      k.textContent = key;
      label.appendChild(k);
    }
    var text = document.createElement("span");
    text.className = "choice-text";
    text.innerHTML = labelHtml;  // sanitised on the server (lms.courses.render)
    label.appendChild(text);
    return label;
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function renderQuestion() {
    var q = paper.questions[current];
    var entry = state.answers[q.qid];
    var answer = entry ? entry.answer : null;
    var onChange = function () { answered(q); };
    role("qtitle").textContent = "第 " + (current + 1) + " 题 / 共 " + paper.questions.length + " 题（" + TYPES[q.type] + "）";
    role("stem").innerHTML = q.stem_html || escapeHtml(q.stem);
    var box = role("answer");
    box.querySelectorAll(":scope > :not(legend)").forEach(function (el) { el.remove(); });
    var name = "q-" + q.qid;
    if (q.type === "single" || q.type === "multiple") {
      q.options.forEach(function (o) {
        var checked = q.type === "single" ? answer === o.key : Array.isArray(answer) && answer.indexOf(o.key) >= 0;
        box.appendChild(choice(q.type === "single" ? "radio" : "checkbox", name, o.key,
          o.html || escapeHtml(o.text), o.key, checked, onChange));
      });
    } else if (q.type === "judge") {
      box.appendChild(choice("radio", name, "true", "正确", "", answer === true, onChange));
      box.appendChild(choice("radio", name, "false", "错误", "", answer === false, onChange));
    } else {
      var blanks = q.blanks || 1;
      var timer = null;
      for (var i = 0; i < blanks; i += 1) {
        var id = "blank-" + q.qid + "-" + i;
        var label = document.createElement("label");
        label.className = "form-label d-block";
        label.htmlFor = id;
        label.textContent = "第 " + (i + 1) + " 空";
        var input = document.createElement("input");
        input.className = "form-control form-control-lg blank-input mb-2";
        input.id = id;
        input.autocomplete = "off";
        input.value = Array.isArray(answer) && answer[i] !== undefined && answer[i] !== null ? answer[i] : "";
        // Typing saves after a pause; leaving the field saves at once.
        input.addEventListener("input", function () {
          window.clearTimeout(timer);
          timer = window.setTimeout(onChange, 700);
        });
        input.addEventListener("change", function () { window.clearTimeout(timer); onChange(); });
        box.appendChild(label);
        box.appendChild(input);
      }
    }
    action("prev").disabled = current === 0;
    action("next").disabled = current === paper.questions.length - 1;
    updateSaveState();
    renderMap();
  }

  function readAnswer(q) {
    var box = role("answer");
    if (q.type === "single") {
      var one = box.querySelector("input:checked");
      return one ? one.value : null;
    }
    if (q.type === "multiple") {
      return Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return i.value; });
    }
    if (q.type === "judge") {
      var judged = box.querySelector("input:checked");
      return judged ? judged.value === "true" : null;
    }
    return Array.prototype.map.call(box.querySelectorAll("input.blank-input"), function (i) { return i.value; });
  }

  function answered(q) {
    if (closed) { return; }
    var answer = readAnswer(q);
    if (q.type === "fill" && isBlank(answer)) { answer = null; }
    state.seq += 1;
    state.answers[q.qid] = { answer: answer, seq: state.seq, saved: false };
    persist();
    updateSaveState();
    renderMap();
    flush();
  }

  // --- saving ----------------------------------------------------------------------------------------

  function headers() {
    return { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" };
  }

  function attemptClosed() {
    closed = true;
    forget();  // answers can no longer be saved: nothing to keep or to warn about at logout
    showMessage("作答已结束（已交卷或时间已到），正在打开成绩……");
    window.setTimeout(function () { window.location.assign(resultUrl); }, 1500);
  }

  function saveOne(qid) {
    var entry = state.answers[qid];
    var sentSeq = entry.seq;
    return fetch(apiUrl + "/answers/" + encodeURIComponent(qid), {
      method: "PUT", credentials: "same-origin", headers: headers(),
      body: JSON.stringify({ answer: entry.answer, seq: sentSeq })
    }).then(function (response) {
      setNetwork(true);
      reached(response);
      if (response.ok) {
        return response.json().then(function (reply) {
          var now = state.answers[qid];
          // Saved unless the learner changed it again meanwhile (then that newer one is still queued).
          if (now.seq <= Math.max(sentSeq, reply.seq)) { now.saved = true; }
          return true;
        });
      }
      if (response.status === 409) { attemptClosed(); return false; }
      if (response.status === 422) {
        state.answers[qid].saved = true;
        return response.json().then(function (body) { showMessage(body.error.message); return true; });
      }
      if (response.status === 401 || response.status === 403) {
        showMessage("登录已失效：答案已保存在本机，请重新登录后回到本页继续。");
      }
      return false;
    }, function () {
      setNetwork(false);
      unreachable();
      return false;
    });
  }

  function flush() {
    if (flushing) { again = true; return Promise.resolve(); }
    if (closed || !paper) { return Promise.resolve(); }
    flushing = true;
    var pending = Object.keys(state.answers).filter(function (qid) { return !state.answers[qid].saved; });
    var chain = Promise.resolve(true);
    pending.forEach(function (qid) {
      chain = chain.then(function (ok) { return ok && !closed ? saveOne(qid) : false; });
    });
    return chain.then(function () {
      flushing = false;
      persist();
      updateSaveState();
      renderMap();
      if (again && online && !closed) { again = false; return flush(); }
      again = false;
      return undefined;
    });
  }

  // --- clock and submit ------------------------------------------------------------------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    if (!paper) { return; }
    var left = Date.parse(paper.deadline) - (Date.now() + offset);
    var seconds = Math.max(0, Math.floor(left / 1000));
    var hours = Math.floor(seconds / 3600);
    var text = (hours ? hours + ":" + pad(Math.floor(seconds % 3600 / 60)) : pad(Math.floor(seconds / 60))) +
      ":" + pad(seconds % 60);
    var clock = role("countdown");
    clock.textContent = text;
    clock.parentNode.classList.toggle("is-low", seconds < 300);
    if (left <= 0 && !submitting && !closed) {
      showMessage("时间到，正在按已保存的答案交卷……");
      submit();
    }
  }

  function review() {
    var blank = [];
    paper.questions.forEach(function (q, index) {
      var entry = state.answers[q.qid];
      if (!entry || isBlank(entry.answer)) { blank.push(index + 1); }
    });
    role("confirm-text").textContent = blank.length
      ? "还有 " + blank.length + " 题未作答：第 " + blank.join("、") + " 题。交卷后不能再修改。"
      : "全部 " + paper.questions.length + " 题都已作答。交卷后不能再修改。";
    var unsaved = unsavedCount();
    var warn = role("confirm-unsaved");
    warn.textContent = unsaved ? "有 " + unsaved + " 题的答案尚未保存到服务器，交卷前会先保存。" : "";
    warn.hidden = !unsaved;
    role("confirm").hidden = false;
    document.getElementById("confirm-title").focus();
  }

  function waitForFlush() {
    return new Promise(function (resolve) {
      (function check() { if (flushing) { window.setTimeout(check, 100); } else { resolve(); } })();
    });
  }

  function submit() {
    if (submitting) { return; }
    submitting = true;
    action("submit").disabled = true;
    waitForFlush().then(flush).then(function () {
      if (closed) { return; }
      var timeUp = Date.parse(paper.deadline) - (Date.now() + offset) <= 0;
      if (unsavedCount() && !timeUp) {
        showMessage("网络未连接：还有 " + unsavedCount() + " 题的答案没有保存到服务器。请恢复网络后再交卷，答案不会丢失。");
        submitting = false;
        action("submit").disabled = false;
        return;
      }
      return fetch(apiUrl + "/submit", { method: "POST", credentials: "same-origin", headers: headers() })
        .then(function (response) {
          reached(response);
          if (!response.ok && response.status !== 409) { throw new Error("submit failed"); }
          forget();
          window.location.assign(resultUrl);
        }, function (error) {
          unreachable();
          throw error;
        })
        .catch(function () {
          setNetwork(false);
          showMessage("交卷没有成功（网络问题）。答案已保存，请恢复网络后再点“确认交卷”。");
          submitting = false;
          action("submit").disabled = false;
        });
    });
  }

  // --- read aloud ------------------------------------------------------------------------------------

  function speak() {
    var q = paper.questions[current];
    var parts = [role("stem").textContent];
    q.options.forEach(function (o) { parts.push(o.key + "，" + o.text); });
    if (q.type === "judge") { parts.push("正确还是错误？"); }
    window.speechSynthesis.cancel();
    var utterance = new window.SpeechSynthesisUtterance(parts.join("。"));
    utterance.lang = "zh-CN";
    window.speechSynthesis.speak(utterance);
  }

  // --- start -----------------------------------------------------------------------------------------

  function start(data, fromCache) {
    paper = { questions: data.questions, deadline: data.deadline };
    if (!fromCache) {
      offset = Date.parse(data.now) - Date.now();
      state.paper = { questions: data.questions, deadline: data.deadline, now: data.now, offset: offset };
      merge(data.answers);
    } else {
      offset = data.offset || 0;
    }
    role("loading").hidden = true;
    role("question").hidden = false;
    role("nav").hidden = false;
    renderQuestion();
    tick();
    window.setInterval(tick, 1000);
    window.setInterval(function () { if (unsavedCount()) { flush(); } }, RETRY_MS);
    flush();
  }

  action("prev").addEventListener("click", function () { if (current > 0) { current -= 1; renderQuestion(); } });
  action("next").addEventListener("click", function () {
    if (current < paper.questions.length - 1) { current += 1; renderQuestion(); }
  });
  action("review").addEventListener("click", review);
  action("cancel").addEventListener("click", function () { role("confirm").hidden = true; });
  action("submit").addEventListener("click", submit);
  if ("speechSynthesis" in window && "SpeechSynthesisUtterance" in window) {
    var speakButton = action("speak");
    speakButton.hidden = false;
    speakButton.addEventListener("click", speak);
  }
  window.addEventListener("online", function () { setNetwork(true); flush(); });
  window.addEventListener("offline", function () { setNetwork(false); });
  // The outbox or the /healthz probe (app.js) found the server gone or back.
  document.addEventListener("lms:connection", function (ev) {
    var isOnline = Boolean(ev.detail && ev.detail.online);
    if (isOnline === online) { return; }
    setNetwork(isOnline);
    if (isOnline && !flushing && unsavedCount()) { flush(); }
  });
  // Logout has cleared this user's keys: keep nothing more on the tablet.
  document.addEventListener("lms:logout", function () { finished = true; closed = true; });
  setNetwork(online);
  if (LMS && LMS.claim) {
    // Logout sends this attempt's answers through this page (it holds the newest state).
    LMS.claim(storeKey, function () { return waitForFlush().then(flush); });
  }

  fetch(apiUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) {
      reached(response);
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }, function (error) {
      unreachable();
      throw error;
    })
    .then(function (data) {
      if (data.status !== "open") { attemptClosed(); return; }
      start(data, false);
    })
    .catch(function () {
      if (state.paper) {
        setNetwork(false);
        start(state.paper, true);
      } else {
        role("loading").textContent = "试题加载失败，请检查网络后刷新页面。";
      }
    });
}());
