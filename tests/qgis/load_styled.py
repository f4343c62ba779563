"""Run by Debian's python3 (QGIS bindings): load GeoPackage layers as a QGIS user would.

Usage: ``python3 load_styled.py GPKG LAYER [LAYER ...] [--png OUT.png]``. Prints one JSON
object per layer: validity, the renderer type and its classes, the field aliases, whether
the map tip is set and the map tip evaluated for the first feature. With ``--png`` the
first layer is rendered with its default style to a PNG.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys


def describe(lyr: QgsVectorLayer) -> dict:
    renderer = lyr.renderer()
    info = {
        "valid": lyr.isValid(),
        "renderer": renderer.type(),
        "aliases": {f.name(): lyr.attributeAlias(i) for i, f in enumerate(lyr.fields())},
        "map_tip": lyr.mapTipTemplate(),
        "features": lyr.featureCount(),
    }
    if renderer.type() == "graduatedSymbol":
        info["classes"] = [
            [r.label(), r.lowerValue(), r.symbol().color().name()] for r in renderer.ranges()
        ]
        info["class_attribute"] = renderer.classAttribute()
        rc = QgsRenderContext()
        rc.setExpressionContext(
            QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(lyr))
        )
        renderer.startRender(rc, lyr.fields())
        colours = {}
        for feat in lyr.getFeatures():
            rc.expressionContext().setFeature(feat)
            sym = renderer.symbolForFeature(feat, rc)
            colours[str(feat["plot_id"] if "plot_id" in feat.fields().names() else feat.id())] = (
                None if sym is None else sym.color().name()
            )
        renderer.stopRender(rc)
        info["feature_colours"] = colours
    feat = next(lyr.getFeatures(), None)
    if feat is not None and lyr.mapTipTemplate():
        ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(lyr))
        ctx.setFeature(feat)
        info["map_tip_first"] = QgsExpression.replaceExpressionText(lyr.mapTipTemplate(), ctx)
    return info


def sld_rules(path: str, name: str, tmp: str) -> list[str]:
    """Load the default style's SLD into a fresh layer: the labels of its rules."""
    con = sqlite3.connect(path)
    (sld,) = con.execute(
        "SELECT styleSLD FROM layer_styles WHERE f_table_name = ? AND useAsDefault", (name,)
    ).fetchone()
    con.close()
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(sld)
    lyr = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    _msg, ok = lyr.loadSldStyle(tmp)
    renderer = lyr.renderer()
    if not ok or renderer.type() != "RuleRenderer":
        return []
    return [rule.label() for rule in renderer.rootRule().children()]


def render(lyr: QgsVectorLayer, out: str) -> None:
    settings = QgsMapSettings()
    settings.setLayers([lyr])
    settings.setDestinationCrs(lyr.crs())
    extent = lyr.extent()
    extent.scale(1.1)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(800, 800))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(out, "PNG")


def main(argv: list[str]) -> int:
    png = None
    if "--png" in argv:
        i = argv.index("--png")
        png = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    path, layers = argv[0], argv[1:]
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    for name in layers:
        lyr = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        out[name] = describe(lyr)
        out[name]["sld_rules"] = sld_rules(path, name, f"{path}.{name}.sld")
        if png and name == layers[0]:
            render(lyr, png)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # QGIS 3.22 may crash while tearing down layers at exit: the answer is out, leave now
    os._exit(0)


if __name__ == "__main__":  # imported by pytest's doctest collection without QGIS
    from qgis.core import (
        QgsApplication,
        QgsExpression,
        QgsExpressionContext,
        QgsExpressionContextUtils,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsRenderContext,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    sys.exit(main(sys.argv[1:]))
