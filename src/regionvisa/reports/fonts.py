"""The Korean font every report uses: NanumGothic, shipped inside the koreanize-matplotlib wheel.

No Korean font is installed on the servers (see ENVIRONMENT.md), so the PDF and the charts
load the font files directly instead of trusting fontconfig. The package is located without
importing it, because importing koreanize_matplotlib rewrites matplotlib's global rcParams.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

FAMILY = "NanumGothic"
# Fallbacks for browsers that cannot read a file:// font (the web page): common Korean system fonts.
CSS_STACK = f'"{FAMILY}", "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", "Noto Sans CJK KR", sans-serif'


class FontMissingError(RuntimeError):
    """The koreanize-matplotlib package (a declared dependency) is not installed."""


@lru_cache
def font_dir() -> Path:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissingError("koreanize-matplotlib is not installed; it ships the NanumGothic font reports need")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def font_path(bold: bool = False) -> Path:
    """NanumGothic.ttf or NanumGothicBold.ttf."""
    path = font_dir() / ("NanumGothicBold.ttf" if bold else "NanumGothic.ttf")
    if not path.is_file():
        raise FontMissingError(f"font file not found: {path}")
    return path


def font_face_css() -> str:
    """@font-face rules with file:// URLs, so WeasyPrint renders Korean without a system font."""
    return "\n".join(
        f'@font-face {{ font-family: "{FAMILY}"; font-weight: {weight}; src: url("{font_path(bold).as_uri()}"); }}'
        for weight, bold in (("normal", False), ("bold", True))
    )
