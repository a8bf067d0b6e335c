//! Namespaces: every cached list belongs to one (account, device) pair, and no lookup crosses
//! pairs.

use std::fmt;

use pims_types::{StepsId, StepsSelector, Vin};

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys;

/// Longest account id accepted.
pub const MAX_ACCOUNT_LEN: usize = 256;

/// The (account, device) pair a cached list is bound to. Lists cached under one namespace are
/// invisible from every other: a stepsID is only meaningful on the device that received it,
/// and one cache database may serve many accounts.
///
/// ```
/// use pims_cache::{DeviceId, Namespace};
/// let ns = Namespace::new("user@example.com", DeviceId::parse("phone-1").unwrap()).unwrap();
/// assert_eq!(ns.account(), "user@example.com");
/// assert_eq!(ns.device().as_str(), "phone-1");
/// // Debug output masks the account (it may be an e-mail address).
/// assert!(!format!("{ns:?}").contains("user@example"));
/// assert!(Namespace::new("", DeviceId::parse("d").unwrap()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    account: String,
    device: DeviceId,
    /// The encoded (account, device) segments every key of this namespace carries.
    prefix: Vec<u8>,
}

impl Namespace {
    /// A namespace; the account id must be 1 to 256 bytes without control characters.
    ///
    /// ```
    /// let d = pims_cache::DeviceId::parse("d").unwrap();
    /// assert!(pims_cache::Namespace::new("a\nb", d).is_err());
    /// ```
    pub fn new(account: impl Into<String>, device: DeviceId) -> Result<Namespace, CacheError> {
        let account = account.into();
        Namespace::check_account(&account)?;
        let mut prefix = Vec::with_capacity(4 + account.len() + device.as_str().len());
        keys::push_segment(&mut prefix, account.as_bytes());
        keys::push_segment(&mut prefix, device.as_str().as_bytes());
        Ok(Namespace {
            account,
            device,
            prefix,
        })
    }

    /// Checks an account id without making a namespace (before the device id is known):
    /// 1 to 256 bytes, no control characters.
    ///
    /// ```
    /// assert!(pims_cache::Namespace::check_account("user-1").is_ok());
    /// assert!(pims_cache::Namespace::check_account("").is_err());
    /// ```
    pub fn check_account(account: &str) -> Result<(), CacheError> {
        if account.is_empty() || account.len() > MAX_ACCOUNT_LEN {
            return Err(CacheError::invalid(
                "account",
                format!("expected 1 to {MAX_ACCOUNT_LEN} bytes"),
            ));
        }
        if account.chars().any(char::is_control) {
            return Err(CacheError::invalid(
                "account",
                "control characters are not allowed",
            ));
        }
        Ok(())
    }

    /// The account id.
    ///
    /// ```
    /// let ns = pims_cache::Namespace::new("a", pims_cache::DeviceId::parse("d").unwrap()).unwrap();
    /// assert_eq!(ns.account(), "a");
    /// ```
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The device id.
    ///
    /// ```
    /// let ns = pims_cache::Namespace::new("a", pims_cache::DeviceId::parse("d").unwrap()).unwrap();
    /// assert_eq!(ns.device().as_str(), "d");
    /// ```
    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("account", &pims_types::mask(&self.account))
            .field("device", &self.device)
            .finish()
    }
}

/// Every identifier the caller knows for the list it is merging: a list is one record
/// reachable by its carAssociationID, its stepsID and its VIN.
///
/// The stepsID always comes from the list itself (every answer carries one); give it here too
/// when the request named it, and `merge` checks that the answer matches. Fetching by
/// carAssociationID: give the carAssociationID; by VIN: the VIN; by stepsID: nothing more.
///
/// ```
/// use pims_cache::ListKeys;
/// use pims_types::StepsSelector;
/// let keys = ListKeys::from(&StepsSelector::car_association_id("987654").unwrap());
/// assert_eq!(keys.car_association_id.as_deref(), Some("987654"));
/// let keys = ListKeys::new().with_vin(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap());
/// assert!(keys.car_association_id.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListKeys {
    /// The carAssociationID the list was asked by.
    pub car_association_id: Option<String>,
    /// The stepsID the list was asked by.
    pub steps_id: Option<StepsId>,
    /// The VIN the list was asked by.
    pub vin: Option<Vin>,
}

impl ListKeys {
    /// No identifier besides the list's own stepsID.
    ///
    /// ```
    /// assert_eq!(pims_cache::ListKeys::new(), pims_cache::ListKeys::default());
    /// ```
    pub fn new() -> Self {
        ListKeys::default()
    }

    /// The keys a request's selector names.
    ///
    /// ```
    /// use pims_types::StepsSelector;
    /// let k = pims_cache::ListKeys::from_selector(&StepsSelector::steps_id("132324").unwrap());
    /// assert_eq!(k.steps_id.unwrap().as_str(), "132324");
    /// ```
    pub fn from_selector(selector: &StepsSelector) -> Self {
        match selector {
            StepsSelector::CarAssociationId(c) => ListKeys::new().with_car_association_id(c),
            StepsSelector::StepsId(s) => ListKeys::new().with_steps_id(s.clone()),
            StepsSelector::Vin(v) => ListKeys::new().with_vin(v.clone()),
        }
    }

    /// With a carAssociationID.
    ///
    /// ```
    /// let k = pims_cache::ListKeys::new().with_car_association_id("1");
    /// assert_eq!(k.car_association_id.as_deref(), Some("1"));
    /// ```
    pub fn with_car_association_id(mut self, id: impl Into<String>) -> Self {
        self.car_association_id = Some(id.into());
        self
    }

    /// With a stepsID.
    ///
    /// ```
    /// let k = pims_cache::ListKeys::new().with_steps_id(pims_types::StepsId::number(7));
    /// assert_eq!(k.steps_id.unwrap().as_str(), "7");
    /// ```
    pub fn with_steps_id(mut self, id: StepsId) -> Self {
        self.steps_id = Some(id);
        self
    }

    /// With a VIN.
    ///
    /// ```
    /// let k = pims_cache::ListKeys::new().with_vin(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap());
    /// assert!(k.vin.is_some());
    /// ```
    pub fn with_vin(mut self, vin: Vin) -> Self {
        self.vin = Some(vin);
        self
    }

    /// The carAssociationID and VIN as index links.
    pub(crate) fn links(&self) -> Vec<keys::Link> {
        let mut links = Vec::with_capacity(2);
        if let Some(car) = &self.car_association_id {
            links.push(keys::Link::Car(car.clone()));
        }
        if let Some(vin) = &self.vin {
            links.push(keys::Link::Vin(vin.clone()));
        }
        links
    }

    /// Refuses a carAssociationID the request parameter would refuse (the VIN is valid by
    /// type). Checked before anything is written.
    pub(crate) fn validate(&self) -> Result<(), CacheError> {
        if let Some(car) = &self.car_association_id
            && StepsSelector::car_association_id(car.as_str()).is_err()
        {
            return Err(CacheError::invalid(
                "carAssociationID",
                "expected the identifier rules of the carAssociationID parameter",
            ));
        }
        Ok(())
    }
}

impl From<&StepsSelector> for ListKeys {
    fn from(selector: &StepsSelector) -> Self {
        ListKeys::from_selector(selector)
    }
}
