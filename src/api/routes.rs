//! The route table, written once: it builds the router and answers which methods a path
//! allows, so that a known path asked with another method gets 405 with `Allow` (not 404).

use super::{admin, assets, bench, download, finish, health, images, render, render_links, streams, tasks, usage, AppState, Ctx};
use worker::Router;

/// Wraps an `ApiResult` handler into a workers-rs route handler.
macro_rules! route {
    ($handler:path) => {
        |req, ctx: Ctx| async move {
            let request_id = ctx.data.request_id.clone();
            finish(&request_id, $handler(req, ctx).await)
        }
    };
}

/// `METHOD "/path" => handler;` lines: the router and [`ROUTES`] from the same list.
macro_rules! table {
    ($($method:ident $path:literal => $handler:path;)*) => {
        /// (method, path pattern) of every route; `:name` matches one non-empty segment.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The router for a request to `path`, holding only the routes whose pattern matches
        /// it: a router is built per request, and building and dropping the tree of all of
        /// [`ROUTES`] was ~0.4 ms of an edge-cache hit's ~3 ms in the isolate (a CPU profile of
        /// render hits, the profiler's overhead included).
        pub fn router(state: AppState, path: &str) -> Router<'static, AppState> {
            let router = Router::with_data(state);
            $(let router = if matches($path, path) { table!(@add router, $method, $path, $handler) } else { router };)*
            router
        }
    };
    (@add $router:ident, GET, $path:literal, $handler:path) => { $router.get_async($path, route!($handler)) };
    (@add $router:ident, POST, $path:literal, $handler:path) => { $router.post_async($path, route!($handler)) };
    (@add $router:ident, DELETE, $path:literal, $handler:path) => { $router.delete_async($path, route!($handler)) };
}

table! {
    GET "/health" => health::get;
    GET "/" => assets::page;
    GET "/studio/:file" => assets::get;
    GET "/openapi.json" => assets::get;
    GET "/studio-client.js" => assets::get;
    GET "/steps" => tasks::steps;
    GET "/presets" => tasks::list_presets;
    POST "/images" => images::upload;
    GET "/images" => images::list;
    GET "/images/:id" => images::get;
    GET "/images/:id/content" => images::content;
    GET "/images/:id/render" => render::get;
    POST "/images/:id/links" => render_links::create;
    DELETE "/images/:id" => images::delete;
    POST "/tasks" => tasks::create;
    GET "/tasks" => tasks::list;
    GET "/tasks/:id" => tasks::get;
    POST "/tasks/:id/cancel" => tasks::cancel;
    GET "/tasks/:id/ws" => streams::task_ws;
    GET "/tasks/:id/events" => streams::task_events;
    GET "/events/ws" => streams::feed_ws;
    GET "/events" => streams::feed_events;
    GET "/tasks/:id/download" => download::get;
    GET "/usage" => usage::get;
    POST "/admin/backups" => admin::create;
    GET "/admin/backups" => admin::list;
    POST "/admin/restore" => admin::restore;
    POST "/admin/usage" => admin::recompute_usage;
    POST "/__bench/echo" => bench::echo;
    POST "/__bench/chain" => bench::chain;
    POST "/__bench/seed" => bench::seed;
    GET "/__bench/memory" => bench::memory;
}

fn matches(pattern: &str, path: &str) -> bool {
    let (mut want, mut have) = (pattern.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with(':') && !h.is_empty() => {}
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

/// The methods `path` answers to, in table order (empty: no such path).
pub fn allowed(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = ROUTES.iter().filter(|(_, p)| matches(p, path)).map(|(m, _)| *m).collect();
    methods.dedup();
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_lists_the_methods_it_answers_to() {
        assert_eq!(allowed("/images"), ["POST", "GET"]);
        assert_eq!(allowed("/images/img_0a"), ["GET", "DELETE"]);
        assert_eq!(allowed("/tasks/task_1/cancel"), ["POST"]);
        assert_eq!(allowed("/"), ["GET"]);
        assert!(allowed("/nowhere").is_empty() && allowed("/images//content").is_empty() && allowed("/images/a/b").is_empty());
    }

    #[test]
    fn a_pattern_matches_whole_non_empty_segments_only() {
        assert!(matches("/images/:id/render", "/images/img_1/render"));
        assert!(!matches("/images/:id/render", "/images//render"), "an empty segment is no id");
        assert!(!matches("/images/:id", "/images/img_1/render"), "no prefix match");
        assert!(!matches("/images", "/images/"), "a trailing slash is another path");
        assert!(matches("/", "/") && !matches("/", ""));
    }
}
