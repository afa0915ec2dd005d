"""QR camera input: zxing-cpp decode time per frame at 640x480 and 1280x720, Ed25519 verify time,
and the CPU share of the camera reader (grab + decode + verify) at the configured frame rate.

Run: .venv/bin/python -m bench.bench_qr
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2

from bench.common import machine, median, pct
from codes import member_qr as qrcodes
from drivers.qr_camera import CameraQrReader
from drivers.qr_decode import decode
from tests.qr_images import frame, qr_image

N_FRAMES = 60
RUN_S = 8.0
SIZES = [(640, 480), (1280, 720)]


def time_decode(f, invert: bool = False, n: int = N_FRAMES) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        decode(f, invert=invert)
        out.append((time.perf_counter() - t) * 1000)
    return out


def decode_rows(code: str) -> list[str]:
    rows = []
    for size in SIZES:
        cases = [("no code", frame([], size, noise=8)),
                 ("one code, clean", frame([(qr_image(code, 4), (100, 60))], size)),
                 ("one code, blur + noise + low contrast",
                  frame([(qr_image(code, 4), (100, 60))], size, blur=1.5, noise=10, contrast=0.5)),
                 ("two codes", frame([(qr_image(code, 3), (20, 20)),
                                      (qr_image(code[::-1], 3), (330, 170))], size))]
        for label, f in cases:
            found = len(decode(f))
            for invert in (False, True):
                ms = time_decode(f, invert)
                rows.append(f"| {size[0]}x{size[1]} | {label} | {'yes' if invert else 'no'} | "
                            f"{found} | {median(ms):.2f} | {pct(ms, 95):.2f} |")
    return rows


def verify_us(code: str, n: int = 2000) -> float:
    v = qrcodes.Verifier([qrcodes.DEMO_PUBLIC_KEY], qrcodes.DEMO_PROGRAM, cards=True)
    t = time.perf_counter()
    for _ in range(n):
        v.verify(code, time.time())
    return (time.perf_counter() - t) / n * 1e6


def cpu_share(workdir: Path, size: tuple[int, int], fps: float, paused: bool = False) -> float:
    """Process CPU seconds per wall second while only the camera reader runs (1.0 = one core)."""
    code = qr_image(qrcodes.card_code(qrcodes.demo_key(), "loyalty", "ada"), 4)
    path = workdir / f"clip-{size[0]}.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for i in range(int(RUN_S * fps) + 10):
        g = frame([(code, (60 + i, 40))] if i % 8 < 4 else [], size, noise=6, seed=i)
        out.write(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR))
    out.release()
    section = {"device": str(path), "resolution": f"{size[0]}x{size[1]}", "fps": fps,
               "keys": [qrcodes.DEMO_PUBLIC_KEY], "program": "loyalty"}
    reader = CameraQrReader(section)
    if paused:
        reader.pause()
    reader.start(lambda ev: None)
    time.sleep(0.5)  # opening the clip is not part of the steady state
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(RUN_S)
    c1, w1 = time.process_time(), time.perf_counter()
    reader.stop()
    return (c1 - c0) / (w1 - w0)


def main() -> None:
    code = qrcodes.demo_code("ada")
    print("## QR camera input: decode time and CPU share\n")
    print("`.venv/bin/python -m bench.bench_qr` on " + machine() + ".\n")
    print("zxing-cpp `read_barcodes` on grey synthetic frames (QR only, rotation and downscale"
          f" on); {N_FRAMES} decodes per row; 'invert' also looks for light-on-dark codes.\n")
    print("| frame | content | invert | codes found | median ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    print("\n".join(decode_rows(code)))
    print(f"\nEd25519 verification of one code (parse + signature + window): "
          f"{verify_us(qrcodes.card_code(qrcodes.demo_key(), 'loyalty', 'ada')):.0f} µs.\n")
    print("CPU share of the camera reader (OpenCV reading an MJPEG clip + zxing-cpp + the gate),"
          f" process CPU time over {RUN_S:.0f} s of wall time; 100% = one core:\n")
    print("| frame | fps | running | paused |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            for fps in (4, 10):
                run = cpu_share(Path(tmp), size, fps)
                idle = cpu_share(Path(tmp), size, fps, paused=True)
                print(f"| {size[0]}x{size[1]} | {fps} | {run * 100:.1f}% | {idle * 100:.2f}% |")
    print("\nOn a Pi Zero 2 W (about ten times slower per core) expect roughly ten times these"
          " figures: the default 4 fps at 640x480 stays a small share of one of its four cores."
          " A real camera adds its own capture cost (picamera2's ISP work is off the CPU;"
          " a USB camera's MJPEG decode is not).\n")


if __name__ == "__main__":
    main()
