"""`kiosk run` keeps heavy libraries out until a feature that needs them is configured: the Pi Zero
2 W has 512 MB, and cryptography alone adds about 7 MB of resident memory (docs/benchmarks.md)."""

import subprocess
import sys

CHECK = """
import sys
from kiosk.commands.run import _run  # noqa: F401  (the daemon's entry)
import kiosk.app, kiosk.remote_config, kiosk.session  # noqa: E401,F401
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'cryptography', 'nfc', 'smartcard',
                                                        'cv2', 'zxingcpp', 'psycopg', 'yoyo'})
print(','.join(heavy))
"""


def test_daemon_modules_do_not_load_optional_heavy_libraries():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
