/* Following a job that has not ended (the jobs pages, jobs/templates/_jobs_follow.html).

   Without this script the page shows the job as it was when loaded, with a "Check again" link.
   With it, the reader may tick "Refresh automatically" (remembered in localStorage): every few
   seconds the same page is read again, the parts marked data-follow-part that changed are put in
   place, and their data-announce text is said in the polite live region #job-announce when it
   changed. When the page read back no longer follows anything (the work ended), the controls go
   and the checking stops. Nothing runs unless the reader asked for it. */
(function () {
  "use strict";
  var KEY = "regionvisa.jobs.autoRefresh";
  var follow = document.getElementById("job-follow");
  var box = document.getElementById("job-auto-refresh");
  var announce = document.getElementById("job-announce");
  var link = document.getElementById("job-check-again");
  if (!follow || !box || !announce || !link || !window.fetch || !window.DOMParser) {
    return;
  }
  var url = link.getAttribute("href");
  var seconds = parseInt(follow.getAttribute("data-seconds"), 10) || 4;
  var timer = null;
  var said = summary(document);

  function remembered() {
    try {
      return window.localStorage.getItem(KEY) === "on";
    } catch (e) {
      return false;
    }
  }

  function remember(on) {
    try {
      if (on) {
        window.localStorage.setItem(KEY, "on");
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) {
      /* storage refused: the choice lasts for this page only */
    }
  }

  function summary(doc) {
    var parts = doc.querySelectorAll("[data-follow-part][data-announce]");
    var texts = [];
    for (var i = 0; i < parts.length; i++) {
      texts.push(parts[i].getAttribute("data-announce"));
    }
    return texts.join(" ");
  }

  function say(text) {
    if (text && text !== said) {
      announce.textContent = text;
      said = text;
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
  }

  function schedule() {
    if (box.checked && follow.isConnected && timer === null) {
      timer = window.setTimeout(check, seconds * 1000);
    }
  }

  function update(doc) {
    var parts = document.querySelectorAll("[data-follow-part]");
    for (var i = 0; i < parts.length; i++) {
      var fresh = parts[i].id ? doc.getElementById(parts[i].id) : null;
      if (fresh && fresh.outerHTML !== parts[i].outerHTML) {
        parts[i].replaceWith(document.importNode(fresh, true));
      }
    }
    say(summary(doc));
    if (!doc.getElementById("job-follow")) {
      var focused = follow.contains(document.activeElement);
      stop();
      follow.remove();
      if (focused) {
        document.getElementById("main").focus();
      }
    }
  }

  function check() {
    timer = null;
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        update(new window.DOMParser().parseFromString(html, "text/html"));
      })
      .catch(function () {
        say(follow.getAttribute("data-failed"));
      })
      .then(schedule);
  }

  document.getElementById("job-auto").hidden = false;
  box.checked = remembered();
  box.addEventListener("change", function () {
    remember(box.checked);
    if (box.checked) {
      schedule();
    } else {
      stop();
    }
  });
  schedule();
})();
