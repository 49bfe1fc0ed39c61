// Read-aloud for the lesson reader: sentence by sentence (split on 。！？； and line breaks), the sentence being
// read highlighted, pause/resume from that sentence, speed 0.8×/1×/1.2× (stored on the account through
// LMSPrefs, see prefs.js), the place kept per lesson on this device, and a clear message saying what to
// install when the device has no Chinese voice (instead of silently doing nothing).
(function () {
  "use strict";

  var TERMINATORS = "。！？；!?;";
  // Closing quotes and brackets that belong to the sentence they end: 他说：“好。”
  var CLOSERS = "”’」』）)】》\"'";
  var BLOCKS = /^(P|LI|H[1-6]|TD|TH|DT|DD|BLOCKQUOTE|FIGCAPTION|CAPTION|PRE|DIV|SECTION|ARTICLE|TR)$/;
  var RATES = [0.8, 1, 1.2];
  var NO_VOICE = "本机没有中文语音，暂时无法朗读。请安装中文语音包后重新打开本页：" +
    "安卓手机或平板：设置 → 文字转语音（有的机型在“无障碍”或“辅助功能”里）→ 安装中文语音包（如手机自带语音引擎或谷歌文字转语音）；" +
    "苹果设备：设置 → 辅助功能 → 朗读内容 → 声音 → 中文；" +
    "电脑：Windows 设置 → 时间和语言 → 语音 → 添加语音 → 中文（简体）。";

  function isBlock(el) { return BLOCKS.test(el.tagName); }

  function blockOf(node, root) {
    var el = node.parentNode;
    while (el && el !== root) {
      if (el.nodeType === 1 && isBlock(el)) { return el; }
      el = el.parentNode;
    }
    return root;
  }

  // Split the lesson into sentences and wrap each piece of text in a span carrying its sentence's index (a
  // sentence with bold words in it spans several text nodes: every piece gets the same index).
  function splitSentences(root) {
    var sentences = [];     // [{text, pieces: [{node, start, end}]}]
    var current = null;
    var lastBlock = null;
    function finish() {
      if (current && current.text.replace(/[\s\u3000]/g, "") !== "") { sentences.push(current); }
      current = null;
    }
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {
      acceptNode: function (node) {
        if (node.nodeType === 1) {
          return /^(SCRIPT|STYLE|NOSCRIPT|svg)$/i.test(node.tagName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
        }
        return NodeFilter.FILTER_ACCEPT;
      }
    });
    var texts = [];
    var node;
    while ((node = walker.nextNode())) {
      if (node.nodeType === 1) {
        if (node.tagName === "BR") { texts.push({br: true}); }
        continue;
      }
      texts.push({node: node, block: blockOf(node, root)});
    }
    texts.forEach(function (item) {
      if (item.br) { finish(); return; }
      if (item.block !== lastBlock) { finish(); lastBlock = item.block; }
      var value = item.node.nodeValue;
      var start = 0;
      for (var i = 0; i < value.length; i++) {
        var ch = value.charAt(i);
        if (ch === "\n") {
          if (i > start) { add(item.node, start, i); }
          finish();
          start = i + 1;
        } else if (TERMINATORS.indexOf(ch) !== -1) {
          var end = i + 1;
          while (end < value.length && CLOSERS.indexOf(value.charAt(end)) !== -1) { end++; }
          add(item.node, start, end);
          finish();
          start = end;
          i = end - 1;
        }
      }
      if (start < value.length) { add(item.node, start, value.length); }
    });
    finish();
    function add(textNode, start, end) {
      var text = textNode.nodeValue.slice(start, end);
      if (!current) {
        if (text.replace(/[\s\u3000]/g, "") === "") { return; }  // leading whitespace between sentences
        current = {text: "", pieces: []};
      }
      current.text += text;
      current.pieces.push({node: textNode, start: start, end: end});
    }
    // Wrap the pieces, node by node, from the end of each node so earlier offsets stay valid.
    var byNode = new Map();
    sentences.forEach(function (sentence, index) {
      sentence.text = sentence.text.replace(/\s+/g, " ").trim();
      sentence.pieces.forEach(function (piece) {
        if (!byNode.has(piece.node)) { byNode.set(piece.node, []); }
        byNode.get(piece.node).push({start: piece.start, end: piece.end, index: index});
      });
      sentence.spans = [];
    });
    byNode.forEach(function (pieces, textNode) {
      var value = textNode.nodeValue;
      var fragment = document.createDocumentFragment();
      var at = 0;
      pieces.forEach(function (piece) {
        if (piece.start > at) { fragment.appendChild(document.createTextNode(value.slice(at, piece.start))); }
        var span = document.createElement("span");
        span.className = "ra-sentence";
        span.setAttribute("data-sentence", String(piece.index));
        span.textContent = value.slice(piece.start, piece.end);
        fragment.appendChild(span);
        sentences[piece.index].spans.push(span);
        at = piece.end;
      });
      if (at < value.length) { fragment.appendChild(document.createTextNode(value.slice(at))); }
      textNode.parentNode.replaceChild(fragment, textNode);
    });
    return sentences;
  }

  function chineseVoice(voices) {
    var zh = voices.filter(function (v) { return /^(zh|cmn)([-_]|$)/i.test(v.lang || ""); });
    var mainland = zh.filter(function (v) { return /^(zh|cmn)[-_](CN|Hans)/i.test(v.lang); });
    return mainland[0] || zh[0] || null;
  }

  // Voices load asynchronously in some browsers: wait for voiceschanged, but not forever.
  function loadVoices(synth) {
    var voices = synth.getVoices() || [];
    if (voices.length) { return Promise.resolve(voices); }
    return new Promise(function (resolve) {
      var done = false;
      function finish() {
        if (done) { return; }
        done = true;
        resolve(synth.getVoices() || []);
      }
      if (typeof synth.addEventListener === "function") { synth.addEventListener("voiceschanged", finish); }
      window.setTimeout(finish, 1500);
    });
  }

  function setup() {
    var button = document.querySelector('[data-action="read-aloud"]');
    var body = document.getElementById("lesson-body");
    if (!button || !body) { return; }
    var synth = window.speechSynthesis;
    // A browser with no speech synthesis at all: there is nothing to install, the controls stay hidden.
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") { return; }
    var restart = document.querySelector('[data-action="read-aloud-restart"]');
    var rateGroup = document.querySelector("[data-readaloud-rates]");
    var status = document.querySelector("[data-readaloud-status]");
    var user = (document.querySelector('meta[name="lms-user"]') || {}).content || "anon";
    var placeKey = "lms.readaloud." + user + "." + location.pathname;

    var sentences = splitSentences(body);
    if (!sentences.length) { return; }
    button.hidden = false;
    if (rateGroup) { rateGroup.hidden = false; }

    var index = 0;
    var playing = false;
    var ticket = 0;          // callbacks of an utterance cancelled since are ignored
    var voice = null;
    var rate = window.LMSPrefs ? window.LMSPrefs.speechRate() : 1;
    if (RATES.indexOf(rate) === -1) { rate = 1; }

    try { index = Math.min(Math.max(parseInt(localStorage.getItem(placeKey), 10) || 0, 0), sentences.length - 1); } catch (e) { index = 0; }

    function say(message) {
      if (!status) { return; }
      status.textContent = message;
      status.hidden = !message;
    }
    function keepPlace() {
      try {
        if (index > 0) { localStorage.setItem(placeKey, String(index)); } else { localStorage.removeItem(placeKey); }
      } catch (e) { /* storage may be disabled */ }
    }
    function highlight() {
      body.querySelectorAll(".ra-current").forEach(function (el) { el.classList.remove("ra-current"); });
      if (!playing && index === 0) { return; }
      var spans = sentences[index].spans;
      spans.forEach(function (el) { el.classList.add("ra-current"); });
      var rect = spans[0].getBoundingClientRect();
      if (rect.top < 0 || rect.bottom > window.innerHeight) { spans[0].scrollIntoView({block: "center"}); }
    }
    function render() {
      button.setAttribute("aria-pressed", playing ? "true" : "false");
      if (playing) {
        button.textContent = "暂停朗读";
      } else if (index > 0) {
        button.textContent = "继续朗读（第 " + (index + 1) + "/" + sentences.length + " 句）";
      } else {
        button.textContent = "朗读";
      }
      if (restart) { restart.hidden = playing || index === 0; }
      if (rateGroup) {
        rateGroup.querySelectorAll("[data-rate]").forEach(function (b) {
          b.setAttribute("aria-pressed", parseFloat(b.getAttribute("data-rate")) === rate ? "true" : "false");
        });
      }
    }
    function speak() {
      var mine = ++ticket;
      var sentence = sentences[index];
      var utterance = new window.SpeechSynthesisUtterance(sentence.text);
      utterance.lang = voice && voice.lang ? voice.lang : "zh-CN";
      try { if (voice) { utterance.voice = voice; } } catch (e) { /* not a SpeechSynthesisVoice: lang alone picks it */ }
      utterance.rate = rate;
      utterance.onend = function () {
        if (mine !== ticket || !playing) { return; }
        if (index + 1 < sentences.length) {
          index += 1;
          keepPlace();
          highlight();
          render();
          speak();
        } else {
          playing = false;
          index = 0;
          keepPlace();
          highlight();
          render();
          say("本课已读完。");
        }
      };
      utterance.onerror = function (event) {
        if (mine !== ticket) { return; }
        var reason = event && event.error;
        if (reason === "interrupted" || reason === "canceled") { return; }
        playing = false;
        render();
        say(reason === "language-unavailable" || reason === "voice-unavailable" ? NO_VOICE :
          "朗读中断了，可以点“继续朗读”从这一句接着读。");
      };
      synth.cancel();
      synth.speak(utterance);
    }
    function pause() {
      playing = false;
      ticket++;
      synth.cancel();
      keepPlace();
      render();
    }
    function play() {
      loadVoices(synth).then(function (voices) {
        voice = chineseVoice(voices);
        if (!voice) {
          say(NO_VOICE);
          playing = false;
          render();
          return;
        }
        say("");
        playing = true;
        highlight();
        render();
        speak();
      });
    }

    button.addEventListener("click", function () { if (playing) { pause(); } else { play(); } });
    if (restart) {
      restart.addEventListener("click", function () {
        index = 0;
        keepPlace();
        highlight();
        play();
      });
    }
    if (rateGroup) {
      rateGroup.querySelectorAll("[data-rate]").forEach(function (b) {
        b.addEventListener("click", function () {
          rate = parseFloat(b.getAttribute("data-rate"));
          render();
          if (window.LMSPrefs) { window.LMSPrefs.setSpeechRate(rate); }
          if (playing) { speak(); }  // the current sentence again, at the new speed
        });
      });
    }
    // Leaving the page stops the voice; the place is kept for next time.
    window.addEventListener("pagehide", function () { if (playing) { pause(); } });
    if (index > 0) { sentences[index].spans.forEach(function (el) { el.classList.add("ra-current"); }); }
    render();
    window.LMSReadAloud = {sentences: sentences.map(function (s) { return s.text; })};
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
