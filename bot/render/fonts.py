"""The one CJK font every file we draw or print uses, from the noto-cjk-sans-otc package.

Noto Sans CJK SC (SIL Open Font License 1.1) comes inside a Python package, so Chinese renders
on a machine with no fonts installed, and no system font is ever looked for.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import noto_cjk_sans_otc
from fontTools.ttLib import TTFont
from PIL import ImageFont

# The faces of NotoSansCJK-Regular.ttc are JP, KR, SC, TC, HK, then the monospaced ones: SC has
# the simplified forms (for example 们 and 说) that Chinese readers expect.
FACE_SC = 2


@cache
def font_path() -> Path:
    """The font collection file."""
    return Path(str(noto_cjk_sans_otc.FONT_PATH))


@cache
def covered() -> frozenset[int]:
    """The code points the font draws."""
    with TTFont(str(font_path()), fontNumber=FACE_SC, lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(text: str) -> str:
    """``text`` without what the font cannot draw (emoji, mostly), so nothing shows as a box."""
    have = covered()
    return "".join(
        ch for ch in text if ord(ch) in have or ch in "\n\t" or unicodedata.category(ch) == "Zs"
    )


def missing(text: str) -> set[str]:
    """The characters of ``text`` the font lacks (whitespace aside)."""
    have = covered()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in have}


@cache
def pil_font(size: int) -> ImageFont.FreeTypeFont:
    """The font at ``size`` pixels, for drawing with Pillow."""
    return ImageFont.truetype(str(font_path()), size, index=FACE_SC)
