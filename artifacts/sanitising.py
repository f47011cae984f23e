"""Making what a model (or a person) wrote safe before it is stored or served.

- SVG is cleaned by nh3 (ammonia, a maintained HTML5 sanitiser that parses SVG as foreign content)
  with an allow-list of drawing elements and presentation attributes: no ``<script>``, no
  ``<foreignObject>``, no ``on*`` handler, no ``style`` (it can load URLs), and ``href`` only to a
  fragment of the same image (``#id``); a ``url(...)`` value other than ``url(#id)`` is dropped. The
  result is stored, and served as ``image/svg+xml`` under a sandboxing CSP (``artifacts.views``).
- A ``data:`` URL is accepted only as one of the raster types below, decoded strictly, size-checked
  and its bytes checked against the type's signature.
"""

from __future__ import annotations

import base64
import binascii
import re

import nh3

from .errors import ArtifactRefused

SVG_TAGS = {
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop",
    "clipPath", "mask", "pattern", "marker", "filter", "feGaussianBlur", "feOffset", "feBlend",
    "feColorMatrix", "feFlood", "feComposite", "feMerge", "feMergeNode", "image",
}
_PRESENTATION = {
    "id", "class", "transform", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width",
    "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset",
    "stroke-miterlimit", "opacity", "clip-path", "clip-rule", "mask", "filter", "font-family",
    "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "letter-spacing",
    "visibility", "display", "color", "stop-color", "stop-opacity", "marker-start", "marker-mid",
    "marker-end", "vector-effect",
}
_GEOMETRY = {
    "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height", "d", "points",
    "dx", "dy", "rotate", "viewBox", "preserveAspectRatio", "offset", "gradientUnits",
    "gradientTransform", "spreadMethod", "fx", "fy", "patternUnits", "patternContentUnits",
    "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits", "markerWidth", "markerHeight",
    "refX", "refY", "orient", "markerUnits", "stdDeviation", "in", "in2", "result", "mode", "values",
    "type", "operator", "k1", "k2", "k3", "k4", "flood-color", "flood-opacity", "filterUnits",
    "startOffset", "textLength", "lengthAdjust", "href", "xlink:href", "version", "xmlns", "xmlns:xlink",
}
SVG_ATTRIBUTES = {tag: _PRESENTATION | _GEOMETRY for tag in SVG_TAGS}
_URL_VALUE = re.compile(r"url\s*\(", re.IGNORECASE)
_LOCAL_URL = re.compile(r"^\s*url\s*\(\s*['\"]?#[\w.\-:]+['\"]?\s*\)\s*$", re.IGNORECASE)
_SVG_OPEN = re.compile(r"<svg\b", re.IGNORECASE)
_XMLNS = 'xmlns="http://www.w3.org/2000/svg"'

IMAGE_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
IMAGE_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
                    "image/svg+xml": ".svg"}
_DATA_URL = re.compile(r"^data:([a-z0-9.+-]+/[a-z0-9.+-]+)(;[a-z0-9=.+-]+)*?;base64,(.*)$", re.IGNORECASE | re.DOTALL)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "xlink:href"):
        return value if value.strip().startswith("#") else None  # only this image's own parts
    if _URL_VALUE.search(value) and not _LOCAL_URL.match(value):
        return None
    return value


def svg_clean(text: str) -> str:
    """The SVG of ``text`` with only drawing left (see the module's docstring); '' when it holds
    no ``<svg>`` element at all."""
    cleaned = nh3.clean(
        text or "", tags=SVG_TAGS, attributes=SVG_ATTRIBUTES, attribute_filter=_attribute_filter,
        strip_comments=True, link_rel=None, url_schemes=set(),
    )
    start = cleaned.lower().find("<svg")
    end = cleaned.lower().rfind("</svg>")
    if start < 0 or end < 0:
        return ""
    cleaned = cleaned[start:end + len("</svg>")]
    head_end = cleaned.find(">")
    if "xmlns=" not in cleaned[:head_end]:  # image/svg+xml needs its namespace to draw
        cleaned = _SVG_OPEN.sub(f"<svg {_XMLNS}", cleaned, count=1)
    return cleaned


def image_decode(data_url_or_base64: str, *, mime: str = "", max_bytes: int) -> tuple[bytes, str]:
    """(bytes, MIME type) of a base64 image: a ``data:`` URL, or bare base64 with ``mime``.
    Raises ``ArtifactRefused`` for anything that is not one of the raster types, not valid
    base64, larger than ``max_bytes`` or whose bytes are not what the type says."""
    from django.utils.translation import gettext as _  # noqa: PLC0415

    text = (data_url_or_base64 or "").strip()
    match = _DATA_URL.match(text)
    if match:
        mime, payload = match.group(1).lower(), match.group(3)
    elif text.lower().startswith("data:"):
        raise ArtifactRefused(_("This data URL is not a base64 image."))
    else:
        payload = text
    mime = (mime or "").lower()
    if mime == "image/jpg":
        mime = "image/jpeg"
    if mime not in IMAGE_SIGNATURES:
        raise ArtifactRefused(_("Only PNG, JPEG, GIF and WebP images can be kept from a data URL."))
    payload = re.sub(r"\s+", "", payload)
    if len(payload) * 3 // 4 > max_bytes:
        raise ArtifactRefused(_("This image is too large to keep."))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArtifactRefused(_("This image's data is damaged: it is not valid base64.")) from exc
    if not data or len(data) > max_bytes:
        raise ArtifactRefused(_("This image is too large to keep.") if data else _("This image is empty."))
    if not data.startswith(IMAGE_SIGNATURES[mime]) or (mime == "image/webp" and data[8:12] != b"WEBP"):
        raise ArtifactRefused(_("This data is not the image it claims to be."))
    return data, mime
