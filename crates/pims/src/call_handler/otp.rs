//! The OTP's two policies: the 2302 recovery (an OTP with the PIN provider's PIN, then the call
//! once more) and the 2312/2317 invalidation (an OTP refused for this device makes its cached
//! steps stale).

use pims_types::{Api, ErrorCode, Operation, OtpAction, Parameters, TransactionId, Verb, keys};
use serde_json::Value;

use super::{CallHandler, InFlightCall, timeout};
use crate::error::Error;
use crate::request::Request;

impl CallHandler {
    /// The 2302 recovery's first half: an OTP with the provider's PIN. Gives back the 2302 when
    /// the recovery does not apply: no provider, the OTP call itself, a call carrying secrets (a
    /// PIN, OTP or SMS code is never sent twice for one user action), or no PIN given.
    pub(super) async fn strong_authentication(
        &self,
        call: &InFlightCall,
        request: &Request,
        original: Error,
    ) -> Result<(), Error> {
        let Some(provider) = self.policies.pin_provider.clone() else {
            return Err(original);
        };
        if request.api == Api::Otp || request.carries_secret() {
            return Err(original);
        }
        let pin = match tokio::time::timeout_at(call.deadline, provider.pin()).await {
            Ok(Some(pin)) => pin,
            Ok(None) => return Err(original),
            Err(_) => return Err(timeout()),
        };
        tracing::info!("strong authentication needed: getting an OTP, then retrying once");
        let otp_call = InFlightCall {
            tid: TransactionId::generate(),
            deadline: call.deadline,
        };
        let otp = Request::parse(
            Verb::Get,
            Api::Otp.name(),
            OtpAction::WithPin
                .to_parameters()
                .with_secret(keys::PIN_CODE, pin.as_secret()),
        )
        .map_err(|e| e.for_call(&otp_call.tid))?;
        // A failure of the OTP call is told with the OTP's own transaction id: the one the
        // backend saw for it.
        self.serve(&otp, &otp_call)
            .await
            .map(|_| ())
            .map_err(|e| e.for_call(&otp_call.tid))
    }

    /// `pims.authentication.otp`: passed through; 2312/2317 on withPIN make the device's cached
    /// steps stale (the documented cure), so the policy drops their stickiness.
    pub(super) async fn otp(
        &self,
        params: Parameters,
        with_pin: bool,
        call: &InFlightCall,
    ) -> Result<Value, Error> {
        let result = self.pass(Verb::Get, Api::Otp, params, call).await;
        if let Err(e) = &result
            && with_pin
            && matches!(
                e.code(),
                ErrorCode::DEVICE_DISABLED | ErrorCode::FORBIDDEN_OPERATION
            )
            && self.policies.invalidate_on_device_error
        {
            tracing::warn!(
                code = %e.code(),
                "OTP refused for this device: its cached steps are stale, dropping their alreadyDone"
            );
            if let Err(err) = self.cache.invalidate_device().await {
                tracing::warn!(error = %err, "could not invalidate the cached steps");
            }
        }
        result
    }
}
