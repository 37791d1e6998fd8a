/* Privet consent dialog. Embed on a page whose server asked Privet for a subject token:
 *   <script src="https://privet.example.com/consent.js" data-token="TOKEN" data-purposes="marketing_email,product_news"></script>
 * It shows the purposes with their notice text, posts the person's decisions, and honours
 * Global Privacy Control (navigator.globalPrivacyControl) by sending Sec-GPC. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var token = script.getAttribute("data-token");
  var wanted = (script.getAttribute("data-purposes") || "").split(",").filter(Boolean);
  if (!token) { return; }

  function post(decisions) {
    var headers = { "Content-Type": "application/json" };
    if (navigator.globalPrivacyControl) { headers["Sec-GPC"] = "1"; }
    return fetch(base + "/v1/public/consents", {
      method: "POST", headers: headers, body: JSON.stringify({ token: token, decisions: decisions })
    });
  }

  fetch(base + "/v1/public/purposes?token=" + encodeURIComponent(token))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var purposes = data.purposes.filter(function (p) { return !wanted.length || wanted.indexOf(p.name) >= 0; });
      if (!purposes.length) { return; }
      var box = document.createElement("div");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-label", "Privacy choices");
      box.id = "privet-consent";
      box.style.cssText = "position:fixed;bottom:1rem;left:1rem;right:1rem;max-width:32rem;background:#fff;" +
        "color:#14171a;border:2px solid #0b5cad;padding:1rem;font:16px system-ui,sans-serif;z-index:2147483647";
      purposes.forEach(function (p) {
        var row = document.createElement("label");
        row.style.display = "block";
        var box2 = document.createElement("input");
        box2.type = "checkbox";
        box2.name = p.name;
        box2.checked = !!p.allowed;
        row.appendChild(box2);
        row.appendChild(document.createTextNode(" " + (p.text || p.name)));
        box.appendChild(row);
      });
      var save = document.createElement("button");
      save.type = "button";
      save.textContent = "Save choices";
      save.onclick = function () {
        var decisions = {};
        box.querySelectorAll("input[type=checkbox]").forEach(function (c) { decisions[c.name] = c.checked; });
        post(decisions).then(function () { box.remove(); });
      };
      box.appendChild(save);
      document.body.appendChild(box);
      save.focus();
    });
})();
