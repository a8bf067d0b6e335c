//! Where calls go ([`TransportChoice`]), and opening the transport it names.

use std::sync::Arc;

#[cfg(feature = "http")]
use pims_transport::StaticToken;
use pims_transport::{Checked, SharedTransport, TokenProvider};
#[cfg(feature = "http")]
use pims_types::ErrorCode;
use pims_types::Secret;

#[cfg(feature = "http")]
use super::HttpOptions;
use crate::error::Error;
#[cfg(feature = "http")]
use crate::error::ErrorKind;

/// Where calls go.
#[derive(Clone, Debug)]
pub(crate) enum TransportChoice {
    /// None configured yet (`initialize` must give `environnement`).
    Unset,
    /// The HTTP transport to this base URL; `true` when it came from the `initialize`
    /// dictionary (a refused URL is then 2102 naming `environnement`, not 2006).
    #[cfg(feature = "http")]
    BaseUrl(String, bool),
    /// A transport of the caller's.
    Custom(SharedTransport),
}

impl TransportChoice {
    /// Opens the transport this names, with the token source the builder was given (a
    /// provider first, else a fixed token). Nothing is sent yet.
    #[cfg_attr(not(feature = "http"), allow(unused_variables))]
    pub(crate) fn open(
        self,
        token: Option<Secret>,
        token_provider: Option<Arc<dyn TokenProvider>>,
        #[cfg(feature = "http")] http: &HttpOptions,
    ) -> Result<SharedTransport, Error> {
        match self {
            // The two wire checks (body size, transaction id echo) live in the transport layer:
            // HttpTransport keeps them itself, any other transport is made to.
            TransportChoice::Custom(t) => Ok(SharedTransport::new(Checked::new(t))),
            #[cfg(feature = "http")]
            TransportChoice::BaseUrl(url, from_initialize) => {
                let token = token_provider.or_else(|| {
                    token.map(|t| Arc::new(StaticToken::new(t)) as Arc<dyn TokenProvider>)
                });
                http.transport(&url, token).map_err(|e| {
                    let error = if from_initialize {
                        Error::from_code(
                            ErrorKind::Input,
                            ErrorCode::INVALID_PARAMETER,
                            &["environnement"],
                        )
                    } else {
                        Error::not_configured()
                    };
                    error.caused_by_transport(e)
                })
            }
            TransportChoice::Unset => {
                let how = if cfg!(feature = "http") {
                    "no backend: give `environnement` or a base URL or a transport"
                } else {
                    "no backend: give a transport (built without the `http` feature)"
                };
                Err(Error::not_configured().with_detail(how))
            }
        }
    }
}
