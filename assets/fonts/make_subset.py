#!/usr/bin/env python3
"""Regenerates assets/fonts/NotoSansSC-subset.otf.

Source: Noto Sans CJK SC (face 2 of NotoSansCJK-Regular.ttc from Debian's
fonts-noto-cjk), SIL Open Font License 1.1. Keeps ASCII, CJK punctuation,
the 3,755 GB2312 level-1 characters (the everyday set) and every character
used in src/ and scenes/. Needs `pip install fonttools`.

    python3 assets/fonts/make_subset.py
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = ROOT / "assets/fonts/NotoSansSC-subset.otf"

chars = set(chr(c) for c in range(0x20, 0x7F))
chars |= set("，。、；：？！“”‘’（）《》【】—…·￥％＋－×÷→←↑↓●○■□★☆℃°№")
for hi in range(0xB0, 0xD8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for pattern in ("src/**/*.rs", "scenes/*.ron"):
    for path in ROOT.glob(pattern):
        chars |= set(path.read_text(encoding="utf-8"))
chars = sorted(c for c in chars if c.isprintable())
text_file = ROOT / "target/font-subset-chars.txt"
text_file.parent.mkdir(exist_ok=True)
text_file.write_text("".join(chars), encoding="utf-8")
subprocess.run(
    [
        sys.executable, "-m", "fontTools.subset", TTC, "--font-number=2",
        f"--text-file={text_file}", f"--output-file={OUT}",
        "--layout-features=*", "--no-hinting", "--desubroutinize",
    ],
    check=True,
)
print(f"{OUT}: {len(chars)} characters, {OUT.stat().st_size} bytes")
