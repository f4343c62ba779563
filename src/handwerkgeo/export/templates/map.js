/* handwerkgeo map script: builds the layers of an exported score map from the JSON
 * document embedded in the page (element id "hwg-data"; plain JSON, or zlib-deflated and
 * base64-encoded for large maps, decoded with the browser's DecompressionStream). Every
 * value from the data is escaped before it is shown. Geometry is quantised to 1e-5
 * degrees and delta-encoded: [x0, y0, dx1, dy1, ...] with x = longitude, y = latitude.
 * Utilities are stored as integer percent, contributions as integer tenths of points. */
var HWG = (function () {
  "use strict";

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }

  function decode(a) {
    var out = new Array(a.length / 2), x = 0, y = 0;
    for (var i = 0, j = 0; i < a.length; i += 2, j++) {
      x += a[i];
      y += a[i + 1];
      out[j] = [y / 1e5, x / 1e5];
    }
    return out;
  }

  function decodePolys(polys) {
    return polys.map(function (rings) {
      return rings.map(decode);
    });
  }

  function isPoint(g) {
    return g && g.length === 2 && typeof g[0] === "number";
  }

  function load(el) {
    if (el.getAttribute("data-encoding") !== "deflate-base64") {
      return Promise.resolve(JSON.parse(el.textContent));
    }
    var bin = atob(el.textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).text().then(JSON.parse);
  }

  function init(map, el) {
    var D = null, T = null, readyAsked = false, started = false;
    var numFmt = {};
    var locale = "de-DE";
    var all = [];

    function fmt(v, d) {
      if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "–";
      if (typeof v !== "number") return String(v);
      if (!numFmt[d]) {
        numFmt[d] = new Intl.NumberFormat(locale, {
          minimumFractionDigits: d,
          maximumFractionDigits: d,
        });
      }
      return numFmt[d].format(v);
    }

    function fmtRaw(v, unit) {
      if (v === null || v === undefined) return T.no_data;
      if (typeof v === "boolean") return v ? T.yes : T.no;
      var s = v;
      if (typeof v === "number") s = fmt(v, Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
      return unit ? s + " " + unit : String(s);
    }

    function classOf(v, scale) {
      if (v === null || v === undefined) return -1;
      var k = Math.floor((v / scale) * 5);
      return k < 0 ? 0 : k > 4 ? 4 : k;
    }

    function fill(i, ci) {
      if (D.excl[i]) return D.colours.excluded;
      var k = ci === null ? classOf(D.score[i], 100) : classOf(D.u[D.crit[ci].k][i], 100);
      return k < 0 ? D.colours.noData : D.colours.classes[k];
    }

    function title(i) {
      var name = D.name ? D.name[i] : null;
      if (name && name !== D.id[i]) return name + " (" + D.id[i] + ")";
      return D.id[i];
    }

    function row(label, value) {
      return "<tr><th>" + esc(label) + "</th><td>" + esc(value) + "</td></tr>";
    }

    function card(i) {
      var h = '<div class="hwg-card"><div class="hwg-card-title">' + esc(title(i)) + "</div>";
      if (D.excl[i]) {
        h += '<div class="hwg-excl">' + esc(T.excluded) + ": " + esc(D.reasons[D.reason[i]]) + "</div>";
      }
      if (D.warn && D.warn[i]) {
        h += '<div class="hwg-warn">' + esc(D.warnings[D.warn[i]]) + "</div>";
      }
      h += '<table class="hwg-sum">';
      h += row(T.score_total, fmt(D.score[i], 1) + " / 100");
      var r = D.rank[i];
      h += row(T.rank, r === null ? "–" : r + " " + T.of + " " + D.nRanked);
      if (D.cov) h += row(T.coverage, D.cov[i] === null ? "–" : fmt(D.cov[i], 0) + " %");
      var miss = D.missingNames[D.missing[i]];
      if (miss) {
        var labels = {};
        D.crit.forEach(function (c) {
          labels[c.k] = c.label;
        });
        h += row(
          T.missing,
          miss
            .split(",")
            .map(function (s) {
              s = s.trim();
              return labels[s] || s;
            })
            .join(", ")
        );
      }
      Object.keys(D.pTop).forEach(function (n) {
        var p = D.pTop[n][i];
        h += row(T.p_top.replace("{n}", n), p === null ? "–" : fmt(p, 0) + " %");
      });
      if (D.rp05 && D.rp95 && D.rp05[i] !== null && D.rp95[i] !== null) {
        h += row(T.rank_range, D.rp05[i] + "–" + D.rp95[i]);
      }
      h += "</table>";
      var attrRows = "";
      (D.attrKeys || []).forEach(function (k) {
        var v = D.attrs[k][i];
        if (v !== null && v !== undefined) attrRows += row(k, v);
      });
      if (attrRows) {
        h += '<div class="hwg-attr-title">' + esc(T.attributes) + '</div><table class="hwg-sum hwg-attrs">' + attrRows + "</table>";
      }
      if (D.crit.length) {
        h += '<table class="hwg-crit"><thead><tr><th>' + esc(T.criterion) + "</th><th>" +
          esc(T.raw) + "</th><th>" + esc(T.utility) + "</th><th>" + esc(T.contribution) +
          "</th></tr></thead><tbody>";
        D.crit.forEach(function (c) {
          var raw = D.raw[c.k] ? D.raw[c.k][i] : null;
          var u = D.u[c.k] && D.u[c.k][i] !== null ? D.u[c.k][i] / 100 : null;
          var con = D.c[c.k] && D.c[c.k][i] !== null ? D.c[c.k][i] / 10 : null;
          var fb = D.fb[c.k] && D.fb[c.k][i] ? " *" : "";
          h += "<tr><td>" + esc(c.label) + "</td><td>" + esc(fmtRaw(raw, c.unit) + fb) +
            "</td><td>" + esc(fmt(u, 2)) + "</td><td>" + esc(fmt(con, 1)) + "</td></tr>";
        });
        h += "</tbody></table>";
        var anyFb = D.crit.some(function (c) {
          return D.fb[c.k] && D.fb[c.k][i];
        });
        if (anyFb) h += '<div class="hwg-foot">* ' + esc(T.fallback_note) + "</div>";
        var anyDash = D.crit.some(function (c) {
          return !D.u[c.k] || D.u[c.k][i] === null;
        });
        if (anyDash) h += '<div class="hwg-foot">' + esc(T.dash_note) + "</div>";
      }
      return h + "</div>";
    }

    function openCard(i, latlng) {
      L.popup({ maxWidth: 460, minWidth: 300, autoPanPadding: [20, 20] })
        .setLatLng(latlng)
        .setContent(card(i))
        .openOn(map);
    }

    // A layer group filled on first display (and only once the data is decoded).
    var Lazy = null;
    function lazy(builder) {
      if (!Lazy) {
        Lazy = L.FeatureGroup.extend({
          initialize: function (b) {
            L.FeatureGroup.prototype.initialize.call(this, []);
            this._builder = b;
            this._built = false;
          },
          onAdd: function (m) {
            this.build();
            L.FeatureGroup.prototype.onAdd.call(this, m);
          },
          build: function () {
            if (!this._built && D) {
              this._built = true;
              this._builder(this);
            }
          },
        });
      }
      var lyr = new Lazy(builder);
      all.push(lyr);
      return lyr;
    }

    var geoms = null;
    function geometry(i) {
      if (!geoms) geoms = new Array(D.n);
      if (geoms[i] === undefined) {
        var g = D.geom[i];
        geoms[i] = !g ? null : isPoint(g) ? [g[1] / 1e5, g[0] / 1e5] : decodePolys(g);
      }
      return geoms[i];
    }

    function surface(ci) {
      var group = lazy(function (grp) {
        var large = D.large;
        for (var i = 0; i < D.n; i++) {
          var g = geometry(i);
          if (!g) continue;
          var style = {
            fillColor: fill(i, ci),
            fillOpacity: ci === null ? 0.85 : 0.8,
            stroke: !large,
            color: "#333333",
            weight: 0.6,
            hwgIndex: i,
          };
          var lyr;
          if (isPoint(D.geom[i])) {
            style.radius = 6;
            style.stroke = true;
            lyr = L.circleMarker(g, style);
          } else {
            lyr = L.polygon(g, style);
          }
          grp.addLayer(lyr);
        }
      });
      group.on("click", function (e) {
        var lyr = e.propagatedFrom || e.layer;
        openCard(lyr.options.hwgIndex, e.latlng);
      });
      return group;
    }

    function topLayer() {
      return lazy(function (grp) {
        var items = [], dots = [];
        D.top.forEach(function (i, k) {
          var g = geometry(i), p = D.topPt[k];
          var ll = p ? [p[1] / 1e5, p[0] / 1e5] : null, bounds = null;
          if (g && !isPoint(D.geom[i])) {
            var poly = L.polygon(g, { fill: false, color: "#000000", weight: 2.5, interactive: false });
            grp.addLayer(poly);
            bounds = poly.getBounds();
            if (ll) {
              // a plot a few pixels wide keeps its score colour as a dot
              var dot = L.circleMarker(ll, {
                radius: 0, fillColor: fill(i, null), fillOpacity: 1, color: "#000000", weight: 1.2, interactive: false,
              });
              dots.push({ dot: dot, bounds: poly.getBounds() });
              grp.addLayer(dot);
            }
          }
          if (!ll) return;
          items.push({
            ll: ll,
            bounds: bounds,
            text: String(D.rank[i]),
            title: T.rank + " " + D.rank[i] + ": " + title(i),
            open: function () {
              openCard(i, ll);
            },
          });
        });
        grp.addLayer(HWGLabels.rankLabels(items));
        function sizeDots() {
          dots.forEach(function (d) {
            var nw = map.latLngToLayerPoint(d.bounds.getNorthWest());
            var se = map.latLngToLayerPoint(d.bounds.getSouthEast());
            var small = Math.max(se.x - nw.x, se.y - nw.y) < 12;
            d.dot.setRadius(small ? 5 : 0);
            d.dot.setStyle({ stroke: small, fill: small });
          });
        }
        map.on("zoomend", sizeDots);
        sizeDots();
      });
    }

    // --- the offline base map: streets by class and zoom, Bezirke with names ----------------
    var STREET = {
      main: { w: { 10: 1, 11: 1.3, 12: 1.8, 13: 2.4, 14: 3.2, 15: 4.5 }, casing: "#9a7b3c", fill: "#fde7a6" },
      street: { w: { 13: 1.1, 14: 1.8, 15: 2.8, 16: 3.5 }, casing: "#8a8a8a" },
      minor: { w: { 15: 1.2, 16: 2 }, casing: "#a0a0a0" },
    };
    function widthAt(tab, z) {
      var w = null;
      Object.keys(tab).forEach(function (k) {
        if (z >= +k) w = tab[k];
      });
      return w;
    }
    var baseParts = {};
    function baseLayer(grp) {
      var B = D.base, renderer = L.canvas({ pane: "hwgBase", padding: 0.2 });
      Object.keys(STREET).forEach(function (cls) {
        var lines = B.streets[cls];
        if (!lines || !lines.length) return;
        var ll = lines.map(decode);
        var opts = { renderer: renderer, interactive: false, lineCap: "round", lineJoin: "round" };
        baseParts[cls] = {
          n: lines.length,
          casing: L.polyline(ll, L.extend({ color: STREET[cls].casing, opacity: 0.85 }, opts)),
          fill: L.polyline(ll, L.extend({ color: STREET[cls].fill || "#ffffff", opacity: 0.95 }, opts)),
        };
      });
      if (B.bezirke) {
        B.bezirke.geom.forEach(function (g) {
          if (g) {
            grp.addLayer(
              L.polygon(decodePolys(g), {
                renderer: renderer, fill: false, color: "#505050", weight: 2, opacity: 0.8, interactive: false,
              })
            );
          }
        });
        B.bezirke.label.forEach(function (p, k) {
          grp.addLayer(
            L.marker([p[1] / 1e5, p[0] / 1e5], {
              icon: L.divIcon({ className: "hwg-label hwg-label-bz", html: esc(B.bezirke.name[k]), iconSize: null }),
              interactive: false,
              keyboard: false,
              pane: "hwgLabels",
            })
          );
        });
      }
      function update() {
        var z = map.getZoom();
        Object.keys(baseParts).forEach(function (cls) {
          var part = baseParts[cls], w = z >= D.base.minZoom[cls] ? widthAt(STREET[cls].w, z) : null;
          [part.casing, part.fill].forEach(function (lyr, j) {
            if (w === null) {
              if (grp.hasLayer(lyr)) grp.removeLayer(lyr);
              return;
            }
            lyr.setStyle({ weight: j === 0 ? w + 1.6 : w });
            if (!grp.hasLayer(lyr)) grp.addLayer(lyr);
          });
        });
      }
      map.on("zoomend", update);
      update();
    }

    function zoomClass() {
      var z = map.getZoom(), c = map.getContainer();
      c.setAttribute("data-hwg-zoom", z <= 11 ? "city" : z === 12 ? "bezirk" : z <= 14 ? "quarter" : "street");
    }

    function overlayLayer(k) {
      return lazy(function (grp) {
        var O = D.overlays[k], items = [];
        O.geom.forEach(function (g, j) {
          if (!g) return;
          var style = { color: O.colour, weight: 2.5, fill: true, fillOpacity: 0.05, hwgOv: j };
          var lyr = isPoint(g) ? L.circleMarker([g[1] / 1e5, g[0] / 1e5], L.extend({ radius: 7 }, style))
            : L.polygon(decodePolys(g), style);
          lyr.on("click", function (e) {
            L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(overlayCard(O, j)).openOn(map);
          });
          grp.addLayer(lyr);
          var p = O.labelPt[j];
          if (p && O.label[j]) {
            var ll = [p[1] / 1e5, p[0] / 1e5];
            items.push({ ll: ll, bounds: isPoint(g) ? null : lyr.getBounds(), text: O.label[j], title: O.label[j], open: function () {
              L.popup({ maxWidth: 360 }).setLatLng(ll).setContent(overlayCard(O, j)).openOn(map);
            } });
          }
        });
        if (items.length) {
          var lbl = HWGLabels.rankLabels(items);
          grp.addLayer(lbl);
        }
      });
    }

    function overlayCard(O, j) {
      var h = '<div class="hwg-card"><div class="hwg-card-title">' + esc(O.label[j] || O.name) + '</div><table class="hwg-sum">';
      O.heads.forEach(function (head, c) {
        var v = O.rows[c][j];
        if (v !== null && v !== undefined) h += row(head, v);
      });
      return h + "</table></div>";
    }

    function stadtteileLayer(grp) {
      var S = D.ctx.stadtteile;
      S.geom.forEach(function (g) {
        if (g) {
          grp.addLayer(
            L.polygon(decodePolys(g), {
              fill: false,
              color: "#444444",
              weight: 1.2,
              dashArray: "4 3",
              interactive: false,
            })
          );
        }
      });
      S.label.forEach(function (p, k) {
        grp.addLayer(
          L.marker([p[1] / 1e5, p[0] / 1e5], {
            icon: L.divIcon({ className: "hwg-label hwg-label-st", html: esc(S.name[k]), iconSize: null }),
            interactive: false,
            keyboard: false,
          })
        );
      });
    }

    function stopsLayer(grp) {
      var S = D.ctx.stops;
      S.xy.forEach(function (p, k) {
        grp.addLayer(
          L.circleMarker([p[1] / 1e5, p[0] / 1e5], {
            radius: 3,
            color: "#000000",
            weight: 1,
            fillColor: "#ffffff",
            fillOpacity: 1,
          }).bindTooltip(esc(S.name[k]))
        );
      });
    }

    function cyclingLayer(grp) {
      D.ctx.cycling.lines.forEach(function (a) {
        grp.addLayer(
          L.polyline(decode(a), { color: "#c51b7d", weight: 1.5, opacity: 0.8, interactive: false })
        );
      });
    }

    var layers = {
      score: null, top: null, utility: {}, stadtteile: null, stops: null, cycling: null, base: null, overlay: {},
    };

    function layer(kind, key) {
      if (kind === "score") return (layers.score = surface(null));
      if (kind === "utility") return (layers.utility[key] = surface(key));
      if (kind === "top") return (layers.top = topLayer());
      if (kind === "base") return (layers.base = lazy(function (g) { baseLayer(g); }));
      if (kind === "overlay") return (layers.overlay[key] = overlayLayer(key));
      if (kind === "stadtteile") return (layers.stadtteile = lazy(function (g) { stadtteileLayer(g); }));
      if (kind === "stops") return (layers.stops = lazy(function (g) { stopsLayer(g); }));
      return (layers.cycling = lazy(function (g) { cyclingLayer(g); }));
    }

    function addControls() {
      var titleCtl = L.control({ position: "topleft" });
      titleCtl.onAdd = function () {
        var div = L.DomUtil.create("div", "hwg-title leaflet-bar");
        div.innerHTML = D.titleHtml; // built and escaped in Python
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      titleCtl.addTo(map);

      var legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "hwg-legend");
        var h = "<div><b>" + esc(T.score_legend) + "</b></div>";
        for (var k = D.colours.classes.length - 1; k >= 0; k--) {
          var lo = D.breaks[k], hi = D.breaks[k + 1];
          h += '<div><i style="background:' + D.colours.classes[k] + '"></i>' +
            esc(fmt(lo, 0) + "–" + fmt(hi, 0)) + '<span class="hwg-u">' +
            esc(fmt(lo / 100, 1) + "–" + fmt(hi / 100, 1)) + "</span></div>";
        }
        h += '<div><i style="background:' + D.colours.excluded + '"></i>' + esc(T.excluded_legend) + "</div>";
        h += '<div><i class="hwg-nodata" style="background:' + D.colours.noData + '"></i>' +
          esc(T.no_data_legend) + "</div>";
        h += '<div class="hwg-u-note">' + esc(T.utility_legend) + "</div>";
        div.innerHTML = h;
        return div;
      };
      legend.addTo(map);

      L.control.scale({ imperial: false, maxWidth: 120 }).addTo(map);
      map.attributionControl.setPrefix("Leaflet");
      D.attributions.forEach(function (a) {
        map.attributionControl.addAttribution(esc(a));
      });
    }

    function start() {
      if (started || !D || !readyAsked) return;
      started = true;
      addControls();
      map.on("zoomend", zoomClass);
      map.fitBounds(D.bounds, { padding: [10, 10] });
      zoomClass();
      all.forEach(function (lyr) {
        if (map.hasLayer(lyr)) lyr.build();
      });
      window.hwgReadyAt = performance.now();
      window.hwgReady = true;
      document.documentElement.setAttribute("data-hwg-ready", "1");
      // the canvas is drawn on the next animation frame; record when that has happened
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          window.hwgPaintedAt = performance.now();
        });
      });
    }

    function fail(err) {
      var div = document.createElement("div");
      div.className = "hwg-error";
      div.textContent = (el.getAttribute("data-error") || "") + " (" + err + ")";
      document.body.appendChild(div);
      window.hwgError = String(err);
      if (window.console) console.error(err);
    }

    // panes: the base map above the score colours (thin white streets keep them readable),
    // labels above all shapes and markers
    map.createPane("hwgBase").style.zIndex = 420;
    map.getPane("hwgBase").style.pointerEvents = "none";
    map.createPane("hwgLabels").style.zIndex = 630;
    map.getPane("hwgLabels").style.pointerEvents = "none";

    var api = {
      map: map,
      // street lines of the base map per class: {cls: {lines, drawn}} ("drawn": on the map now)
      baseStats: function () {
        var out = {};
        Object.keys(baseParts).forEach(function (cls) {
          var lyr = baseParts[cls].fill;
          out[cls] = { lines: baseParts[cls].n, drawn: map.hasLayer(lyr) ? lyr.getLatLngs().length : 0 };
        });
        return out;
      },
      data: null,
      layers: layers,
      layer: layer,
      ready: function () {
        readyAsked = true;
        start();
      },
      card: card,
      esc: esc,
    };
    window.hwg = api;
    try {
      load(el).then(function (d) {
        D = api.data = d;
        T = D.text;
        locale = D.lang === "de" ? "de-DE" : "en-GB";
        window.hwgDataAt = performance.now();
        start();
      }, fail);
    } catch (err) {
      fail(err);
    }
    return api;
  }

  return { init: init, esc: esc };
})();
