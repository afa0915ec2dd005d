"""Display: frame render time per panel and language (measured), luma's encoding of the
frame for the chip (measured, on a no-op bus), and the bus time of one frame (computed
from the bus speed and frame size, assumptions stated in the output).

Run: .venv/bin/python -m bench.bench_display
"""

from __future__ import annotations

import time

from bench.common import machine, median, pct
from display.samples import SCREENS
from display.screens import render
from display.typeset import forget_measurements

ROUNDS = 15
# (label, luma class, width, height, mode, bus label, bus bits per second, bits per byte,
#  frame bytes): I2C moves 9 bits per byte (8 + ACK); SPI moves 8.
PANELS = [
    ("SSD1306 128x64", "ssd1306", 128, 64, "1", "I2C 400 kHz", 400_000, 9),
    ("SSD1306 128x64", "ssd1306", 128, 64, "1", "I2C 1 MHz", 1_000_000, 9),
    ("SSD1306 128x64", "ssd1306", 128, 64, "1", "SPI 8 MHz", 8_000_000, 8),
    ("SSD1306 128x32", "ssd1306", 128, 32, "1", "I2C 400 kHz", 400_000, 9),
    ("SH1106 128x64", "sh1106", 128, 64, "1", "I2C 400 kHz", 400_000, 9),
    ("SSD1351 128x128 colour", "ssd1351", 128, 128, "RGB", "SPI 8 MHz", 8_000_000, 8),
    ("SSD1351 128x128 colour", "ssd1351", 128, 128, "RGB", "SPI 16 MHz", 16_000_000, 8),
]


def frame_bytes(kind: str, width: int, height: int) -> int:
    """Payload of one full frame plus the addressing commands luma sends with it."""
    if kind == "ssd1351":
        return width * height * 2 + 7  # RGB565, column/row window + write-RAM commands
    if kind == "sh1106":
        return width * height // 8 + 3 * (height // 8)  # page, column low/high per page
    return width * height // 8 + 6  # column and page address window


def bus_ms(nbytes: int, bits_per_s: int, bits_per_byte: int) -> float:
    # +2 bytes per I2C transaction (address, control byte); smbus2's i2c_rdwr sends the
    # frame in one 4 KiB transaction, so per-block overhead is negligible.
    overhead = 2 * bits_per_byte if bits_per_byte == 9 else 0
    return (nbytes * bits_per_byte + overhead) / bits_per_s * 1000


def render_ms(width: int, height: int, mode: str, lang: str, new_text: bool = False
              ) -> list[float]:
    """ms per frame; ``new_text``: each frame's strings measured afresh (a name never shown)."""
    samples = []
    for _ in range(ROUNDS):
        for view in SCREENS.values():
            if new_text:
                forget_measurements()
            t0 = time.perf_counter()
            render(view, (width, height), mode, lang)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def encode_ms(kind: str, width: int, height: int, mode: str) -> list[float]:
    """luma's real driver turning the PIL frame into chip bytes, on a no-op serial bus.
    The colour panel uses a full-frame buffer: the worst case, every pixel changed."""
    from luma.core.framebuffer import full_frame
    from luma.core.interface.serial import noop
    from luma.oled import device as oled

    extra = {"framebuffer": full_frame()} if kind == "ssd1351" else {}
    device = getattr(oled, kind)(noop(), width=width, height=height, **extra)
    frames = [render(view, (width, height), mode) for view in SCREENS.values()]
    samples = []
    for _ in range(ROUNDS):
        for frame in frames:
            t0 = time.perf_counter()
            device.display(frame)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    out = ["## Display: frame render and push time", "",
           "Command: `.venv/bin/python -m bench.bench_display`. Machine: " + machine() + ".", "",
           f"Render: `display.screens.render` of each of the {len(SCREENS)} sample screens,"
           f" {ROUNDS} rounds (PIL + raqm shaping; English, and Hindi for the shaped script)."
           " Encode: luma.oled's own driver turning that frame into the chip's bytes, on"
           " luma's no-op serial interface. Bus: computed, not measured (no panel here):"
           " full frame bytes x bits per byte / bus clock; I2C counts 9 bits a byte (ACK) and"
           " one transaction per frame (smbus2 i2c_rdwr), SPI 8 bits a byte with no gaps."
           " The SSD1351 normally sends only the changed box (luma's diff_to_previous);"
           " the figure is the full-frame worst case.", "",
           "Render with new text: the same frames with the text measurement caches emptied"
           " before each (display/typeset.py keeps each string's FreeType measurements), as"
           " for a name the kiosk has never drawn, and as every frame was before those caches.",
           "",
           "| panel | bus | render p50 ms en / hi | render p99 ms | render with new text p50 ms"
           " en / hi | encode p50 ms | bytes/frame | bus ms (computed) | frames/s bound |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    cache: dict = {}
    for label, kind, w, h, mode, bus, bps, bpb in PANELS:
        key = (kind, w, h, mode)
        if key not in cache:
            en, hi = render_ms(w, h, mode, "en"), render_ms(w, h, mode, "hi")
            new = render_ms(w, h, mode, "en", True), render_ms(w, h, mode, "hi", True)
            cache[key] = (en, hi, new, encode_ms(kind, w, h, mode))
        en, hi, new, enc = cache[key]
        nbytes = frame_bytes(kind, w, h)
        push = bus_ms(nbytes, bps, bpb)
        total = median(en) + median(enc) + push
        out.append(f"| {label} | {bus} | {median(en):.2f} / {median(hi):.2f} |"
                   f" {pct(en + hi, 99):.2f} | {median(new[0]):.2f} / {median(new[1]):.2f} |"
                   f" {median(enc):.2f} | {nbytes} | {push:.1f} |"
                   f" {1000 / total:.0f} |")
    out += ["", "The bus dominates on I2C: at the Pi's default 100 kHz an SSD1306 frame takes"
            " four times the 400 kHz figure (set `dtparam=i2c_arm_baudrate=400000`). A Pi Zero 2 W"
            " is roughly ten times slower than this machine: about 10-20 ms to render a frame there"
            " (twice that for text it has not drawn before), the same order as the bus time, so a"
            " screen change shows within a few tens of ms."]
    print("\n".join(out))


if __name__ == "__main__":
    main()
