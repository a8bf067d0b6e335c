//! Secrets off the command line: the PIN and SMS codes from the environment (`PIMS_PIN`,
//! `PIMS_SMS_CODE`) or standard input (`--pin-stdin`), never echoed; a `--url` carrying
//! credentials or a query refused without being echoed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_VIN};
use support::{Home, Run, all_bytes, all_done, contains};

const CAR: &str = "987654";
/// A PIN that appears nowhere but where it is given.
const CANARY_PIN: &str = "86420975";
/// A password and a token that appear nowhere but in the refused URL.
const CANARY_URL_SECRET: &str = "c4n4ry-url-5ecret";
const CANARY_URL_USER: &str = "c4n4ry-user";

fn assert_nowhere(runs: &[&Run], canary: &str) {
    for run in runs {
        assert!(
            !run.stdout.contains(canary),
            "{canary} on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(canary),
            "{canary} on stderr:\n{}",
            run.stderr
        );
    }
}

#[test]
fn activate_takes_the_pin_from_pims_pin_and_never_shows_it() {
    let home = Home::new();
    let out = home
        .command()
        .env("PIMS_PIN", CANARY_PIN)
        // An empty variable gives no value (the embedded simulator's outbox is read).
        .env("PIMS_SMS_CODE", "")
        .args(["activate", "--car-association-id", CAR])
        .output()
        .unwrap();
    let run = Run::from_output(out).expect(0);
    assert_eq!(run.statuses(), all_done(), "{}", run.stdout);
    // The help names the variable, never its value.
    let help = Run::from_output(
        home.command()
            .env("PIMS_PIN", CANARY_PIN)
            .env("PIMS_SMS_CODE", CANARY_PIN)
            .args(["activate", "--help"])
            .output()
            .unwrap(),
    )
    .expect(0);
    assert!(help.stdout.contains("[env: PIMS_PIN]"), "{}", help.stdout);
    assert!(
        help.stdout.contains("[env: PIMS_SMS_CODE]"),
        "{}",
        help.stdout
    );
    assert!(
        help.stdout.contains("visible to other local users"),
        "--pin is said to be visible: {}",
        help.stdout
    );
    // A malformed PIN from the environment is named by its source, not echoed.
    let bad = Run::from_output(
        home.command()
            .env("PIMS_PIN", "8642097531")
            .args(["activate", "--car-association-id", CAR])
            .output()
            .unwrap(),
    )
    .expect(2);
    assert!(bad.stderr.contains("(PIMS_PIN)"), "{}", bad.stderr);
    assert_nowhere(&[&run, &help, &bad], CANARY_PIN);
    assert_nowhere(&[&bad], "8642097531");
    for (path, bytes) in all_bytes(&home.path().join("cache")) {
        assert!(!contains(&bytes, CANARY_PIN), "PIN in {}", path.display());
    }
}

#[test]
fn activate_reads_the_pin_from_standard_input() {
    let home = Home::new();
    let stdin = |input: &str, extra: &[&str]| {
        let mut args = vec!["activate", "--car-association-id", CAR, "--pin-stdin"];
        args.extend_from_slice(extra);
        Run::from_output(
            home.command()
                .env("PIMS_PIN", "12")
                .args(&args)
                .write_stdin(input)
                .output()
                .unwrap(),
        )
    };
    // Refused before anything is opened: empty, malformed (not echoed), given twice.
    let empty = stdin("", &[]).expect(2);
    assert!(
        empty.stderr.contains("standard input holds no PIN"),
        "{}",
        empty.stderr
    );
    let bad = stdin("12a4\n", &[]).expect(2);
    assert!(bad.stderr.contains("(--pin-stdin)"), "{}", bad.stderr);
    assert!(!bad.stderr.contains("12a4"), "{}", bad.stderr);
    let twice = stdin("1234\n", &["--pin", "1234"]).expect(2);
    assert!(
        twice.stderr.contains("give the PIN once"),
        "{}",
        twice.stderr
    );
    assert!(!home.file("sim-state.json").exists());
    // A PIN on standard input replaces PIMS_PIN's (12, malformed, would be refused).
    let run = stdin(&format!("{CANARY_PIN}\n"), &[]).expect(0);
    assert_eq!(run.statuses(), all_done(), "{}", run.stdout);
    assert_nowhere(&[&run], CANARY_PIN);
}

#[test]
fn a_phone_number_the_simulator_refuses_is_refused_first() {
    let home = Home::new();
    // A country code never starts with 0 (the shared format rule).
    let run = home
        .run(&[
            "activate",
            "--car-association-id",
            CAR,
            "--phone",
            "+033612345678",
        ])
        .expect(2);
    assert!(run.stderr.contains("not starting with 0"), "{}", run.stderr);
    assert!(!home.file("sim-state.json").exists());
}

#[test]
fn remote_activation_takes_pims_pin_and_pims_sms_code() {
    let (rt, sim) = support::in_process_sim(None);
    let url = sim.base_url();
    let home = Home::new();
    let activate = |sms_code: Option<&str>| {
        let mut c = home.command();
        c.env("PIMS_TOKEN", pims_sim::DEMO_TOKEN)
            .env("PIMS_PIN", CANARY_PIN)
            .args([
                "--url",
                url.as_str(),
                "activate",
                "--car-association-id",
                CAR,
            ])
            .args(["--vin", DEMO_VIN]);
        if let Some(code) = sms_code {
            c.env("PIMS_SMS_CODE", code);
        }
        Run::from_output(c.output().unwrap())
    };
    let first = activate(None).expect(2);
    assert!(
        first
            .stderr
            .contains("run the same command again with the code in PIMS_SMS_CODE"),
        "{}",
        first.stderr
    );
    let code = sim
        .latest_sms_code(DEMO_PHONE_NUMBER)
        .expect("an SMS was sent");
    let second = activate(Some(code.expose())).expect(1);
    assert!(
        second.stdout.contains("this device is enrolled"),
        "{}",
        second.stdout
    );
    // Not paired yet: the requirements are told, the VIN masked as everywhere on screen.
    assert!(second.stdout.contains("Bluetooth"), "{}", second.stdout);
    assert!(
        second.stdout.contains("**************890"),
        "{}",
        second.stdout
    );
    for canary in [CANARY_PIN, code.expose(), DEMO_VIN] {
        assert_nowhere(&[&first, &second], canary);
    }
    assert_nowhere(&[&first, &second], DEMO_PHONE_NUMBER);
    rt.block_on(sim.shutdown());
}

#[test]
fn a_url_with_credentials_or_a_query_is_refused_unechoed() {
    let home = Home::new();
    let urls = [
        format!("http://{CANARY_URL_USER}:{CANARY_URL_SECRET}@127.0.0.1:9"),
        format!("https://{CANARY_URL_SECRET}@api.example.com"),
        format!("http://127.0.0.1:9/?token={CANARY_URL_SECRET}"),
        format!("https://api.example.com/pims#{CANARY_URL_SECRET}"),
    ];
    let mut runs = Vec::new();
    for url in &urls {
        for command in [
            &["steps", "--car-association-id", CAR][..],
            &["cache", "show"],
            &["sim", "reset"],
            &["-vvv", "--json", "next-step", "--steps-id", "1"],
        ] {
            let mut args = vec!["--url", url.as_str(), "--token", "t"];
            args.extend_from_slice(command);
            let run = home.run(&args).expect(2);
            assert!(
                run.stderr.starts_with("pims: --url "),
                "{url} {command:?}: {}",
                run.stderr
            );
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            runs.push(run);
        }
    }
    assert!(runs[0].stderr.contains("credentials"), "{}", runs[0].stderr);
    assert!(
        runs[0].stderr.contains("--token TOKEN or PIMS_TOKEN"),
        "says where the token goes: {}",
        runs[0].stderr
    );
    assert!(runs[8].stderr.contains("query"), "{}", runs[8].stderr);
    let refs: Vec<&Run> = runs.iter().collect();
    assert_nowhere(&refs, CANARY_URL_SECRET);
    assert_nowhere(&refs, CANARY_URL_USER);
    // Refused before the home was opened.
    assert!(!home.file("pims.lock").exists());
    assert!(!home.file("cache").exists());
}

#[test]
fn call_reads_secrets_from_standard_input_and_warns_about_the_command_line() {
    let (rt, sim) = support::in_process_sim(None);
    let home = Home::new();
    let url = sim.base_url();
    support::enrol_home_device(&rt, &sim, &home);
    let otp = |pin_arg: &str, stdin: &str| {
        let out = home
            .command()
            .args([
                "--url",
                url.as_str(),
                "--token",
                pims_sim::DEMO_TOKEN,
                "call",
                "get",
                "pims.authentication.otp",
                "action=withPIN",
                pin_arg,
            ])
            .write_stdin(stdin)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // From standard input: the OTP comes back, the PIN shows nowhere, no warning.
    let (code, stdout, stderr) = otp("pinCode=-", "1234\n");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("1234") && !stderr.contains("1234"));
    assert!(!stderr.contains("other local users"), "{stderr}");
    // A malformed one read that way is refused before sending, as on the command line.
    let (code, _, stderr) = otp("pinCode=-", "123\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("Invalid pinCode parameter"), "{stderr}");
    // Nothing on standard input: said, exit 2.
    let (code, _, stderr) = otp("pinCode=-", "");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("standard input"), "{stderr}");
    // On the command line it still works, with a warning saying who can read it.
    let (code, _, stderr) = otp("pinCode=1234", "");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("other local users"), "{stderr}");
    assert!(stderr.contains("pinCode=-"), "{stderr}");
    let help = home.run(&["call", "--help"]).expect(0);
    assert!(help.stdout.contains("KEY=-"), "{}", help.stdout);
}
