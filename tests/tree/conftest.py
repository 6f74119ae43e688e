"""Fixtures for the 2025 tree's tests: logging in as a demo official."""
from __future__ import annotations

import re

import pytest

from survey_app.services.data.demo import DEMO_PASSWORD

CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def do_login(client, username: str, password: str = DEMO_PASSWORD):
    with client.get("/login") as page:
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


@pytest.fixture
def login():
    """``login(client, username)``: log in as a demo official (demo password)."""
    return do_login
