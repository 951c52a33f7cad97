"""Camera scanning (issue 10): headless Chromium with a fake camera that films a rendered RMA
label; the vendored ZXing decodes it and the code lands in the scan field as a scan."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, browser_login, watch
from tests.browser.test_stations import announced
from warehouse.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.commits]

WIDTH, HEIGHT, FRAMES = 640, 480, 10


def y4m_of_barcode(code: str) -> bytes:
    """A few frames of video (YUV4MPEG2, 4:2:0) showing `code` as Code128 on white."""
    import barcode
    from barcode.writer import ImageWriter
    from PIL import Image

    picture = io.BytesIO()
    barcode.get("code128", code, writer=ImageWriter()).write(
        picture, {"module_width": 0.35, "module_height": 12, "quiet_zone": 6, "write_text": False}
    )
    symbol = Image.open(picture).convert("L")
    symbol.thumbnail((WIDTH - 40, HEIGHT - 40))
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(symbol, ((WIDTH - symbol.width) // 2, (HEIGHT - symbol.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    return header + b"".join(b"FRAME\n" + planes for _ in range(FRAMES))


@pytest.fixture
def camera_page(live_server, tmp_path):
    """A page in a Chromium of its own whose camera films `camera.y4m` (written by the test)."""
    from playwright.sync_api import sync_playwright

    video = tmp_path / "camera.y4m"
    video.write_bytes(b"")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = chromium.new_context(
            viewport={"width": 1280, "height": 800}, base_url=live_server, permissions=["camera"]
        )
        page = context.new_page()
        errors = watch(page)
        page.set_default_timeout(15_000)
        yield page, video
        context.close()
        chromium.close()
        assert errors == [], f"JavaScript errors or policy violations on the page: {errors}"


def test_a_label_held_to_the_camera_lands_in_the_scan_field(camera_page, output_dir):
    page, video = camera_page
    rma = announced(1)
    video.write_bytes(y4m_of_barcode(rma.rma))
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    page.locator("[data-camera]").click()
    expect(page.locator("#camera-dialog")).to_have_attribute("open", "")
    page.wait_for_function(
        f"() => document.body.dataset.lastCamera === {rma.rma!r}", timeout=20_000
    )
    expect(page.locator(f"section.parcel[data-rma='{rma.rma}']")).to_be_visible()
    expect(page.locator("#camera-dialog")).not_to_have_attribute("open", "")
    page.screenshot(path=str(output_dir / "opened-by-camera.png"))
