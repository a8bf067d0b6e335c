//! The activation APIs over real HTTP: the full walk, SMS codes, enrolment, PIN, OTP, CarKey,
//! and the backend turning steps back to `todo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{Sim, phone_of};

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_TOKEN, DEMO_VIN, Scenario};

const SMS: &str = "pims.authentication.smscode";
const ENROLLMENT: &str = "pims.authentication.enrollment";
const ACCOUNT: &str = "pims.authentication.account";
const OTP: &str = "pims.authentication.otp";
const PINCODE: &str = "pims.authentication.pincode";
const CARKEY: &str = "pims.vehicle.carkey";

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The default scenario without the demo account's phone number.
fn without_phone() -> Scenario {
    let mut s = Scenario::default_scenario();
    s.accounts[0].trusted_phone_number = None;
    s
}

async fn otp_with(sim: &Sim, device: &str, pin: Value) -> support::Reply {
    sim.call(
        device,
        "get",
        OTP,
        json!({"action": "withPIN", "pinCode": pin}),
    )
    .await
}

async fn activate_car_key(sim: &Sim, device: &str) -> support::Reply {
    let r = sim
        .call(device, "set", "pims.vehicle.vin", json!({"vin": DEMO_VIN}))
        .await;
    assert!(r.envelope.get("error").is_none(), "{}", r.envelope);
    sim.call(device, "set", CARKEY, json!({})).await
}

#[tokio::test]
async fn the_full_walk_turns_each_step_done_in_order() {
    let sim = Sim::with_scenario(without_phone()).await;
    let dev = "phone-1";
    let (id, s) = sim.demo_steps(dev).await;
    assert_eq!(s, strs(&["todo", "todo", "todo"]));
    let next = sim
        .call(dev, "get", "pims.subscription.step", json!({"stepsID": id}))
        .await;
    assert_eq!(next.result()["trusterPhoneNumber"]["order"], 1);

    // 1. Register the phone number with an SMS code.
    let r = sim
        .call(
            dev,
            "get",
            "pims.authentication.trustedphonenumber",
            json!({}),
        )
        .await;
    assert_eq!(
        r.error(),
        (200, 2307, "User dont have a phone number".into())
    );
    let r = sim
        .call(
            dev,
            "get",
            SMS,
            json!({"type": "phoneNumberCertification", "phoneNumber": DEMO_PHONE_NUMBER}),
        )
        .await;
    assert_eq!(
        r.envelope.get("result"),
        Some(&serde_json::Value::Null),
        "output none: result present and null: {}",
        r.envelope
    );
    r.result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "addPhoneNumber", "smsCode": code, "phoneNumber": DEMO_PHONE_NUMBER}),
        )
        .await;
    r.result();
    assert_eq!(
        sim.demo_steps(dev).await.1,
        strs(&["alreadyDone", "todo", "todo"])
    );
    let r = sim
        .call(
            dev,
            "get",
            "pims.authentication.trustedphonenumber",
            json!({}),
        )
        .await;
    assert_eq!(r.result(), &json!({"phoneNumber": DEMO_PHONE_NUMBER}));

    // 2. Enrol the device: checks, SMS, status, PIN.
    let r = sim
        .call(
            dev,
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isDeviceActivated"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isDeviceActivated": false}));
    let r = sim
        .call(
            dev,
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isAccountBlocked"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isAccountBlocked": "NotBlocked"}));
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": code}),
        )
        .await;
    assert_eq!(r.result(), &json!({"status": "NotEnrolled"}));
    let r = sim
        .call(
            dev,
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    r.result();
    assert_eq!(
        sim.demo_steps(dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "todo"])
    );
    let r = sim
        .call(
            dev,
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isDeviceActivated"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isDeviceActivated": true}));

    // 3. Pair the vehicle and activate the CarKey.
    assert_eq!(activate_car_key(&sim, dev).await.code(), 2342);
    let (status, paired) = sim
        .admin(
            "POST",
            &format!("/admin/vehicles/{DEMO_VIN}/pair"),
            Some(json!({"deviceId": dev})),
        )
        .await;
    assert_eq!(
        (status, paired),
        (200, json!({"vin": DEMO_VIN, "pairedDevices": [dev]}))
    );
    let r = activate_car_key(&sim, dev).await;
    let key = r.result();
    assert_eq!(key["hasCarKey"], true);
    assert_eq!(key["vin"], DEMO_VIN);
    assert!(key["securityCode"].as_str().unwrap().len() >= 6);
    assert!(key["securityExpiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        sim.demo_steps(dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "alreadyDone"])
    );
    let next = sim
        .call(dev, "get", "pims.subscription.step", json!({"stepsID": id}))
        .await;
    assert_eq!(next.envelope["result"], Value::Null);
    assert_eq!(sim.demo_steps(dev).await.0, id, "the stepsID never changes");
}

#[tokio::test]
async fn the_default_scenario_walk_and_a_second_device() {
    let sim = Sim::start().await;
    assert_eq!(
        sim.demo_steps("phone-1").await.1,
        strs(&["alreadyDone", "todo", "todo"])
    );
    sim.enroll_demo("phone-1", DEMO_PIN).await;
    sim.server.pair_vehicle(DEMO_VIN, "phone-1").await.unwrap();
    activate_car_key(&sim, "phone-1").await.result();
    assert_eq!(sim.demo_steps("phone-1").await.1, strs(&["alreadyDone"; 3]));
    // A second device of the same account: its own enrolment is still to do; the CarKey is
    // the account's.
    assert_eq!(
        sim.demo_steps("phone-2").await.1,
        strs(&["alreadyDone", "todo", "alreadyDone"])
    );
    // The account has a PIN now: the second enrolment says so and needs the same PIN.
    sim.call("phone-2", "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            "phone-2",
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": code}),
        )
        .await;
    assert_eq!(r.result(), &json!({"status": "AlreadyEnrolled"}));
    let r = sim
        .call(
            "phone-2",
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": "9999", "smsCode": code}),
        )
        .await;
    assert_eq!(r.error(), (200, 2308, "inwebo: access refused".into()));
    // A wrong PIN does not consume the code: retry this step.
    let r = sim
        .call(
            "phone-2",
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    r.result();
    assert_eq!(sim.demo_steps("phone-2").await.1, strs(&["alreadyDone"; 3]));
}

#[tokio::test]
async fn sms_codes_are_checked_without_being_consumed_then_used_once() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    for _ in 0..2 {
        let r = sim
            .call(
                dev,
                "set",
                SMS,
                json!({"action": "enrollment", "smsCode": code}),
            )
            .await;
        r.result();
    }
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": wrong}),
        )
        .await;
    assert_eq!(r.error(), (200, 2305, "The sms code is invalid".into()));
    let r = sim
        .call(
            dev,
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    r.result();
    // Used: it authorises nothing more.
    let r = sim
        .call(
            "phone-2",
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    assert_eq!(r.code(), 2305);
    let (_, outbox) = sim
        .admin("GET", "/admin/sms?phoneNumber=%2B33612345678", None)
        .await;
    assert_eq!(outbox["messages"][0]["state"], "consumed");
    assert_eq!(outbox["messages"][0]["purpose"], "enrollment");
    // An unencoded + (read as a space) finds the same outbox.
    let (_, same) = sim
        .admin("GET", "/admin/sms?phoneNumber=+33612345678", None)
        .await;
    assert_eq!(same["messages"], outbox["messages"]);
}

#[tokio::test]
async fn sms_codes_expire_after_five_minutes_and_new_ones_void_old_ones() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let first = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let (_, outbox) = sim
        .admin("GET", "/admin/sms?phoneNumber=%2B33612345678", None)
        .await;
    let m = &outbox["messages"][0];
    assert_eq!(m["state"], "pending");
    assert!(
        (299..=300).contains(&m["expiresInSecs"].as_u64().unwrap()),
        "{m}"
    );
    assert!(m["expiresAt"].as_str().unwrap().ends_with('Z'));

    let (status, clock) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": 301})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(clock["offsetSecs"], 301);
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": first}),
        )
        .await;
    assert_eq!(r.error(), (200, 2306, "The sms code is expired".into()));
    let (_, outbox) = sim
        .admin("GET", "/admin/sms?phoneNumber=%2B33612345678", None)
        .await;
    assert_eq!(outbox["messages"][0]["state"], "expired");

    // A new code voids the previous pending one of the same purpose.
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let second = sim.latest_code(DEMO_PHONE_NUMBER).await;
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let third = sim.latest_code(DEMO_PHONE_NUMBER).await;
    if second != third {
        let r = sim
            .call(
                dev,
                "set",
                SMS,
                json!({"action": "enrollment", "smsCode": second}),
            )
            .await;
        assert_eq!(r.code(), 2305);
    }
    let (_, outbox) = sim
        .admin("GET", "/admin/sms?phoneNumber=%2B33612345678", None)
        .await;
    let states: Vec<&str> = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending", "voided", "voided"], "newest first");
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": third}),
        )
        .await;
    r.result();
}

#[tokio::test]
async fn the_sms_quota_is_ten_per_number_per_hour() {
    let sim = Sim::start().await;
    for _ in 0..10 {
        sim.call("phone-1", "get", SMS, json!({"type": "resetPIN"}))
            .await
            .result();
    }
    let r = sim
        .call("phone-1", "get", SMS, json!({"type": "enrollment"}))
        .await;
    assert_eq!(r.error(), (429, 2204, "Server Error".into()));
    let sub = &r.envelope["error"]["subCode"][0];
    assert_eq!(sub["code"], "SMS_QUOTA_EXCEEDED");
    assert!(
        sub["label"]
            .as_str()
            .unwrap()
            .contains("10 codes per phone number per hour")
    );
    let retry: u64 = r.answer.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    assert_eq!(sub["retryAfterSecs"], retry);
    // Another number is not affected.
    let r = sim
        .call(
            "phone-1",
            "get",
            SMS,
            json!({"type": "phoneNumberCertification", "phoneNumber": "+33600000001"}),
        )
        .await;
    r.result();
    // An hour later the window has moved on.
    sim.server
        .clock()
        .advance(std::time::Duration::from_secs(3601));
    sim.call("phone-1", "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
}

#[tokio::test]
async fn wrong_pins_block_the_account_and_remove_unblocks_it() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    sim.enroll_demo(dev, DEMO_PIN).await;
    let r = otp_with(&sim, dev, json!(DEMO_PIN)).await;
    let otp = r.result()["otp"].as_str().unwrap();
    assert_eq!(otp.len(), 8);
    // An integer PIN is accepted.
    otp_with(&sim, dev, json!(1234)).await.result();
    sim.call(dev, "get", OTP, json!({"action": "withoutPIN"}))
        .await
        .result();

    // Wrong PINs count in a row only: a right one resets the counter.
    for _ in 0..2 {
        assert_eq!(otp_with(&sim, dev, json!("0000")).await.code(), 2308);
    }
    otp_with(&sim, dev, json!(DEMO_PIN)).await.result();
    for _ in 0..2 {
        assert_eq!(otp_with(&sim, dev, json!("0000")).await.code(), 2308);
    }
    // The third in a row is refused too and blocks the account.
    let r = otp_with(&sim, dev, json!("0000")).await;
    assert_eq!(r.error(), (200, 2308, "inwebo: access refused".into()));
    let r = otp_with(&sim, dev, json!(DEMO_PIN)).await;
    assert_eq!(r.error(), (200, 2310, "inwebo: account is blocked".into()));
    assert_eq!(
        sim.call(dev, "get", OTP, json!({"action": "withoutPIN"}))
            .await
            .code(),
        2310
    );
    let r = sim
        .call(
            "phone-2",
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isAccountBlocked"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isAccountBlocked": "PinBlocked"}));
    // Enrolling on a blocked account: 2317 (both at the SMS check and at enroll).
    sim.call("phone-2", "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            "phone-2",
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": code}),
        )
        .await;
    assert_eq!(r.code(), 2317);
    let r = sim
        .call(
            "phone-2",
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    assert_eq!(
        r.error().2,
        "inwebo: forbidden operation (due to activated state/blocked state/upgradable state)"
    );

    // The documented cure: remove all enrolments, then start again.
    sim.call(dev, "set", ENROLLMENT, json!({"action": "remove"}))
        .await
        .result();
    let r = sim
        .call(
            dev,
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isAccountBlocked"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isAccountBlocked": "NotBlocked"}));
    assert_eq!(sim.demo_steps(dev).await.1[1], "todo");
    assert_eq!(otp_with(&sim, dev, json!(DEMO_PIN)).await.code(), 2312);
    sim.enroll_demo(dev, DEMO_PIN).await;
    otp_with(&sim, dev, json!(DEMO_PIN)).await.result();
}

#[tokio::test]
async fn a_disabled_device_is_todo_on_the_backend_and_otp_answers_2312() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    sim.enroll_demo(dev, DEMO_PIN).await;
    assert_eq!(sim.demo_steps(dev).await.1[1], "alreadyDone");
    let (status, answer) = sim
        .admin("POST", &format!("/admin/devices/{dev}/disable"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"deviceId": dev, "status": "disabled", "accounts": ["demo"]})
    );
    assert_eq!(
        sim.demo_steps(dev).await.1,
        strs(&["alreadyDone", "todo", "todo"])
    );
    let r = otp_with(&sim, dev, json!(DEMO_PIN)).await;
    assert_eq!(
        r.error(),
        (200, 2312, "inwebo: device is disabled or unknown".into())
    );
    assert_eq!(
        sim.call(dev, "get", OTP, json!({"action": "withoutPIN"}))
            .await
            .code(),
        2312
    );
    let r = sim
        .call(
            dev,
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isDeviceActivated"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isDeviceActivated": false}));
    // The cure: enrol again.
    sim.enroll_demo(dev, DEMO_PIN).await;
    assert_eq!(sim.demo_steps(dev).await.1[1], "alreadyDone");
    otp_with(&sim, dev, json!(DEMO_PIN)).await.result();
    // A device never seen can be disabled too (unknown to inwebo).
    let (status, answer) = sim
        .admin("POST", "/admin/devices/ghost/disable", None)
        .await;
    assert_eq!((status, answer["accounts"].clone()), (200, json!([])));
    assert_eq!(otp_with(&sim, "ghost", json!(DEMO_PIN)).await.code(), 2312);
}

#[tokio::test]
async fn too_many_devices_block_enrolment_until_remove() {
    let mut scenario = Scenario::default_scenario();
    scenario.accounts[0].max_enrolled_devices = 2;
    let sim = Sim::with_scenario(scenario).await;
    sim.enroll_demo("d1", DEMO_PIN).await;
    sim.enroll_demo("d2", DEMO_PIN).await;
    let blocked = |dev: &'static str| {
        let sim = &sim;
        async move {
            sim.call(
                dev,
                "get",
                ACCOUNT,
                json!({"actionType": "strong", "type": "isAccountBlocked"}),
            )
            .await
            .result()["isAccountBlocked"]
                .clone()
        }
    };
    assert_eq!(blocked("d3").await, "PinBlocked");
    assert_eq!(
        blocked("d1").await,
        "NotBlocked",
        "an enrolled device is within the limit"
    );
    sim.call("d3", "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            "d3",
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code}),
        )
        .await;
    assert_eq!(r.code(), 2317);
    sim.call("d3", "set", ENROLLMENT, json!({"action": "remove"}))
        .await
        .result();
    assert_eq!(blocked("d3").await, "NotBlocked");
    assert_eq!(
        sim.demo_steps("d1").await.1[1],
        "todo",
        "remove removed every enrolment"
    );
    sim.enroll_demo("d3", DEMO_PIN).await;
    assert_eq!(sim.demo_steps("d3").await.1[1], "alreadyDone");
}

#[tokio::test]
async fn pin_update_and_reset() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    // No PIN yet: nothing to update.
    let r = sim
        .call(
            dev,
            "set",
            PINCODE,
            json!({"action": "update", "oldPIN": "1234", "newPIN": "5678"}),
        )
        .await;
    assert_eq!(r.code(), 2317);
    sim.enroll_demo(dev, DEMO_PIN).await;
    let update = |old: &'static str, new: &'static str, device: &'static str| {
        let sim = &sim;
        async move {
            sim.call(
                device,
                "set",
                PINCODE,
                json!({"action": "update", "oldPIN": old, "newPIN": new}),
            )
            .await
        }
    };
    assert_eq!(
        update("1234", "5678", "phone-2").await.code(),
        2312,
        "from a device not enrolled"
    );
    assert_eq!(update("0000", "5678", dev).await.code(), 2308);
    assert_eq!(update("1234", "1234", dev).await.code(), 2315);
    assert_eq!(
        update("1234", "56", dev).await.error(),
        (400, 2102, "Invalid newPIN parameter".into())
    );
    update("1234", "5678", dev).await.result();
    assert_eq!(otp_with(&sim, dev, json!("1234")).await.code(), 2308);
    otp_with(&sim, dev, json!("5678")).await.result();

    // Forgotten PIN: block the account, then reset with an SMS code.
    for _ in 0..3 {
        otp_with(&sim, dev, json!("0000")).await;
    }
    assert_eq!(otp_with(&sim, dev, json!("5678")).await.code(), 2310);
    sim.call(dev, "get", SMS, json!({"type": "resetPIN"}))
        .await
        .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let r = sim
        .call(
            dev,
            "set",
            PINCODE,
            json!({"action": "reset", "pinCode": "5678", "smsCode": code}),
        )
        .await;
    assert_eq!(r.code(), 2315, "the new PIN equals the previous one");
    // An enrolment code does not reset a PIN.
    sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let enrol_code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    if enrol_code != code {
        let r = sim
            .call(
                dev,
                "set",
                PINCODE,
                json!({"action": "reset", "pinCode": "2468", "smsCode": enrol_code}),
            )
            .await;
        assert_eq!(r.code(), 2305);
    }
    sim.call(
        dev,
        "set",
        PINCODE,
        json!({"action": "reset", "pinCode": "2468", "smsCode": code}),
    )
    .await
    .result();
    otp_with(&sim, dev, json!("2468")).await.result();
}

#[tokio::test]
async fn phone_numbers_modify_and_enroll_with_phone_number() {
    let sim = Sim::with_scenario(without_phone()).await;
    let dev = "phone-1";
    let new_number = "+33699999999";
    // modifyPhoneNumber needs a number to modify.
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"type": "modifyPhoneNumber", "smsCode": "123456", "phoneNumber": new_number}),
        )
        .await;
    assert_eq!(r.code(), 2307);
    assert_eq!(
        sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
            .await
            .code(),
        2307
    );

    // The shortcut: phone + PIN + device in one go.
    let code = sim.certification_code(dev, DEMO_PHONE_NUMBER).await;
    sim.call(
        dev,
        "set",
        ENROLLMENT,
        json!({"action": "enrollWithPhoneNumber", "pinCode": DEMO_PIN, "smsCode": code, "phoneNumber": DEMO_PHONE_NUMBER}),
    )
    .await
    .result();
    assert_eq!(
        sim.demo_steps(dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "todo"])
    );
    // Once registered: 2390.
    let r = sim
        .call(
            dev,
            "set",
            ENROLLMENT,
            json!({"action": "enrollWithPhoneNumber", "pinCode": DEMO_PIN, "smsCode": code, "phoneNumber": DEMO_PHONE_NUMBER}),
        )
        .await;
    assert_eq!(
        r.error(),
        (200, 2390, "Phone number allready registered".into())
    );
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "addPhoneNumber", "smsCode": code, "phoneNumber": new_number}),
        )
        .await;
    assert_eq!(r.code(), 2390);

    // Modify: a code sent to the new number, from an enrolled device.
    let code = sim.certification_code(dev, new_number).await;
    let r = sim
        .call(
            "phone-2",
            "set",
            SMS,
            json!({"type": "modifyPhoneNumber", "smsCode": code, "phoneNumber": new_number}),
        )
        .await;
    assert_eq!(
        r.code(),
        2312,
        "an account with strong authentication needs an enrolled device"
    );
    sim.call(
        dev,
        "set",
        SMS,
        json!({"type": "modifyPhoneNumber", "smsCode": code, "phoneNumber": new_number}),
    )
    .await
    .result();
    let r = sim
        .call(
            dev,
            "get",
            "pims.authentication.trustedphonenumber",
            json!({}),
        )
        .await;
    assert_eq!(r.result(), &json!({"phoneNumber": new_number}));
}

#[tokio::test]
async fn car_key_status_suspension_and_reactivation() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    let r = sim.call(dev, "get", CARKEY, json!({})).await;
    assert_eq!(r.error(), (400, 2101, "Missing vin parameter".into()));
    assert_eq!(sim.call(dev, "set", CARKEY, json!({})).await.code(), 2101);
    let r = sim
        .call(dev, "set", "pims.vehicle.vin", json!({"vin": "NOTAVIN"}))
        .await;
    assert_eq!(r.error(), (400, 2102, "Invalid vin parameter".into()));
    let r = sim.call(dev, "set", "pims.vehicle.vin", json!({})).await;
    assert_eq!(r.error(), (400, 2101, "Missing vin parameter".into()));
    sim.call(dev, "set", "pims.vehicle.vin", json!({"vin": DEMO_VIN}))
        .await
        .result();
    let r = sim.call(dev, "get", CARKEY, json!({})).await;
    assert_eq!(
        r.result(),
        &json!({"isCarKeyVerified": false, "cvsStatus": "unknown"})
    );
    let r = sim.call(dev, "set", CARKEY, json!({})).await;
    assert_eq!(
        r.error(),
        (200, 2342, "Smartphone not paired with the vehicle".into())
    );

    sim.server.pair_vehicle(DEMO_VIN, dev).await.unwrap();
    // Paired with phone-1 only: phone-2 still cannot.
    sim.call(
        "phone-2",
        "set",
        "pims.vehicle.vin",
        json!({"vin": DEMO_VIN}),
    )
    .await
    .result();
    assert_eq!(
        sim.call("phone-2", "set", CARKEY, json!({})).await.code(),
        2342
    );
    sim.call(dev, "set", CARKEY, json!({})).await.result();
    // v2.0-2.2 passed the vin to get: accepted.
    let r = sim
        .call("phone-2", "get", CARKEY, json!({"vin": DEMO_VIN}))
        .await;
    assert_eq!(
        r.result(),
        &json!({"isCarKeyVerified": true, "cvsStatus": "active"})
    );
    assert_eq!(sim.demo_steps(dev).await.1[2], "alreadyDone");

    let (status, suspended) = sim
        .admin("POST", &format!("/admin/carkeys/{DEMO_VIN}/suspend"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(suspended["cvsStatus"], "suspended");
    assert_eq!(suspended["accounts"], json!(["demo"]));
    let r = sim.call(dev, "get", CARKEY, json!({})).await;
    assert_eq!(r.result()["cvsStatus"], "suspended");
    assert_eq!(
        r.result()["maxReactivationDate"],
        suspended["maxReactivationDate"]
    );
    assert_eq!(
        sim.demo_steps(dev).await.1[2],
        "todo",
        "the backend says todo again"
    );
    sim.call(dev, "set", CARKEY, json!({})).await.result();
    assert_eq!(sim.demo_steps(dev).await.1[2], "alreadyDone");
}

/// The demo account's wrong-PIN counter and block, as `GET /admin/state` shows them.
async fn pin_counter(sim: &Sim) -> (u64, String) {
    let (status, state) = sim.admin("GET", "/admin/state", None).await;
    assert_eq!(status, 200, "{state}");
    let account = &state["accounts"][0];
    (
        account["wrongPinCount"].as_u64().unwrap(),
        account["blocked"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_malformed_pin_is_2102_in_every_api_and_never_counts_as_an_attempt() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    sim.enroll_demo(dev, DEMO_PIN).await;
    let not_counted = (0, "NotBlocked".to_owned());
    // 3 and 9 digits, as strings and as integers: more typos than it takes to block.
    let typos = [
        json!("123"),
        json!("123456789"),
        json!(123),
        json!(123456789),
    ];
    for pin in &typos {
        let r = otp_with(&sim, dev, pin.clone()).await;
        assert_eq!(
            r.error(),
            (400, 2102, "Invalid pinCode parameter".into()),
            "{pin}"
        );
        assert_eq!(pin_counter(&sim).await, not_counted, "OTP {pin}");
    }
    // Even on the operation that takes no PIN: one rule, whatever the API.
    let r = sim
        .call(
            dev,
            "get",
            OTP,
            json!({"action": "withoutPIN", "pinCode": "123"}),
        )
        .await;
    assert_eq!(r.error().1, 2102);

    // PIN update: a typo in oldPIN or newPIN.
    for (old, new, field) in [
        (json!("123"), json!("5678"), "oldPIN"),
        (json!(123456789), json!("5678"), "oldPIN"),
        (json!(DEMO_PIN), json!("567"), "newPIN"),
        (json!(DEMO_PIN), json!("567891234"), "newPIN"),
    ] {
        let r = sim
            .call(
                dev,
                "set",
                PINCODE,
                json!({"action": "update", "oldPIN": old, "newPIN": new}),
            )
            .await;
        assert_eq!(r.error(), (400, 2102, format!("Invalid {field} parameter")));
        assert_eq!(pin_counter(&sim).await, not_counted, "update {field}");
    }

    // Enrolment of a second device and PIN reset, with a valid pending SMS code: the typo is
    // refused before the code is looked at, so the code stays usable.
    sim.call("phone-2", "get", SMS, json!({"type": "enrollment"}))
        .await
        .result();
    let enrol_code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    for pin in &typos {
        let r = sim
            .call(
                "phone-2",
                "set",
                ENROLLMENT,
                json!({"action": "enroll", "pinCode": pin, "smsCode": enrol_code}),
            )
            .await;
        assert_eq!(r.error(), (400, 2102, "Invalid pinCode parameter".into()));
        assert_eq!(pin_counter(&sim).await, not_counted, "enroll {pin}");
    }
    sim.call(
        "phone-2",
        "set",
        ENROLLMENT,
        json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": enrol_code}),
    )
    .await
    .result();
    sim.call(dev, "get", SMS, json!({"type": "resetPIN"}))
        .await
        .result();
    let reset_code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    for pin in &typos {
        let r = sim
            .call(
                dev,
                "set",
                PINCODE,
                json!({"action": "reset", "pinCode": pin, "smsCode": reset_code}),
            )
            .await;
        assert_eq!(r.error(), (400, 2102, "Invalid pinCode parameter".into()));
    }
    assert_eq!(pin_counter(&sim).await, not_counted);
    // After all those typos the account is not blocked: the right PIN works.
    otp_with(&sim, dev, json!(DEMO_PIN)).await.result();
    sim.call(
        dev,
        "set",
        PINCODE,
        json!({"action": "reset", "pinCode": "86420", "smsCode": reset_code}),
    )
    .await
    .result();
    otp_with(&sim, "phone-2", json!("86420")).await.result();
}

#[tokio::test]
async fn sms_codes_and_phone_numbers_follow_the_one_rule() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    // SMS codes: 4 to 10 digits are read (a code the simulator did not send is then 2305).
    for (code, expected) in [
        (json!("1234"), 2305),
        (json!("1234567890"), 2305),
        (json!(1234567890u64), 2305),
        (json!("123"), 2102),
        (json!("12345678901"), 2102),
    ] {
        sim.call(dev, "get", SMS, json!({"type": "enrollment"}))
            .await
            .result();
        let r = sim
            .call(
                dev,
                "set",
                SMS,
                json!({"action": "enrollment", "smsCode": code}),
            )
            .await;
        assert_eq!(r.code(), expected, "{code}");
    }
    // Phone numbers: a country code never starts with 0.
    let r = sim
        .call(
            dev,
            "get",
            SMS,
            json!({"type": "phoneNumberCertification", "phoneNumber": "+033612345678"}),
        )
        .await;
    assert_eq!(
        r.error(),
        (400, 2102, "Invalid phoneNumber parameter".into())
    );
}

#[tokio::test]
async fn activation_parameters_are_validated() {
    let sim = Sim::start().await;
    let cases = [
        (
            "get",
            ACCOUNT,
            json!({"type": "isDeviceActivated"}),
            2101,
            "Missing actionType parameter",
        ),
        (
            "get",
            ACCOUNT,
            json!({"actionType": "weak", "type": "isDeviceActivated"}),
            2102,
            "Invalid actionType parameter",
        ),
        (
            "get",
            ACCOUNT,
            json!({"actionType": "strong"}),
            2101,
            "Missing type parameter",
        ),
        (
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isCool"}),
            2102,
            "Invalid type parameter",
        ),
        ("get", SMS, json!({}), 2101, "Missing type parameter"),
        (
            "get",
            SMS,
            json!({"type": 5}),
            2102,
            "Invalid type parameter",
        ),
        (
            "get",
            SMS,
            json!({"type": "phoneNumberCertification"}),
            2101,
            "Missing phoneNumber parameter",
        ),
        (
            "get",
            SMS,
            json!({"type": "phoneNumberCertification", "phoneNumber": "0612345678"}),
            2102,
            "Invalid phoneNumber parameter",
        ),
        (
            "set",
            SMS,
            json!({"smsCode": "123456"}),
            2101,
            "Missing action parameter",
        ),
        (
            "set",
            SMS,
            json!({"action": "enrollment"}),
            2101,
            "Missing smsCode parameter",
        ),
        (
            "set",
            SMS,
            json!({"action": "enrollment", "smsCode": "12ab56"}),
            2102,
            "Invalid smsCode parameter",
        ),
        (
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "smsCode": "123456"}),
            2101,
            "Missing pinCode parameter",
        ),
        (
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": "12", "smsCode": "123456"}),
            2102,
            "Invalid pinCode parameter",
        ),
        (
            "set",
            ENROLLMENT,
            json!({"action": "enroll", "pinCode": true, "smsCode": "123456"}),
            2102,
            "Invalid pinCode parameter",
        ),
        (
            "set",
            ENROLLMENT,
            json!({"action": "fly"}),
            2102,
            "Invalid action parameter",
        ),
        (
            "set",
            PINCODE,
            json!({"action": "update", "newPIN": "1234"}),
            2101,
            "Missing oldPIN parameter",
        ),
        ("get", OTP, json!({}), 2101, "Missing action parameter"),
        (
            "get",
            OTP,
            json!({"action": "withPIN"}),
            2101,
            "Missing pinCode parameter",
        ),
        (
            "get",
            OTP,
            json!({"action": "withPIN", "pinCode": "12x4"}),
            2102,
            "Invalid pinCode parameter",
        ),
    ];
    for (verb, api, params, code, label) in cases {
        let r = sim.call("phone-1", verb, api, params.clone()).await;
        assert_eq!(
            r.error(),
            (400, code, label.to_owned()),
            "{verb} {api} {params}"
        );
    }
}

#[tokio::test]
async fn each_account_sees_only_its_own_state() {
    let sim = Sim::with_scenario(support::many_accounts(2)).await;
    sim.enroll("token-0", &phone_of(0), "shared-device", "1111")
        .await;
    // Same device id, other account: not enrolled for it.
    let r = sim
        .call_as(
            Some("token-1"),
            Some("shared-device"),
            "get",
            ACCOUNT,
            json!({"actionType": "strong", "type": "isDeviceActivated"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"isDeviceActivated": false}));
    let r = sim
        .call_as(
            Some(DEMO_TOKEN),
            Some("shared-device"),
            "get",
            "pims.authentication.trustedphonenumber",
            json!({}),
        )
        .await;
    assert_eq!(r.result(), &json!({"phoneNumber": DEMO_PHONE_NUMBER}));
}
