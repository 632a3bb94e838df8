//! §11 queries by correlation id (exact) and by name prefix (a range of the
//! name index: case-sensitive, code point order, no wildcards).

use super::*;

fn ids_of(f: &Fixture, filter: Filter) -> Vec<i64> {
    f.q.query(&filter).unwrap().iter().map(|o| o.id).collect()
}

fn prefix(p: &str) -> Filter {
    Filter {
        name_prefix: Some(p.into()),
        ..Filter::default()
    }
}

#[test]
fn query_by_correlation_id_matches_exactly() {
    let f = Fixture::new(store(), "query-correlation");
    let a1 = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).correlation_id("order-17"));
    let _b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).correlation_id("order-170"));
    let a2 = f.submit_spec(OperationSpec::new("c", NORMAL_TYPE).correlation_id("order-17"));
    let _none = f.submit("d", NORMAL_TYPE);
    let _upper = f.submit_spec(OperationSpec::new("e", NORMAL_TYPE).correlation_id("ORDER-17"));
    let by = |c: &str| Filter {
        correlation_id: Some(c.into()),
        ..Filter::default()
    };
    assert_eq!(ids_of(&f, by("order-17")), vec![a1, a2]);
    assert_eq!(ids_of(&f, by("order-1")), Vec::<i64>::new());
    assert_eq!(ids_of(&f, by("")), Vec::<i64>::new());
    // ANDed with the other filters.
    f.q.cancel(a2).unwrap();
    let ready = Filter {
        state: Some(State::Ready),
        ..by("order-17")
    };
    assert_eq!(ids_of(&f, ready), vec![a1]);
}

#[test]
fn query_by_name_prefix_is_a_literal_case_sensitive_range() {
    let f = Fixture::new(store(), "query-prefix");
    let names = [
        "report",         // 1
        "report-daily",   // 2
        "report-weekly",  // 3
        "reporx",         // 4
        "Report-upper",   // 5
        "repo",           // 6
        "rep%rt",         // 7: LIKE's wildcards are plain characters here
        "rep_rt",         // 8
        "report\u{10FFFF}", // 9: the last code point
        "réport",         // 10
        "report.",        // 11: the first name after the "report-" range
        "",               // 12
    ];
    let ids: Vec<i64> = names.iter().map(|n| f.submit(n, NORMAL_TYPE)).collect();
    let id = |n: &str| ids[names.iter().position(|x| *x == n).unwrap()];
    assert_eq!(
        ids_of(&f, prefix("report")),
        vec![id("report"), id("report-daily"), id("report-weekly"), id("report\u{10FFFF}"), id("report.")]
    );
    assert_eq!(
        ids_of(&f, prefix("report-")),
        vec![id("report-daily"), id("report-weekly")]
    );
    assert_eq!(ids_of(&f, prefix("rep%")), vec![id("rep%rt")]);
    assert_eq!(ids_of(&f, prefix("rep_")), vec![id("rep_rt")]);
    assert_eq!(ids_of(&f, prefix("Rep")), vec![id("Report-upper")]);
    assert_eq!(ids_of(&f, prefix("ré")), vec![id("réport")]);
    assert_eq!(ids_of(&f, prefix("report\u{10FFFF}")), vec![id("report\u{10FFFF}")]);
    assert_eq!(ids_of(&f, prefix("x")), Vec::<i64>::new());
    // An empty prefix filters nothing out.
    assert_eq!(ids_of(&f, prefix("")), ids);
    // ANDed with the exact name, the state and paging.
    let both = Filter {
        name: Some("report-daily".into()),
        ..prefix("report")
    };
    assert_eq!(ids_of(&f, both), vec![id("report-daily")]);
    let paged = Filter {
        after_id: Some(id("report-daily")),
        limit: Some(1),
        ..prefix("report")
    };
    assert_eq!(ids_of(&f, paged), vec![id("report-weekly")]);
    f.q.cancel(id("report-weekly")).unwrap();
    let done = Filter {
        state: Some(State::Completed),
        ..prefix("report-")
    };
    assert_eq!(ids_of(&f, done), vec![id("report-weekly")]);
}
