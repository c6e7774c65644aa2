//! `GET /images/{id}/render`: an image rendered on request, for `<img src>`. Edge cache first
//! (alone: the image's record is read after a miss), then the derived store or a render coalesced
//! with any other request for the same rendition in this isolate; the copies a miss leaves for
//! the next request are written after the answer (`render::after`).

use super::error::{ApiError, ApiResult};
use super::gate::{admit, charge_work, identify_signed, Access};
use super::task_request::result_key;
use super::{param, query_pairs, Ctx};
use crate::ids::{ImageId, TenantId};
use crate::ratelimit::deferred;
use crate::ratelimit::object::LimitError;
use crate::ratelimit::Cost;
use crate::render::after::Writes;
use crate::render::edge::{self, EdgeKey};
use crate::render::flight::{self, Seat};
use crate::render::negotiate::{negotiated_chain, AcceptClass};
use crate::render::options::RenderOptions;
use crate::render::produce::{self, Job, RenderFailure, Rendition, Spent};
use crate::storage::{ImageRecord, Images, StorageResult};
use futures_util::future::join;
use sha2::{Digest, Sha256};
use worker::{Headers, Request, Response};

/// The signed link's own query parameters: not render options.
const LINK_KEYS: [&str; 3] = ["exp", "sub", "sig"];

impl From<RenderFailure> for ApiError {
    fn from(e: RenderFailure) -> Self {
        match e {
            RenderFailure::Image(e) => e.into(),
            RenderFailure::RateLimited(seconds) => ApiError::RateLimited(seconds),
            RenderFailure::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// What a render link grants: the path with the canonical options.
pub fn resource(image: &ImageId, options: &RenderOptions) -> String {
    match options.canonical() {
        c if c.is_empty() => format!("/images/{image}/render"),
        c => format!("/images/{image}/render?{c}"),
    }
}

/// Where the answer came from (`Stellar-Cache`).
#[derive(Clone, Copy)]
enum Source {
    Edge,
    Store,
    Miss,
}

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let image = ImageId::parse(param(&ctx, "id")?)?;
    let options = options_of(&req, &ctx).await?;
    let (tenant, access) = identify_signed(&req, &ctx, &resource(&image, &options))?;
    let class = options.negotiates().then(|| AcceptClass::of(req.headers().get("accept").ok().flatten().as_deref()));
    let origin = req.url()?.origin().ascii_serialization();
    let key = EdgeKey::new(&origin, &tenant, &image, &options.canonical(), class);
    let if_none_match = req.headers().get("if-none-match")?;
    let answer = Answer { access, negotiated: class.is_some(), if_none_match: if_none_match.as_deref() };
    let record = match edge_or_record(&ctx, &tenant, &image, (!skips_edge(&req, &ctx)).then_some(&key)).await? {
        Ok(hit) => return answer.cached(hit),
        Err(record) => record,
    };
    // Behind the edge the read is charged while the rendition is looked for; a refusal answers
    // 429 (also for an image that does not exist: probing costs like reading).
    let wanted = Wanted { tenant: &tenant, image: &image, options: &options, class, origin: &origin, key };
    let (charged, answered) = join(charge_work(&ctx, &tenant, Cost::Read), behind(&ctx, &wanted, record, &answer)).await;
    charged?;
    answered
}

/// What a request behind the edge asks for.
struct Wanted<'a> {
    tenant: &'a TenantId,
    image: &'a ImageId,
    options: &'a RenderOptions,
    class: Option<AcceptClass>,
    origin: &'a str,
    key: EdgeKey,
}

/// The answer from the derived store or a render, for the image's `record`.
async fn behind(ctx: &Ctx, wanted: &Wanted<'_>, record: StorageResult<ImageRecord>, answer: &Answer<'_>) -> ApiResult<Response> {
    let record = record?;
    let images = Images::new(&ctx.env)?;
    let class = wanted.class.unwrap_or(AcceptClass::Basic);
    let chain = negotiated_chain(wanted.options, class, record.format, (record.width, record.height))?;
    let result_key = result_key(&record.sha256, &chain);
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(result_key.as_bytes())[..16]));
    if answer.not_modified(&etag) {
        return answer.build(None, &etag, "", Source::Store);
    }
    let aux = images.aux_originals(wanted.tenant, &chain).await?;
    let (config, bucket) = (&ctx.data.config, images.bucket());
    let job = Job { bucket, config, tenant: wanted.tenant, record: &record, chain: &chain, result_key: &result_key, aux };
    let rendition = obtain(ctx, &job, wanted, &etag).await?;
    let source = if rendition.rendered { Source::Miss } else { Source::Store };
    answer.build(Some(&rendition.bytes), &etag, &rendition.content_type, source)
}

/// The edge's copy, or the image's record for the levels behind it. The record is read only
/// after the edge missed: read beside the lookup it saved a store hit or a miss a round trip
/// (~1 ms here), but cost every edge hit, the common case, an R2 read the platform bills, and
/// under `wrangler dev` held the hit's answer until that read ended (edge hit 7.7 → 6.7 ms,
/// store hit 7.9 → 8.6 ms, A/B on two servers). An edge hit's read is charged after its answer,
/// summed with this isolate's other hits of the tenant (`ratelimit::deferred`: counted, never
/// refused, the hit cost the studio nothing); behind the edge it is charged beside the store's
/// lookup ([`get`]).
async fn edge_or_record(
    ctx: &Ctx,
    tenant: &TenantId,
    image: &ImageId,
    key: Option<&EdgeKey>,
) -> ApiResult<Result<edge::Cached, StorageResult<ImageRecord>>> {
    let images = Images::new(&ctx.env)?;
    let Some(key) = key else { return Ok(Err(images.get_record(tenant, image).await)) };
    let hit = match edge::lookup(key).await? {
        Some(hit) => hit,
        None => return Ok(Err(images.get_record(tenant, image).await)),
    };
    let per_minute = ctx.data.config.rate_limit_per_minute;
    deferred::charge_soon(&ctx.data.background, &ctx.env, tenant, Cost::Read.tokens(), per_minute);
    Ok(Ok(hit))
}

/// Whether a benchmark asks to measure the levels behind the edge cache (`bench/render.mjs`):
/// honoured only where the dev-only bench routes are on (`BENCH_ROUTES=1`, never deployed).
fn skips_edge(req: &Request, ctx: &Ctx) -> bool {
    let bench = ctx.env.var("BENCH_ROUTES").is_ok_and(|v| v.to_string() == "1");
    bench && req.headers().get("stellar-bench-skip-edge").ok().flatten().is_some()
}

/// The request's render options; a refusal comes after the caller is identified, so a
/// stranger learns nothing, not even that an option is bad (no link can be valid for options
/// that do not parse, so a token is required then).
async fn options_of(req: &Request, ctx: &Ctx) -> ApiResult<RenderOptions> {
    let pairs = query_pairs(req)?;
    let parsed =
        RenderOptions::parse(pairs.iter().filter(|(k, _)| !LINK_KEYS.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v.as_str())));
    match parsed {
        Ok(options) => Ok(options),
        Err(e) => {
            admit(req, ctx, Cost::Read).await?;
            Err(e.into())
        }
    }
}

/// The rendition from the store, or rendered once however many requests ask at the same time.
/// The leader answers as soon as it has the bytes; its writes run after the answer
/// ([`after::Writes`]).
async fn obtain(ctx: &Ctx, job: &Job<'_>, wanted: &Wanted<'_>, etag: &str) -> ApiResult<Rendition> {
    let flight_key = format!("{}/{}", job.tenant, job.result_key);
    loop {
        match flight::board(&flight_key) {
            Seat::Follower(follower) => match follower.wait().await {
                Some(produced) => return Ok(produced?),
                // The leader's request was cancelled: take the lead (or follow a new one) after
                // a pause, so that an abandoned flight's other readers can clear it.
                None => crate::turn::pause(10).await,
            },
            Seat::Leader(leader) => {
                let produced = lead(ctx, job).await;
                let landing = leader.land(&produced.clone().map(|(rendition, _)| rendition));
                let (rendition, spent) = produced?;
                let writes = Writes {
                    env: ctx.env.clone(),
                    request_id: ctx.data.request_id.clone(),
                    tenant: job.tenant.clone(),
                    image: wanted.image.clone(),
                    origin: wanted.origin.to_string(),
                    key: wanted.key.clone(),
                    etag: etag.to_string(),
                    result_key: rendition.rendered.then(|| job.result_key.to_string()),
                    rendition: rendition.clone(),
                    spent,
                    landing,
                };
                crate::turn::after_answer(&ctx.data.background, writes.run());
                return Ok(rendition);
            }
        }
    }
}

/// The stored rendition, else one rendered here. The store first: a store hit must not also
/// open the original (an R2 read billed on the platform; run beside the lookup it took a store
/// hit from 8.2 to 13.5 ms under `wrangler dev`, where every R2 operation shares the thread).
async fn lead(ctx: &Ctx, job: &Job<'_>) -> Result<(Rendition, Spent), RenderFailure> {
    let planned = produce::check(job);
    if let Some(stored) = produce::stored(job).await? {
        return Ok((stored, Spent::default()));
    }
    planned?;
    // A miss costs its chain's work on top of the read (it decodes, computes and stores),
    // charged while the original is read.
    let pay = async {
        charge_work(ctx, job.tenant, produce::miss_cost(job.chain)).await.map_err(|e| match e {
            LimitError::Limited(seconds) => RenderFailure::RateLimited(seconds),
            unavailable @ LimitError::Unavailable => RenderFailure::Internal(unavailable.to_string()),
        })
    };
    produce::render(job, pay).await
}

/// How to answer this request, whatever the rendition's source.
struct Answer<'a> {
    access: Access,
    negotiated: bool,
    if_none_match: Option<&'a str>,
}

impl Answer<'_> {
    fn not_modified(&self, etag: &str) -> bool {
        self.if_none_match.is_some_and(|list| list.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"))
    }

    fn cached(&self, hit: edge::Cached) -> ApiResult<Response> {
        if self.not_modified(&hit.etag) {
            return self.build(None, &hit.etag, "", Source::Edge);
        }
        let content_type = hit.response.headers().get("content-type")?.unwrap_or_default();
        let headers = self.headers(&hit.etag, &content_type, Source::Edge)?;
        Ok(hit.response.with_headers(headers))
    }

    /// The answer: `body`, or 304 without one.
    fn build(&self, body: Option<&js_sys::Uint8Array>, etag: &str, content_type: &str, source: Source) -> ApiResult<Response> {
        let response = match body {
            Some(bytes) => crate::render::held::response(bytes)?.with_headers(self.headers(etag, content_type, source)?),
            None => Response::empty()?.with_status(304).with_headers(self.headers(etag, "", source)?),
        };
        Ok(response)
    }

    fn headers(&self, etag: &str, content_type: &str, source: Source) -> ApiResult<Headers> {
        let headers = Headers::new();
        if !content_type.is_empty() {
            headers.set("content-type", content_type)?;
        }
        headers.set("etag", etag)?;
        // A signed link names one immutable rendition; a bearer answer is the caller's alone.
        headers.set(
            "cache-control",
            if self.access == Access::Link { "public, max-age=31536000, immutable" } else { "private, max-age=86400" },
        )?;
        if self.negotiated {
            headers.set("vary", "Accept")?;
        }
        headers.set(
            "stellar-cache",
            match source {
                Source::Edge => "hit-edge",
                Source::Store => "hit-store",
                Source::Miss => "miss",
            },
        )?;
        Ok(headers)
    }
}
