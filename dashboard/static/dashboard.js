/* CitiesInCharge dashboard: the little script the server-rendered pages need.
 *
 * - draws the charts (Apache ECharts) and the map (Leaflet) from the JSON the page carries;
 * - keeps the page current: every data-refresh milliseconds it fetches the same address with
 *   fragment=1 and swaps the sections by id (tables and tiles replaced, charts given new data,
 *   map markers updated in place so the view the person chose stays), without a reload;
 * - lets a page's own script handle its kind of section: window.cicSections[kind] = {draw(section),
 *   swap(current, fresh)} (areamap.js does so for the "Where next" map).
 * Nothing is loaded from anywhere but this server.
 */
(function () {
  "use strict";
  var charts = {};
  var maps = {};
  var LETTERS = { available: "A", charging: "C", down: "D", unknown: "?" };
  var REDUCED_MOTION = window.matchMedia("(prefers-reduced-motion: reduce)");

  function readJson(root, attribute, id) {
    var node = root.querySelector("script[" + attribute + '="' + id + '"]');
    return node ? JSON.parse(node.textContent) : null;
  }

  function drawChart(section) {
    var id = section.getAttribute("data-section");
    var option = readJson(section, "data-chart-option", id);
    var holder = section.querySelector("[data-chart]");
    if (!option || !holder || !window.echarts) { return; }
    var chart = charts[id];
    if (!chart || chart.getDom() !== holder) {
      chart = window.echarts.init(holder, null, { renderer: "svg" });
      charts[id] = chart;
    }
    if (REDUCED_MOTION.matches) { option.animation = false; } /* the person asked for no motion */
    chart.setOption(option, true);
  }

  function icon(status) {
    return window.L.divIcon({ className: "pin pin-" + status, html: LETTERS[status] || "?",
                              iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10] });
  }

  function popupFor(marker) {
    var box = document.createElement("div");
    marker.popup.split("\n").forEach(function (line, index) {
      var p = document.createElement(index === 0 ? "strong" : "div");
      p.textContent = line;
      box.appendChild(p);
    });
    return box;
  }

  function drawMap(section) {
    var id = section.getAttribute("data-section");
    var markers = readJson(section, "data-map-markers", id) || [];
    var holder = section.querySelector("[data-map]");
    if (!window.L || !holder) { return; }
    var state = maps[id];
    if (!state) {
      var map = window.L.map(holder, { attributionControl: true, keyboard: true });
      var main = document.getElementById("content");
      var tiles = main ? main.getAttribute("data-map-tiles") : "";
      if (tiles) {
        window.L.tileLayer(tiles, { attribution: main.getAttribute("data-map-attribution") || "", maxZoom: 19 }).addTo(map);
      }
      state = { map: map, layer: window.L.layerGroup().addTo(map), byId: {}, fitted: false };
      maps[id] = state;
    }
    var seen = {};
    markers.forEach(function (m) {
      seen[m.id] = true;
      var label = m.name + " — " + m.status;
      var known = state.byId[m.id];
      if (known && known.status !== m.status) {
        known.marker.setIcon(icon(m.status));
        known.marker.getElement() && known.marker.getElement().setAttribute("title", label);
        known.marker.getElement() && known.marker.getElement().setAttribute("aria-label", label);
      }
      if (!known) {
        var marker = window.L.marker([m.lat, m.lon], { icon: icon(m.status), title: label, alt: label, keyboard: true });
        marker.bindPopup(popupFor(m));
        marker.addTo(state.layer);
        var element = marker.getElement();
        if (element) {
          element.setAttribute("aria-label", label);
          element.setAttribute("data-station", m.id);
        }
        known = state.byId[m.id] = { marker: marker, status: m.status };
      } else {
        known.marker.setPopupContent(popupFor(m));
      }
      known.status = m.status;
      if (known.marker.getElement()) { known.marker.getElement().setAttribute("data-status", m.status); }
    });
    Object.keys(state.byId).forEach(function (key) {
      if (!seen[key]) { state.layer.removeLayer(state.byId[key].marker); delete state.byId[key]; }
    });
    if (!state.fitted) {
      var points = markers.map(function (m) { return [m.lat, m.lon]; });
      if (points.length) { state.map.fitBounds(points, { padding: [20, 20], maxZoom: 15 }); }
      else { state.map.setView([54, -2], 5); }
      state.fitted = true;
    }
  }

  var sections = window.cicSections = window.cicSections || {};

  function drawAll(root) {
    root.querySelectorAll('[data-kind="chart"]').forEach(drawChart);
    root.querySelectorAll('[data-kind="map"]').forEach(drawMap);
    Object.keys(sections).forEach(function (kind) {
      root.querySelectorAll('[data-kind="' + kind + '"]').forEach(sections[kind].draw);
    });
  }

  function swap(html) {
    var incoming = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html").body.firstChild;
    var live = document.getElementById("live");
    var present = {};
    incoming.querySelectorAll("[data-section]").forEach(function (fresh) {
      present[fresh.getAttribute("data-section")] = true;
    });
    /* a section the page no longer has (e.g. "no plan computed yet" once there is one) goes */
    live.querySelectorAll("[data-section]").forEach(function (old) {
      if (!present[old.getAttribute("data-section")]) { old.remove(); }
    });
    incoming.querySelectorAll("[data-section]").forEach(function (fresh) {
      var id = fresh.getAttribute("data-section");
      var current = live.querySelector('[data-section="' + id + '"]');
      var kind = fresh.getAttribute("data-kind");
      if (!current) { live.appendChild(fresh); drawAll(fresh.parentNode); return; }
      if (kind && sections[kind]) {
        sections[kind].swap(current, fresh);
      } else if (kind === "chart" || kind === "map") {
        /* keep the drawn chart / map; take the new data and the text around it */
        var data = current.querySelector("script[type='application/json']");
        var newData = fresh.querySelector("script[type='application/json']");
        if (data && newData) { data.textContent = newData.textContent; }
        ["[data-legend]", ".caption"].forEach(function (selector) {
          var olds = current.querySelectorAll(selector), news = fresh.querySelectorAll(selector);
          for (var i = 0; i < olds.length && i < news.length; i++) { olds[i].textContent = news[i].textContent; }
        });
        if (kind === "chart") { drawChart(current); } else { drawMap(current); }
      } else if (current.outerHTML !== fresh.outerHTML) {
        current.replaceWith(fresh);  /* unchanged sections stay, and so does the focus in them */
      }
    });
  }

  function refresh() {
    var status = document.getElementById("live-status");
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { headers: { "Accept": "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        swap(html);
        if (status) { status.textContent = "updated " + new Date().toLocaleTimeString(); status.className = ""; }
      })
      .catch(function (error) {
        if (status) { status.textContent = "live update failed (" + error.message + "), retrying"; status.className = "stale"; }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    var every = parseInt(document.body.getAttribute("data-refresh"), 10);
    if (every > 0 && document.getElementById("live")) { window.setInterval(refresh, every); }
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  });
})();
