/* CitiesInCharge dashboard: the area map of the "Where next" page.
 *
 * Draws the planning areas (Leaflet, SVG) filled with the colours the server chose from its score
 * scale (hatched: no score), each labelled with its rank, and the stations as small dots. Selecting
 * an area (a click on it, or a button with data-select anywhere on the page, e.g. the ranking
 * table's area names, so the keyboard reaches every area) shows its explanation, which the server
 * rendered into the panel beside the map, and outlines it. On a live update the areas are redrawn
 * only when they changed, the view stays, and the selection is kept.
 * Registered with dashboard.js as window.cicSections.areamap.
 */
(function () {
  "use strict";
  var maps = {};
  var OUTLINE = { color: "#12263f", weight: 1.5 };
  var SELECTED = { color: "#000000", weight: 4 };

  function data(section) {
    var node = section.querySelector("script[data-map-areas]");
    return node ? node.textContent : "";
  }

  function show(section, id) {
    var state = maps[section.getAttribute("data-section")];
    var found = null;
    section.querySelectorAll("[data-area-detail]").forEach(function (detail) {
      var match = detail.getAttribute("data-area-detail") === id;
      detail.hidden = !match;
      if (match) { found = detail; }
    });
    if (!found) { return null; }
    if (state) {
      state.selected = id;
      Object.keys(state.shapes).forEach(function (key) {
        state.shapes[key].setStyle(key === id ? SELECTED : OUTLINE);
        if (key === id) { state.shapes[key].bringToFront(); }
      });
    }
    return found;
  }

  function fill(area, hatch, opacity) {
    var style = { color: OUTLINE.color, weight: OUTLINE.weight, fillOpacity: opacity, className: "area-shape" };
    style.fillColor = area.fill === "hatch" ? "url(#" + hatch + ")" : area.fill;
    return style;
  }

  function drawShapes(section, state, drawn) {
    var id = section.getAttribute("data-section");
    var opacity = state.tiles ? 0.65 : 1;
    state.areas.clearLayers();
    state.marks.clearLayers();
    state.shapes = {};
    drawn.areas.forEach(function (area) {
      var layer = window.L.geoJSON(area.geometry, { style: fill(area, id + "-hatch", opacity) });
      layer.eachLayer(function (shape) {
        shape.on("click", function () { show(section, area.id); });
        shape.addTo(state.areas);
        var element = shape.getElement();
        if (element) {
          element.setAttribute("data-area", area.id);
          element.setAttribute("data-fill", area.fill);
        }
        state.shapes[area.id] = shape;
      });
    });
    drawn.areas.forEach(function (area) {
      if (!area.label || !area.at) { return; }
      /* a label, not a control: no focus, no pointer events (a click goes to the area under it) */
      var label = window.L.divIcon({ className: "rank-label", html: "", iconSize: [10 + 8 * area.label.length, 20] });
      var marker = window.L.marker(area.at, { icon: label, interactive: false, keyboard: false }).addTo(state.marks);
      var element = marker.getElement();
      if (element) {
        element.textContent = area.label;
        element.setAttribute("data-rank-of", area.id);
      }
    });
    drawn.stations.forEach(function (station) {
      window.L.circleMarker([station.lat, station.lon], { radius: 3.5, color: "#12263f", weight: 1.5,
        fillColor: "#ffffff", fillOpacity: 1, interactive: false, className: "station-dot" }).addTo(state.marks);
    });
  }

  function draw(section) {
    var id = section.getAttribute("data-section");
    var holder = section.querySelector("[data-map]");
    if (!window.L || !holder) { return; }
    var text = data(section);
    var state = maps[id];
    if (!state || state.holder !== holder) {
      var map = window.L.map(holder, { attributionControl: true, keyboard: true });
      var main = document.getElementById("content");
      var tiles = main ? main.getAttribute("data-map-tiles") : "";
      if (tiles) {
        window.L.tileLayer(tiles, { attribution: main.getAttribute("data-map-attribution") || "", maxZoom: 19 }).addTo(map);
      }
      state = maps[id] = { map: map, holder: holder, tiles: !!tiles, text: null, shapes: {}, selected: null,
                           areas: window.L.featureGroup().addTo(map), marks: window.L.layerGroup().addTo(map) };
      state.received = {};  /* what the server sent, before any selection changes it */
      ["[data-area-panel]", ".legend"].forEach(function (selector) {
        var part = section.querySelector(selector);
        if (part) { state.received[selector] = part.innerHTML; }
      });
    }
    if (text === state.text) { return; }
    var drawn = JSON.parse(text || '{"areas": [], "stations": []}');
    if (state.text === null) {
      /* the view first: Leaflet draws nothing (so no element to mark) on a map without one */
      var bounds = window.L.geoJSON(drawn.areas.map(function (area) { return area.geometry; })).getBounds();
      if (bounds.isValid()) { state.map.fitBounds(bounds, { padding: [10, 10] }); } else { state.map.setView([54, -2], 5); }
      var shown = section.querySelector("[data-area-detail]:not([hidden])");
      state.selected = shown ? shown.getAttribute("data-area-detail") : null;
    }
    state.text = text;
    drawShapes(section, state, drawn);
    if (state.selected) { show(section, state.selected); }
  }

  /* Replace a part of the section only when the server sent something new: the panel is a live
     region (a screen reader would read it again) and may hold the focus. */
  function take(state, current, fresh, selector) {
    var now = current.querySelector(selector), next = fresh.querySelector(selector);
    if (!now || !next) { return; }
    state.received = state.received || {};
    if (state.received[selector] !== next.innerHTML) {
      state.received[selector] = next.innerHTML;
      now.innerHTML = next.innerHTML;
    }
  }

  function swap(current, fresh) {
    var state = maps[current.getAttribute("data-section")] || {};
    var selected = state.selected;
    take(state, current, fresh, "[data-area-panel]");
    take(state, current, fresh, ".legend");
    var areas = current.querySelector("script[data-map-areas]"), freshAreas = fresh.querySelector("script[data-map-areas]");
    if (areas && freshAreas) { areas.textContent = freshAreas.textContent; }
    state.selected = selected;
    draw(current);
    if (selected && !show(current, selected)) {  /* the area is gone: show the first again */
      var first = current.querySelector("[data-area-detail]");
      if (first) { show(current, first.getAttribute("data-area-detail")); }
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-select]") : null;
    var section = document.querySelector('[data-kind="areamap"]');
    if (!button || !section) { return; }
    var detail = show(section, button.getAttribute("data-select"));
    if (detail) {
      /* the explanation is above the table: take the reader (and a screen reader) there */
      var heading = detail.querySelector("h3");
      if (heading) { heading.focus({ preventScroll: true }); }
      detail.scrollIntoView({ block: "nearest" });
    }
  });

  window.cicSections = window.cicSections || {};
  window.cicSections.areamap = { draw: draw, swap: swap };
})();
