/* Privet consent dialog.
 *
 *   <script src="https://privacy.example.com/consent.js"
 *           data-key="API_KEY" data-subject="email=anna@example.com" defer></script>
 *
 * Asks only when a decision is missing or the notice changed; every purpose is
 * unchecked until the person ticks it (opt-in), "Reject all" is as prominent
 * as "Accept all", and a browser with Global Privacy Control on is opted out
 * of sale/share purposes before anything is shown. Decisions are posted to
 * POST /v1/consents with source "banner"; window.Privet.open() reopens it.
 * Text is inserted with textContent only, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var api = script.getAttribute("data-api") || new URL(script.src).origin;
  var key = script.getAttribute("data-key") || "";
  var subject = script.getAttribute("data-subject") || "";
  var gpcOn = navigator.globalPrivacyControl === true;

  function subjectObject() {
    var at = subject.indexOf("=");
    var out = {};
    if (at > 0) out[subject.slice(0, at)] = subject.slice(at + 1);
    else out.email = subject;
    return out;
  }

  function call(method, path, body) {
    var headers = { Authorization: "Bearer " + key };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit"
    }).then(function (r) {
      if (!r.ok) throw new Error("privet: " + method + " " + path + " -> " + r.status);
      return r.json();
    });
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function save(purposes, choices, dialog) {
    var posts = purposes.map(function (p) {
      return call("POST", "/v1/consents", {
        subject: subjectObject(),
        purpose: p.purpose,
        granted: !!choices[p.purpose],
        notice_version: p.notice_version,
        source: "banner"
      });
    });
    return Promise.all(posts).then(function () {
      dialog.remove();
      document.dispatchEvent(new CustomEvent("privet:consent", { detail: choices }));
    });
  }

  function show(purposes) {
    var dialog = el("div", "", { role: "dialog", "aria-modal": "true", "aria-labelledby": "privet-title",
      style: "position:fixed;bottom:1rem;left:1rem;right:1rem;max-width:36rem;margin:auto;padding:1rem;" +
        "background:#fff;color:#111;border:1px solid #555;border-radius:.5rem;font:16px/1.4 sans-serif;z-index:2147483647" });
    dialog.appendChild(el("h2", "Your privacy choices", { id: "privet-title", style: "margin:0 0 .5rem;font-size:1.2rem" }));
    var boxes = {};
    purposes.forEach(function (p) {
      var id = "privet-" + p.purpose;
      var row = el("p", "", { style: "margin:.5rem 0" });
      var box = el("input", "", { type: "checkbox", id: id });
      box.checked = !p.needs_prompt && !!p.allowed;
      if (gpcOn && p.sale_or_share) { box.checked = false; box.disabled = true; }
      boxes[p.purpose] = box;
      row.appendChild(box);
      row.appendChild(el("label", " " + (p.text || p.description || p.purpose), { "for": id }));
      dialog.appendChild(row);
    });
    if (gpcOn) dialog.appendChild(el("p", "Your browser's Global Privacy Control is respected.", {}));
    function decide(all) {
      var choices = {};
      purposes.forEach(function (p) {
        var box = boxes[p.purpose];
        choices[p.purpose] = box.disabled ? false : all === null ? box.checked : all;
      });
      return save(purposes, choices, dialog);
    }
    var buttons = el("p", "", { style: "display:flex;gap:.5rem;flex-wrap:wrap" });
    [["Reject all", false], ["Accept all", true], ["Save choices", null]].forEach(function (b) {
      var button = el("button", b[0], { type: "button", style: "flex:1;padding:.5rem;font:inherit" });
      button.addEventListener("click", function () { decide(b[1]); });
      buttons.appendChild(button);
    });
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    boxes[purposes[0].purpose] && boxes[purposes[0].purpose].focus();
  }

  function open(force) {
    var query = "/v1/consents/purposes?subject=" + encodeURIComponent(subject);
    return call("GET", query).then(function (r) {
      var list = r.purposes || [];
      if (list.length && (force || list.some(function (p) { return p.needs_prompt; }))) show(list);
    });
  }

  function start() {
    if (!subject || !key) return;
    var first = gpcOn ? call("POST", "/v1/consents/gpc", { subject: subjectObject(), gpc: true }) : Promise.resolve();
    first.then(function () { return open(false); }).catch(function (e) { console.warn(e); });
  }

  window.Privet = { open: function () { return open(true); } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
