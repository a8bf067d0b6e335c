"""The check of the contract stage that knows what JSON Schema cannot say.

Loaded by schemathesis (SCHEMATHESIS_HOOKS) in the contract stage of `cargo xtask ci`, which
runs every check but schemathesis' own positive_data_acceptance, replaced by
`positive_data_accepted` below: the same rule (a request the document calls valid gets 2xx,
3xx, 401, 403, 404, 409, 429 or 5xx), minus the 400s that depend on the simulator's data rather
than on the request's shape. Anything else a schema-valid request is refused with fails the
run, exactly as the built-in check would.
"""

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

# FAILED answers a schema-valid call may get with 400: each names a value that is well formed
# but is not in the account's data (or a key the run already used for another call).
CALL_REFUSALS_FROM_DATA = {
    # steps by carAssociationID: not one of the account's car associations
    ("pims.subscription.steps", 2102, "Invalid carAssociationID parameter"),
    ("pims.vehicle.steps", 2102, "Invalid carAssociationID parameter"),
    # steps by vin: no car association for it, or no list issued to this device yet
    ("pims.subscription.steps", 2102, "Invalid vin parameter"),
    ("pims.vehicle.steps", 2102, "Invalid vin parameter"),
    # CarKey without vin: no vehicle selected by this device
    ("pims.vehicle.carkey", 2101, "Missing vin parameter"),
}

# Whatever the API: an Idempotency-Key already used for another call.
KEY_REUSED = (2102, "Invalid Idempotency-Key parameter")

# The scenario rules between fields (model.rs, Model::validated): the words of their messages.
SCENARIO_CROSS_FIELD_RULES = (
    "duplicate",
    "unknown account",
    "unknown vehicle",
    "unknown car association",
    "already used",
    "listed twice",
    "not both",
    "must be below settings.maxWrongPins",
    "needs an account",
    "not one of the vehicle's services",
    "already has a stepsID",
    "must be larger than every issued stepsID",
    "must not be before sentAtMs",
    "only one pending code",
)


def _positive(case):
    return (
        case.meta is not None
        and case.meta.generation.mode.is_positive
        and not is_unexpected_http_status_case(case)
    )


def _accepted(status):
    # The built-in check's expected statuses: 2xx, 3xx, 401, 403, 404, 409, 429, 5xx.
    return 200 <= status < 400 or status in (401, 403, 404, 409, 429) or status >= 500


def _json(response):
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - not JSON: no refusal from the data can be recognised
        return {}
    return body if isinstance(body, dict) else {}


def _refused_by_data(case, response):
    """Whether a 400 to a schema-valid request comes from the simulator's data, not its shape."""
    if response.status_code != 400:
        return False
    path = case.operation.path
    if path == "/v1/calls":
        error = _json(response).get("error") or {}
        found = (error.get("code"), error.get("label"))
        api = case.body.get("api") if isinstance(case.body, dict) else None
        return found == KEY_REUSED or (api, *found) in CALL_REFUSALS_FROM_DATA
    if path == "/admin/scenario":
        message = _json(response).get("error") or ""
        return any(rule in message for rule in SCENARIO_CROSS_FIELD_RULES)
    return False


@schemathesis.check
def positive_data_accepted(ctx, response, case):
    """schemathesis' positive_data_acceptance (excluded on the command line), with the refusals
    of _refused_by_data allowed: a request the document calls valid is not refused otherwise."""
    if not _positive(case) or _accepted(response.status_code):
        return None
    if _refused_by_data(case, response):
        return None
    raise AssertionError(
        f"Valid data should have been accepted: {case.operation.method.upper()} "
        f"{case.operation.path} answered {response.status_code}: {response.text[:300]}"
    )
