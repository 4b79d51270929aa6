// The dispatcher's live map: the fleet view's server-sent events on the shared map component
// (map.js). Keeps only the latest position of each vehicle, in memory; a vehicle that leaves
// the view (privacy mode, or stale) is removed at once. "Følg" keeps one vehicle in view.
(function () {
  "use strict";
  var root = document.getElementById("fleet-map");
  if (!root || !window.SporvernMap) return;
  var smap = window.SporvernMap.create(root);
  var list = document.getElementById("fleet-list");
  var empty = document.getElementById("fleet-empty");
  var status = document.getElementById("fleet-status");
  var en = root.getAttribute("data-lang") === "en";
  var vehicles = {};
  var fitted = false;

  function drawList() {
    while (list.firstChild) list.removeChild(list.firstChild);
    var regs = Object.keys(vehicles).sort();
    var following = root.getAttribute("data-following") || "";
    regs.forEach(function (reg) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-vehicle", reg);
      var a = document.createElement("td"); a.textContent = reg;
      var b = document.createElement("td");
      var t = new Date(vehicles[reg].time);
      b.textContent = isNaN(t) ? vehicles[reg].time
        : t.toLocaleTimeString(en ? "en-GB" : "nb-NO", { timeZone: "Europe/Oslo" });
      var c = document.createElement("td");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "follow";
      btn.setAttribute("aria-pressed", following === reg ? "true" : "false");
      btn.textContent = en ? "Follow" : "Følg";
      btn.setAttribute("aria-label", (en ? "Follow " : "Følg ") + reg);
      btn.addEventListener("click", function () { smap.follow(reg); drawList(); });
      c.appendChild(btn);
      tr.appendChild(a); tr.appendChild(b); tr.appendChild(c); list.appendChild(tr);
    });
    empty.hidden = regs.length > 0;
  }

  function show(v) {
    vehicles[v.vehicle] = v;
    smap.setVehicle(v.vehicle, v.lat, v.lon);
  }

  function parse(ev) { try { return JSON.parse(ev.data); } catch (e) { return null; } }

  var source = new EventSource("/fleet/stream");
  source.addEventListener("open", function () {
    status.textContent = en ? "Live: updates as the vehicles move." : "Direkte: oppdateres når bilene flytter seg.";
    root.setAttribute("data-connected", "true");
  });
  source.addEventListener("error", function () {
    status.textContent = en ? "Connection lost; reconnecting …" : "Forbindelsen brøt; kobler til igjen …";
    root.setAttribute("data-connected", "false");
  });
  source.addEventListener("snapshot", function (ev) {
    var d = parse(ev); if (!d) return;
    var seen = {};
    (d.vehicles || []).forEach(function (v) { if (v.vehicle) { seen[v.vehicle] = true; show(v); } });
    Object.keys(vehicles).forEach(function (reg) {
      if (!seen[reg]) { delete vehicles[reg]; smap.removeVehicle(reg); }
    });
    // The first snapshot frames the vehicles with the sites; later ones leave the view alone.
    if (!fitted) { smap.fitAll(); fitted = true; }
    drawList();
  });
  source.addEventListener("moved", function (ev) {
    var v = parse(ev); if (!v || !v.vehicle) return;
    show(v);
    drawList();
  });
  source.addEventListener("gone", function (ev) {
    var v = parse(ev); if (!v) return;
    delete vehicles[v.vehicle];
    smap.removeVehicle(v.vehicle);
    drawList();
  });
})();
