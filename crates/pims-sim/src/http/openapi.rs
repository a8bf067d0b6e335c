//! `GET /openapi.json`: an OpenAPI 3.1 description of every route, built from the route table
//! (so that it cannot describe a route the router does not serve, nor miss one).

use serde_json::{Map, Value, json};

use super::routes::{Auth, Endpoint, ROUTES};

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

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

/// The operation object of one endpoint (summary, parameters, body, answers).
fn operation(endpoint: Endpoint) -> Value {
    let envelope = || response("the envelope", schema_ref("Envelope"));
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
                 "description": "the installation's device id (1-64 characters, no whitespace)",
                 "schema": {"type": "string", "maxLength": crate::model::MAX_ID_LEN}},
                {"name": "Idempotency-Key", "in": "header", "required": false,
                 "description": "on any call, get or set (the SDK sends one with every call \
                    that is not a pure read: get smscode sends an SMS, get otp counts a PIN \
                    attempt): a repeated key answers the first answer again, with the new \
                    transactionId and the header pims-idempotent-replay: true, without doing \
                    the work again (no second SMS, no second PIN attempt). Keys are scoped by \
                    account; a key reused for a different call (device, verb, API or \
                    parameters) is refused with 400, FAILED 2102 Invalid Idempotency-Key \
                    parameter, as is a key that is not 1-128 printable ASCII characters.",
                 "schema": {"type": "string", "maxLength": crate::idempotency::MAX_KEY_LEN}}
            ],
            "requestBody": {"required": true, "content": json_content(schema_ref("CallBody"))},
            "responses": {
                "200": envelope(),
                "400": response("FAILED 2002, 2101 or 2102", schema_ref("Envelope")),
                "401": response("FAILED 2301: missing or unknown bearer token", schema_ref("Envelope")),
                "403": response("FAILED 2302", schema_ref("Envelope")),
                "413": response("FAILED 2102 Invalid body parameter: over 64 KiB", schema_ref("Envelope")),
                "429": response("FAILED 2204 with subCode SMS_QUOTA_EXCEEDED; Retry-After", schema_ref("Envelope")),
                "500": response("FAILED 2204 Server Error", schema_ref("Envelope"))
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
                "schema": {"type": "string"}}],
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
            "parameters": [path_param("deviceId", "the device id")],
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
            "parameters": [path_param("vin", "the vehicle")],
            "requestBody": {"required": true, "content": json_content(json!({"type": "object",
                "properties": {"deviceId": {"type": "string"}}, "required": ["deviceId"],
                "additionalProperties": false}))},
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
            "parameters": [path_param("vin", "the vehicle")],
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
            "requestBody": {"required": true, "content": json_content(json!({"type": "object",
                "properties": {"advanceSecs": {"type": "integer", "minimum": 0,
                    "maximum": super::admin::MAX_ADVANCE_SECS,
                    "description": "seconds to move forward; the clock stops at \
                        9999-01-01T00:00:00Z"}},
                "required": ["advanceSecs"], "additionalProperties": false}))},
            "responses": {
                "200": response("the clock after the move", schema_ref("Clock")),
                "400": admin_error("invalid body, over ten years, or past 9999-01-01T00:00:00Z \
                    (field: advanceSecs)")
            }
        }),
    }
}

fn schemas() -> Value {
    let string = || json!({"type": "string"});
    let strings = || json!({"type": "array", "items": {"type": "string"}});
    let pin = pims_types::PIN_DIGITS;
    let pin_pattern = format!("^[0-9]{{{},{}}}$", pin.start(), pin.end());
    json!({
        "CallBody": {"type": "object", "required": ["transactionId", "verb", "api"],
            "properties": {
                "transactionId": {"type": "string", "minLength": 1, "maxLength": 64},
                "verb": {"enum": ["get", "set"]},
                "api": {"type": "string", "examples": ["pims.subscription.steps"]},
                "parameters": {"type": "object"}}},
        "ApiError": {"type": "object", "required": ["code", "label"], "properties": {
            "code": {"type": "integer"}, "label": string(),
            "subCode": {"type": "array", "items": {"type": "object", "properties": {
                "code": string(), "label": string(), "retryAfterSecs": {"type": "integer"}}}}}},
        "Envelope": {"type": "object", "required": ["transactionId", "status"], "properties": {
            "transactionId": string(),
            "status": {"enum": ["SUCCEEDED", "FAILED"]},
            "result": {},
            "error": schema_ref("ApiError")}},
        "AdminError": {"type": "object", "required": ["error"], "properties": {
            "error": string(), "field": string()}},
        "SmsOutbox": {"type": "object", "properties": {
            "phoneNumber": {"type": ["string", "null"]},
            "messages": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "phoneNumber": string(),
                "purpose": {"enum": ["phoneNumberCertification", "enrollment", "resetPIN"]},
                "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                "state": {"enum": ["pending", "consumed", "voided", "expired"]},
                "sentAt": {"type": "string", "format": "date-time"},
                "expiresAt": {"type": "string", "format": "date-time"},
                "expiresInSecs": {"type": "integer"}, "text": string()}}}}},
        "FaultSpec": {"type": "object", "additionalProperties": false, "properties": {
            "latencyMs": {"type": "integer", "minimum": 0, "maximum": crate::faults::MAX_LATENCY_MS},
            "failRate": {"type": "number", "minimum": 0, "maximum": 1},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "retryAfterSecs": {"type": "integer", "minimum": 0, "maximum": 3600},
            "dropConnection": {"type": "boolean"},
            "garbageBody": {"type": "boolean"},
            "apis": strings(),
            "afterProcessing": {"type": "boolean"},
            "count": {"type": "integer", "minimum": 1}}},
        "Faults": {"type": "object", "properties": {
            "faults": {"oneOf": [schema_ref("FaultSpec"), {"type": "null"}]}}},
        "Clock": {"type": "object", "properties": {
            "now": {"type": "string", "format": "date-time"},
            "nowMs": {"type": "integer"}, "offsetSecs": {"type": "integer"}}},
        "Scenario": {"type": "object", "additionalProperties": false,
            "description": "the scenario document; every field is described in docs/simulator.md",
            "properties": {
                "version": {"const": 1},
                "settings": {"type": "object", "additionalProperties": false, "properties": {
                    "smsValiditySecs": {"type": "integer", "minimum": 1, "maximum": 86400},
                    "smsHourlyQuota": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "maxWrongPins": {"type": "integer", "minimum": 1, "maximum": 100}}},
                "accounts": {"type": "array", "items": {"type": "object",
                    "required": ["id", "tokens"], "properties": {
                    "id": string(), "email": string(), "tokens": strings(),
                    "pin": {"type": ["string", "null"], "pattern": pin_pattern,
                        "description": "input only: the PIN in clear, kept hashed (never \
                            written back)"},
                    "pinHash": {"type": "string", "pattern": "^\\$pbkdf2-sha256\\$",
                        "description": "the PIN's salted PBKDF2-HMAC-SHA256 hash, PHC string \
                            $pbkdf2-sha256$i=<rounds>,l=32$<salt>$<hash> (what the state gives)"},
                    "wrongPinCount": {"type": "integer"},
                    "blocked": {"enum": ["NotBlocked", "PinBlocked"]},
                    "trustedPhoneNumber": {"type": ["string", "null"]},
                    "maxEnrolledDevices": {"type": "integer", "minimum": 1, "maximum": 1000}}}},
                "devices": {"type": "array", "items": {"type": "object",
                    "required": ["id", "status"], "properties": {
                    "id": string(), "accountId": {"type": ["string", "null"]},
                    "status": {"enum": ["enrolled", "disabled", "removed"]}}}},
                "vehicles": {"type": "array", "items": {"type": "object", "required": ["vin"],
                    "properties": {"vin": string(), "brand": string(),
                    "pairedDevices": strings(),
                    "services": {"type": "array", "items": {"type": "object",
                        "required": ["code", "name"],
                        "properties": {"code": string(), "name": string()}}}}}},
                "carKeys": {"type": "array", "items": {"type": "object",
                    "required": ["accountId", "vin"], "properties": {
                    "accountId": string(), "vin": string(), "verified": {"type": "boolean"},
                    "cvsStatus": {"enum": ["unknown", "active", "suspended", "disabled"]},
                    "maxReactivationDate": {"type": ["string", "null"], "format": "date-time"}}}},
                "carAssociations": {"type": "array", "items": {"type": "object",
                    "required": ["id", "accountId", "serviceCode", "vin"], "properties": {
                    "id": string(), "accountId": string(), "serviceCode": string(),
                    "vin": string(), "steps": strings()}}},
                "stepLists": {"type": "array", "items": {"type": "object",
                    "required": ["stepsId", "carAssociationId", "deviceId"], "properties": {
                    "stepsId": {"type": "integer"}, "carAssociationId": string(),
                    "deviceId": string()}}},
                "nextStepsId": {"type": "integer"},
                "vehicleSelections": {"type": "array", "items": {"type": "object",
                    "required": ["accountId", "deviceId", "vin"], "properties": {
                    "accountId": string(), "deviceId": string(), "vin": string()}}},
                "smsOutbox": {"type": "array", "items": {"type": "object"}}}}
    })
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
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "{name}");
        }
    }
}
