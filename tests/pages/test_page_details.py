"""Small promises of the pages: the icon, /metrics' content type, what the privacy notice and
the demo page show."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_favicon_is_served(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_metrics_names_its_charset_once(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].count("charset") == 1


def test_the_privacy_notice_shows_no_operator_command_and_has_a_main(
        client: FlaskClient) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    assert "portal-widgets" not in html.split("<body>", 1)[1]
    assert "--purge" not in html and "<code>" not in html
    assert html.count("<main>") == 1


def test_the_demo_page_looks_like_the_seed_portal(client: FlaskClient) -> None:
    html = client.get("/demo").get_data(as_text=True)
    assert "QUẬN THANH XUÂN" in html
    assert '<div data-pw-widget="rating"></div>' in html
    assert html.index('data-pw-widget="views"') < html.index('data-pw-widget="rating"')
    for widget in ("counter", "hotlines", "poll"):
        assert f'data-pw-widget="{widget}"' in html
