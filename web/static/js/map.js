/* Maillon maps (progressive enhancement: without JavaScript the list says it all).
 *
 * #map shows the pins of #map-pins (the same items as the list beside it), over the
 * node's tile server (data-tiles). Without tiles (offline, blocked) the pins still
 * show on a plain background. "Search this map area" puts the map's bounds into the
 * search form (bbox=west,south,east,north) and submits it.
 */
(function () {
  "use strict";
  var element = document.getElementById("map");
  var data = document.getElementById("map-pins");
  if (!element || !data || typeof L === "undefined") { return; }
  var pins = [];
  try { pins = JSON.parse(data.textContent || "[]"); } catch (error) { pins = []; }
  element.textContent = "";
  var map = L.map(element, { scrollWheelZoom: false });
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, {
      maxZoom: 19,
      attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  var markers = [];
  pins.forEach(function (pin) {
    var marker = L.marker([pin.lat, pin.lon], { title: pin.name, alt: pin.name, keyboard: true });
    var link = document.createElement("a");
    link.href = pin.path;
    link.textContent = pin.name;
    marker.bindPopup(link);
    marker.addTo(map);
    marker.getElement && marker.getElement() && marker.getElement().setAttribute("data-id", pin.id);
    markers.push(marker);
  });
  element.dataset.pins = String(markers.length);

  function corners(text) {
    var parts = (text || "").split(",").map(Number);
    return parts.length === 4 && parts.every(isFinite) ? parts : null;
  }
  var chosen = document.querySelector('input[name="bbox"]:not([disabled])');
  var area = chosen ? corners(chosen.value) : null;  // west, south, east, north
  var territory = corners(element.dataset.territory);  // min lat, min lon, max lat, max lon
  if (markers.length) {
    map.fitBounds(L.featureGroup(markers).getBounds(), { padding: [24, 24], maxZoom: 15 });
  } else if (area) {
    map.fitBounds([[area[1], area[0]], [area[3], area[2]]]);
  } else if (territory) {
    map.fitBounds([[territory[0], territory[1]], [territory[2], territory[3]]]);
  } else {
    map.setView([46.6, 2.4], 5);
  }

  var form = document.getElementById("filters");
  if (form) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary map-area";
    button.textContent = element.dataset.areaLabel || "Search this map area";
    button.addEventListener("click", function () {
      var bounds = map.getBounds();
      var value = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (n) { return n.toFixed(5); }).join(",");
      var input = form.querySelector('input[name="bbox"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "bbox";
        form.appendChild(input);
      }
      input.disabled = false;
      input.type = "hidden";
      input.value = value;
      ["near", "lat", "lon", "radius"].forEach(function (name) {
        form.querySelectorAll('[name="' + name + '"]').forEach(function (field) { field.disabled = true; });
      });
      form.submit();
    });
    element.insertAdjacentElement("afterend", button);
  }
})();
