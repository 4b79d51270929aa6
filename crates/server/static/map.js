// Sporvern's one map component, over the vendored Leaflet (static/vendor/leaflet): the fleet
// view, alarm windows, sites and trip end points all use it. Zoom (buttons, wheel, keyboard,
// double click), pan (drag, arrow keys), pinch on a phone, a metric scale bar, attribution,
// labels that never overlap (a label that would collide with one of higher rank is hidden
// until there is room), and the tile layer when one is configured. Without tiles it draws a
// readable background of its own: a grid of lines and the names of nearby places.
//
// A map is any element with class "smap" and these data attributes (all optional):
//   data-sites       [{name, circle: [lat, lon, radius_m]} | {name, polygon: [[lat, lon], …]}]
//   data-track       [[lat, lon], …]                      a path (an alarm window's positions)
//   data-marks       [{lat, lon, label, kind}]            points such as trip ends ("start"/"end"/"now")
//   data-places      [{name, lat, lon}]                   background place names (no tiles)
//   data-tiles       URL template with {z}/{x}/{y};  data-attribution  its credit (text)
//   data-lang        "nb" (default) or "en"
// The map keeps data-zoom and data-center up to date, so its state can be read.
(function () {
  "use strict";
  if (!window.L) return;
  var L = window.L;

  function parse(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function labelIcon(text, kind) {
    var span = document.createElement("span");
    span.className = "smap-label smap-label-" + kind;
    span.textContent = text;
    if (kind === "vehicle") span.setAttribute("data-vehicle", text);
    return L.divIcon({ className: "smap-label-box", html: span, iconSize: null });
  }

  function create(el) {
    if (el._smap && !el._smap.pending) return el._smap;
    if (el._smap) return null;
    el._smap = { pending: true };
    var en = el.getAttribute("data-lang") === "en";
    var tiles = el.getAttribute("data-tiles");
    var attribution = el.getAttribute("data-attribution") || "";
    var canvas = el.querySelector(".smap-canvas") || el;
    var map = L.map(canvas, {
      zoomControl: false,
      attributionControl: false,
      zoomSnap: 0.5,
      minZoom: 3,
      maxZoom: 19,
      tap: false
    });
    // A view first: layers are projected as they are added.
    map.setView([59.91, 10.75], 11, { animate: false });
    L.control.zoom({
      zoomInTitle: en ? "Zoom in" : "Zoom inn",
      zoomOutTitle: en ? "Zoom out" : "Zoom ut"
    }).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 140 }).addTo(map);
    var credit = L.control.attribution({ prefix: false }).addTo(map);
    // Attribution is text: escape what the configuration says.
    var esc = document.createElement("span");
    esc.textContent = (tiles && attribution ? attribution + " · " : "") + "Leaflet";
    credit.addAttribution(esc.innerHTML);
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, crossOrigin: false }).addTo(map);
      el.classList.add("smap-tiles");
    } else {
      el.classList.add("smap-plain");
    }

    var labels = [];   // {marker, rank}
    var bounds = L.latLngBounds([]);
    // A map of a track or of marked points frames those; the sites are drawn around them.
    var focus = L.latLngBounds([]);
    function label(lat, lon, text, kind, rank) {
      var m = L.marker([lat, lon], { icon: labelIcon(text, kind), interactive: false, keyboard: false });
      m.addTo(map);
      labels.push({ marker: m, rank: rank });
      return m;
    }

    // The background without tiles: lines every 1, 5 or 10 km-ish, and place names.
    var grid = L.layerGroup().addTo(map);
    function drawGrid() {
      grid.clearLayers();
      if (tiles) return;
      var b = map.getBounds(), z = map.getZoom();
      var step = z >= 14 ? 0.01 : z >= 11 ? 0.05 : z >= 8 ? 0.5 : 2;
      var style = { color: "#b9c7b3", weight: 1, interactive: false };
      for (var lat = Math.floor(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
        L.polyline([[lat, b.getWest() - 1], [lat, b.getEast() + 1]], style).addTo(grid);
      }
      for (var lon = Math.floor(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
        L.polyline([[b.getSouth() - 1, lon], [b.getNorth() + 1, lon]], style).addTo(grid);
      }
    }
    if (!tiles) {
      (parse(el, "data-places") || []).forEach(function (p) {
        label(p.lat, p.lon, p.name, "place", 3);
      });
    }

    (parse(el, "data-sites") || []).forEach(function (s) {
      var style = { color: "#1d5c8f", weight: 2, fillOpacity: 0.15, interactive: false };
      var at;
      if (s.circle) {
        L.circle([s.circle[0], s.circle[1]], s.circle[2], style).addTo(map);
        at = [s.circle[0], s.circle[1]];
        bounds.extend(L.latLng(at).toBounds(s.circle[2] * 2));
      } else if (s.polygon && s.polygon.length) {
        var poly = L.polygon(s.polygon, style).addTo(map);
        at = [poly.getBounds().getCenter().lat, poly.getBounds().getCenter().lng];
        bounds.extend(poly.getBounds());
      }
      if (at) label(at[0], at[1], s.name, "site", 2);
    });

    var track = parse(el, "data-track") || [];
    if (track.length) {
      var line = L.polyline(track, { color: "#b3261e", weight: 4, interactive: false }).addTo(map);
      focus.extend(line.getBounds());
    }
    (parse(el, "data-marks") || []).forEach(function (m) {
      L.circleMarker([m.lat, m.lon], {
        radius: m.kind === "now" ? 9 : 7, color: "#ffffff", weight: 2,
        fillColor: m.kind === "start" ? "#2e7d32" : m.kind === "end" ? "#1d5c8f" : "#b3261e",
        fillOpacity: 1, interactive: false
      }).addTo(map);
      label(m.lat, m.lon, m.label, m.kind || "mark", 0);
      focus.extend([m.lat, m.lon]);
    });

    var vehicles = {};   // reg -> {dot, label}
    var following = null;
    function setVehicle(reg, lat, lon) {
      var v = vehicles[reg];
      if (!v) {
        v = vehicles[reg] = {
          dot: L.circleMarker([lat, lon], {
            radius: 9, color: "#ffffff", weight: 3, fillColor: "#b3261e", fillOpacity: 1,
            interactive: false, className: "smap-vehicle"
          }).addTo(map),
          label: label(lat, lon, reg, "vehicle", 1)
        };
      } else {
        v.dot.setLatLng([lat, lon]);
        v.label.setLatLng([lat, lon]);
      }
      if (following === reg) map.panTo([lat, lon]);
      declutterSoon();
    }
    function removeVehicle(reg) {
      var v = vehicles[reg];
      if (!v) return;
      map.removeLayer(v.dot);
      map.removeLayer(v.label);
      labels = labels.filter(function (l) { return l.marker !== v.label; });
      delete vehicles[reg];
      if (following === reg) following = null;
      el.setAttribute("data-following", following || "");
    }
    function follow(reg) {
      following = following === reg ? null : reg;
      el.setAttribute("data-following", following || "");
      if (following && vehicles[following]) {
        map.setView(vehicles[following].dot.getLatLng(), Math.max(map.getZoom(), 14));
      }
      return following;
    }
    function fitAll() {
      var from = focus.isValid() ? focus : bounds;
      var b = L.latLngBounds(from.isValid() ? [from.getSouthWest(), from.getNorthEast()] : []);
      Object.keys(vehicles).forEach(function (k) { b.extend(vehicles[k].dot.getLatLng()); });
      if (b.isValid()) {
        map.fitBounds(b.pad(0.15), { maxZoom: 15, animate: false });
      } else {
        map.setView([59.91, 10.75], 11, { animate: false });
      }
    }

    // Labels of higher rank (lower number) win; one that would overlap is hidden until the
    // view leaves room for it.
    function declutter() {
      var placed = [];
      var frame = canvas.getBoundingClientRect();
      labels.slice().sort(function (a, b) { return a.rank - b.rank; }).forEach(function (l) {
        var node = l.marker.getElement();
        if (!node) return;
        var box = node.firstChild || node;
        box.classList.remove("smap-hidden");
        var r = box.getBoundingClientRect();
        // Cut off at the map's edge counts as a collision too (vehicles excepted: they stay).
        var outside = l.rank > 1 && (r.left < frame.left || r.right > frame.right || r.top < frame.top || r.bottom > frame.bottom);
        var hit = outside || placed.some(function (p) {
          return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
        });
        if (hit) { box.classList.add("smap-hidden"); } else { placed.push(r); }
      });
    }
    var pending = false;
    function declutterSoon() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; declutter(); });
    }
    function report() {
      var c = map.getCenter();
      el.setAttribute("data-zoom", String(map.getZoom()));
      el.setAttribute("data-center", c.lat.toFixed(5) + "," + c.lng.toFixed(5));
    }
    map.on("moveend zoomend", function () { drawGrid(); report(); declutterSoon(); });
    // The user moved the map by hand: stop following.
    map.on("dragstart", function () { if (following) follow(following); });
    fitAll();
    drawGrid();
    report();
    declutterSoon();
    var api = { map: map, setVehicle: setVehicle, removeVehicle: removeVehicle, follow: follow, fitAll: fitAll };
    el._smap = api;
    return api;
  }

  function initAll(root) {
    var maps = (root || document).querySelectorAll(".smap");
    for (var i = 0; i < maps.length; i++) create(maps[i]);
  }

  window.SporvernMap = { create: create, initAll: initAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  } else {
    initAll(document);
  }
})();
