"""IIIF Presentation 3 manifests (an item's versions, a cluster's members) and a level-0 Image API 3 service.

The images served are the stored JPEG thumbnails (1024 px preview and 256 px small), so the image service is
level 0: it answers only the whole picture at the sizes it lists in info.json. Originals are linked from each
canvas as a download (`rendering`), never tiled. Labels carry English and Traditional Chinese together, as
IIIF language maps allow, so any viewer shows the reader's language.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from PIL import Image

from collections_app.models import Item, Version
from collections_app.streaming import original_download
from dedup.models import Cluster, Fingerprint
from dedup.services import version_preview_ensure

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
PRESENTATION_TYPE = f'application/ld+json;profile="{PRESENTATION_CONTEXT}"'
IMAGE_TYPE = f'application/ld+json;profile="{IMAGE_CONTEXT}"'
# IIIF language maps take BCP 47 tags; the interface's own language codes map to these.
LANGUAGES = (("en", "en"), ("zh-hant", "zh-Hant"))

# A function that turns a path into an absolute URL (request.build_absolute_uri in views).
Absolute = Callable[[str], str]


def language_map(text, **params) -> dict[str, list[str]]:
    """A translatable text (formatted with `params`) in every interface language, as a IIIF language map."""
    result = {}
    for code, tag in LANGUAGES:
        with translation.override(code):
            result[tag] = [str(text) % params if params else str(text)]
    return result


def _plain(value: str) -> dict[str, list[str]]:
    return {"none": [value]}


def _pair(label, value) -> dict:
    """A metadata entry; a plain string value is the same in every language, a translatable one is not."""
    return {"label": language_map(label), "value": _plain(value) if isinstance(value, str) else language_map(value)}


@dataclass(frozen=True)
class Picture:
    """A version's stored thumbnails and their pixel sizes, read from the files' headers."""

    version: Version
    preview: tuple[int, int]
    small: tuple[int, int] | None


def _size(name: str) -> tuple[int, int] | None:
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
            return image.size
    except (FileNotFoundError, OSError):
        return None


def picture(version: Version) -> Picture | None:
    """None when the version has no thumbnail yet (waiting, failed) or the file is gone."""
    fingerprint = Fingerprint.objects.filter(version=version).only("thumb_small", "thumb_preview").first()
    if fingerprint is None:
        return None
    preview = _size(fingerprint.thumb_preview or version_preview_ensure(version_id=version.pk))
    if preview is None:
        return None
    return Picture(version, preview, _size(fingerprint.thumb_small))


def image_service_id(version: Version, absolute: Absolute) -> str:
    return absolute(reverse("iiif-image-base", args=[version.pk]))


def image_info(*, pic: Picture, absolute: Absolute) -> dict:
    """info.json of the level-0 service: the whole picture at the stored thumbnail sizes only."""
    width, height = pic.preview
    sizes = [{"width": w, "height": h} for w, h in sorted({s for s in (pic.small, pic.preview) if s})]
    return {
        "@context": IMAGE_CONTEXT,
        "id": image_service_id(pic.version, absolute),
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": sizes,
    }


def thumbnail_name(*, version: Version, size: tuple[int, int] | None) -> str | None:
    """The stored file answering a level-0 request for the whole picture at `size` (None: max)."""
    pic = picture(version)  # first: it makes a preview fingerprinting left out
    fingerprint = Fingerprint.objects.filter(version=version).first()
    if fingerprint is None or pic is None:
        return None
    if size is None or size == pic.preview:
        return fingerprint.thumb_preview
    if size == pic.small:
        return fingerprint.thumb_small
    return None


def _canvas(pic: Picture, *, absolute: Absolute, authoritative: bool, manifest_id: str) -> dict:
    version = pic.version
    canvas_id = f"{manifest_id.rsplit('/', 1)[0]}/canvas/{version.pk}"
    width, height = pic.preview
    service = image_service_id(version, absolute)
    body = {
        "id": f"{service}/full/max/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": width,
        "height": height,
        "service": [{"id": service, "type": "ImageService3", "profile": "level0"}],
    }
    name = version.original_path or version.original_filename
    content_type, _download = original_download(version)
    canvas = {
        "id": canvas_id,
        "type": "Canvas",
        "label": language_map(_("%(name)s (authoritative)"), name=name) if authoritative else _plain(name),
        "width": width,
        "height": height,
        "metadata": [
            _pair(_("Version"), str(version.pk)),
            _pair(_("Source"), version.source.name),
            _pair(_("Uploaded"), date_format(localtime(version.uploaded_at), "Y-m-d H:i")),
            _pair(_("Pixel size"), f"{version.width} × {version.height}" if version.width else "-"),
            _pair(_("SHA-256"), version.sha256),
        ],
        "items": [
            {
                "id": f"{canvas_id}/page",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{canvas_id}/page/image",
                        "type": "Annotation",
                        "motivation": "painting",
                        "body": body,
                        "target": canvas_id,
                    }
                ],
            }
        ],
        "rendering": [
            {
                "id": absolute(reverse("version-file", args=[version.pk])),
                "type": "Image",
                "label": language_map(_("Original file")),
                "format": content_type,
            }
        ],
    }
    if pic.small:
        canvas["thumbnail"] = [
            {
                "id": f"{service}/full/{pic.small[0]},{pic.small[1]}/0/default.jpg",
                "type": "Image",
                "format": "image/jpeg",
                "width": pic.small[0],
                "height": pic.small[1],
            }
        ]
    return canvas


def _canvases(versions: Iterable[Version], first: int | None, *, absolute: Absolute, manifest_id: str) -> list:
    ordered = sorted(versions, key=lambda v: (v.pk != first, v.uploaded_at, v.pk))
    pictures = [(v, picture(v)) for v in ordered]
    return [
        _canvas(pic, absolute=absolute, authoritative=v.pk == first, manifest_id=manifest_id)
        for v, pic in pictures
        if pic is not None
    ]


def _item_label(item: Item) -> dict[str, list[str]]:
    label = {}
    if item.title:
        label["en"] = [item.title]
    if item.title_zh:
        label["zh-Hant"] = [item.title_zh]
    return label or _plain(item.identifier)


def item_manifest(*, item: Item, absolute: Absolute) -> dict:
    """The item's versions as canvases, the authoritative one first."""
    manifest_id = absolute(reverse("iiif-item-manifest", args=[item.pk]))
    versions = Version.objects.filter(item=item).select_related("source")
    metadata = [_pair(_("Identifier"), item.identifier)]
    for label, value in ((_("Creator"), item.creator), (_("Date"), item.date), (_("Rights"), item.rights)):
        if value:
            metadata.append(_pair(label, value))
    manifest = {
        "@context": PRESENTATION_CONTEXT,
        "id": manifest_id,
        "type": "Manifest",
        "label": _item_label(item),
        "metadata": metadata,
        "homepage": [
            {
                "id": absolute(item.get_absolute_url()),
                "type": "Text",
                "label": language_map(_("Item record")),
                "format": "text/html",
            }
        ],
        "items": _canvases(versions, item.authoritative_version_id, absolute=absolute, manifest_id=manifest_id),
    }
    if item.description:
        manifest["summary"] = _plain(item.description)
    return manifest


def cluster_manifest(*, cluster: Cluster, absolute: Absolute) -> dict:
    """A cluster's members side by side; an authoritative version among them comes first."""
    manifest_id = absolute(reverse("iiif-cluster-manifest", args=[cluster.pk]))
    versions = [m.version for m in cluster.members.select_related("version__source", "version__item")]
    chosen = {v.item.authoritative_version_id for v in versions} & {v.pk for v in versions}
    first = min(chosen) if chosen else None
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": manifest_id,
        "type": "Manifest",
        "label": language_map(_("Cluster %(id)d"), id=cluster.pk),
        "metadata": [_pair(_("Status"), Cluster.Status(cluster.status).label)],
        "behavior": ["individuals"],
        "items": _canvases(versions, first, absolute=absolute, manifest_id=manifest_id),
    }
