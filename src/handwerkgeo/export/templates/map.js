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
        if (anyFb) h += '<div class="hwg-foot">* ' + esc(T.fallback) + "</div>";
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
        D.top.forEach(function (i, k) {
          var g = geometry(i);
          if (g && !isPoint(D.geom[i])) {
            grp.addLayer(
              L.polygon(g, { fill: false, color: "#000000", weight: 3, interactive: false })
            );
          }
          var p = D.topPt[k];
          if (!p) return;
          var ll = [p[1] / 1e5, p[0] / 1e5];
          var marker = L.marker(ll, {
            icon: L.divIcon({
              className: "hwg-rank",
              html: esc(D.rank[i]),
              iconSize: [24, 24],
              iconAnchor: [12, 12],
            }),
            title: T.rank + " " + D.rank[i] + ": " + title(i),
            keyboard: true,
          });
          marker.on("click", function () {
            openCard(i, ll);
          });
          grp.addLayer(marker);
        });
      });
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
            icon: L.divIcon({ className: "hwg-label", html: esc(S.name[k]), iconSize: null }),
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

    var layers = { score: null, top: null, utility: {}, stadtteile: null, stops: null, cycling: null };

    function layer(kind, key) {
      if (kind === "score") return (layers.score = surface(null));
      if (kind === "utility") return (layers.utility[key] = surface(key));
      if (kind === "top") return (layers.top = topLayer());
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

      L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
      map.attributionControl.setPrefix("Leaflet");
      D.attributions.forEach(function (a) {
        map.attributionControl.addAttribution(esc(a));
      });
    }

    function start() {
      if (started || !D || !readyAsked) return;
      started = true;
      addControls();
      map.fitBounds(D.bounds, { padding: [10, 10] });
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

    var api = {
      map: map,
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
