//! The Steps component: `pims.subscription.steps`, `pims.subscription.step`,
//! `pims.subscription.services`.

use pims_types::{
    ApiError, ErrorCode, NextStepQuery, Parameters, ServicesList, ServicesQuery, StepsList,
    StepsQuery, StepsSelector, filter, keys, next_step, next_step_result,
};

use super::{Answer, CallContext, Failure};

/// `get pims.subscription.steps`: the list, computed from the state, filtered.
pub(super) fn list(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let query = StepsQuery::from_parameters(params)?;
    let account = ctx.account_id();
    // resetSteps concerns the SDK's cache: the backend keeps no sticky state to wipe.
    let list = match &query.selector {
        StepsSelector::CarAssociationId(id) => {
            let association = ctx
                .model
                .association(id)
                .filter(|a| a.account_id == account)
                .ok_or_else(|| {
                    pims_types::Error::invalid(keys::CAR_ASSOCIATION_ID, "unknown car association")
                })?
                .clone();
            let (steps_id, issued) = ctx.model.issue_steps_id(&association.id, ctx.device);
            if issued {
                tracing::info!(steps_id, "stepsID issued");
            }
            ctx.changed(issued);
            ctx.model.compute_steps(&association, ctx.device, steps_id)
        }
        StepsSelector::StepsId(id) => by_steps_id(ctx, id.as_str())?,
        StepsSelector::Vin(vin) => {
            // The first request of a device names the car association; a VIN only selects a
            // list this device already has.
            let association = ctx
                .model
                .association_for_vin(&account, vin.as_str())
                .ok_or_else(|| pims_types::Error::invalid(keys::VIN, "no car association"))?;
            let steps_id = ctx
                .model
                .steps_id_for(&association.id, ctx.device)
                .ok_or_else(|| {
                    pims_types::Error::invalid(keys::VIN, "no list issued to this device yet")
                })?;
            ctx.model.compute_steps(association, ctx.device, steps_id)
        }
    };
    Ok(Some(filter(&list, query.status).to_value()))
}

/// `get pims.subscription.step`: the next step to do, or null.
pub(super) fn next(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let query = NextStepQuery::from_parameters(params)?;
    let list = by_steps_id(ctx, query.steps_id.as_str())?;
    Ok(Some(next_step_result(next_step(&list))))
}

/// `get pims.subscription.services`: the services of a vehicle (none for an unknown one).
pub(super) fn services(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let query = ServicesQuery::from_parameters(params)?;
    let services = ctx
        .model
        .vehicle_index(query.vin.as_str())
        .map(|i| ctx.model.vehicles[i].services.clone())
        .unwrap_or_default();
    let list = ServicesList { services };
    Ok(Some(
        serde_json::to_value(list).map_err(|_| ApiError::from_code(ErrorCode::UNKNOWN))?,
    ))
}

/// The list issued under a stepsID, if it was issued to this device for this account; 2346
/// otherwise.
fn by_steps_id(ctx: &CallContext<'_>, id: &str) -> Result<StepsList, Failure> {
    let unknown = || ApiError::with_values(ErrorCode::NO_STEP_FOR_STEPS_ID, &[id]);
    let steps_id: u64 = id.parse().map_err(|_| unknown())?;
    let issued = ctx.model.step_list(steps_id).ok_or_else(unknown)?;
    if issued.device_id != ctx.device {
        return Err(unknown().into());
    }
    let association = ctx
        .model
        .association(&issued.car_association_id)
        .filter(|a| a.account_id == ctx.model.accounts[ctx.account].id)
        .ok_or_else(unknown)?;
    Ok(ctx.model.compute_steps(association, ctx.device, steps_id))
}
