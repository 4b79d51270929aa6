// The admin page: a click on the sites map sets the centre of the site being added (the form's
// latitude and longitude), and shows it with the chosen radius.
(function () {
  "use strict";
  var el = document.getElementById("sites-map");
  if (!el || !window.SporvernMap) return;
  var smap = window.SporvernMap.create(el);
  var lat = document.getElementById("s-lat"), lon = document.getElementById("s-lon");
  var radius = document.getElementById("s-radius");
  var form = document.getElementById("site-form");
  var mark = null;
  function draw() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value), r = parseFloat(radius.value) || 100;
    if (isNaN(a) || isNaN(b)) return;
    if (mark) smap.map.removeLayer(mark);
    mark = window.L.circle([a, b], r, { color: "#b3261e", weight: 2, fillOpacity: 0.1, interactive: false }).addTo(smap.map);
  }
  smap.map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    var details = form && form.closest("details");
    if (details) details.open = true;
    draw();
  });
  [lat, lon, radius].forEach(function (i) { i.addEventListener("input", draw); });
})();
