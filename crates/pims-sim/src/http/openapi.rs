//! `GET /openapi.json`: an OpenAPI 3.1 description of every route, built from the route table
//! (so that it cannot describe a route the router does not serve, nor miss one), with the call
//! bodies from pims-types' schemas (`pims_types::schema::calls`) and the admin bodies derived by
//! schemars from the types the handlers decode (`admin_schema.rs`).

use serde_json::{Map, Value, json};

use super::routes::{Auth, Endpoint, ROUTES};
use crate::identifiers::DEVICE_ID_PATTERN;

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": json_content(schema)})
}

fn admin_error(description: &str) -> Value {
    response(description, schema_ref("AdminError"))
}

fn path_param(name: &str, description: &str, schema: Value, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": schema, "example": example})
}

/// A device id: 1 to 64 characters, no whitespace nor control character.
fn device_id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": crate::identifiers::MAX_ID_LEN,
           "pattern": DEVICE_ID_PATTERN})
}

fn vin() -> Value {
    json!({"type": "string", "pattern": pims_types::schema::VIN_PATTERN})
}

/// One example call per API and verb, against the built-in demo scenario.
fn call_examples() -> Value {
    use pims_types::{Api, Verb};
    let mut out = Map::new();
    for call in pims_types::schema::calls() {
        let parameters = match (call.api, call.verb) {
            (Api::SubscriptionSteps, _) => {
                json!({"carAssociationID": crate::DEMO_CAR_ASSOCIATION_ID,
                "resetSteps": false, "stepsStatus": "all"})
            }
            (Api::SubscriptionStep, _) => json!({"stepsID": crate::DEMO_FIRST_STEPS_ID}),
            (Api::SubscriptionServices | Api::VehicleVin | Api::CarKey, _) => {
                json!({"vin": crate::DEMO_VIN})
            }
            (Api::SmsCode, Verb::Get) => json!({"type": "enrollment"}),
            (Api::SmsCode, _) => json!({"action": "enrollment", "smsCode": "123456"}),
            (Api::Account, _) => json!({"actionType": "strong", "type": "isAccountBlocked"}),
            (Api::Enrollment, _) => json!({"action": "enroll", "pinCode": crate::DEMO_PIN,
                "smsCode": "123456"}),
            (Api::PinCode, _) => json!({"action": "update", "oldPIN": crate::DEMO_PIN,
                "newPIN": "5678"}),
            (Api::Otp, _) => json!({"action": "withoutPIN"}),
            _ => json!({}),
        };
        let name = format!("{}.{}", call.api.name(), call.verb);
        out.insert(
            name,
            json!({"summary": call.summary, "value": {"transactionId": "953cfefb-bc72",
                "verb": call.verb.as_str(), "api": call.api.name(), "parameters": parameters}}),
        );
    }
    Value::Object(out)
}

/// The operation object of one endpoint (summary, parameters, body, answers).
fn operation(endpoint: Endpoint) -> Value {
    let envelope = || response("the envelope", schema_ref("Envelope"));
    let failed = |description: &str| response(description, schema_ref("Failed"));
    match endpoint {
        Endpoint::Calls => json!({
            "operationId": "call",
            "summary": "Call an API of the Steps component or of the activation procedures",
            "description": "The body names the verb, the API and its parameters; the answer is \
                the envelope, echoing the transactionId. The HTTP status follows the wire \
                protocol: 200 for SUCCEEDED and business errors, 400 for 2002/2101/2102, 401 for \
                2301, 403 for 2302, 413 for a body over 64 KiB, 429 (Retry-After) for the SMS \
                quota, 500 for 2204.",
            "parameters": [
                {"name": "Pims-Device-Id", "in": "header", "required": true,
                 "description": "the installation's device id (1-64 printable ASCII \
                    characters, no space)",
                 "schema": {"type": "string", "pattern": "^[!-~]{1,64}$"}},
                {"name": "Idempotency-Key", "in": "header", "required": false,
                 "description": "on any call, get or set (the SDK sends one with every call \
                    that is not a pure read: get smscode sends an SMS, get otp counts a PIN \
                    attempt): a repeated key answers the first answer again, with the new \
                    transactionId and the header pims-idempotent-replay: true, without doing \
                    the work again (no second SMS, no second PIN attempt). Keys are scoped by \
                    account; a key reused for a different call (device, verb, API or \
                    parameters) is refused with 400, FAILED 2102 Invalid Idempotency-Key \
                    parameter, as is a key that is not 1-128 printable ASCII characters.",
                 "schema": {"type": "string", "pattern": format!("^[!-~]{{1,{}}}$",
                    crate::idempotency::MAX_KEY_LEN)}}
            ],
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": schema_ref("CallBody"), "examples": call_examples()}}},
            "responses": {
                "200": envelope(),
                "400": failed("FAILED 2002 (no such API or verb), 2101 (a parameter or header \
                    missing) or 2102 (invalid: the body, a header, a parameter, or a \
                    carAssociationID or vin naming none of the account's car associations)"),
                "401": failed("FAILED 2301: missing or unknown bearer token"),
                "403": failed("FAILED 2302"),
                "413": failed("FAILED 2102 Invalid body parameter: over 64 KiB"),
                "429": {"description": "FAILED 2204 with subCode SMS_QUOTA_EXCEEDED",
                    "headers": {"Retry-After": {"required": true,
                        "description": "seconds until the quota allows another SMS",
                        "schema": {"type": "integer", "minimum": 0}}},
                    "content": json_content(schema_ref("Failed"))},
                "500": failed("FAILED 2204 Server Error (the state file could not be written)")
            }
        }),
        Endpoint::Healthz => json!({
            "operationId": "healthz",
            "summary": "Liveness",
            "responses": {"200": response("alive", json!({"type": "object",
                "properties": {"status": {"const": "ok"}}, "required": ["status"]}))}
        }),
        Endpoint::OpenApi => json!({
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": response("an OpenAPI 3.1 document", json!({"type": "object"}))}
        }),
        Endpoint::Sms => json!({
            "operationId": "smsOutbox",
            "summary": "The SMS codes the simulator sent, newest first",
            "parameters": [{"name": "phoneNumber", "in": "query", "required": false,
                "description": "E.164 number (encode + as %2B); absent: every number",
                "schema": {"type": "string",
                    "pattern": pims_types::schema::PHONE_NUMBER_PATTERN}}],
            "responses": {
                "200": response("the outbox", schema_ref("SmsOutbox")),
                "400": admin_error("invalid phone number")
            }
        }),
        Endpoint::LoadScenario => json!({
            "operationId": "loadScenario",
            "summary": "Replace the whole state with a scenario document",
            "requestBody": {"required": true, "content": json_content(schema_ref("Scenario"))},
            "responses": {
                "200": response("loaded", json!({"type": "object",
                    "properties": {"status": {"const": "loaded"}}})),
                "400": admin_error("the document is invalid: field names the field at fault")
            }
        }),
        Endpoint::State => json!({
            "operationId": "getState",
            "summary": "The whole state as a scenario document (tokens and SMS codes included; \
                the PIN only as its salted hash, pinHash)",
            "responses": {
                "200": response("the state", schema_ref("Scenario"))
            }
        }),
        Endpoint::DisableDevice => json!({
            "operationId": "disableDevice",
            "summary": "Disable a device for every account (OTP then answers 2312)",
            "parameters": [path_param("deviceId", "the device id", device_id(), "phone-1")],
            "responses": {
                "200": response("disabled", json!({"type": "object", "properties": {
                    "deviceId": {"type": "string"}, "status": {"const": "disabled"},
                    "accounts": {"type": "array", "items": {"type": "string"}}}})),
                "400": admin_error("invalid device id")
            }
        }),
        Endpoint::PairVehicle => json!({
            "operationId": "pairVehicle",
            "summary": "Pair a simulated vehicle with a device over Bluetooth",
            "parameters": [path_param("vin", "the vehicle", vin(), crate::DEMO_VIN)],
            "requestBody": {"required": true, "content": json_content(schema_ref("PairBody"))},
            "responses": {
                "200": response("paired", json!({"type": "object", "properties": {
                    "vin": {"type": "string"},
                    "pairedDevices": {"type": "array", "items": {"type": "string"}}}})),
                "400": admin_error("invalid VIN, device id or body"),
                "404": admin_error("unknown vehicle")
            }
        }),
        Endpoint::SuspendCarKey => json!({
            "operationId": "suspendCarKey",
            "summary": "Suspend every CarKey of a vehicle (mediumCarKey turns back to todo)",
            "parameters": [path_param("vin", "the vehicle", vin(), crate::DEMO_VIN)],
            "responses": {
                "200": response("suspended", json!({"type": "object", "properties": {
                    "vin": {"type": "string"}, "cvsStatus": {"const": "suspended"},
                    "maxReactivationDate": {"type": "string", "format": "date-time"},
                    "accounts": {"type": "array", "items": {"type": "string"}}}})),
                "400": admin_error("invalid VIN"),
                "404": admin_error("unknown vehicle, or no CarKey for it")
            }
        }),
        Endpoint::SetFaults => json!({
            "operationId": "setFaults",
            "summary": "Inject faults into POST /v1/calls (replaces the active fault)",
            "requestBody": {"required": true, "content": json_content(schema_ref("FaultSpec"))},
            "responses": {
                "200": response("the active fault", schema_ref("Faults")),
                "400": admin_error("invalid fault: field names the field at fault")
            }
        }),
        Endpoint::GetFaults => json!({
            "operationId": "getFaults",
            "summary": "The active fault (count: the calls it has left)",
            "responses": {
                "200": response("the active fault or null", schema_ref("Faults"))
            }
        }),
        Endpoint::ClearFaults => json!({
            "operationId": "clearFaults",
            "summary": "Clear the active fault",
            "responses": {
                "200": response("cleared", schema_ref("Faults"))
            }
        }),
        Endpoint::GetClock => json!({
            "operationId": "getClock",
            "summary": "The simulator clock",
            "responses": {
                "200": response("the clock", schema_ref("Clock"))
            }
        }),
        Endpoint::AdvanceClock => json!({
            "operationId": "advanceClock",
            "summary": "Move the simulator clock forward (SMS expiry, quota window)",
            "description": "The clock only moves forward, at most ten years per request, and \
                never past 9999-01-01T00:00:00Z (so that every date it gives, up to 30 days \
                ahead, is an RFC 3339 date with a four-digit year): a move beyond is refused \
                with 400 naming advanceSecs and the seconds left.",
            "requestBody": {"required": true, "content": json_content(schema_ref("ClockBody"))},
            "responses": {
                "200": response("the clock after the move", schema_ref("Clock")),
                "400": admin_error("invalid body, over ten years, or past 9999-01-01T00:00:00Z \
                    (field: advanceSecs)")
            }
        }),
    }
}

/// The components: the call bodies per API and verb (from pims-types' schemas), the admin
/// bodies (derived by schemars from the types the handlers decode), the answers.
fn schemas() -> Value {
    let string = || json!({"type": "string"});
    let mut out = Map::new();
    let mut calls = Vec::new();
    let mut results = Vec::new();
    for call in pims_types::schema::calls() {
        let name = format!("{}.{}", call.api.name(), call.verb);
        let params_name = format!("Parameters.{name}");
        let result_name = format!("Result.{name}");
        let parameters = if call.parameters_optional {
            json!({"anyOf": [schema_ref(&params_name), {"type": "null"}]})
        } else {
            schema_ref(&params_name)
        };
        let mut variant = json!({
            "title": name,
            "description": call.summary,
            "properties": {
                "api": {"enum": call.names},
                "verb": {"const": call.verb.as_str()},
                "parameters": parameters
            }
        });
        if !call.parameters_optional {
            variant["required"] = json!(["parameters"]);
        }
        calls.push(variant);
        results.push(schema_ref(&result_name));
        out.insert(params_name, call.parameters);
        out.insert(result_name, call.result);
    }
    out.insert(
        "CallBody".into(),
        json!({
            "type": "object",
            "description": "One call: the verb, the API (canonical name or documented alias) \
                and its parameters (a parameter given as null counts as absent; parameters \
                the API does not read are ignored). Other members of the body are ignored.",
            "required": ["transactionId", "verb", "api"],
            "properties": {
                "transactionId": {"type": "string",
                    "pattern": pims_types::schema::TRANSACTION_ID_PATTERN},
                "verb": {"enum": ["get", "set"]},
                "api": string(),
                "parameters": {"anyOf": [{"type": "object"}, {"type": "null"}]}
            },
            "oneOf": calls
        }),
    );
    out.insert(
        "ApiError".into(),
        json!({"type": "object", "required": ["code", "label"],
            "additionalProperties": false, "properties": {
            "code": {"type": "integer", "minimum": 0}, "label": string(),
            "subCode": {"type": "array", "items": {"type": "object", "properties": {
                "code": string(), "label": string(),
                "retryAfterSecs": {"type": "integer", "minimum": 0}}}}}}),
    );
    out.insert(
        "Succeeded".into(),
        json!({"type": "object", "required": ["transactionId", "status", "result"],
            "additionalProperties": false, "properties": {
            "transactionId": string(),
            "status": {"const": "SUCCEEDED"},
            "result": {"description": "the result of the API called: one of Result.*",
                "anyOf": results}}}),
    );
    out.insert(
        "Failed".into(),
        json!({"type": "object", "required": ["transactionId", "status", "error"],
            "additionalProperties": false, "properties": {
            "transactionId": string(),
            "status": {"const": "FAILED"},
            "error": schema_ref("ApiError")}}),
    );
    out.insert(
        "Envelope".into(),
        json!({"oneOf": [schema_ref("Succeeded"), schema_ref("Failed")]}),
    );
    out.insert(
        "AdminError".into(),
        json!({"type": "object", "required": ["error"], "additionalProperties": false,
            "properties": {"error": string(), "field": string()}}),
    );
    out.insert(
        "SmsOutbox".into(),
        json!({"type": "object", "required": ["phoneNumber", "messages"], "properties": {
            "phoneNumber": {"type": ["string", "null"]},
            "messages": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "phoneNumber": string(),
                "purpose": {"enum": ["phoneNumberCertification", "enrollment", "resetPIN"]},
                "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                "state": {"enum": ["pending", "consumed", "voided", "expired"]},
                "sentAt": {"type": "string", "format": "date-time"},
                "expiresAt": {"type": "string", "format": "date-time"},
                "expiresInSecs": {"type": "integer"}, "text": string()}}}}}),
    );
    out.insert(
        "Faults".into(),
        json!({"type": "object", "required": ["faults"], "properties": {
            "faults": {"anyOf": [schema_ref("FaultSpec"), {"type": "null"}]}}}),
    );
    out.insert(
        "Clock".into(),
        json!({"type": "object", "required": ["now", "nowMs", "offsetSecs"], "properties": {
            "now": {"type": "string", "format": "date-time"},
            "nowMs": {"type": "integer", "minimum": 0},
            "offsetSecs": {"type": "integer", "minimum": 0}}}),
    );
    for (name, schema) in super::admin_schema::derived() {
        out.insert(name, schema);
    }
    Value::Object(out)
}

/// The whole document.
pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut op = operation(r.endpoint);
        match r.auth {
            Auth::None => op["security"] = json!([]),
            Auth::User => op["security"] = json!([{"userToken": []}]),
            Auth::Admin => {
                op["security"] = json!([{"adminToken": []}]);
                op["responses"]["401"] = admin_error("admin token required");
            }
        }
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "pims-sim",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The PIMS steps backend simulator: POST /v1/calls (the SDK's wire \
                protocol) and the simulator-only routes (health, this document, admin API). \
                See docs/simulator.md."
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": {
                "userToken": {"type": "http", "scheme": "bearer",
                    "description": "a user's access token (the demo account: demo-token)"},
                "adminToken": {"type": "http", "scheme": "bearer",
                    "description": "the admin token printed at start (or --admin-token)"}
            },
            "schemas": schemas()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_once_and_nothing_else() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut described: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                described.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        described.sort();
        served.sort();
        assert_eq!(described, served);
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect();
            assert!(schemas.contains_key(&name), "{name}");
        }
    }
}
