// The admin page: clicks on the sites map draw the site being added — a circle's centre (the
// form's latitude and longitude, shown with its radius) or, for a polygon, its next corner
// (appended to the list of corners, shown as the outline so far).
(function () {
  "use strict";
  var el = document.getElementById("sites-map");
  if (!el || !window.SporvernMap) return;
  var smap = window.SporvernMap.create(el);
  var L = window.L;
  var lat = document.getElementById("s-lat"), lon = document.getElementById("s-lon");
  var radius = document.getElementById("s-radius"), points = document.getElementById("s-points");
  var form = document.getElementById("site-form");
  var drawn = null;
  function shape() {
    var checked = form.querySelector("input[name=shape]:checked");
    return checked ? checked.value : "circle";
  }
  function corners() {
    return points.value.split("\n").map(function (l) {
      var p = l.split(",").map(function (n) { return parseFloat(n); });
      return p.length === 2 && !isNaN(p[0]) && !isNaN(p[1]) ? p : null;
    }).filter(Boolean);
  }
  function draw() {
    if (drawn) { smap.map.removeLayer(drawn); drawn = null; }
    var style = { color: "#b3261e", weight: 2, fillOpacity: 0.1, interactive: false };
    if (shape() === "polygon") {
      var c = corners();
      if (c.length) drawn = (c.length > 2 ? L.polygon(c, style) : L.polyline(c, style)).addTo(smap.map);
      return;
    }
    var a = parseFloat(lat.value), b = parseFloat(lon.value), r = parseFloat(radius.value) || 100;
    if (!isNaN(a) && !isNaN(b)) drawn = L.circle([a, b], r, style).addTo(smap.map);
  }
  smap.map.on("click", function (e) {
    var details = form.closest("details");
    if (details) details.open = true;
    if (shape() === "polygon") {
      points.value = (points.value.trim() ? points.value.trim() + "\n" : "") +
        e.latlng.lat.toFixed(6) + ", " + e.latlng.lng.toFixed(6);
    } else {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
    }
    draw();
  });
  [lat, lon, radius, points].forEach(function (i) { i.addEventListener("input", draw); });
  Array.prototype.forEach.call(form.querySelectorAll("input[name=shape]"), function (i) {
    i.addEventListener("change", draw);
  });
})();
