/* handwerkgeo map labels: rank (and site) labels beside their plots, never over the plot's
 * colour, placed greedily in rank order around the plot at growing distances so that no two
 * labels and no label and plot overlap; a label set apart is joined to the plot's edge by a
 * leader line. Placement is redone after every zoom. Used by map.js (HWGLabels.rankLabels). */
var HWGLabels = (function () {
  "use strict";

  // Rank labels beside the plots (never over their colour), placed greedily in rank order
  // around the plot at growing distances so that no two labels and no label and plot
  // overlap; a leader line joins a label set apart to its plot.
  var ANGLES = [-45, -135, 45, 135, 0, 180, -90, 90];
  var RADII = [3, 14, 28, 44, 64, 88, 118, 150];
  var RankLabels = null;
  function rankLabels(items) {
    if (!RankLabels) {
      RankLabels = L.Layer.extend({
        initialize: function (its) {
          this._items = its;
        },
        onAdd: function (m) {
          var el = (this._el = L.DomUtil.create("div", "hwg-ranks leaflet-zoom-hide", m.getPane("hwgLabels")));
          this._nodes = this._items.map(function (it) {
            var line = L.DomUtil.create("div", "hwg-leader", el);
            var lab = L.DomUtil.create("div", "hwg-rank", el);
            lab.textContent = it.text;
            lab.title = it.title;
            lab.tabIndex = 0;
            lab.setAttribute("role", "button");
            L.DomEvent.on(lab, "click", function (ev) {
              L.DomEvent.stop(ev);
              it.open();
            });
            L.DomEvent.on(lab, "keydown", function (ev) {
              if (ev.key === "Enter") it.open();
            });
            return { lab: lab, line: line };
          });
          m.on("zoomend viewreset", this._place, this);
          this._place();
        },
        onRemove: function (m) {
          m.off("zoomend viewreset", this._place, this);
          L.DomUtil.remove(this._el);
        },
        _place: function () {
          var m = this._map, nodes = this._nodes, placed = [];
          var pts = this._items.map(function (it) {
            return m.latLngToLayerPoint(it.ll);
          });
          // half size of each plot on screen (at least a 12 px dot, at most 40 px: a label
          // inside a large plot leaves most of its colour visible)
          var half = this._items.map(function (it, k) {
            if (!it.bounds) return [6, 6];
            var nw = m.latLngToLayerPoint(it.bounds.getNorthWest());
            var se = m.latLngToLayerPoint(it.bounds.getSouthEast());
            var hx = Math.max(Math.abs(se.x - nw.x) / 2, 6), hy = Math.max(Math.abs(se.y - nw.y) / 2, 6);
            return [Math.min(hx, 40), Math.min(hy, 40)];
          });
          var obstacles = pts.map(function (p, k) {
            return [p.x - half[k][0], p.y - half[k][1], p.x + half[k][0], p.y + half[k][1]];
          });
          var free = function (b) {
            var all = placed.concat(obstacles);
            for (var q = 0; q < all.length; q++) {
              var o = all[q];
              if (b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1]) return false;
            }
            return true;
          };
          this._items.forEach(function (it, k) {
            var p = pts[k], n = nodes[k];
            var w = n.lab.offsetWidth || 20, h = n.lab.offsetHeight || 18, best = null;
            for (var ri = 0; ri < RADII.length && !best; ri++) {
              for (var ai = 0; ai < ANGLES.length; ai++) {
                var a = (ANGLES[ai] * Math.PI) / 180, c = Math.cos(a), sn = Math.sin(a);
                var mx = Math.max(Math.abs(c), Math.abs(sn)); // to the plot box's edge
                var cx = p.x + (half[k][0] * c) / mx + RADII[ri] * c, cy = p.y + (half[k][1] * sn) / mx + RADII[ri] * sn;
                var bx = c > 0.3 ? cx : c < -0.3 ? cx - w : cx - w / 2;
                var by = sn > 0.3 ? cy : sn < -0.3 ? cy - h : cy - h / 2;
                var b = [bx - 1, by - 1, bx + w + 1, by + h + 1];
                if (free(b) || (ri === RADII.length - 1 && ai === ANGLES.length - 1)) {
                  best = { b: b, r: RADII[ri], cx: cx, cy: cy, a: a };
                  break;
                }
              }
            }
            placed.push(best.b);
            n.lab.style.left = best.b[0] + 1 + "px";
            n.lab.style.top = best.b[1] + 1 + "px";
            if (best.r > RADII[0]) {
              var ca = Math.cos(best.a), sa = Math.sin(best.a), ma = Math.max(Math.abs(ca), Math.abs(sa));
              var x0 = p.x + (half[k][0] * ca) / ma, y0 = p.y + (half[k][1] * sa) / ma;
              var len = Math.sqrt((best.cx - x0) * (best.cx - x0) + (best.cy - y0) * (best.cy - y0));
              n.line.style.display = "block";
              n.line.style.left = x0 + "px";
              n.line.style.top = y0 + "px";
              n.line.style.width = len + "px";
              n.line.style.transform = "rotate(" + best.a + "rad)";
            } else {
              n.line.style.display = "none";
            }
          });
        },
      });
    }
    return new RankLabels(items);
  }

  return { rankLabels: rankLabels };
})();
