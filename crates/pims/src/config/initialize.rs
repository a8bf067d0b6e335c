//! The mobile SDK's `initialize` dictionary, overlaid on a [`PimsBuilder`].

use std::path::PathBuf;

use pims_types::{ErrorCode, Parameters};
use serde_json::Value;

#[cfg(feature = "http")]
use super::TransportChoice;
use super::{CacheChoice, PimsBuilder};
use crate::error::{Error, ErrorKind};

/// The `environnement` names the `initialize` dictionary accepts, and their base URLs.
/// Any `https://` URL (or `http://` on a loopback address) is accepted too.
pub const ENVIRONMENTS: &[(&str, &str)] = &[("simulator", "http://127.0.0.1:8080")];

impl PimsBuilder {
    /// Overlays the mobile SDK's `initialize` dictionary:
    /// - `environnement` (also `environment`): a name of [`ENVIRONMENTS`] or a base URL;
    /// - `mode`: `"online"` (default) or `"offlineFallback"` (steps answered from the cache on
    ///   2201/2202);
    /// - `credential`: the access token, as a string or `{"accessToken": "..."}`;
    /// - `profile`: the account namespace, as a string or `{"account": "...",
    ///   "cacheDirectory": "..."}`.
    ///
    /// Unknown keys are ignored; a bad value gives 2102 naming it.
    ///
    /// ```
    /// use pims::Parameters;
    /// let dict = Parameters::new().with("environnement", "simulator").with("mode", "fast");
    /// let e = pims::PimsBuilder::new().apply_initialize(&dict).unwrap_err();
    /// assert_eq!(e.label(), "Invalid mode parameter");
    /// ```
    pub fn apply_initialize(mut self, dict: &Parameters) -> Result<Self, Error> {
        if let Some(env) = dict.string("environnement", &["environment"])? {
            let url = ENVIRONMENTS
                .iter()
                .find(|(name, _)| *name == env)
                .map(|(_, url)| (*url).to_owned())
                .or_else(|| {
                    (env.starts_with("https://") || env.starts_with("http://")).then_some(env)
                })
                .ok_or_else(|| invalid("environnement"))?;
            #[cfg(feature = "http")]
            {
                self.transport = TransportChoice::BaseUrl(url, true);
            }
            #[cfg(not(feature = "http"))]
            return Err(Error::not_configured().with_detail(format!(
                "pims was built without its `http` feature: {url} cannot be used, give a transport"
            )));
        }
        if let Some(mode) = dict.string("mode", &[])? {
            self.policies.offline_fallback = match mode.as_str() {
                "online" => false,
                "offlineFallback" => true,
                _ => return Err(invalid("mode")),
            };
        }
        match dict.get("credential") {
            None => {}
            Some(Value::String(_)) => self.token = dict.secret("credential", &[])?,
            Some(Value::Object(map)) => {
                let inner = Parameters::from(map.clone());
                let token = inner
                    .secret("accessToken", &["token"])
                    .map_err(|_| invalid("credential"))?
                    .ok_or_else(|| invalid("credential"))?;
                self.token = Some(token);
            }
            Some(_) => return Err(invalid("credential")),
        }
        match dict.get("profile") {
            None => {}
            Some(Value::String(_)) => {
                self.account = dict.identifier("profile", &[])?.unwrap_or_default();
            }
            Some(Value::Object(map)) => {
                let inner = Parameters::from(map.clone());
                if let Some(account) = inner
                    .identifier("account", &[])
                    .map_err(|_| invalid("profile"))?
                {
                    self.account = account;
                }
                if let Some(dir) = inner
                    .string("cacheDirectory", &[])
                    .map_err(|_| invalid("profile"))?
                {
                    self.cache = CacheChoice::Dir(PathBuf::from(dir));
                }
            }
            Some(_) => return Err(invalid("profile")),
        }
        Ok(self)
    }
}

fn invalid(name: &str) -> Error {
    Error::from_code(ErrorKind::Input, ErrorCode::INVALID_PARAMETER, &[name])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dict(v: Value) -> Parameters {
        Parameters::from_value(v).unwrap()
    }

    #[test]
    #[cfg(feature = "http")]
    fn initialize_dictionary() {
        let b = PimsBuilder::new()
            .apply_initialize(&dict(json!({
                "environnement": "http://127.0.0.1:9", "mode": "offlineFallback",
                "credential": {"accessToken": "CANARY-TOKEN"},
                "profile": {"account": "u1", "cacheDirectory": "/tmp/x"}, "unknown": 1})))
            .unwrap();
        assert!(
            matches!(b.transport, TransportChoice::BaseUrl(ref u, true) if u == "http://127.0.0.1:9")
        );
        assert!(b.policies.offline_fallback);
        assert_eq!(b.account, "u1");
        assert_eq!(b.token.as_ref().map(|t| t.expose()), Some("CANARY-TOKEN"));
        assert!(!format!("{b:?}").contains("CANARY"));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (v, key) in [
            (json!({"environnement": "mars"}), "environnement"),
            (json!({"environnement": 3}), "environnement"),
            (json!({"mode": true}), "mode"),
            (json!({"credential": 5}), "credential"),
            (json!({"credential": {"accessToken": ""}}), "credential"),
            (json!({"credential": {}}), "credential"),
            (json!({"profile": []}), "profile"),
            (json!({"profile": {"account": 1.5}}), "profile"),
        ] {
            let e = PimsBuilder::new()
                .apply_initialize(&dict(v.clone()))
                .unwrap_err();
            assert_eq!(e.label(), format!("Invalid {key} parameter"), "{v}");
            assert_eq!(e.code(), ErrorCode::INVALID_PARAMETER);
        }
    }

    /// Built without `http`: a backend URL cannot be used, and says why.
    #[test]
    #[cfg(not(feature = "http"))]
    fn without_http_a_url_is_refused_with_the_reason() {
        let e = PimsBuilder::new()
            .apply_initialize(&dict(json!({"environnement": "http://127.0.0.1:9"})))
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
        assert!(e.detail().unwrap().contains("`http` feature"));
    }
}
