"""The complaint form embedded in a page of another site (another origin, so the frame is
third-party and gets no cookies), filled in and submitted inside the frame."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from typing import Any

import pytest

from leitplanke.accounts import services
from leitplanke.cases.models import Case
from leitplanke.intake import public

pytestmark = pytest.mark.browser
HOST_PORT = 8107  # helper 7's port; the embedding site
ARTIFACTS = Path("test-artifacts")


def serve_host_page(html: str) -> tuple[http.server.HTTPServer, str]:
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", HOST_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{HOST_PORT}/"


def test_the_form_embedded_in_another_site_is_submitted(browser, live_server, monkeypatch):
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    services.organisation_update(
        actor=None, public_name="Stadtwerke Rheinfeld", form_frame_ancestors=f"http://127.0.0.1:{HOST_PORT}"
    )
    assert live_server.url.startswith("http://localhost:")  # another site than 127.0.0.1
    html = (
        "<!doctype html><html lang='de'><head><meta charset='utf-8'><title>Stadtwerke Rheinfeld – Kontakt</title></head>"
        "<body><h1>Kontakt</h1>"
        f"<iframe id='complaint' src='{live_server.url}/complaint/embed/?lang=de' title='Beschwerde' "
        "style='width:100%;height:1400px;border:0'></iframe></body></html>"
    )
    server, host_url = serve_host_page(html)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(host_url)
        frame = page.frame_locator("#complaint")
        frame.locator("#id_subject").fill("Falscher Abschlag")
        frame.locator("#id_case_type").select_option(label="Beschwerde")
        frame.locator("#id_description").fill("Mein Abschlag wurde ohne Ankündigung verdoppelt.")
        frame.locator("#id_last_name").fill("Mustermann")
        frame.locator("#id_email").fill("erika@example.de")
        frame.locator("#id_consent").check()
        frame.locator("form.public-form button[type=submit]").click()
        reference = frame.get_by_test_id("reference").inner_text()
        assert Case.objects.filter(reference=reference).exists()
        assert page.url == host_url  # the customer stayed on the organisation's site
        # The frame got no cookie: nothing was needed.
        inner = next(f for f in page.frames if "/complaint/embed/thanks/" in f.url)
        assert inner.evaluate("document.cookie") == ""
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "public-embed-thanks-de-1280.png"), full_page=True)
        # The standalone form may not be framed by that site.
        page.set_content(f"<iframe id='plain' src='{live_server.url}/complaint/'></iframe>")
        page.wait_for_timeout(500)
        plain = next((f for f in page.frames if f.url.startswith(f"{live_server.url}/complaint/")), None)
        assert plain is None or plain.locator("form.public-form").count() == 0
    finally:
        context.close()
        server.shutdown()
        server.server_close()
