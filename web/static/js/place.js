/* The place picker: a map with a draggable pin that fills the latitude and longitude
 * fields (progressive enhancement: without JavaScript they are plain fields). */
(function () {
  "use strict";
  var element = document.getElementById("place-map");
  var lat = document.querySelector('input[name="place.latitude"]');
  var lon = document.querySelector('input[name="place.longitude"]');
  if (!element || !lat || !lon || typeof L === "undefined") { return; }
  element.hidden = false;
  var map = L.map(element, { scrollWheelZoom: false });
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
  }
  var marker = null;
  function number(input) { var n = parseFloat((input.value || "").replace(",", ".")); return isFinite(n) ? n : null; }
  function put(latlng) {
    if (marker) { marker.setLatLng(latlng); return; }
    marker = L.marker(latlng, { draggable: true, keyboard: true, alt: element.getAttribute("aria-label") || "" }).addTo(map);
    marker.on("dragend", function () { fill(marker.getLatLng()); });
  }
  function fill(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
  }
  var territory = (element.dataset.territory || "").split(",").map(Number);
  if (number(lat) !== null && number(lon) !== null) {
    put([number(lat), number(lon)]);
    map.setView([number(lat), number(lon)], 16);
  } else if (territory.length === 4 && territory.every(isFinite)) {
    map.fitBounds([[territory[0], territory[1]], [territory[2], territory[3]]]);
  } else {
    map.setView([46.6, 2.4], 5);
  }
  map.on("click", function (event) { put(event.latlng); fill(event.latlng); });
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      if (number(lat) !== null && number(lon) !== null) { put([number(lat), number(lon)]); map.panTo([number(lat), number(lon)]); }
    });
  });
})();
