//! The routes of `widget`: the embeddable chat widget's script and a page that embeds it,
//! and the operators' console (its page and script), all static (no AWS calls).

use domain::ids::{ChatId, CompanyId};
use edge::router::Method::Get;
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Script,
    Demo(ChatId),
    CompanyDemo(CompanyId),
    Console,
    ConsoleScript,
}

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    // Served by the API itself so that `sam deploy` alone ships it.
    Route {
        path: "/widget.js",
        operations: &[op(Get, |_| Ok(Endpoint::Script))],
    },
    Route {
        path: "/widget/demo/{chat_id}",
        operations: &[op(Get, |p| Ok(Endpoint::Demo(p.id("chat_id")?)))],
    },
    // Company mode: each visitor of the page gets a conversation of its own.
    Route {
        path: "/widget/company-demo/{company_id}",
        operations: &[op(Get, |p| Ok(Endpoint::CompanyDemo(p.id("company_id")?)))],
    },
    // The operators' console: one static page and its script, on the shared browser core.
    Route {
        path: "/console",
        operations: &[op(Get, |_| Ok(Endpoint::Console))],
    },
    Route {
        path: "/console.js",
        operations: &[op(Get, |_| Ok(Endpoint::ConsoleScript))],
    },
]);
