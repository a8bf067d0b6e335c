//! The error catalogue of the mobile SDK, built from `errors.tsv` (embedded at compile time).
//!
//! The data file is the single source of truth: the code never repeats a label. Named constants
//! exist for the codes the project produces itself, and a test proves each is in the file.

use std::fmt;
use std::sync::OnceLock;

/// The catalogue file, exactly as shipped in `shared/spec/errors.tsv`.
///
/// ```
/// assert!(pims_types::CATALOGUE_TSV.starts_with("code\tcategory\tlabel"));
/// ```
pub const CATALOGUE_TSV: &str = include_str!("../errors.tsv");

/// One row of the catalogue.
///
/// ```
/// let row = pims_types::ErrorCode(2302).entry().unwrap();
/// assert_eq!(row.label, "Need Strong Authentication");
/// assert!(!row.has_sub_errors);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The numeric code.
    pub code: u32,
    /// Where the error comes from.
    pub category: Category,
    /// The label template, with bracketed placeholders such as `[PARAMETER]`.
    pub label: &'static str,
    /// Whether the error may carry a `subCode` array.
    pub has_sub_errors: bool,
    /// What the user or developer should do about it.
    pub remedy: Remedy,
}

/// The category column of the catalogue.
///
/// ```
/// assert_eq!(pims_types::ErrorCode(2201).category(), Some(pims_types::Category::Output));
///
/// // `Category::as_str`
/// assert_eq!(pims_types::Category::Input.as_str(), "Input error");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// `Generic error`: facade lifecycle and dispatch.
    Generic,
    /// `Input error`: a parameter the app passed.
    Input,
    /// `Output Error`: the answer could not be obtained or read.
    Output,
    /// `Gigya error`: the identity provider.
    Gigya,
    /// `PIMS specific error`: a business error of the backend.
    PimsSpecific,
}

impl Category {
    /// The exact text of the catalogue's category column.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Generic => "Generic error",
            Category::Input => "Input error",
            Category::Output => "Output Error",
            Category::Gigya => "Gigya error",
            Category::PimsSpecific => "PIMS specific error",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Category::Generic,
            Category::Input,
            Category::Output,
            Category::Gigya,
            Category::PimsSpecific,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The remedy column of the catalogue: what to do when the error happens.
///
/// ```
/// let r = pims_types::ErrorCode(2346).remedy().unwrap();
/// assert_eq!(r, pims_types::Remedy::RestartSteps);
/// println!("{}", r.advice());
///
/// // `Remedy::as_str`
/// assert_eq!(pims_types::Remedy::ResetSteps.as_str(), "reset_steps");
/// // `Remedy::advice`
/// assert!(pims_types::Remedy::OtpThenRetry.advice().contains("OTP"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Remedy {
    /// An unexpected failure: report it with the transaction id.
    Report,
    /// The call itself is wrong: fix the API name or parameters.
    FixCall,
    /// The SDK is not configured correctly.
    FixConfiguration,
    /// A transient problem: try again later.
    RetryLater,
    /// The session is not valid: log in again.
    LoginAgain,
    /// Get an OTP with the PIN (`pims.authentication.otp` withPIN), then call the API again.
    OtpThenRetry,
    /// Request a new SMS code.
    NewSmsCode,
    /// Register a trusted phone number first.
    RegisterPhone,
    /// The user must do something (check the PIN, the car, the phone settings).
    UserAction,
    /// Update the SDK.
    UpdateSdk,
    /// Remove every enrolment of the account, then enrol again.
    RemoveEnrollments,
    /// Ask for the steps again with `resetSteps: true`.
    ResetSteps,
    /// Ask for a new list by carAssociationID: the stepsID is unknown here.
    RestartSteps,
}

impl Remedy {
    /// The identifier used in the catalogue file (`fix_call`, `reset_steps`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Report => "report",
            Remedy::FixCall => "fix_call",
            Remedy::FixConfiguration => "fix_configuration",
            Remedy::RetryLater => "retry_later",
            Remedy::LoginAgain => "login_again",
            Remedy::OtpThenRetry => "otp_then_retry",
            Remedy::NewSmsCode => "new_sms_code",
            Remedy::RegisterPhone => "register_phone",
            Remedy::UserAction => "user_action",
            Remedy::UpdateSdk => "update_sdk",
            Remedy::RemoveEnrollments => "remove_enrollments",
            Remedy::ResetSteps => "reset_steps",
            Remedy::RestartSteps => "restart_steps",
        }
    }

    /// The remedy in words, for error messages and the CLI.
    pub fn advice(self) -> &'static str {
        match self {
            Remedy::Report => {
                "unexpected failure: report it with the transaction id and the API called"
            }
            Remedy::FixCall => "the call is wrong: check the API name and its parameters",
            Remedy::FixConfiguration => {
                "the SDK is not configured for this: check the initialize parameters"
            }
            Remedy::RetryLater => "a transient problem: try again in a moment",
            Remedy::LoginAgain => "the session is not valid: log in again to get a new token",
            Remedy::OtpThenRetry => {
                "get an OTP with the PIN (pims.authentication.otp, action withPIN), then call the API again"
            }
            Remedy::NewSmsCode => "request a new SMS code, then try again with it",
            Remedy::RegisterPhone => {
                "register a trusted phone number first (pims.authentication.smscode, addPhoneNumber)"
            }
            Remedy::UserAction => {
                "the user must act: check the PIN, the phone settings or the vehicle"
            }
            Remedy::UpdateSdk => "update the SDK to a supported version",
            Remedy::RemoveEnrollments => {
                "the account is blocked: remove all enrolments (pims.authentication.enrollment, action remove), then enrol again"
            }
            Remedy::ResetSteps => {
                "the cached steps are stale: ask for the steps again with resetSteps: true and redo the ones still todo"
            }
            Remedy::RestartSteps => {
                "this device does not know that stepsID: ask for the list again by carAssociationID"
            }
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Remedy::Report,
            Remedy::FixCall,
            Remedy::FixConfiguration,
            Remedy::RetryLater,
            Remedy::LoginAgain,
            Remedy::OtpThenRetry,
            Remedy::NewSmsCode,
            Remedy::RegisterPhone,
            Remedy::UserAction,
            Remedy::UpdateSdk,
            Remedy::RemoveEnrollments,
            Remedy::ResetSteps,
            Remedy::RestartSteps,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.advice())
    }
}

/// Every row of the catalogue, in file order. Rows that fail to parse are skipped; a test proves
/// there are none.
///
/// ```
/// assert_eq!(pims_types::entries().len(), 100);
/// ```
pub fn entries() -> &'static [CatalogueEntry] {
    static ENTRIES: OnceLock<Vec<CatalogueEntry>> = OnceLock::new();
    ENTRIES.get_or_init(|| parse_catalogue(CATALOGUE_TSV).0)
}

/// Parses a catalogue file: the rows, and the numbers (1-based) of the lines that were not rows.
fn parse_catalogue(text: &'static str) -> (Vec<CatalogueEntry>, Vec<usize>) {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line) {
            Some(row) => rows.push(row),
            None => bad.push(index + 1),
        }
    }
    (rows, bad)
}

fn parse_row(line: &'static str) -> Option<CatalogueEntry> {
    let mut cols = line.split('\t');
    let code = cols.next()?.trim().parse().ok()?;
    let category = Category::parse(cols.next()?.trim())?;
    let label = cols.next()?;
    let has_sub_errors = match cols.next()?.trim() {
        "yes" => true,
        "no" => false,
        _ => return None,
    };
    let remedy = Remedy::parse(cols.next()?.trim())?;
    if cols.next().is_some() {
        return None;
    }
    Some(CatalogueEntry {
        code,
        category,
        label,
        has_sub_errors,
        remedy,
    })
}

/// An error code of the mobile SDK. Codes outside the catalogue are kept as they are (a newer
/// backend may send them): their `entry()` is `None` and they pass through untouched.
///
/// ```
/// use pims_types::ErrorCode;
/// assert_eq!(ErrorCode::DEVICE_DISABLED.label(), Some("inwebo: device is disabled or unknown"));
/// assert_eq!(ErrorCode(9999).label(), None);
///
/// // `ErrorCode::entry`
/// {
///     use pims_types::ErrorCode;
///     assert!(ErrorCode(2346).entry().is_some());
///     assert!(ErrorCode(9999).entry().is_none());
/// }
/// // `ErrorCode::as_u32`
/// assert_eq!(pims_types::ErrorCode::TIMEOUT.as_u32(), 2201);
/// // `ErrorCode::is_known`
/// assert!(pims_types::ErrorCode(2302).is_known());
/// // `ErrorCode::category`
/// {
///     use pims_types::{Category, ErrorCode};
///     assert_eq!(ErrorCode(2102).category(), Some(Category::Input));
/// }
/// // `ErrorCode::label`
/// {
///     use pims_types::ErrorCode;
///     assert_eq!(ErrorCode(2101).label(), Some("Missing [PARAMETER] parameter"));
/// }
/// // `ErrorCode::remedy`
/// {
///     use pims_types::{ErrorCode, Remedy};
///     assert_eq!(ErrorCode(2312).remedy(), Some(Remedy::ResetSteps));
/// }
/// // `ErrorCode::has_sub_errors`
/// assert!(pims_types::ErrorCode(2204).has_sub_errors());
/// // `ErrorCode::label_with`
/// {
///     use pims_types::ErrorCode;
///     assert_eq!(ErrorCode::MISSING_PARAMETER.label_with(&["stepsID"]), "Missing stepsID parameter");
///     assert_eq!(ErrorCode::NO_STEP_FOR_STEPS_ID.label_with(&["42"]), "No Step for this stepsID 42");
///     assert_eq!(ErrorCode::TIMEOUT.label_with(&[]), "Timeout");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u32);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $name: ErrorCode = ErrorCode($value);)*
        }
        /// The named constants, for the test proving they agree with the catalogue file.
        #[cfg(test)]
        pub(crate) const NAMED: &[(&str, u32)] = &[$((stringify!($name), $value)),*];
    };
}

codes! {
    /// 2000 `Unknown error`.
    UNKNOWN = 2000;
    /// 2001 `Facade not initialized`.
    FACADE_NOT_INITIALIZED = 2001;
    /// 2002 `API not supported`.
    API_NOT_SUPPORTED = 2002;
    /// 2004 `Configuration file invalid`.
    CONFIGURATION_INVALID = 2004;
    /// 2005 `Duplicate command`.
    DUPLICATE_COMMAND = 2005;
    /// 2006 `Core not well configured`.
    CORE_NOT_CONFIGURED = 2006;
    /// 2007 `Facade already initialized`.
    FACADE_ALREADY_INITIALIZED = 2007;
    /// 2101 `Missing [PARAMETER] parameter`.
    MISSING_PARAMETER = 2101;
    /// 2102 `Invalid [PARAMETER] parameter`.
    INVALID_PARAMETER = 2102;
    /// 2201 `Timeout`.
    TIMEOUT = 2201;
    /// 2202 `Network problem : No internet`.
    NETWORK = 2202;
    /// 2203 `Invalid return [Parsing error] ou [No data] ou [invalid Data]`.
    INVALID_RETURN = 2203;
    /// 2204 `Server Error`.
    SERVER_ERROR = 2204;
    /// 2301 `Need Basic Authentication (to get CVS token)`.
    NEED_BASIC_AUTHENTICATION = 2301;
    /// 2302 `Need Strong Authentication`.
    NEED_STRONG_AUTHENTICATION = 2302;
    /// 2305 `The sms code is invalid`.
    SMS_CODE_INVALID = 2305;
    /// 2306 `The sms code is expired`.
    SMS_CODE_EXPIRED = 2306;
    /// 2307 `User dont have a phone number`.
    NO_PHONE_NUMBER = 2307;
    /// 2308 `inwebo: access refused`.
    ACCESS_REFUSED = 2308;
    /// 2310 `inwebo: account is blocked`.
    ACCOUNT_BLOCKED = 2310;
    /// 2312 `inwebo: device is disabled or unknown`.
    DEVICE_DISABLED = 2312;
    /// 2315 `inwebo: the new password equals the previous one`.
    SAME_PASSWORD = 2315;
    /// 2317 `inwebo: forbidden operation (...)`.
    FORBIDDEN_OPERATION = 2317;
    /// 2341 `[Location or Bluetooth] need to be activated on the phone`.
    LOCATION_OR_BLUETOOTH = 2341;
    /// 2342 `Smartphone not paired with the vehicle`.
    NOT_PAIRED = 2342;
    /// 2344 `[Component] not configured`.
    COMPONENT_NOT_CONFIGURED = 2344;
    /// 2346 `No Step for this stepsID [stepsID]`.
    NO_STEP_FOR_STEPS_ID = 2346;
    /// 2366 `VIN not valid for this request`.
    VIN_NOT_VALID = 2366;
    /// 2390 `Phone number allready registered`.
    PHONE_ALREADY_REGISTERED = 2390;
}

impl ErrorCode {
    /// The catalogue row of this code, or `None` for a code the catalogue does not know.
    pub fn entry(self) -> Option<&'static CatalogueEntry> {
        entries().iter().find(|e| e.code == self.0)
    }

    /// The numeric value.
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// Whether the catalogue knows this code.
    pub fn is_known(self) -> bool {
        self.entry().is_some()
    }

    /// The category, `None` for an unknown code.
    pub fn category(self) -> Option<Category> {
        self.entry().map(|e| e.category)
    }

    /// The exact label template of the catalogue (placeholders unfilled), `None` for an unknown code.
    pub fn label(self) -> Option<&'static str> {
        self.entry().map(|e| e.label)
    }

    /// The remedy, `None` for an unknown code.
    pub fn remedy(self) -> Option<Remedy> {
        self.entry().map(|e| e.remedy)
    }

    /// Whether the catalogue says this error may carry a `subCode` array.
    pub fn has_sub_errors(self) -> bool {
        self.entry().is_some_and(|e| e.has_sub_errors)
    }

    /// The label with its bracketed placeholders replaced, in order, by `values`; placeholders
    /// without a value stay as they are. An unknown code gives `Error <code>`.
    pub fn label_with(self, values: &[&str]) -> String {
        match self.label() {
            Some(template) => fill_placeholders(template, values),
            None => format!("Error {}", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for ErrorCode {
    fn from(value: u32) -> Self {
        ErrorCode(value)
    }
}

/// Replaces `[...]` placeholders of `template` in order with `values`.
fn fill_placeholders(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut values = values.iter();
    while let Some(open) = rest.find('[') {
        let Some(close_rel) = rest[open..].find(']') else {
            break;
        };
        let close = open + close_rel;
        out.push_str(&rest[..open]);
        match values.next() {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_file_is_a_row_and_there_are_100() {
        let (rows, bad) = parse_catalogue(CATALOGUE_TSV);
        assert!(bad.is_empty(), "lines that are not rows: {bad:?}");
        assert_eq!(rows.len(), 100);
        let mut codes: Vec<u32> = rows.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 100, "codes are unique");
    }

    #[test]
    fn named_constants_agree_with_the_file() {
        for (name, code) in NAMED {
            assert!(
                ErrorCode(*code).is_known(),
                "{name} = {code} is not in errors.tsv"
            );
        }
    }

    #[test]
    fn exact_labels() {
        assert_eq!(
            ErrorCode::NETWORK.label(),
            Some("Network problem : No internet")
        );
        assert_eq!(
            ErrorCode(2317).label(),
            Some(
                "inwebo: forbidden operation (due to activated state/blocked state/upgradable state)"
            )
        );
        assert_eq!(ErrorCode(2390).category(), Some(Category::PimsSpecific));
        assert_eq!(ErrorCode(2210).category(), Some(Category::Gigya));
        assert_eq!(ErrorCode(2302).remedy(), Some(Remedy::OtpThenRetry));
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            ErrorCode::INVALID_PARAMETER.label_with(&["vin"]),
            "Invalid vin parameter"
        );
        assert_eq!(
            ErrorCode(2350).label_with(&["get", "2.1"]),
            "get is deprecated since 2.1"
        );
        assert_eq!(
            ErrorCode(2350).label_with(&["get"]),
            "get is deprecated since [version]"
        );
        assert_eq!(ErrorCode(9999).label_with(&["x"]), "Error 9999");
        assert_eq!(fill_placeholders("a [b", &["x"]), "a [b");
    }

    #[test]
    fn the_errors_guide_lists_every_code_and_remedy() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
        let guide = std::fs::read_to_string(path).expect("docs/errors.md");
        for e in entries() {
            let row = format!("| {} | {} | `{}` |", e.code, e.category, e.label);
            assert!(guide.contains(&row), "docs/errors.md lacks {row}");
            let remedy = format!("| `{}` | {} |", e.remedy.as_str(), e.remedy.advice());
            assert!(guide.contains(&remedy), "docs/errors.md lacks {remedy}");
        }
    }

    #[test]
    fn matches_the_shared_spec_when_present() {
        // The crate builds from its own copy; when the shared spec sits beside the checkout, the
        // copy must be identical to it.
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/spec/errors.tsv"
        );
        if let Ok(text) = std::fs::read_to_string(spec) {
            assert_eq!(
                text, CATALOGUE_TSV,
                "crates/pims-types/errors.tsv differs from {spec}"
            );
        }
    }
}
