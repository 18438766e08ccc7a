"""Fetch real photographs, artwork and rendered document pages from Debian packages, once, into a cache.

    python -m bench.real_material [DIR]        # default var/bench-material (git-ignored)

Each package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`; the chosen files are copied
(large pictures scaled to at most 2,400 px on the long side) and PDF pages rendered with pypdfium2 into DIR,
with DIR/manifest.json naming every file's package and path. Run `apt-get update` first on a new machine.
bench.dataset reads the manifest; nothing here runs at test time.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "var" / "bench-material"
MAX_SIDE = 2400

# A held-out benchmark is built from these; they must never feed development sets.
FORBIDDEN = frozenset(
    {
        "plasma-workspace-wallpapers",
        "mate-backgrounds",
        "ukui-wallpapers",
        "lomiri-wallpapers",
        "lomiri-wallpapers-16.04",
        "lomiri-wallpapers-20.04",
        "gnome-backgrounds",
        "r-doc-pdf",
        "gnuplot-doc",
        "asymptote-doc",
        "glpk-doc",
        "auto-multiple-choice-doc-pdf",
        "xorg-docs",
        "libtasn1-doc",
        "python3-skimage",
        "python3-skimage-lib",
        "python3-sklearn",
        "python3-matplotlib",
        "python-matplotlib-data",
    }
)

_WP = "usr/share/wordpress/wp-content/themes"
_CV = "usr/share/doc/opencv-doc/examples/data"
_LQ = "usr/share/lxqt/wallpapers"
_DB = "usr/share/desktop-base"

# (package, folder, files, content). Near-identical variants shipped side by side (the same wallpaper at
# several sizes or in several colours, a picture with and without a logo) are left out: two of them in one
# set would be one picture under two group labels.
IMAGES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "palapeli-data",
        "usr/share/palapeli/collection",
        (
            "castle-maintenon.jpg",
            "cincinnati-bridge.jpg",
            "citrus-fruits.jpg",
            "european-honey-bee.jpg",
            "panther-chameleon-female.jpg",
        ),
        "photo",
    ),
    (
        "lxqt-themes",
        _LQ,
        (
            "Butterfly-Kenneth-Wimer.jpg",
            "Valendas.png",
            "after-the-rain.jpg",
            "appleflower.png",
            "beam.png",
            "butterfly.png",
            "cloud.png",
            "drop.png",
            "flowers.png",
            "fog.jpg",
            "this-is-not-windows.jpg",
        ),
        "photo",
    ),
    (
        "lxqt-themes",
        _LQ,
        (
            "kde-plasma.png",
            "origami-dark.png",
            "plasma-logo-bright.png",
            "plasma_arch.png",
            "simple_blue_widescreen.png",
            "triangles.png",
            "waves-logo.png",
        ),
        "artwork",
    ),
    ("xfdesktop4-data", "usr/share/backgrounds/xfce", ("xfce-blue.jpg", "xfce-stripes.png"), "artwork"),
    ("sway-backgrounds", "usr/share/backgrounds/sway", ("Sway_Wallpaper_Blue_1920x1080.png",), "artwork"),
    (
        "desktop-base",
        _DB,
        tuple(
            f"{theme}-theme/grub/grub-16x9.png"
            for theme in (
                "emerald",
                "futureprototype",
                "homeworld",
                "joy",
                "lines",
                "moonlight",
                "softwaves",
                "spacefun",
            )
        ),
        "artwork",
    ),
    ("digikam-data", "usr/share/digikam/about/images", ("body-background.jpg",), "photo"),
    ("xplanet-images", "usr/share/xplanet/images", ("earth.jpg",), "photo"),
    ("kanagram", "usr/share/kanagram/ui/images", ("background.jpg", "chalkboard.png"), "artwork"),
    ("sddm-theme-maldives", "usr/share/sddm/themes/maldives", ("background.jpg",), "photo"),
    ("sddm-theme-elarun", "usr/share/sddm/themes/elarun/images", ("background.png",), "artwork"),
    ("grub-theme-starfield", "usr/share/grub/themes/starfield", ("starfield.png",), "artwork"),
    (
        "wordpress-theme-twentytwentytwo",
        f"{_WP}/twentytwentytwo/assets/images",
        (
            "bird-on-black.jpg",
            "bird-on-gray.jpg",
            "bird-on-salmon.jpg",
            "ducks.jpg",
            "flight-path-on-gray-a.jpg",
            "flight-path-on-gray-b.jpg",
        ),
        "artwork",
    ),
    (
        "wordpress-theme-twentytwentyone",
        f"{_WP}/twentytwentyone/assets/images",
        (
            "Daffodils.jpg",
            "Reading.jpg",
            "in-the-bois-de-boulogne.jpg",
            "playing-in-the-sand.jpg",
            "roses-tremieres-hollyhocks-1884.jpg",
            "self-portrait-1885.jpg",
            "the-garden-at-bougival-1884.jpg",
            "villa-with-orange-trees-nice.jpg",
            "young-woman-in-mauve.jpg",
        ),
        "artwork",
    ),
    ("lxde-common", "usr/share/lxde/wallpapers", ("lxde_blue.jpg",), "artwork"),
    ("fluxbox", "usr/share/images/fluxbox", ("debian-dark.png", "debian-squared.jpg", "fluxbox.png"), "artwork"),
    ("pekwm-themes", "usr/share/pekwm/themes/tango", ("pekwm_tango_widescreen.jpg",), "artwork"),
    ("gimp-data", "usr/share/gimp/2.0/images", ("gimp-splash.png",), "artwork"),
    ("imagemagick-6-doc", "usr/share/doc/imagemagick-6-common/html/images", ("wizard.png",), "artwork"),
    (
        "opencv-doc",
        _CV,
        (
            "apple.jpg",
            "baboon.jpg",
            "board.jpg",
            "box_in_scene.png",
            "building.jpg",
            "butterfly.jpg",
            "ela_original.jpg",
            "fruits.jpg",
            "home.jpg",
            "leuvenA.jpg",
            "licenseplate_motion.jpg",
            "messi5.jpg",
            "orange.jpg",
            "smarties.png",
            "squirrel_cls.jpg",
            "stuff.jpg",
            "sudoku.png",
        ),
        "photo",
    ),
    ("opencv-doc", _CV, ("HappyFish.jpg", "starry_night.jpg"), "artwork"),
)

# Real look-alikes: stereo pairs, successive video frames, one wall from two viewpoints, calibration bursts.
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "aloe": ("opencv-doc", _CV, ("aloeL.jpg", "aloeR.jpg")),
    "books": ("opencv-doc", _CV, ("left.jpg", "right.jpg")),
    "basketball": ("opencv-doc", _CV, ("basketball1.png", "basketball2.png")),
    "rubberwhale": ("opencv-doc", _CV, ("rubberwhale1.png", "rubberwhale2.png")),
    "graffiti": ("opencv-doc", _CV, ("graf1.png", "graf3.png")),
    "aerial": ("opencv-doc", _CV, ("aero1.jpg", "aero3.jpg")),
    "calibration_left": ("opencv-doc", _CV, tuple(f"left{i:02d}.jpg" for i in range(1, 15) if i != 10)),
    "calibration_right": ("opencv-doc", _CV, tuple(f"right{i:02d}.jpg" for i in range(1, 15) if i != 10)),
}

_LY = "usr/share/doc/lilypond/html/Documentation"
# (package, path, pages wanted); pages are taken in runs of four adjacent pages spread through the file.
PDFS: tuple[tuple[str, str, int], ...] = (
    ("python-reportlab-doc", "usr/share/doc/python-reportlab-doc/reportlab-userguide.pdf", 28),
    ("why3-doc-pdf", "usr/share/doc/why3-doc-pdf/manual.pdf", 28),
    ("freefem-doc", "usr/share/doc/freefem-doc/freefem.pdf", 16),
    ("docbook-xsl-doc-pdf", "usr/share/doc/docbook-xsl-doc-pdf/doc/reference.pdf.gz", 20),
    ("siscone-doc-pdf", "usr/share/doc/siscone-doc-pdf/pdf/refman.pdf.gz", 20),
    ("gri-pdf-doc", "usr/share/doc/gri/gri.pdf.gz", 24),
    ("live-manual-pdf", "usr/share/doc/live-manual/pdf/live-manual.portrait.en.a4.pdf.gz", 20),
    ("lilypond-doc-pdf", f"{_LY}/learning.pdf", 24),
    ("lilypond-doc-pdf", f"{_LY}/essay.pdf", 12),
    ("lilypond-doc-pdf", f"{_LY}/music-glossary.pdf", 12),
    ("lilypond-doc-pdf", f"{_LY}/notation.pdf", 20),
    ("lilypond-doc-pdf", f"{_LY}/ly-examples/orchestra.pdf", 2),
    ("lilypond-doc-pdf", f"{_LY}/ly-examples/bach-bwv610.pdf", 2),
    ("lilypond-doc-pdf", f"{_LY}/ly-examples/sesto-full.pdf", 2),
    ("lilypond-doc-pdf", f"{_LY}/ly-examples/cary.pdf", 2),
    ("lilypond-doc-pdf", f"{_LY}/ly-examples/ancient-headword.pdf", 2),
    ("c++-annotations-pdf", "usr/share/doc/c++-annotations/cplusplus.pdf", 24),
)
RUN = 4


@dataclass(frozen=True)
class Item:
    """One real picture in the cache."""

    id: str
    file: str  # relative to the cache folder
    content: str  # photo / artwork / document
    package: str
    path: str  # inside the package
    page: int | None = None  # 1-based, for rendered PDF pages
    family: str | None = None  # real look-alikes shot together
    run: str | None = None  # adjacent pages of one file share a run
    run_index: int | None = None

    @property
    def source(self) -> str:
        where = f"{self.package}:/{self.path}"
        return f"{where}#page={self.page}" if self.page else where


def packages_needed() -> list[str]:
    names = {p for p, *_ in IMAGES} | {p for p, *_ in FAMILIES.values()} | {p for p, *_ in PDFS}
    bad = names & FORBIDDEN
    if bad:
        raise SystemExit(f"refusing forbidden packages: {', '.join(sorted(bad))}")
    return sorted(names)


def _fetch(package: str, debs: Path, extract: Path) -> tuple[Path, str]:
    """Download and unpack one package; return the unpacked folder and the package version."""
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        done = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(
                f"apt-get download {package} failed: {done.stderr.strip()}\n"
                "Run `apt-get update` first (the package lists may be empty or stale)."
            )
        found = sorted(debs.glob(f"{package}_*.deb"))
    deb = found[-1]
    target = extract / package
    if not target.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return target, unquote(deb.name.split("_")[1])


def _load(path: Path) -> Image.Image:
    img = Image.open(path)
    img.load()
    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    return img.convert("L" if img.mode in ("L", "I;16", "I", "1") else "RGB")


def _store(img: Image.Image, src: Path, dest: Path) -> Path:
    """Scale down to MAX_SIDE; keep a JPEG's own bytes when no scaling is needed."""
    scale = MAX_SIDE / max(img.size)
    if src.suffix.lower() in (".jpg", ".jpeg"):
        dest = dest.with_suffix(".jpg")
        if scale >= 1:
            shutil.copyfile(src, dest)
        else:
            img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS).save(dest, quality=95)
        return dest
    dest = dest.with_suffix(".png")
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    img.save(dest, compress_level=6)
    return dest


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")


def _images(out: Path, roots: dict[str, Path]) -> list[Item]:
    items = []
    wanted = [(p, d, f, c, None) for p, d, files, c in IMAGES for f in files]
    wanted += [(p, d, f, "photo", fam) for fam, (p, d, files) in FAMILIES.items() for f in files]
    for package, folder, name, content, family in wanted:
        src = roots[package] / folder / name
        if not src.exists():
            print(f"  missing {package}:/{folder}/{name}, skipped", file=sys.stderr)
            continue
        stem = _slug(f"{package}__{Path(name).with_suffix('').as_posix()}")
        dest = _store(_load(src), src, out / "images" / stem)
        items.append(Item(stem, dest.relative_to(out).as_posix(), content, package, f"{folder}/{name}", family=family))
    return items


def _open_pdf(path: Path):
    import pypdfium2 as pdfium

    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return pdfium.PdfDocument(io.BytesIO(data))


def _run_starts(n_pages: int, wanted: int) -> list[int]:
    if n_pages <= wanted:
        return list(range(0, n_pages, RUN))
    runs = max(1, -(-wanted // RUN))
    return sorted({int(v) for v in np.linspace(0, n_pages - RUN, runs)})


def _pages(out: Path, roots: dict[str, Path]) -> list[Item]:
    items: list[Item] = []
    for number, (package, path, wanted) in enumerate(PDFS):
        src = roots[package] / path
        if not src.exists():
            print(f"  missing {package}:/{path}, skipped", file=sys.stderr)
            continue
        pdf = _open_pdf(src)
        name = _slug(Path(path.removesuffix(".gz")).stem)
        for r, start in enumerate(_run_starts(len(pdf), wanted)):
            dpi = 100 if (number + r) % 2 == 0 else 150
            run = f"{package}:{name}:{start + 1}"
            for k, index in enumerate(range(start, min(start + RUN, len(pdf)))):
                img = pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")
                if _ink(img) < 0.004:
                    continue  # a blank page would be one picture under many labels
                stem = _slug(f"{package}__{name}__p{index + 1:04d}")
                dest = out / "pages" / f"{stem}.png"
                img.save(dest, compress_level=6)
                items.append(
                    Item(stem, dest.relative_to(out).as_posix(), "document", package, path, index + 1, None, run, k)
                )
    return items


def _ink(img: Image.Image) -> float:
    return float((np.asarray(img.convert("L")) < 200).mean())


def _thumb(path: Path, whole: bool) -> np.ndarray:
    """A small normalised grey copy: the whole page for pages, the centre square for pictures."""
    img = Image.open(path).convert("L")
    if whole:
        small = img.resize((96, 128), Image.BOX)
    else:
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        small = img.crop((left, top, left + side, top + side)).resize((24, 24), Image.BOX)
    arr = np.asarray(small, np.float32)
    arr = arr - arr.mean()
    return arr / (np.linalg.norm(arr) + 1e-6)


def drop_near_copies(out: Path, items: list[Item], whole: bool) -> list[Item]:
    """Leave out any picture that looks almost the same as an earlier one (outside its own family)."""
    kept: list[tuple[Item, np.ndarray]] = []
    for item in items:
        t = _thumb(out / item.file, whole)
        twin = next(
            (k for k, tk in kept if float((t * tk).sum()) > 0.985 and not (item.family and item.family == k.family)),
            None,
        )
        if twin is not None:
            print(f"  {item.id} looks like {twin.id}: left out", file=sys.stderr)
            (out / item.file).unlink()
            continue
        kept.append((item, t))
    return [k for k, _ in kept]


def build(out: Path, keep_downloads: bool = False) -> list[Item]:
    for sub in ("images", "pages", "debs", "extract"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    roots, versions = {}, {}
    for package in packages_needed():
        print(f"fetching {package}")
        roots[package], versions[package] = _fetch(package, out / "debs", out / "extract")
    items = _images(out, roots)
    items = drop_near_copies(out, items, whole=False) + drop_near_copies(out, _pages(out, roots), whole=True)
    manifest = {"packages": versions, "items": [asdict(i) for i in items]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(out / "extract")
    if not keep_downloads:
        shutil.rmtree(out / "debs")
    return items


def load_items(folder: str | Path) -> list[Item] | None:
    """The cached items, or None when the cache has not been built."""
    manifest = Path(folder) / "manifest.json"
    if not manifest.exists():
        return None
    return [Item(**i) for i in json.loads(manifest.read_text())["items"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", default=str(DEFAULT_DIR), help="cache folder (default var/bench-material)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a manifest is there")
    parser.add_argument("--keep-downloads", action="store_true", help="keep the .deb files in DIR/debs")
    args = parser.parse_args()
    out = Path(args.dir)
    if (out / "manifest.json").exists() and not args.force:
        print(f"{out}/manifest.json exists; --force rebuilds it")
        return
    items = build(out, args.keep_downloads)
    by = {c: sum(1 for i in items if i.content == c) for c in ("photo", "artwork", "document")}
    fams = sum(1 for i in items if i.family)
    print(f"{len(items)} items in {out}: {by} ({fams} of the photos in {len(FAMILIES)} look-alike families)")


if __name__ == "__main__":
    main()
