//! Versions: Cargo and the header agree.

use super::*;

/// `#define NAME VALUE` lines of the header.
fn header_defines() -> BTreeMap<String, String> {
    header_text()
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("#define ")?;
            let (name, value) = rest.split_once(' ')?;
            Some((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Evaluates `(a * b + c * d + e)`: sums of products of integers.
fn eval_sum_of_products(expr: &str) -> i64 {
    let expr = expr.trim().trim_start_matches('(').trim_end_matches(')');
    expr.split('+')
        .map(|term| {
            term.split('*')
                .map(|f| {
                    f.trim()
                        .parse::<i64>()
                        .unwrap_or_else(|_| panic!("{expr:?}"))
                })
                .product::<i64>()
        })
        .sum()
}

#[test]
fn versions_match_cargo_and_the_header() {
    let v = unsafe { CStr::from_ptr(asyncop_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(asyncop_abi_version(), ASYNCOP_ABI_VERSION);

    let defines = header_defines();
    let get = |name: &str| {
        defines
            .get(name)
            .unwrap_or_else(|| panic!("#define {name} missing from include/asyncop.h"))
            .clone()
    };
    let major: i64 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: i64 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: i64 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(get("ASYNCOP_VERSION_MAJOR").parse::<i64>().unwrap(), major);
    assert_eq!(get("ASYNCOP_VERSION_MINOR").parse::<i64>().unwrap(), minor);
    assert_eq!(get("ASYNCOP_VERSION_PATCH").parse::<i64>().unwrap(), patch);
    assert_eq!(
        eval_sum_of_products(&get("ASYNCOP_VERSION_NUMBER")),
        major * 10000 + minor * 100 + patch
    );
    assert_eq!(
        get("ASYNCOP_ABI_VERSION").parse::<u32>().unwrap(),
        ASYNCOP_ABI_VERSION
    );
    assert_eq!(eval_sum_of_products("(0 * 10000 + 1 * 100 + 0)"), 100);
    assert_eq!(eval_sum_of_products("(2 * 10000 + 13 * 100 + 7)"), 21307);
}
