//! The status table: the spec, the header and the names agree.

use super::*;

/// Every status code. `position` proves at compile time that the list is complete.
const ALL_CODES: [asyncop_status; 28] = [
    ASYNCOP_OK,
    ASYNCOP_ERR_INVALID_ARG,
    ASYNCOP_ERR_NULL_ARG,
    ASYNCOP_ERR_UTF8,
    ASYNCOP_ERR_OUT_OF_RANGE,
    ASYNCOP_ERR_BUFFER_TOO_SMALL,
    ASYNCOP_ERR_INVALID_HANDLE,
    ASYNCOP_ERR_CLOSED_HANDLE,
    ASYNCOP_ERR_NOT_FOUND,
    ASYNCOP_ERR_LEASE_LOST,
    ASYNCOP_ERR_BUSY,
    ASYNCOP_ERR_CORRUPT,
    ASYNCOP_ERR_INTERNAL,
    ASYNCOP_ERR_PANIC,
    ASYNCOP_ERR_FORKED,
    ASYNCOP_ERR_CALLBACK,
    ASYNCOP_ERR_IO,
    ASYNCOP_ERR_INVALID_STATE_CHANGE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
    ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
    ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    ASYNCOP_ERR_TYPE_NOT_RECOGNIZED,
    ASYNCOP_ERR_CANNOT_CANCEL,
    ASYNCOP_ERR_CANNOT_PAUSE,
];

/// Exhaustive, without `_`: a new variant does not compile until it is listed.
fn position(s: asyncop_status) -> usize {
    match s {
        ASYNCOP_OK => 0,
        ASYNCOP_ERR_INVALID_ARG => 1,
        ASYNCOP_ERR_NULL_ARG => 2,
        ASYNCOP_ERR_UTF8 => 3,
        ASYNCOP_ERR_OUT_OF_RANGE => 4,
        ASYNCOP_ERR_BUFFER_TOO_SMALL => 5,
        ASYNCOP_ERR_INVALID_HANDLE => 6,
        ASYNCOP_ERR_CLOSED_HANDLE => 7,
        ASYNCOP_ERR_NOT_FOUND => 8,
        ASYNCOP_ERR_LEASE_LOST => 9,
        ASYNCOP_ERR_BUSY => 10,
        ASYNCOP_ERR_CORRUPT => 11,
        ASYNCOP_ERR_INTERNAL => 12,
        ASYNCOP_ERR_PANIC => 13,
        ASYNCOP_ERR_FORKED => 14,
        ASYNCOP_ERR_CALLBACK => 15,
        ASYNCOP_ERR_IO => 16,
        ASYNCOP_ERR_INVALID_STATE_CHANGE => 17,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED => 18,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE => 19,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY => 20,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED => 21,
        ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING => 22,
        ASYNCOP_ERR_CANNOT_UPDATE_RECURRING => 23,
        ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED => 24,
        ASYNCOP_ERR_TYPE_NOT_RECOGNIZED => 25,
        ASYNCOP_ERR_CANNOT_CANCEL => 26,
        ASYNCOP_ERR_CANNOT_PAUSE => 27,
    }
}

/// The enumerators of `enum asyncop_status` in the header: name → value.
fn header_status_enum() -> BTreeMap<String, i64> {
    let text = header_text();
    let start = text
        .find("enum asyncop_status")
        .expect("enum asyncop_status in the header");
    let body = &text[start..];
    let end = body.find("};").expect("end of enum asyncop_status");
    body[..end]
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn status_table_matches_the_spec_and_the_header() {
    for (i, s) in ALL_CODES.iter().enumerate() {
        assert_eq!(position(*s), i, "ALL_CODES lists {s:?} out of place");
    }

    // Names: distinct, prefixed, equal to the Rust (and C) identifiers.
    let mut names = BTreeSet::new();
    let mut values = BTreeSet::new();
    for s in ALL_CODES {
        let name = status_name(s as i32);
        assert!(name.starts_with("ASYNCOP_"), "{name}");
        assert_eq!(name, format!("{s:?}"));
        assert!(names.insert(name.clone()), "duplicate name {name}");
        assert!(values.insert(s as i32), "duplicate value {}", s as i32);
        // HRESULT: the code itself for Dynamics refusals, 0 for our own codes.
        let h = asyncop_status_hresult(s as i32);
        if (s as i32) < 0 {
            assert_eq!(h, s as i32, "{name}");
        } else {
            assert_eq!(h, 0, "{name}");
        }
    }
    assert!(names.contains("ASYNCOP_OK"));

    // Unknown numbers.
    for unknown in [
        17,
        100,
        i32::MAX,
        -1,
        i32::MIN,
        0x8004_4164_u32 as i32, // AsyncOperationMissingId: InvalidArgument here
        0x8004_4161_u32 as i32,
    ] {
        assert_eq!(status_name(unknown), "unknown", "{unknown}");
        assert_eq!(asyncop_status_hresult(unknown), 0, "{unknown}");
    }

    // ffi-conventions.md §2, numbering table.
    let spec_table = [
        (0, "ASYNCOP_OK"),
        (1, "ASYNCOP_ERR_INVALID_ARG"),
        (2, "ASYNCOP_ERR_NULL_ARG"),
        (3, "ASYNCOP_ERR_UTF8"),
        (4, "ASYNCOP_ERR_OUT_OF_RANGE"),
        (5, "ASYNCOP_ERR_BUFFER_TOO_SMALL"),
        (6, "ASYNCOP_ERR_INVALID_HANDLE"),
        (7, "ASYNCOP_ERR_CLOSED_HANDLE"),
        (8, "ASYNCOP_ERR_NOT_FOUND"),
        (9, "ASYNCOP_ERR_LEASE_LOST"),
        (10, "ASYNCOP_ERR_BUSY"),
        (11, "ASYNCOP_ERR_CORRUPT"),
        (12, "ASYNCOP_ERR_INTERNAL"),
        (13, "ASYNCOP_ERR_PANIC"),
        (14, "ASYNCOP_ERR_FORKED"),
        (15, "ASYNCOP_ERR_CALLBACK"),
    ];
    for (code, name) in spec_table {
        assert_eq!(status_name(code), name);
    }
    // HRESULTs of operation-model.md §12.
    let hresults = [
        (ASYNCOP_ERR_INVALID_STATE_CHANGE, 0x8004_4162_u32),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, 0x8004_4163),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, 0x8004_4165),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, 0x8004_4166),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, 0x8004_4167),
        (ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, 0x8004_4168),
        (ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, 0x8004_4169),
        (ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, 0x8004_416a),
        (ASYNCOP_ERR_TYPE_NOT_RECOGNIZED, 0x8004_4303),
        (ASYNCOP_ERR_CANNOT_CANCEL, 0x8004_4F00),
        (ASYNCOP_ERR_CANNOT_PAUSE, 0x8004_4F01),
    ];
    for (s, h) in hresults {
        assert_eq!(s as i32, h as i32, "{s:?}");
        assert_eq!(asyncop_status_hresult(s as i32), h as i32, "{s:?}");
    }
    assert_eq!(ASYNCOP_ERR_INVALID_STATE_CHANGE as i32, -2147204766);
    assert_eq!(
        ALL_CODES.iter().filter(|s| (**s as i32) < 0).count(),
        hresults.len()
    );
    // The core's own HRESULTs agree.
    assert_eq!(
        asyncop::error::TYPE_NOT_RECOGNIZED_HRESULT,
        ASYNCOP_ERR_TYPE_NOT_RECOGNIZED as i32
    );
    assert_eq!(
        asyncop::error::LEASE_LOST_CODE,
        ASYNCOP_ERR_LEASE_LOST as i32
    );

    // The header's enum is the same table.
    let header = header_status_enum();
    let rust: BTreeMap<String, i64> = ALL_CODES
        .iter()
        .map(|s| (format!("{s:?}"), i64::from(*s as i32)))
        .collect();
    assert_eq!(header, rust);
}
