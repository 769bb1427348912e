//! `companies`: a list's page size and cursor are checked before the table is read.

use api_tests::in_process::{World, answer, batch_get, calls, fixture, query, request, with_query};

#[tokio::test]
async fn a_page_size_out_of_range_or_a_foreign_cursor_is_a_422() {
    let world = World::new();
    let rules = [batch_get(world.operator_items()), query(Vec::new())];
    let app = companies::App {
        ctx: world.context(&rules),
        mailer: api_tests::unused_mailer(),
        accept_page: None,
    };
    for (query_pairs, field) in [
        (&[("per_page", "0")][..], "per_page"),
        (&[("per_page", "101")][..], "per_page"),
        (&[("cursor", "eyJsIjoidG9rZW5zIn0")][..], "cursor"),
    ] {
        let event = with_query(fixture("companies/list.json", &world.vars()), query_pairs);
        let (status, body) = answer(companies::handle(&app, request(&event)).await);
        assert_eq!(status, 422, "{query_pairs:?}: {body}");
        assert!(body["errors"][field].is_array(), "{body}");
    }
    assert_eq!(rules[1].num_calls(), 0, "no list was read");
    assert_eq!(calls(&rules), 3, "one token check each");
}
