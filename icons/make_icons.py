"""Draws Slipway's icon (a hull on a slipway ramp) as one 1024 px RGBA PNG, app-icon.png, with
no imaging library. Every platform's icon (.ico, .icns, the PNG sizes) is made from it by
`make icons` (the Tauri CLI's `tauri icon`)."""
import math, struct, zlib, pathlib

def png(size):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size
            # rounded square
            r = 0.18
            dx, dy = max(abs(u - 0.5) - (0.5 - r), 0), max(abs(v - 0.5) - (0.5 - r), 0)
            inside = math.hypot(dx, dy) <= r
            if not inside:
                row += bytes([0, 0, 0, 0]); continue
            t = v
            bg = (int(14 + 20 * t), int(58 + 40 * t), int(110 + 60 * t))
            col = bg
            # ramp: a diagonal band from bottom-left to right
            ramp = v - (0.78 - 0.18 * u)
            if 0 <= ramp <= 0.07:
                col = (240, 190, 80)
            # hull: a half-ellipse sitting on the ramp
            hx, hy = (u - 0.52) / 0.28, (v - 0.50) / 0.16
            if hx * hx + hy * hy <= 1 and v >= 0.50 and ramp < 0:
                col = (245, 248, 252)
            # mast and sail
            if 0.50 <= u <= 0.53 and 0.20 <= v <= 0.50:
                col = (245, 248, 252)
            if 0.54 <= u <= 0.74 and 0.22 <= v <= 0.46 and (u - 0.54) <= (0.46 - v) * 0.85:
                col = (120, 200, 255)
            row += bytes([*col, 255])
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

here = pathlib.Path(__file__).parent
(here / "app-icon.png").write_bytes(png(1024))
