//! Delivers the completion webhook: the task object, signed (see [`crate::webhook`]). A 2xx
//! answer is delivery; anything else, or no answer, is retried by the object's backoff.
//!
//! The receiver's status is the client's to see; why it could not be reached is not (see
//! [`super::failure`]).
//!
//! Redirects are not followed: the URL was checked to be public, the `Location` of a 3xx was
//! not, and following it would let any receiver bounce the signed request into a private range.

use super::failure::{transient, Attempt, Kind};
use crate::clock::now_secs;
use crate::config::Config;
use crate::ids::TaskId;
use crate::messages::{Outcome, WebhookSpec};
use crate::webhook::{sign, validate_url, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

pub async fn deliver(config: &Config, at: Attempt<'_>, spec: &WebhookSpec) -> Outcome {
    let Some(secret) = &config.webhook_secret else {
        return Outcome::Failed { code: "unavailable".into(), message: "WEBHOOK_SECRET is not configured".into() };
    };
    // Checked again at delivery: the rules may have tightened since the task was created.
    if let Err(why) = validate_url(&spec.url, config.webhook_allow_loopback) {
        return Outcome::Failed { code: "invalid_request".into(), message: format!("webhook: {why}") };
    }
    match post(secret.bytes(), at.task, spec).await {
        Ok(status) if (200..300).contains(&status) => Outcome::Delivered,
        // Status 0 is the fetch standard's opaque redirect, should the runtime ever answer so.
        Ok(status) if status == 0 || (300..400).contains(&status) => Outcome::Transient {
            message: format!("the receiver answered {status}, a redirect: webhooks do not follow redirects, give the final URL"),
        },
        Ok(status) => Outcome::Transient { message: format!("the receiver answered {status}") },
        // The fetch error's text (addresses, resolver and TLS detail) goes to the log only.
        Err(e) => transient(Kind::Receiver, at, e),
    }
}

async fn post(secret: &[u8], task: &TaskId, spec: &WebhookSpec) -> worker::Result<u16> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("user-agent", "stellar-studio-webhook/1")?;
    headers.set(SIGNATURE_HEADER, &sign(secret, now_secs(), &spec.body))?;
    headers.set(EVENT_HEADER, &spec.event)?;
    headers.set(DELIVERY_HEADER, task.as_str())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(spec.body.clone().into())).with_redirect(RequestRedirect::Manual);
    let resp = Fetch::Request(Request::new_with_init(&spec.url, &init)?).send().await?;
    Ok(resp.status_code())
}
