//! The HTTP side: the accept loop, the route table, `POST /v1/calls`, the admin routes and the
//! OpenAPI document.

pub(crate) mod admin_bodies;
pub(crate) mod admin_handlers;
pub(crate) mod admin_schema;
pub(crate) mod call;
pub(crate) mod openapi;
pub(crate) mod reply;
pub(crate) mod router;
pub(crate) mod routes;
pub(crate) mod serve;
