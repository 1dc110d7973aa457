"""The admission ticket's Chinese font, embedded in the PDF (N13): Debian's Noto Sans CJK SC
(fonts-noto-cjk), cut down to the characters of one ticket.

The Noto CJK collection has PostScript (CFF) outlines, which reportlab cannot embed; fontTools
subsets it to the ticket's characters and redraws those glyphs as TrueType quadratics, which it can.
Subsetting first keeps the conversion to a few dozen glyphs instead of 65 000."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont, newTable

from cet_shared.problems import Problem

NOTO_CJK = Path(os.environ.get("ENROLMENT_TICKET_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
SIMPLIFIED_CHINESE = 2  # the collection's faces: JP, KR, SC, TC, HK, then the Mono ones
MAX_CURVE_ERROR = 1.0  # font units (of 1000 per em): invisible at any print size


def truetype_subset(text: str) -> bytes:
    """A TrueType font with exactly the glyphs `text` needs (and .notdef)."""
    if not NOTO_CJK.is_file():
        # A host without fonts-noto-cjk: say so to the operator, and to the candidate "try later".
        logging.getLogger(__name__).error("ticket font %s missing: apt-get install fonts-noto-cjk", NOTO_CJK)
        raise Problem(503, "ticket_unavailable", "准考证暂时无法生成，请稍后再试")
    font = TTFont(str(NOTO_CJK), fontNumber=SIMPLIFIED_CHINESE)
    options = Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    # Left-to-right horizontal text needs no layout tables; not reading them halves the time.
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "vhea", "vmtx", "VORG"]
    subsetter = Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    _cff_to_glyf(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _cff_to_glyf(font: TTFont) -> None:
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True))  # CFF winds the other way
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
