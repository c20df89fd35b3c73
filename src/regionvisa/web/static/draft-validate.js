// Live validation of the programme draft editor (/program-drafts): while the official types, the
// design is checked against the rule language and the national guardrails through the API and the
// problems are listed in a polite live region, in the page's language. Without JavaScript the
// design is checked when it is saved; this only says it sooner.
(function () {
  "use strict";
  var area = document.getElementById("draft-yaml");
  var out = document.getElementById("live-validation");
  var form = document.getElementById("draft-form");
  if (!area || !out || !form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var korean = (document.documentElement.lang || "").indexOf("ko") === 0;
  var timer = null;
  function show(result) {
    out.textContent = "";
    var head = document.createElement("p");
    head.textContent = result.valid ? out.dataset.ok : out.dataset.bad;
    out.appendChild(head);
    if (!result.valid) {
      var list = document.createElement("ul");
      var lines = korean && result.errors_ko ? result.errors_ko : result.errors;
      lines.forEach(function (e) {
        var li = document.createElement("li");
        li.className = "mono";
        li.textContent = e;
        list.appendChild(li);
      });
      out.appendChild(list);
    }
  }
  function check() {
    fetch("/api/v1/programs/validate", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify({yaml: area.value})
    })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(show)
      .catch(function () { out.textContent = out.dataset.fail; });
  }
  area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 600); });
  check();
})();
