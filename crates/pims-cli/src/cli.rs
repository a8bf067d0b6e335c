//! The command line, as clap parses it (derive). Every flag of the issue, plus `--vin` on
//! `activate` (the vehicle of the CarKey step when the backend is not the embedded simulator),
//! `--timeout` (the deadline of one call) and `--admin-token` on `sim serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;

/// The PIMS Service Activation Steps, from the command line.
///
/// Without --url, calls go to a backend simulator embedded in this process, whose state is kept
/// in $PIMS_HOME/sim-state.json (consecutive runs see one backend); the SDK's step cache is in
/// $PIMS_HOME/cache, or in the PostgreSQL database of --cache.
#[derive(Parser)]
#[command(
    name = "pims",
    version,
    about = "The PIMS Service Activation Steps, from the command line",
    long_about = None,
    after_help = "Exit codes: 0 SUCCEEDED, 1 a call FAILED (the error code is on stderr) or a \
                  cache operation could not be done, \
                  2 bad usage, 3 the pims home is in use by another process.\n\
                  First steps: pims steps --car-association-id 987654, then \
                  pims activate --car-association-id 987654"
)]
pub(crate) struct Cli {
    /// Options that apply to every command.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// Parses the command line (clap exits 2 on bad usage, 0 for --help and --version), noting
    /// where values came from when that matters.
    pub(crate) fn parse_args() -> Cli {
        use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Command::Activate(args) = &mut cli.command {
            let from_env = |id: &str| {
                matches
                    .subcommand_matches("activate")
                    .and_then(|m| m.value_source(id))
                    == Some(ValueSource::EnvVariable)
            };
            // An empty variable gives no value (as an empty PIMS_TOKEN).
            args.pin_from_env = from_env("pin");
            if args.pin_from_env && args.pin.as_deref() == Some("") {
                args.pin = None;
                args.pin_from_env = false;
            }
            if from_env("sms_code") && args.sms_code.as_deref() == Some("") {
                args.sms_code = None;
            }
        }
        cli
    }
}

/// Options that apply to every command (accepted before or after it).
#[derive(Args)]
pub(crate) struct Global {
    /// Backend base URL (https://, or http:// on a loopback address); default: the embedded
    /// simulator.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// Where pims keeps its cache and the embedded simulator's state [default: the platform
    /// data directory, ~/.local/share/pims on Linux].
    #[arg(long, global = true, value_name = "DIR", env = "PIMS_HOME")]
    pub(crate) home: Option<PathBuf>,
    /// Keep the SDK's step cache in this PostgreSQL database, shared with other processes (the
    /// replicas of a service), instead of $PIMS_HOME/cache: postgres://user@host:port/dbname
    /// (?sslmode=verify-full...). The password may be in the URL, PGPASSWORD or ~/.pgpass; it
    /// is never shown.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "PIMS_CACHE_URL",
        hide_env_values = true
    )]
    pub(crate) cache: Option<String>,
    /// The user's access token (required with --url; default with the embedded simulator: the
    /// demo account's).
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "PIMS_TOKEN",
        hide_env_values = true
    )]
    pub(crate) token: Option<String>,
    /// Print each answer as the SDK's message envelope, one JSON object per line.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Log to stderr: -v info, -vv debug, -vvv trace (secrets are never logged).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long, global = true)]
    pub(crate) no_color: bool,
    /// The deadline of one call to the backend, in seconds.
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub(crate) timeout: u64,
}

/// The commands.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Show the steps of a list (pims.subscription.steps).
    Steps(StepsArgs),
    /// Show the next step to do of a list (pims.subscription.step).
    NextStep(NextStepArgs),
    /// Show the connected services of a vehicle (pims.subscription.services).
    Services(ServicesArgs),
    /// Call any API of the SDK: values are read as JSON when they parse, else as strings.
    Call(CallArgs),
    /// Walk the steps of a car association to alreadyDone, resuming where a run stopped.
    Activate(ActivateArgs),
    /// Look at or empty the SDK's step cache.
    Cache {
        /// What to do with the cache.
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Run the backend simulator, or reset the embedded one.
    Sim {
        /// What to do with the simulator.
        #[command(subcommand)]
        action: SimAction,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// `pims steps`.
#[derive(Args)]
#[command(group(
    clap::ArgGroup::new("selector")
        .required(true)
        .args(["car_association_id", "steps_id", "vin"])
))]
pub(crate) struct StepsArgs {
    /// The car association (user + service + vehicle): the first request of a device.
    #[arg(long, value_name = "ID")]
    pub(crate) car_association_id: Option<String>,
    /// A stepsID this device received earlier.
    #[arg(long, value_name = "ID")]
    pub(crate) steps_id: Option<String>,
    /// The vehicle (17 characters).
    #[arg(long, value_name = "VIN")]
    pub(crate) vin: Option<String>,
    /// Only the steps with this status (applied after the merge with the cache).
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) status: StatusFilter,
    /// Wipe the cached state of this list first, and ask the backend afresh.
    #[arg(long)]
    pub(crate) reset: bool,
}

/// `--status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusFilter {
    /// Every step.
    All,
    /// The steps still to do.
    Todo,
    /// The steps already done.
    #[value(name = "alreadyDone")]
    AlreadyDone,
}

impl StatusFilter {
    /// The facade's `stepsStatus` filter.
    pub(crate) fn filter(self) -> pims::StepsStatusFilter {
        match self {
            StatusFilter::All => pims::StepsStatusFilter::All,
            StatusFilter::Todo => pims::StepsStatusFilter::Todo,
            StatusFilter::AlreadyDone => pims::StepsStatusFilter::AlreadyDone,
        }
    }
}

/// `pims next-step`.
#[derive(Args)]
pub(crate) struct NextStepArgs {
    /// A stepsID this device received earlier.
    #[arg(long, value_name = "ID")]
    pub(crate) steps_id: String,
}

/// `pims services`.
#[derive(Args)]
pub(crate) struct ServicesArgs {
    /// The vehicle (17 characters).
    #[arg(long, value_name = "VIN")]
    pub(crate) vin: String,
}

/// `pims call`.
#[derive(Args)]
#[command(
    after_help = "Secrets (pinCode, oldPIN, newPIN, smsCode): give them as KEY=- and write them \
                  on standard input, one line each in the order given (e.g. `pass show \
                  pims-pin | pims call get pims.authentication.otp action=withPIN pinCode=-`; \
                  on a terminal they are asked without echo). A value written on the command \
                  line can be read by every local user (ps, /proc/PID/cmdline) while pims runs."
)]
pub(crate) struct CallArgs {
    /// The verb.
    #[arg(value_enum)]
    pub(crate) verb: CallVerb,
    /// The API name (e.g. pims.subscription.steps).
    pub(crate) api: String,
    /// Parameters, as key=value (e.g. carAssociationID=987654 resetSteps=false); KEY=- reads
    /// the value from standard input (one line per such parameter, in order).
    #[arg(value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) params: Vec<(String, Value)>,
}

/// The verbs `pims call` accepts (subscriptions need a long-lived process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CallVerb {
    /// Read something.
    Get,
    /// Do or change something.
    Set,
}

/// `pims activate`.
#[derive(Args)]
#[command(
    after_help = "Without a terminal, give the PIN in the environment (PIMS_PIN) or on \
                  standard input (--pin-stdin, e.g. `pass show pims-pin | pims activate ... \
                  --pin-stdin`), and an SMS code in PIMS_SMS_CODE: only this user (and root) \
                  can read a process's environment. Values given with --pin or --sms-code can \
                  be read by every local user (ps, /proc/PID/cmdline) while pims runs."
)]
pub(crate) struct ActivateArgs {
    /// The car association whose steps to walk.
    #[arg(long, value_name = "ID")]
    pub(crate) car_association_id: String,
    /// The phone number to trust, when the account has none (E.164, e.g. +33612345678).
    #[arg(long, value_name = "NUMBER")]
    pub(crate) phone: Option<String>,
    /// The PIN (4 to 8 digits); asked without echo on a terminal. On the command line it is
    /// visible to other local users: prefer PIMS_PIN or --pin-stdin.
    #[arg(long, value_name = "PIN", env = "PIMS_PIN", hide_env_values = true)]
    pub(crate) pin: Option<String>,
    /// Whether `pin` came from PIMS_PIN rather than --pin (set by [`Cli::parse_args`]): a
    /// PIN read with --pin-stdin replaces the environment's, but not one given with --pin.
    #[arg(skip)]
    pub(crate) pin_from_env: bool,
    /// Read the PIN from standard input (its first line; without echo on a terminal).
    #[arg(long)]
    pub(crate) pin_stdin: bool,
    /// An SMS code already received (with --url; the embedded simulator's are read from its
    /// outbox). On the command line it is visible to other local users: prefer PIMS_SMS_CODE.
    #[arg(
        long,
        value_name = "CODE",
        env = "PIMS_SMS_CODE",
        hide_env_values = true
    )]
    pub(crate) sms_code: Option<String>,
    /// The vehicle of the CarKey step, with --url (the embedded simulator knows it).
    #[arg(long, value_name = "VIN")]
    pub(crate) vin: Option<String>,
}

/// `pims cache ...`.
#[derive(Subcommand)]
pub(crate) enum CacheAction {
    /// List the cached step lists (identifiers masked).
    Show,
    /// Empty the cache: its step lists are removed; this installation's device id is kept.
    Wipe,
}

/// `pims sim ...`.
#[derive(Subcommand)]
pub(crate) enum SimAction {
    /// Run the simulator in the foreground until Ctrl-C.
    Serve(ServeArgs),
    /// Reset the embedded simulator's state to the default scenario (the SDK cache is kept).
    Reset,
}

/// `pims sim serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0: a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// Scenario document to start from [default: the built-in demo scenario].
    #[arg(long, value_name = "FILE")]
    pub(crate) scenario: Option<PathBuf>,
    /// State file: loaded at start when it exists, written after every change [default: in
    /// memory].
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// Admin bearer token [default: random, printed at start].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PIMS_SIM_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub(crate) admin_token: Option<String>,
}

/// The shells `pims completions` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `key=value`: the value as JSON when it parses, else as a string.
fn parse_key_value(arg: &str) -> Result<(String, Value), String> {
    let Some((key, raw)) = arg.split_once('=') else {
        return Err("expected KEY=VALUE (e.g. carAssociationID=987654)".into());
    };
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return Err("the key before '=' must be a parameter name without spaces".into());
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use serde_json::json;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_are_json_when_they_parse() {
        assert_eq!(
            parse_key_value("carAssociationID=987654").unwrap(),
            ("carAssociationID".into(), json!(987654))
        );
        assert_eq!(parse_key_value("resetSteps=false").unwrap().1, json!(false));
        assert_eq!(parse_key_value("pinCode=0123").unwrap().1, json!("0123"));
        assert_eq!(
            parse_key_value("phoneNumber=+33612345678").unwrap().1,
            json!("+33612345678")
        );
        assert_eq!(parse_key_value("a={\"b\":1}").unwrap().1, json!({"b": 1}));
        assert_eq!(parse_key_value("label=a=b").unwrap().1, json!("a=b"));
        assert_eq!(parse_key_value("empty=").unwrap().1, json!(""));
    }

    #[test]
    fn malformed_pairs_are_refused() {
        for bad in ["novalue", "=1", "a b=1"] {
            assert!(parse_key_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selectors_conflict() {
        let r = Cli::try_parse_from([
            "pims",
            "steps",
            "--car-association-id",
            "1",
            "--steps-id",
            "2",
        ]);
        assert!(r.is_err());
        let r = Cli::try_parse_from(["pims", "steps"]);
        assert!(r.is_err());
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli =
            Cli::try_parse_from(["pims", "steps", "--vin", "VR1AB12C3D4567890", "--json"]).unwrap();
        assert!(cli.global.json);
        let cli = Cli::try_parse_from(["pims", "-vv", "sim", "reset"]).unwrap();
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn status_values_are_the_wire_ones() {
        let cli = Cli::try_parse_from([
            "pims",
            "steps",
            "--steps-id",
            "1",
            "--status",
            "alreadyDone",
        ])
        .unwrap();
        let Command::Steps(args) = cli.command else {
            panic!("not steps")
        };
        assert_eq!(args.status.filter().as_str(), "alreadyDone");
    }
}
