"""zxing-cpp, the reference barcode library, on the photos `cargo bench --bench qr_reading`
saved (EKYC_BENCH_SAVE), with the same table's columns, for benches/qr-compare.

    python qr_compare.py FOLDER
"""
import sys
import time
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

folder = Path(sys.argv[1])
counts = {}


def add(column, read):
    found, whole = counts.get(column, (0, 0))
    counts[column] = (found + read, whole + 1)


times = []
for line in (folder / "labels.txt").read_text().splitlines():
    name, card_id, *conditions = line.split()
    values = dict(item.split("=") for item in conditions)
    pixels = np.asarray(Image.open(folder / name).convert("RGB"))
    started = time.perf_counter()
    results = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    times.append((time.perf_counter() - started) * 1000)
    read = any(result.text.split("|")[0] == card_id for result in results)
    add("all", read)
    add(("size", values["size_band"]), read)
    add(("blur", values["blur_band"]), read)
    add(("light", values["light_band"]), read)
    if "--list" in sys.argv:
        print(name, "zxing", int(read), "ours", values["read"], file=sys.stderr)


def cell(column):
    found, whole = counts.get(column, (0, 0))
    return "–" if whole == 0 else f"{found}/{whole}"


columns = ["all"] + [(kind, band) for kind, bands in (("size", "012"), ("blur", "01"), ("light", "01")) for band in bands]
times.sort()
print("| zxing-cpp (reference) | " + " | ".join(cell(c) for c in columns) + f" | {times[len(times) // 2]:.0f} ms |")
