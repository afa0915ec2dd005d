"""QR decoding of camera frames with zxing-cpp.

``decode(frame)`` takes a numpy array (grey, BGR or BGRX, as picamera2 and
OpenCV give them) or a PIL image and returns the contents of every QR code in
it: ``str`` when the code holds text, ``bytes`` when it holds binary data (the
gate refuses those with a reason rather than guessing an encoding).
"""

from __future__ import annotations

from typing import Any


def _zxing():
    import zxingcpp  # lazily: the kiosk core never needs it

    return zxingcpp


def _as_image(frame: Any) -> Any:
    """zxing-cpp reads grey or 3-channel arrays; a 4-channel XRGB frame loses its padding."""
    shape = getattr(frame, "shape", None)
    if shape is not None and len(shape) == 3 and shape[2] == 4:
        return frame[:, :, :3]
    if shape is not None and (len(shape) not in (2, 3) or 0 in shape):
        raise ValueError(f"frame of shape {tuple(shape)} is not an image")
    return frame


def decode(frame: Any, invert: bool = False) -> list[str | bytes]:
    """Contents of the QR codes in ``frame``, in the order zxing-cpp found them.

    ``invert`` also looks for light-on-dark codes (phones in dark mode), at
    about twice the cost.
    """
    z = _zxing()
    found = z.read_barcodes(_as_image(frame), formats=z.BarcodeFormat.QRCode,
                            try_rotate=True, try_downscale=True, try_invert=invert)
    return [b.text if b.content_type == z.ContentType.Text else bytes(b.bytes)
            for b in found if b.valid]
