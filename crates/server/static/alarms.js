// The security operator's live alarms page: listens to /alarms/stream (server-sent events, the
// same mechanism as the fleet map) and, when a window opens or closes, fetches the lists again
// from /alarms/live and draws their maps. A newly opened window sounds a tone and raises a
// browser notification (after the operator has turned them on: browsers allow sound and
// notifications only after a click). Notes being typed are kept across a refresh.
(function () {
  "use strict";
  var lists = document.getElementById("alarm-lists");
  if (!lists) return;
  var status = document.getElementById("alarm-live");
  var button = document.getElementById("alarm-notify");
  var en = document.documentElement.lang === "en";
  var audio = null;
  var refreshing = false, again = false;

  function openIds(root) {
    var v = (root.getAttribute("data-open") || "");
    return v ? v.split(",") : [];
  }

  function tone() {
    if (!audio) return;
    try {
      var t = audio.currentTime;
      [0, 0.35, 0.7].forEach(function (d) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, t + d);
        g.gain.exponentialRampToValueAtTime(0.3, t + d + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + d + 0.25);
        o.connect(g); g.connect(audio.destination);
        o.start(t + d); o.stop(t + d + 0.3);
      });
    } catch (e) { /* no sound: the page still shows the alarm */ }
  }

  function notify(article) {
    document.body.setAttribute("data-alarm-signalled", String(Date.now()));
    tone();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var title = article ? (article.querySelector("h3") || {}).textContent : "";
    try {
      new Notification(en ? "Alarm window opened" : "Alarmvindu åpnet", { body: title || "", tag: "sporvern-alarm" });
    } catch (e) { /* notifications unavailable here */ }
  }

  if (button) {
    button.addEventListener("click", function () {
      try {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) audio = new Ctx();
        if (audio && audio.resume) audio.resume();
      } catch (e) { audio = null; }
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
      button.textContent = en ? "Sound and notifications are on" : "Lyd og varsler er på";
      button.setAttribute("aria-pressed", "true");
      tone();
    });
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    var before = openIds(lists);
    // Keep what the operator is typing.
    var notes = {};
    Array.prototype.forEach.call(lists.querySelectorAll("textarea[name=note]"), function (t) {
      if (t.value) notes[t.id] = t.value;
    });
    fetch("/alarms/live", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("alarm-lists");
        if (!next) return;
        var fresh = document.importNode(next, true);
        lists.parentNode.replaceChild(fresh, lists);
        lists = fresh;
        Object.keys(notes).forEach(function (id) {
          var t = document.getElementById(id);
          if (t) t.value = notes[id];
        });
        if (window.SporvernMap) window.SporvernMap.initAll(lists);
        var added = openIds(lists).filter(function (id) { return before.indexOf(id) < 0; });
        if (added.length) notify(document.getElementById("alarm-" + added[0]));
      })
      .catch(function () {
        status.textContent = en ? "Could not refresh the alarms; reload the page." : "Kunne ikke oppdatere alarmene; last siden på nytt.";
      })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource("/alarms/stream");
  source.addEventListener("open", function () {
    status.textContent = en ? "Live: new alarms appear here by themselves." : "Direkte: nye alarmer dukker opp her av seg selv.";
    document.body.setAttribute("data-alarms-live", "true");
  });
  source.addEventListener("error", function () {
    status.textContent = en ? "Connection lost; reconnecting …" : "Forbindelsen brøt; kobler til igjen …";
    document.body.setAttribute("data-alarms-live", "false");
  });
  source.addEventListener("ready", function () {
    // Reconnected after a gap: catch up on what may have changed meanwhile.
    if (document.body.getAttribute("data-alarms-seen") === "true") refresh();
    document.body.setAttribute("data-alarms-seen", "true");
  });
  source.addEventListener("alarm", refresh);
})();
