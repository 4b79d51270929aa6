// The dispatcher's live map: the fleet view's server-sent events drawn as SVG over the
// employer's sites on a plain background. Keeps only the latest position of each vehicle, in
// memory; a vehicle that leaves the view (privacy mode, or stale) is removed at once.
(function () {
  "use strict";
  var root = document.getElementById("fleet-map");
  if (!root) return;
  var svg = document.getElementById("fleet-svg");
  var list = document.getElementById("fleet-list");
  var empty = document.getElementById("fleet-empty");
  var status = document.getElementById("fleet-status");
  var en = root.getAttribute("data-lang") === "en";
  var tiles = root.getAttribute("data-tiles");
  var attribution = root.getAttribute("data-attribution") || "";
  var sites = [];
  try { sites = JSON.parse(root.getAttribute("data-sites") || "[]"); } catch (e) { sites = []; }
  var vehicles = {};
  var NS = "http://www.w3.org/2000/svg";
  var W = 1000, H = 600, PAD = 40;
  // Text and markers keep a readable size on a phone, where the drawing is scaled down.
  var TEXT = 15, LABEL = 17, DOT = 9;

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function bounds() {
    var pts = [];
    sites.forEach(function (s) {
      if (s.circle) pts.push([s.circle[0], s.circle[1]]);
      if (s.polygon) s.polygon.forEach(function (p) { pts.push(p); });
    });
    Object.keys(vehicles).forEach(function (k) { pts.push([vehicles[k].lat, vehicles[k].lon]); });
    if (!pts.length) pts.push([59.91, 10.75]);
    var b = { s: 90, n: -90, w: 180, e: -180 };
    pts.forEach(function (p) {
      b.s = Math.min(b.s, p[0]); b.n = Math.max(b.n, p[0]);
      b.w = Math.min(b.w, p[1]); b.e = Math.max(b.e, p[1]);
    });
    var padLat = Math.max((b.n - b.s) * 0.08, 0.005), padLon = Math.max((b.e - b.w) * 0.08, 0.01);
    b.s -= padLat; b.n += padLat; b.w -= padLon; b.e += padLon;
    return b;
  }

  // Web Mercator, so that configured map tiles line up; over a city it looks like the plain
  // map it replaces. World units: x and y in [0, 1).
  function merc(lat, lon) {
    var r = Math.max(-85, Math.min(85, lat)) * Math.PI / 180;
    return [(lon + 180) / 360, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2];
  }

  function projector(b) {
    var nw = merc(b.n, b.w), se = merc(b.s, b.e);
    var spanX = se[0] - nw[0], spanY = se[1] - nw[1];
    var scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
    var ox = (W - spanX * scale) / 2 - nw[0] * scale, oy = (H - spanY * scale) / 2 - nw[1] * scale;
    var midLat = (b.n + b.s) / 2;
    return {
      scale: scale,
      ox: ox,
      oy: oy,
      // Screen units per km at the middle of the map.
      kmPx: scale / (40075.017 * Math.cos(midLat * Math.PI / 180)),
      xy: function (lat, lon) { var m = merc(lat, lon); return [ox + m[0] * scale, oy + m[1] * scale]; }
    };
  }

  // Tiles from the configured URL template ({z}/{x}/{y}), under everything else.
  function drawTiles(p) {
    if (!tiles) return;
    var z = Math.max(0, Math.min(19, Math.round(Math.log(p.scale / 256) / Math.LN2)));
    var n = Math.pow(2, z), size = p.scale / n;
    var x0 = Math.floor((0 - p.ox) / size), x1 = Math.floor((W - p.ox) / size);
    var y0 = Math.floor((0 - p.oy) / size), y1 = Math.floor((H - p.oy) / size);
    for (var tx = Math.max(0, x0); tx <= Math.min(n - 1, x1); tx++) {
      for (var ty = Math.max(0, y0); ty <= Math.min(n - 1, y1); ty++) {
        var href = tiles.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        svg.appendChild(el("image", {
          href: href, x: p.ox + tx * size, y: p.oy + ty * size,
          width: size + 0.5, height: size + 0.5, preserveAspectRatio: "none", "class": "tile"
        }));
      }
    }
  }

  function fit() {
    var width = svg.getBoundingClientRect().width || W;
    H = width < 600 ? 900 : 600;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var k = W / width;
    TEXT = Math.max(15, 12 * k); LABEL = Math.max(17, 14 * k); DOT = Math.max(9, 7 * k);
  }

  function draw() {
    fit();
    var b = bounds(), p = projector(b);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.appendChild(el("rect", { x: 0, y: 0, width: W, height: H, "class": "bg" }));
    drawTiles(p);
    // A faint grid every 0.05° so distances can be judged without map tiles (none over tiles).
    for (var lat = tiles ? b.n : Math.ceil(b.s * 20) / 20; lat < b.n; lat += 0.05) {
      var y = p.xy(lat, b.w)[1];
      svg.appendChild(el("line", { x1: 0, x2: W, y1: y, y2: y, "class": "grid" }));
    }
    for (var lon = tiles ? b.e : Math.ceil(b.w * 20) / 20; lon < b.e; lon += 0.05) {
      var x = p.xy(b.n, lon)[0];
      svg.appendChild(el("line", { x1: x, x2: x, y1: 0, y2: H, "class": "grid" }));
    }
    sites.forEach(function (s) {
      var g = el("g", { "class": "site" });
      var at;
      if (s.circle) {
        at = p.xy(s.circle[0], s.circle[1]);
        var r = Math.max(s.circle[2] / 1000 * p.kmPx, 4);
        g.appendChild(el("circle", { cx: at[0], cy: at[1], r: r }));
      } else if (s.polygon && s.polygon.length) {
        var pts = s.polygon.map(function (q) { return p.xy(q[0], q[1]).join(","); }).join(" ");
        g.appendChild(el("polygon", { points: pts }));
        at = p.xy(s.polygon[0][0], s.polygon[0][1]);
      }
      if (at) {
        // Labels under the outline, kept inside the map at the edges.
        var right = at[0] > W - 220;
        g.appendChild(el("text", {
          x: right ? at[0] - 8 : at[0] + 8, y: at[1] + TEXT * 1.4,
          "text-anchor": right ? "end" : "start", "font-size": TEXT
        }, s.name));
      }
      svg.appendChild(g);
    });
    // A scale bar: distances can be judged without map tiles.
    var kmPx = p.kmPx, km = kmPx > 60 ? 1 : kmPx > 12 ? 5 : 20;
    var sb = el("g", { "class": "scale" });
    sb.appendChild(el("line", { x1: 20, x2: 20 + km * kmPx, y1: H - 20, y2: H - 20 }));
    sb.appendChild(el("text", { x: 20, y: H - 28, "font-size": TEXT }, km + " km"));
    svg.appendChild(sb);
    if (tiles && attribution) {
      svg.appendChild(el("text", { x: W - 8, y: H - 8, "text-anchor": "end", "font-size": TEXT * 0.8, "class": "attribution" }, attribution));
    }
    Object.keys(vehicles).sort().forEach(function (reg) {
      var v = vehicles[reg], at = p.xy(v.lat, v.lon);
      var g = el("g", { "class": "vehicle", "data-vehicle": reg });
      g.appendChild(el("circle", { cx: at[0], cy: at[1], r: DOT }));
      var right = at[0] > W - 160;
      g.appendChild(el("text", {
        x: right ? at[0] - DOT * 1.5 : at[0] + DOT * 1.5, y: at[1] - DOT * 0.7,
        "text-anchor": right ? "end" : "start", "font-size": LABEL
      }, reg));
      svg.appendChild(g);
    });
    drawList();
  }

  function drawList() {
    while (list.firstChild) list.removeChild(list.firstChild);
    var regs = Object.keys(vehicles).sort();
    regs.forEach(function (reg) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-vehicle", reg);
      var a = document.createElement("td"); a.textContent = reg;
      var b = document.createElement("td");
      var t = new Date(vehicles[reg].time);
      b.textContent = isNaN(t) ? vehicles[reg].time
        : t.toLocaleTimeString(en ? "en-GB" : "nb-NO", { timeZone: "Europe/Oslo" });
      tr.appendChild(a); tr.appendChild(b); list.appendChild(tr);
    });
    empty.hidden = regs.length > 0;
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
    vehicles = {};
    (d.vehicles || []).forEach(function (v) { if (v.vehicle) vehicles[v.vehicle] = v; });
    draw();
  });
  source.addEventListener("moved", function (ev) {
    var v = parse(ev); if (!v || !v.vehicle) return;
    vehicles[v.vehicle] = v;
    draw();
  });
  source.addEventListener("gone", function (ev) {
    var v = parse(ev); if (!v) return;
    delete vehicles[v.vehicle];
    draw();
  });
  window.addEventListener("resize", draw);
  draw();
})();
