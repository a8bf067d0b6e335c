"""The Python bindings against a real pims-sim: the documentation's calls, and the facade's
rules seen from Python (callbacks and asyncio)."""

import asyncio
import re
import threading

import pytest

import pims
from conftest import (
    VIN,
    admin,
    call,
    enroll,
    error,
    fixture_answer,
    new_facade,
    without_tid,
)


def test_documentation_calls_answer_the_fixtures(facade):
    # First: the simulator issues 132324 to the first list asked for.
    cases = [
        ("pims.subscription.steps", {"carAssociationID": "987654", "resetSteps": False, "stepsStatus": "all"},
         "steps-by-car-association.json"),
        ("pims.subscription.steps", {"stepsID": "132324", "resetSteps": False, "stepsStatus": "all"},
         "steps-by-steps-id.json"),
        ("pims.subscription.step", {"stepsID": "132324"}, "next-step.json"),
    ]
    for api, params, name in cases:
        message = call(facade.get, api, params)
        expected = fixture_answer(name)
        assert without_tid(message) == expected, name
        # Keys in the documentation's order.
        assert pims.render_json(without_tid(message)) == pims.render_json(expected), name
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}", message["transactionId"])


def steps_status(message, step):
    return message["result"][step]["status"]


def test_sticky_until_reset(facade):
    params = {"carAssociationID": "987654"}
    assert steps_status(call(facade.get, "pims.subscription.steps", params), "deviceActivation") == "todo"
    enroll(facade)
    assert steps_status(call(facade.get, "pims.subscription.steps", params), "deviceActivation") == "alreadyDone"
    device = asyncio.run(facade.device_id())
    admin("POST", f"/admin/devices/{device}/disable")
    assert steps_status(call(facade.get, "pims.subscription.steps", params), "deviceActivation") == "alreadyDone"
    reset = call(facade.get, "pims.subscription.steps", {**params, "resetSteps": True})
    assert steps_status(reset, "deviceActivation") == "todo"


def test_next_step_then_none(facade):
    async def walk():
        steps = await facade.steps(pims.StepsSelector.CAR_ASSOCIATION_ID("987654"))
        assert [s.name for s in steps.steps] == ["trusterPhoneNumber", "deviceActivation", "mediumCarKey"]
        assert (await facade.next_step(steps.steps_id)).name == "deviceActivation"
        return steps.steps_id

    steps_id = asyncio.run(walk())
    enroll(facade)
    assert asyncio.run(facade.next_step(steps_id)).name == "mediumCarKey"
    admin("POST", f"/admin/vehicles/{VIN}/pair", {"deviceId": asyncio.run(facade.device_id())})
    assert call(facade.set, "pims.vehicle.vin", {"vin": VIN})["status"] == "SUCCEEDED"
    key = call(facade.set, "pims.vehicle.carkey", {})
    assert key["status"] == "SUCCEEDED", key
    assert asyncio.run(facade.next_step(steps_id)) is None
    none = call(facade.get, "pims.subscription.step", {"stepsID": steps_id})
    assert without_tid(none) == fixture_answer("next-step-none.json")
    todo = asyncio.run(facade.steps(pims.StepsSelector.STEPS_ID(steps_id), pims.StepsFilter.TODO))
    assert todo.steps == []


def test_another_devices_steps_id_is_2346():
    a, b = new_facade(), new_facade()

    async def run():
        assert await a.device_id() != await b.device_id()
        steps_id = (await a.steps(pims.StepsSelector.CAR_ASSOCIATION_ID("987654"))).steps_id
        m = await b.get_async("pims.subscription.step", {"stepsID": steps_id})
        assert error(m) == (2346, f"No Step for this stepsID {steps_id}")
        with pytest.raises(pims.PimsError.Failed) as e:
            await b.steps(pims.StepsSelector.STEPS_ID(steps_id))
        assert (e.value.code, e.value.label) == (2346, f"No Step for this stepsID {steps_id}")

    asyncio.run(run())


@pytest.mark.parametrize(
    "api, params, expected",
    [
        ("pims.subscription.steps", {}, (2101, "Missing carAssociationID parameter")),
        ("pims.subscription.steps", {"carAssociationID": "987654", "stepsStatus": "done"},
         (2102, "Invalid stepsStatus parameter")),
        ("pims.subscription.steps", {"carAssociationID": "987654", "resetSteps": "maybe"},
         (2102, "Invalid resetSteps parameter")),
        ("pims.subscription.steps", {"vin": "VR1"}, (2102, "Invalid vin parameter")),
        ("pims.subscription.step", {}, (2101, "Missing stepsID parameter")),
        # Python values JSON cannot carry.
        ("pims.subscription.steps", {"carAssociationID": object()}, (2102, "Invalid carAssociationID parameter")),
        ("pims.subscription.steps", {"carAssociationID": float("nan")}, (2102, "Invalid carAssociationID parameter")),
        ("pims.subscription.steps", {"carAssociationID": 2**64}, (2102, "Invalid carAssociationID parameter")),
        ("pims.nothing", {}, (2002, "API not supported")),
    ],
)
def test_bad_input_is_failed_naming_the_parameter(facade, api, params, expected):
    assert error(call(facade.get, api, params)) == expected
    assert error(asyncio.run(facade.get_async(api, params))) == expected


def test_a_typed_call_raises_with_code_label_and_remedy(facade):
    with pytest.raises(pims.PimsError.Failed) as e:
        asyncio.run(facade.steps(pims.StepsSelector.VIN("VR1")))
    assert (e.value.code, e.value.label) == (2102, "Invalid vin parameter")
    assert e.value.remedy
    assert e.value.kind == pims.FailureKind.INPUT


def test_one_callback_per_call_under_100_concurrent_calls(facade):
    lock = threading.Lock()
    counts = [0] * 100
    wrong = []
    done = threading.Event()

    def answer(i):
        def callback(message):
            with lock:
                counts[i] += 1
                if (message["status"] == "SUCCEEDED") != (i % 2 == 0):
                    wrong.append((i, message))
                if all(counts):
                    done.set()
        return callback

    for i in range(100):
        params = {"carAssociationID": "987654"} if i % 2 == 0 else {"vin": "bad"}
        facade.get("pims.subscription.steps", params, answer(i))
    assert done.wait(120), [i for i, n in enumerate(counts) if n == 0]
    # A second answer would come right behind the first: give it the time to.
    threading.Event().wait(0.5)
    assert counts == [1] * 100
    assert wrong == []


def test_await_and_50_concurrent_awaits(facade):
    async def run():
        m = await facade.get_async("pims.subscription.steps", {"carAssociationID": "987654", "stepsStatus": "todo"})
        assert m["status"] == "SUCCEEDED", m
        assert list(m["result"])[0] == "stepsID"
        assert "trusterPhoneNumber" not in m["result"]
        many = await asyncio.gather(
            *[facade.get_async("pims.subscription.steps", {"carAssociationID": "987654"}) for _ in range(50)]
        )
        assert all(x["status"] == "SUCCEEDED" for x in many)
        assert len({x["transactionId"] for x in many}) == 50
        assert [s.code for s in await facade.services(VIN)]
        assert len(await facade.cached_lists()) == 1
        assert (await facade.wipe_cache()).lists == 1

    asyncio.run(run())


def test_a_callback_handed_to_the_event_loop(facade):
    # The README's pattern: callbacks arrive on a pims thread; asyncio code hops to its loop.
    async def run():
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        caller = threading.get_ident()
        seen = []

        def callback(message):
            seen.append(threading.get_ident())
            loop.call_soon_threadsafe(future.set_result, message)

        facade.get("pims.subscription.steps", {"carAssociationID": "987654"}, callback)
        message = await future
        assert message["status"] == "SUCCEEDED"
        assert seen and seen[0] != caller

    asyncio.run(run())


def test_release_then_a_call_is_2001():
    p = new_facade()
    p.release()
    assert not p.is_initialized
    params = {"carAssociationID": "987654"}
    assert error(call(p.get, "pims.subscription.steps", params))[0] == 2001
    assert error(asyncio.run(p.get_async("pims.subscription.steps", params)))[0] == 2001
    with pytest.raises(pims.PimsError.Failed) as e:
        asyncio.run(p.steps(pims.StepsSelector.CAR_ASSOCIATION_ID("987654")))
    assert e.value.code == 2001


def test_imported_from_the_installed_wheel():
    # The suite runs against the wheel pip installed, never the sources of bindings/python.
    import os
    import pathlib

    site = pathlib.Path(os.environ["PIMS_EXPECTED_SITE"]).resolve()
    assert site in pathlib.Path(pims.__file__).resolve().parents
    assert (pathlib.Path(pims.__file__).parent / "pims_ffi").is_dir()
