"""Shared set-up: the simulator `cargo xtask bindings --test` started (PIMS_SIM_URL,
PIMS_SIM_ADMIN_TOKEN), the fixtures (PIMS_FIXTURES) and a scratch directory (PIMS_TMP)."""

import itertools
import json
import os
import pathlib
import queue
import urllib.request

import pytest

import pims

SIM_URL = os.environ["PIMS_SIM_URL"]
ADMIN_TOKEN = os.environ["PIMS_SIM_ADMIN_TOKEN"]
FIXTURES = pathlib.Path(os.environ["PIMS_FIXTURES"])
TMP = pathlib.Path(os.environ["PIMS_TMP"])
PHONE = "+33612345678"
VIN = "VR1AB12C3D4567890"
_dirs = itertools.count()


def new_facade() -> pims.Pims:
    """An initialised facade with a cache directory (so a device) of its own."""
    p = pims.Pims()
    init = p.initialize(
        {
            "environnement": SIM_URL,
            "credential": "demo-token",
            "profile": {"account": "demo", "cacheDirectory": str(TMP / f"python-cache-{next(_dirs)}")},
        }
    )
    assert init["status"] == "SUCCEEDED", init
    return p


@pytest.fixture
def facade():
    p = new_facade()
    yield p
    p.release()


def call(verb, api, params):
    """A verb call, waiting for its one callback."""
    answers = queue.Queue()
    verb(api, params, answers.put)
    return answers.get(timeout=60)


def without_tid(message):
    return {k: v for k, v in message.items() if k != "transactionId"}


def fixture_answer(name):
    return without_tid(pims.parse_json((FIXTURES / name).read_text())["answer"])


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        SIM_URL + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def enroll(p: pims.Pims):
    """Enrols the facade's device with the demo account (the SMS read from the simulator)."""
    sms = call(p.get, "pims.authentication.smscode", {"type": "enrollment"})
    assert sms["status"] == "SUCCEEDED", sms
    code = admin("GET", "/admin/sms?phoneNumber=%2B33612345678")["messages"][0]["code"]
    enrolled = call(p.set, "pims.authentication.enrollment", {"action": "enroll", "pinCode": "1234", "smsCode": code})
    assert enrolled["status"] == "SUCCEEDED", enrolled


def error(message):
    assert message["status"] == "FAILED", message
    return (message["error"]["code"], message["error"]["label"])
