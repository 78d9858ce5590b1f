//! Correctness by round trips, not by reading snapshots: for every serde shape of the
//! corpus (and for the chat and hostile protocols), payloads serialized by serde — edge
//! values included — must validate against the generated JSON Schema with ajv, type-check
//! as the generated TypeScript under `tsc --strict`, and pass the generated guard; payloads
//! serde rejects must be rejected by the schema (where JSON Schema can express it) and by
//! the guard, and each family has payloads that must not type-check. Constraint violations
//! must be reported by the guard with exactly the paths and codes of Rust's `Validate`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::json;
use support::{Sample, round_trip};
use twinwire::Protocol;
use twinwire_corpus::*;

const MAX_SAFE: u64 = 9_007_199_254_740_991;

fn renames() -> Vec<Sample> {
    let value = RenamesUp {
        lower: RenameLower {
            first_field: 1,
            second_value: true,
        },
        upper: RenameUpper {
            first_field: 2,
            second_value: false,
        },
        pascal: RenamePascal {
            first_field: 3,
            second_value: true,
        },
        camel: RenameCamel {
            first_field: 4,
            second_value: false,
        },
        snake: RenameSnake {
            first_field: 5,
            second_value: true,
        },
        screaming_snake: RenameScreamingSnake {
            first_field: 6,
            second_value: false,
        },
        kebab: RenameKebab {
            first_field: 7,
            second_value: true,
        },
        screaming_kebab: RenameScreamingKebab {
            first_field: 8,
            second_value: false,
        },
        fields: RenameFields {
            custom: 9,
            klass: "c".into(),
            r#type: "t".into(),
            spaced: true,
        },
        mode: Mode::FastForward,
    };
    let mut json = serde_json::to_value(&value).unwrap();
    assert_eq!(json["screamingKebab"]["SECOND-VALUE"], json!(false));
    assert_eq!(json["fields"]["x-custom"], json!(9));
    let mut samples = Sample::both::<RenamesUp, RenamesDown>(&value, "every case style").to_vec();
    let slow = RenamesUp {
        mode: Mode::Slow,
        ..value
    };
    samples.extend(Sample::both::<RenamesUp, RenamesDown>(
        &slow,
        "explicit variant rename",
    ));
    json["lower"] = json!({"firstField": 1, "secondValue": true});
    samples.push(Sample::type_error(
        "RENAMES_UP",
        json.clone(),
        "camelCase where lowercase is declared",
    ));
    json["lower"] = json!({"firstfield": 1, "secondvalue": true});
    json["mode"] = json!("FAST_FORWARD");
    samples.push(Sample::type_error(
        "RENAMES_DOWN",
        json.clone(),
        "variant in the wrong case",
    ));
    json["mode"] = json!("SLOW");
    json["fields"]["class"] = json!(1);
    samples.push(Sample::type_error(
        "RENAMES_UP",
        json,
        "wrong type under a renamed key",
    ));
    samples
}

fn enums() -> Vec<Sample> {
    let value = EnumsUp {
        external: vec![
            External::Unit,
            External::Newtype(7),
            External::Tuple(255, "a".into()),
            External::Struct {
                width_px: 3,
                label: None,
            },
            External::Struct {
                width_px: 0,
                label: Some("l".into()),
            },
        ],
        internal: Internal::Started { at_ms: MAX_SAFE },
        adjacent: vec![
            Adjacent::Ping,
            Adjacent::Echo("e".into()),
            Adjacent::Move {
                dx: -1,
                dy: i32::MAX,
            },
            Adjacent::Pair(0, 255),
        ],
        untagged: vec![
            Untagged::Flag(true),
            Untagged::Num(1.5),
            Untagged::Text("t".into()),
            Untagged::Point { x: 1, y: -2 },
            Untagged::Empty,
        ],
        level: Level::MediumHigh,
    };
    let mut samples = Sample::both::<EnumsUp, EnumsDown>(&value, "every representation").to_vec();
    for (internal, note) in [
        (Internal::Stopped, "internal unit variant"),
        (
            Internal::Wrapped(Inner { note: "n".into() }),
            "internal newtype variant",
        ),
        (
            Internal::Wrapped(Inner {
                note: String::new(),
            }),
            "constraint inside an internally tagged variant",
        ),
    ] {
        let v = EnumsUp {
            internal,
            ..value.clone()
        };
        samples.extend(Sample::both::<EnumsUp, EnumsDown>(&v, note));
    }
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::type_error(
            "ENUMS_UP",
            with("external", json!(["Bogus"])),
            "unknown unit variant",
        ),
        Sample::json(
            "ENUMS_UP",
            with("external", json!([{"Unit": null}])),
            "a unit variant written as a key with null",
        ),
        Sample::json(
            "ENUMS_UP",
            with("level", json!({"LOW": null})),
            "a unit-only enum's variant written as a key with null",
        ),
        Sample::never_serialized(
            "ENUMS_DOWN",
            with("external", json!([{"Unit": null}])),
            "the server writes a unit variant as a string",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("external", json!([{"Unit": 1}])),
            "a unit variant's key with a value",
        ),
        Sample::json(
            "ENUMS_UP",
            with("external", json!([{"Newtype": 1, "Unit": null}])),
            "two variant keys",
        ),
        Sample::json(
            "ENUMS_DOWN",
            with(
                "external",
                json!([{"Struct": {"widthPx": -1, "label": null}}]),
            ),
            "negative u32 in a struct variant",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("internal", json!({"kind": "Started"})),
            "tag without its fields",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("internal", json!({"atMs": 1})),
            "fields without a tag",
        ),
        Sample::json(
            "ENUMS_DOWN",
            with(
                "internal",
                json!({"kind": "Wrapped", "note": "n", "extra": 1}),
            ),
            "unknown field in a variant that denies them",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("adjacent", json!([{"t": "Echo", "c": 5}])),
            "adjacent content of the wrong type",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("adjacent", json!([{"t": "Nope"}])),
            "unknown adjacent tag",
        ),
        Sample::json(
            "ENUMS_DOWN",
            with("adjacent", json!([{"t": "Pair", "c": [1]}])),
            "short tuple content",
        ),
        Sample::type_error(
            "ENUMS_UP",
            with("untagged", json!([{"x": 1}])),
            "no untagged variant fits",
        ),
        Sample::type_error(
            "ENUMS_DOWN",
            with("level", json!("medium_high")),
            "unit enum in the wrong case",
        ),
    ]);
    let commands = [
        (Command::Start { speed: 1 }, "internally tagged message"),
        (Command::Stop, "unit variant message"),
        (Command::Start { speed: 11 }, "range inside a variant"),
    ];
    for (command, note) in commands {
        samples.push(Sample::of(&command, note));
    }
    samples.extend([
        Sample::json(
            "COMMAND",
            json!({"op": "start", "speed": 300}),
            "u8 overflow in a variant",
        ),
        Sample::type_error("COMMAND", json!({"op": "pause"}), "unknown tag"),
        Sample::type_error("COMMAND", json!({"speed": 1}), "missing tag"),
        Sample::of(&Notice::Text("hi".into()), "adjacently tagged message"),
        Sample::of(
            &Notice::Count { total: u32::MAX },
            "adjacent struct variant",
        ),
        Sample::type_error(
            "NOTICE",
            json!({"kind": "Count", "data": {"total": "1"}}),
            "wrong content type",
        ),
    ]);
    samples
}

fn optionals() -> Vec<Sample> {
    let all = Optionals {
        plain: Some("p".into()),
        skipped: Some(u32::MAX),
        defaulted: Some(false),
        both: Some("b".into()),
        count: 3,
        name: "n".into(),
        tags: Some(vec!["t".into()]),
    };
    let none = Optionals {
        plain: None,
        skipped: None,
        defaulted: None,
        both: None,
        count: 0,
        name: "anonymous".into(),
        tags: None,
    };
    let mut samples = Vec::new();
    for (value, note) in [(all, "every option set"), (none, "every option empty")] {
        samples.extend(Sample::both::<OptionalsUp, OptionalsDown>(
            &OptionalsUp { value },
            note,
        ));
    }
    samples.extend([
        Sample::json(
            "OPTIONALS_UP",
            json!({"value": {}}),
            "a client may omit every optional or defaulted field",
        ),
        Sample::json(
            "OPTIONALS_UP",
            json!({"value": {"skipped": null, "both": null}}),
            "explicit nulls",
        ),
        Sample::never_serialized(
            "OPTIONALS_DOWN",
            json!({"value": {}}),
            "the server always sends `plain`, `defaulted`, `count`, `name`, `tags`",
        ),
        Sample::never_serialized(
            "OPTIONALS_DOWN",
            json!({"value": {"plain": null, "count": 0, "name": "x"}}),
            "the server leaves a `None` out instead of writing null",
        ),
        Sample::json(
            "OPTIONALS_DOWN",
            json!({"value": {"count": 0, "name": "x"}}),
            "every `None` left out by the server",
        ),
        Sample::type_error(
            "OPTIONALS_UP",
            json!({"value": {"count": null}}),
            "null for a defaulted non-option",
        ),
        Sample::type_error(
            "OPTIONALS_UP",
            json!({"value": {"tags": [1]}}),
            "wrong item type in an optional list",
        ),
        Sample::json(
            "OPTIONALS_UP",
            json!({"value": {"unknown": 1}}),
            "unknown field",
        ),
    ]);
    samples
}

fn flatten() -> Vec<Sample> {
    let value = FlattenUp {
        map_and_struct: Flattened {
            id: "i".into(),
            base: Base {
                created_by: "me".into(),
                version: u16::MAX,
            },
            extra: BTreeMap::from([("a".into(), 1), ("z".into(), u32::MAX)]),
        },
        tagged: FlattenedEnum {
            id: "j".into(),
            event: Internal::Started { at_ms: 0 },
        },
    };
    let mut samples =
        Sample::both::<FlattenUp, FlattenDown>(&value, "flattened struct, map and enum").to_vec();
    let wrapped = FlattenUp {
        tagged: FlattenedEnum {
            id: "k".into(),
            event: Internal::Wrapped(Inner {
                note: "x".repeat(21),
            }),
        },
        map_and_struct: Flattened {
            extra: BTreeMap::new(),
            ..value.map_and_struct.clone()
        },
    };
    samples.extend(Sample::both::<FlattenUp, FlattenDown>(
        &wrapped,
        "constraint in a flattened variant, empty flattened map",
    ));
    let json = serde_json::to_value(&value).unwrap();
    let mut extra_string = json.clone();
    extra_string["mapAndStruct"]["x"] = json!("s");
    let mut missing = json.clone();
    missing["mapAndStruct"]
        .as_object_mut()
        .unwrap()
        .remove("createdBy");
    let mut no_tag = json.clone();
    no_tag["tagged"].as_object_mut().unwrap().remove("kind");
    let with_tagged = |tagged: serde_json::Value| {
        let mut j = json.clone();
        j["tagged"] = tagged;
        j
    };
    samples.extend([
        Sample::json(
            "FLATTEN_UP",
            extra_string,
            "flattened map value of the wrong type",
        ),
        Sample::type_error("FLATTEN_DOWN", missing, "flattened struct field missing"),
        Sample::type_error("FLATTEN_UP", no_tag, "flattened enum without its tag"),
        Sample::json(
            "FLATTEN_UP",
            with_tagged(json!({"id": "k", "kind": "Wrapped", "note": "n", "extra": 1})),
            "an unknown field beside a flattened strict newtype variant",
        ),
        Sample::json(
            "FLATTEN_DOWN",
            with_tagged(json!({"id": "k", "kind": "Wrapped", "note": "n", "extra": 1})),
            "the server never writes an unknown field beside a strict variant either",
        ),
        Sample::json(
            "FLATTEN_UP",
            with_tagged(json!({"id": "k", "kind": "Stopped"})),
            "a flattened unit variant",
        ),
    ]);
    samples
}

fn maps() -> Vec<Sample> {
    let value = MapsUp {
        by_name: HashMap::from([("a b/c~".into(), 1)]),
        by_id: BTreeMap::from([(0, "zero".into()), (u32::MAX, "max".into())]),
        signed: BTreeMap::from([(-(MAX_SAFE as i64), true), (7, false)]),
        nested: BTreeMap::from([("k".into(), vec![1, 2]), ("e".into(), vec![])]),
    };
    let empty = MapsUp {
        by_name: HashMap::new(),
        by_id: BTreeMap::new(),
        signed: BTreeMap::new(),
        nested: BTreeMap::new(),
    };
    let mut samples = Sample::both::<MapsUp, MapsDown>(&value, "string and integer keys").to_vec();
    samples.extend(Sample::both::<MapsUp, MapsDown>(&empty, "empty maps"));
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::type_error(
            "MAPS_UP",
            with("byId", json!({"abc": "x"})),
            "non-numeric key of an integer map",
        ),
        Sample::type_error(
            "MAPS_DOWN",
            with("byName", json!({"a": "1"})),
            "map value of the wrong type",
        ),
        Sample::json(
            "MAPS_UP",
            with("signed", json!({"1.5": true})),
            "fractional key of an integer map",
        ),
        Sample::schema_blind(
            "MAPS_UP",
            with("byId", json!({"4294967296": "x"})),
            "JSON Schema keys are strings; only a pattern can restrict them, not a numeric range",
            "u32 key overflow",
        ),
        Sample::json(
            "MAPS_UP",
            with("nested", json!({"k": [256]})),
            "u8 overflow in a map of lists",
        ),
    ]);
    samples
}

fn sequences() -> Vec<Sample> {
    let value = SequencesUp {
        list: vec![],
        grid: vec![vec![1], vec![2, 3], vec![]],
        pair: (255, "p".into()),
        triple: (true, i32::MIN, None),
        fixed: [1, 2, 3],
        set: BTreeSet::from([1, u16::MAX]),
    };
    let mut samples =
        Sample::both::<SequencesUp, SequencesDown>(&value, "vectors, tuples, arrays, sets")
            .to_vec();
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::type_error(
            "SEQUENCES_UP",
            with("pair", json!([1, "a", 2])),
            "tuple too long",
        ),
        Sample::type_error(
            "SEQUENCES_DOWN",
            with("triple", json!([true, 1])),
            "tuple too short",
        ),
        Sample::type_error(
            "SEQUENCES_UP",
            with("triple", json!([1, 1, null])),
            "tuple item of the wrong type",
        ),
        Sample::json(
            "SEQUENCES_UP",
            with("fixed", json!([1, 2])),
            "fixed-size array too short",
        ),
        Sample::type_error("SEQUENCES_UP", with("grid", json!([1])), "not nested"),
        Sample::json(
            "SEQUENCES_UP",
            with("set", json!([2, 1, 2])),
            "duplicates in a set (serde keeps one of each)",
        ),
        Sample::type_error(
            "SEQUENCES_DOWN",
            with("list", json!("a")),
            "a string is not a list",
        ),
    ]);
    samples
}

fn recursive() -> Vec<Sample> {
    let value = RecursiveUp {
        tree: Tree {
            label: "root".into(),
            children: vec![
                Tree {
                    label: "a".into(),
                    children: vec![Tree {
                        label: "a1".into(),
                        children: vec![],
                    }],
                },
                Tree {
                    label: "b".into(),
                    children: vec![],
                },
            ],
        },
        list: List {
            value: 1,
            next: Some(Box::new(List {
                value: 2,
                next: Some(Box::new(List {
                    value: 3,
                    next: None,
                })),
            })),
        },
        expr: Expr::Add {
            left: Box::new(Expr::Lit { value: 1.0 }),
            right: Box::new(Expr::Neg {
                inner: Box::new(Expr::Lit { value: -2.5 }),
            }),
        },
        boxed: Box::new(Inner { note: "b".into() }),
    };
    let mut samples =
        Sample::both::<RecursiveUp, RecursiveDown>(&value, "trees, lists, expressions").to_vec();
    let bad_box = RecursiveUp {
        boxed: Box::new(Inner {
            note: String::new(),
        }),
        ..value.clone()
    };
    samples.extend(Sample::both::<RecursiveUp, RecursiveDown>(
        &bad_box,
        "constraint behind a Box",
    ));
    let json = serde_json::to_value(&value).unwrap();
    let mut deep = json.clone();
    deep["tree"]["children"][0]["children"][0] = json!({"children": []});
    let mut op = json.clone();
    op["expr"]["right"]["inner"] = json!({"op": "mul", "value": 1});
    let mut short_list = json.clone();
    short_list["list"]["next"]["next"] = json!({"value": 3});
    samples.extend([
        Sample::type_error("RECURSIVE_UP", deep, "label missing three levels down"),
        Sample::type_error(
            "RECURSIVE_DOWN",
            op,
            "unknown operator deep in an expression",
        ),
        Sample::json(
            "RECURSIVE_UP",
            short_list.clone(),
            "a client may omit `next` at the end",
        ),
        Sample::json(
            "RECURSIVE_DOWN",
            short_list.clone(),
            "the server leaves `next` out at the end",
        ),
        Sample::never_serialized(
            "RECURSIVE_DOWN",
            {
                let mut explicit = short_list;
                explicit["list"]["next"]["next"]["next"] = json!(null);
                explicit
            },
            "the server never writes `next: null`",
        ),
    ]);
    samples
}

fn smalls() -> Vec<Sample> {
    let value = SmallsUp {
        marker: Marker,
        user: UserId("u1".into()),
        score: Score { points: -5 },
        initial: 'é',
        anything: json!({"any": [1, null, "x"]}),
        flag: false,
    };
    let mut samples =
        Sample::both::<SmallsUp, SmallsDown>(&value, "unit struct, newtypes, char, any").to_vec();
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::type_error(
            "SMALLS_UP",
            with("marker", json!(0)),
            "a unit struct is null",
        ),
        Sample::type_error(
            "SMALLS_DOWN",
            with("user", json!(5)),
            "newtype of the wrong type",
        ),
        Sample::type_error(
            "SMALLS_UP",
            with("score", json!({"points": 1})),
            "a transparent struct is its field",
        ),
        Sample::json(
            "SMALLS_UP",
            with("initial", json!("ab")),
            "two characters for a char",
        ),
        Sample::of(&Ping, "message without payload"),
        Sample::of(&Pong, "server message without payload"),
        Sample::json("PING", json!({}), "a payload for a message that has none"),
        Sample::of(
            &Wrapper {
                inner: Inner { note: "w".into() },
            },
            "generic message",
        ),
        Sample::of(
            &Lookup { key: String::new() },
            "RPC request breaking a constraint",
        ),
        Sample::of(&LookupResult { value: None }, "RPC response"),
        Sample::type_error("LOOKUP", json!({"key": 1}), "RPC request of the wrong type"),
    ]);
    samples
}

fn formats() -> Vec<Sample> {
    use chrono::TimeZone;
    let value = FormatsUp {
        at: chrono::Utc
            .with_ymd_and_hms(2024, 2, 29, 23, 59, 59)
            .unwrap(),
        day: chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        id: uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
        link: url::Url::parse("https://example.com/a?b=c#d").unwrap(),
    };
    let mut samples =
        Sample::both::<FormatsUp, FormatsDown>(&value, "date-time, date, uuid, url").to_vec();
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::json(
            "FORMATS_UP",
            with("day", json!("2023-02-29")),
            "no leap day in 2023",
        ),
        Sample::json(
            "FORMATS_DOWN",
            with("at", json!("yesterday")),
            "not a date-time",
        ),
        Sample::json("FORMATS_UP", with("id", json!("not-a-uuid")), "not a uuid"),
        Sample::json(
            "FORMATS_UP",
            with("id", json!("67e5504410b1426f9247bb680e5fe0c8")),
            "a uuid without hyphens (serde's Uuid reads it)",
        ),
        Sample::json(
            "FORMATS_UP",
            with("id", json!("{67E55044-10B1-426F-9247-BB680E5FE0C8}")),
            "a braced upper-case uuid",
        ),
        Sample::json(
            "FORMATS_UP",
            with("id", json!("urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8")),
            "a uuid URN",
        ),
        Sample::json(
            "FORMATS_UP",
            with("id", json!("{67e55044-10b1-426f-9247-bb680e5fe0c8")),
            "an unclosed brace",
        ),
        Sample::json(
            "FORMATS_UP",
            with("id", json!("67e5504410b1426f9247bb680e5fe0cg")),
            "a non-hex digit in the simple form",
        ),
        Sample::views_refuse(
            "FORMATS_DOWN",
            with("id", json!("67e5504410b1426f9247bb680e5fe0c8")),
            "the server writes a Uuid hyphenated",
            "a uuid without hyphens from the server",
        ),
        Sample::json(
            "FORMATS_UP",
            with("at", json!("2024-02-29t23:59:59.5z")),
            "lower-case t and z, a fraction",
        ),
        Sample::json(
            "FORMATS_DOWN",
            with("at", json!("2024-02-29T23:59:59.123456789+01:00")),
            "an offset and nanoseconds",
        ),
        Sample::views_refuse(
            "FORMATS_UP",
            with("at", json!("2024-02-29 23:59:59Z")),
            "chrono reads a space separator; the views hold a client to RFC 3339's `T`",
            "a date-time with a space",
        ),
        Sample::views_refuse(
            "FORMATS_UP",
            with("at", json!("2024-02-29T23:59:59+0100")),
            "chrono reads an offset without colon; RFC 3339 requires it",
            "an offset without colon",
        ),
        Sample::json(
            "FORMATS_UP",
            with("at", json!("2024-02-30T00:00:00Z")),
            "no 30 February",
        ),
        Sample::json("FORMATS_UP", with("link", json!("no scheme")), "not a URL"),
        Sample::type_error(
            "FORMATS_UP",
            with("at", json!(1_700_000_000)),
            "a timestamp number is not a date-time",
        ),
    ]);
    samples
}

fn integers() -> Vec<Sample> {
    let max = IntegersUp {
        u8: u8::MAX,
        i8: i8::MAX,
        u16: u16::MAX,
        i16: i16::MAX,
        u32: u32::MAX,
        i32: i32::MAX,
        u64: MAX_SAFE,
        i64: MAX_SAFE as i64,
        usize: MAX_SAFE as usize,
        isize: MAX_SAFE as isize,
        f32: f32::MAX,
        f64: f64::MAX,
    };
    let min = IntegersUp {
        u8: 0,
        i8: i8::MIN,
        u16: 0,
        i16: i16::MIN,
        u32: 0,
        i32: i32::MIN,
        u64: 0,
        i64: -(MAX_SAFE as i64),
        usize: 0,
        isize: -(MAX_SAFE as isize),
        f32: f32::MIN_POSITIVE,
        f64: -0.5,
    };
    let mut samples =
        Sample::both::<IntegersUp, IntegersDown>(&max, "largest safe values").to_vec();
    samples.extend(Sample::both::<IntegersUp, IntegersDown>(
        &min,
        "smallest safe values",
    ));
    for (value, note) in [
        (
            IntegersUp {
                u64: MAX_SAFE + 1,
                ..max.clone()
            },
            "u64 at 2^53",
        ),
        (
            IntegersUp {
                u64: u64::MAX,
                i64: i64::MIN,
                usize: usize::MAX,
                isize: isize::MIN,
                ..max.clone()
            },
            "64-bit extremes",
        ),
    ] {
        samples.extend(Sample::both::<IntegersUp, IntegersDown>(&value, note));
    }
    let json = serde_json::to_value(&min).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::json("INTEGERS_UP", with("u8", json!(256)), "u8 overflow"),
        Sample::json("INTEGERS_UP", with("i8", json!(-129)), "i8 underflow"),
        Sample::json("INTEGERS_DOWN", with("u16", json!(65536)), "u16 overflow"),
        Sample::json(
            "INTEGERS_UP",
            with("u32", json!(4_294_967_296_u64)),
            "u32 overflow",
        ),
        Sample::json(
            "INTEGERS_UP",
            with("i32", json!(2_147_483_648_u64)),
            "i32 overflow",
        ),
        Sample::json("INTEGERS_DOWN", with("u64", json!(-1)), "negative u64"),
        Sample::json(
            "INTEGERS_UP",
            with("u32", json!(1.5)),
            "fraction for an integer",
        ),
        Sample::type_error(
            "INTEGERS_UP",
            with("u8", json!("1")),
            "a numeric string is not a number",
        ),
        Sample::type_error(
            "INTEGERS_DOWN",
            with("f64", json!(null)),
            "null for a float",
        ),
    ]);
    samples
}

fn constraints() -> Vec<Sample> {
    let good = ConstrainedUp {
        name: "héllo".into(),
        delta: -10,
        ratio: 2.5,
        slug: "abc".into(),
        email: "a.b@example.com".into(),
        site: "https://example.com/x".into(),
        token: "67e55044-10b1-426f-9247-bb680e5fe0c8".into(),
        tags: vec!["t".into()],
        scores: BTreeMap::from([("a".into(), 1)]),
        big: 1000,
        entries: vec![Entry { note: "n".into() }],
        code: Some("abc".into()),
    };
    let mut samples =
        Sample::both::<ConstrainedUp, ConstrainedDown>(&good, "every constraint at its bound")
            .to_vec();
    let cases: Vec<(ConstrainedUp, &'static str)> = vec![
        (
            ConstrainedUp {
                name: "a".into(),
                ..good.clone()
            },
            "too short",
        ),
        (
            ConstrainedUp {
                name: "日本語日本語".into(),
                ..good.clone()
            },
            "too long in characters, not bytes",
        ),
        (
            ConstrainedUp {
                delta: -11,
                ..good.clone()
            },
            "too small",
        ),
        (
            ConstrainedUp {
                delta: 11,
                ..good.clone()
            },
            "too large",
        ),
        (
            ConstrainedUp {
                ratio: 0.25,
                ..good.clone()
            },
            "float too small",
        ),
        (
            ConstrainedUp {
                slug: "ABC".into(),
                ..good.clone()
            },
            "pattern",
        ),
        (
            ConstrainedUp {
                email: "nope".into(),
                ..good.clone()
            },
            "email",
        ),
        (
            ConstrainedUp {
                site: "not a url".into(),
                ..good.clone()
            },
            "url",
        ),
        (
            ConstrainedUp {
                token: "123".into(),
                ..good.clone()
            },
            "uuid",
        ),
        (
            ConstrainedUp {
                tags: vec![],
                ..good.clone()
            },
            "non_empty",
        ),
        (
            ConstrainedUp {
                big: 1001,
                ..good.clone()
            },
            "range on a u64",
        ),
        (
            ConstrainedUp {
                big: MAX_SAFE + 1,
                ..good.clone()
            },
            "range and safe-integer on one u64",
        ),
        (
            ConstrainedUp {
                entries: vec![
                    Entry { note: "ok".into() },
                    Entry {
                        note: String::new(),
                    },
                ],
                ..good.clone()
            },
            "nested path with an index",
        ),
        (
            ConstrainedUp {
                code: Some("ab".into()),
                ..good.clone()
            },
            "length(equal) on an option",
        ),
        (
            ConstrainedUp {
                code: None,
                ..good.clone()
            },
            "an empty option is not checked",
        ),
        (
            ConstrainedUp {
                name: String::new(),
                delta: 100,
                slug: "a-b".into(),
                email: "a@b".into(),
                tags: vec![],
                code: Some("abcd".into()),
                ..good.clone()
            },
            "every failure reported at once",
        ),
    ];
    for (value, note) in &cases {
        samples.extend(Sample::both::<ConstrainedUp, ConstrainedDown>(value, note));
    }
    let json = serde_json::to_value(&good).unwrap();
    let mut tags = json.clone();
    tags["tags"] = json!("t");
    samples.push(Sample::type_error(
        "CONSTRAINED_UP",
        tags,
        "a string is not a list of tags",
    ));
    samples
}

fn nulls() -> Vec<Sample> {
    let full = NullsUp {
        kept: NullsKept {
            note: Some("n".into()),
            count: Some(u32::MAX),
        },
        mixed: NullMixed {
            kept: Some(1),
            left_out: Some(2),
            level: Some(Level::Low),
        },
    };
    let empty = NullsUp {
        kept: NullsKept {
            note: None,
            count: None,
        },
        mixed: NullMixed {
            kept: None,
            left_out: None,
            level: None,
        },
    };
    let json = serde_json::to_value(&empty).unwrap();
    assert_eq!(
        json,
        json!({"kept": {"note": null, "count": null}, "mixed": {"kept": null}}),
        "keep_nulls and #[keep_null] write null, the default leaves None out"
    );
    let mut samples = Sample::both::<NullsUp, NullsDown>(&full, "every option set").to_vec();
    samples.extend(Sample::both::<NullsUp, NullsDown>(
        &empty,
        "every option empty: kept nulls and left-out fields",
    ));
    samples.extend([
        Sample::json(
            "NULLS_UP",
            json!({"kept": {}, "mixed": {"leftOut": null, "level": null}}),
            "a client may omit a kept null or send null for a left-out one",
        ),
        Sample::never_serialized(
            "NULLS_DOWN",
            json!({"kept": {}, "mixed": {"kept": null}}),
            "the server always writes a kept null",
        ),
        Sample::never_serialized(
            "NULLS_DOWN",
            json!({"kept": {"note": null, "count": null}, "mixed": {"kept": null, "leftOut": null}}),
            "the server never writes null for a left-out None",
        ),
        Sample::type_error(
            "NULLS_UP",
            json!({"kept": {"note": 1}, "mixed": {}}),
            "wrong type under a kept null",
        ),
    ]);
    samples
}

fn generics() -> Vec<Sample> {
    let value = GenericsUp {
        entries: Page {
            items: vec![Entry { note: "e".into() }],
            cursor: Some("c".into()),
        },
        levels: Page {
            items: vec![Level::Low, Level::MediumHigh],
            cursor: None,
        },
        open: Open {
            id: "o".into(),
            rest: BTreeMap::from([
                ("any".into(), json!([1, {"x": null}])),
                ("n".into(), json!(null)),
            ]),
        },
    };
    let manifest = Corpus::manifest().unwrap();
    for name in ["Page_for_Entry", "Page_for_Level"] {
        assert!(manifest.defs.contains_key(name), "no definition {name}");
    }
    let mut samples =
        Sample::both::<GenericsUp, GenericsDown>(&value, "two instantiations, open object")
            .to_vec();
    let bad = GenericsUp {
        entries: Page {
            items: vec![Entry {
                note: String::new(),
            }],
            cursor: None,
        },
        ..value.clone()
    };
    samples.extend(Sample::both::<GenericsUp, GenericsDown>(
        &bad,
        "constraint inside a generic instantiation",
    ));
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::type_error(
            "GENERICS_UP",
            with("levels", json!({"items": [{"note": "x"}]})),
            "one instantiation's item in the other",
        ),
        Sample::type_error(
            "GENERICS_DOWN",
            with("open", json!({"rest": 1})),
            "open object without its named field",
        ),
    ]);
    samples
}

fn combos() -> Vec<Sample> {
    use chrono::TimeZone;
    let entry = |note: &str| Entry { note: note.into() };
    let value = CombosUp {
        events: vec![
            Event::UserJoined {
                user_name: "ann".into(),
                retries: 2,
                note: Some("hi".into()),
                at: Some(chrono::Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()),
            },
            Event::UserJoined {
                user_name: "bob".into(),
                retries: 0,
                note: None,
                at: None,
            },
            Event::Moved(Point3 {
                x: 1.5,
                y: -2.0,
                z: 0.0,
            }),
            Event::Cleared,
        ],
        shapes: vec![
            Shape::Circle {
                radius: 2.5,
                filled: true,
            },
            Shape::Poly(vec![Point3 {
                x: 0.0,
                y: 1.0,
                z: 2.0,
            }]),
            Shape::Pair(None, Level::Low),
            Shape::Pair(Some(255), Level::MediumHigh),
            Shape::Empty,
        ],
        replies: vec![
            Reply::Done {
                code: 200,
                stamp: Stamp {
                    by: Some(uuid::Uuid::from_u128(1)),
                    seq: u32::MAX,
                },
            },
            Reply::Done {
                code: 0,
                stamp: Stamp { by: None, seq: 0 },
            },
            Reply::Failed("no".into()),
            Reply::Skipped,
        ],
        loose: vec![
            Loose::Flag(false),
            Loose::Ids(BTreeSet::from([3, 1])),
            Loose::ByKey(BTreeMap::from([("zero".into(), 0), ("max".into(), 255)])),
        ],
        pair: Pair {
            left: "l".into(),
            right: Some(Level::Low),
        },
        pages: Page {
            items: vec![
                Page {
                    items: vec![entry("a")],
                    cursor: None,
                },
                Page {
                    items: vec![],
                    cursor: Some("c".into()),
                },
            ],
            cursor: None,
        },
        tagged: vec![
            Tagged::One { item: u16::MAX },
            Tagged::Many { items: vec![1, 2] },
            Tagged::Nothing,
        ],
        sets: Sets {
            names: HashSet::from(["only".into()]),
            levels: BTreeSet::from([Level::Low, Level::MediumHigh]),
            maybe: Some(BTreeSet::from([0, 9])),
        },
        int_keys: IntKeys {
            small: BTreeMap::from([(-128, None), (127, Some("x".into()))]),
            wide: BTreeMap::from([(MAX_SAFE, vec![1])]),
            levels: HashMap::from([(65535, Level::Low)]),
        },
        stamps: Stamps {
            at: Some(chrono::Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()),
            ids: vec![uuid::Uuid::from_u128(u128::MAX)],
            days: BTreeMap::from([(1, chrono::NaiveDate::from_ymd_opt(2020, 2, 29).unwrap())]),
            link: Some(url::Url::parse("mailto:a@example.com").unwrap()),
        },
        dir: Dir {
            name: "/".into(),
            entries: BTreeMap::from([(
                "etc".into(),
                Dir {
                    name: "etc".into(),
                    entries: BTreeMap::new(),
                },
            )]),
        },
        chain: Chain::Link {
            value: 1,
            next: Some(Box::new(Chain::Link {
                value: 2,
                next: Some(Box::new(Chain::End)),
            })),
        },
        settings: Settings {
            limit: 5,
            title: "t".into(),
            level: Some(Level::MediumHigh),
        },
        shouting: Shouting {
            identifier: 7,
            max_items: Some(3),
            is_open: true,
        },
        slot: Slot(1, Some("s".into())),
        holder: Holder(Pair {
            left: 1,
            right: Some(2),
        }),
    };
    let json = serde_json::to_value(&value).unwrap();
    assert_eq!(
        json["events"][1],
        json!({"type": "user-joined", "userName": "bob", "retries": 0})
    );
    assert_eq!(json["events"][0]["when"], json!("2024-01-02T03:04:05Z"));
    assert_eq!(
        json["shouting"],
        json!({"id": 7, "MAX_ITEMS": 3, "IS_OPEN": true})
    );
    let manifest = Corpus::manifest().unwrap();
    for name in [
        "Pair_for_string_and_Level",
        "Page_for_Page_for_Entry",
        "Tagged_for_uint16",
        "Pair_for_uint8_and_uint8",
    ] {
        assert!(manifest.defs.contains_key(name), "no definition {name}");
    }
    let mut samples = Sample::both::<CombosUp, CombosDown>(&value, "every combination").to_vec();
    let sparse = CombosUp {
        events: vec![],
        shapes: vec![],
        replies: vec![],
        loose: vec![],
        pair: Pair {
            left: String::new(),
            right: None,
        },
        pages: Page {
            items: vec![],
            cursor: None,
        },
        tagged: vec![],
        sets: Sets {
            names: HashSet::new(),
            levels: BTreeSet::new(),
            maybe: None,
        },
        int_keys: IntKeys {
            small: BTreeMap::new(),
            wide: BTreeMap::new(),
            levels: HashMap::new(),
        },
        stamps: Stamps {
            at: None,
            ids: vec![],
            days: BTreeMap::new(),
            link: None,
        },
        dir: Dir {
            name: String::new(),
            entries: BTreeMap::new(),
        },
        chain: Chain::End,
        settings: Settings::default(),
        shouting: Shouting {
            identifier: 0,
            max_items: None,
            is_open: false,
        },
        slot: Slot(0, None),
        holder: Holder(Pair {
            left: 0,
            right: None,
        }),
    };
    samples.extend(Sample::both::<CombosUp, CombosDown>(
        &sparse,
        "every option empty, every collection empty",
    ));
    let bad = CombosUp {
        pages: Page {
            items: vec![Page {
                items: vec![entry("")],
                cursor: None,
            }],
            cursor: None,
        },
        ..value.clone()
    };
    samples.extend(Sample::both::<CombosUp, CombosDown>(
        &bad,
        "constraint inside a nested generic",
    ));
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::json(
            "COMBOS_UP",
            with("events", json!([{"type": "user-joined", "userName": "c"}])),
            "a client leaves out the option and the default in a tagged variant",
        ),
        Sample::json(
            "COMBOS_UP",
            with("events", json!([{"type": "user-joined", "userName": "c", "note": null, "when": null}])),
            "explicit nulls in a tagged variant",
        ),
        Sample::never_serialized(
            "COMBOS_DOWN",
            with("events", json!([{"type": "user-joined", "userName": "c", "retries": 0, "note": null}])),
            "the server leaves a None out inside a tagged variant",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("events", json!([{"type": "userJoined", "userName": "c"}])),
            "a variant tag in the wrong case",
        ),
        Sample::json(
            "COMBOS_UP",
            with("events", json!([{"type": "moved", "x": 1, "y": 2, "z": 3, "w": 4}])),
            "an unknown field beside a strict newtype variant's fields",
        ),
        Sample::json(
            "COMBOS_UP",
            with("shapes", json!([{"shape": "circle", "dims": {"radius": 1}}])),
            "a defaulted field left out of adjacent content",
        ),
        Sample::type_error(
            "COMBOS_DOWN",
            with("shapes", json!([{"shape": "pair", "dims": [1]}])),
            "adjacent tuple content too short",
        ),
        Sample::json(
            "COMBOS_UP",
            with("replies", json!([{"Done": {"code": 1, "seq": 2, "by": null}}])),
            "a flattened struct's option as null inside a variant",
        ),
        Sample::json(
            "COMBOS_UP",
            with("replies", json!([{"Done": {"code": 1}}])),
            "a flattened struct's field missing inside a variant",
        ),
        Sample::json(
            "COMBOS_UP",
            with("replies", json!([{"Skipped": null}])),
            "a unit variant as a key with null beside other variants",
        ),
        Sample::json(
            "COMBOS_UP",
            with("loose", json!([[5, 5]])),
            "duplicates in an untagged set",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("loose", json!(["x"])),
            "no untagged variant fits a string",
        ),
        Sample::type_error(
            "COMBOS_DOWN",
            with("pair", json!({"left": 1})),
            "the wrong parameter type in a two-parameter generic",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("tagged", json!([{"kind": "one", "item": "x"}])),
            "the wrong item type in a generic tagged enum",
        ),
        Sample::json(
            "COMBOS_UP",
            with("tagged", json!([{"kind": "one", "item": 65536}])),
            "u16 overflow in a generic tagged enum",
        ),
        Sample::json(
            "COMBOS_UP",
            with("sets", json!({"names": ["a", "a"], "levels": ["LOW", "LOW"], "maybe": [1, 1]})),
            "duplicates in every set",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("intKeys", json!({"small": {"a": null}, "wide": {}, "levels": {}})),
            "a non-numeric key in a signed map",
        ),
        Sample::schema_blind(
            "COMBOS_UP",
            with("intKeys", json!({"small": {"128": null}, "wide": {}, "levels": {}})),
            "JSON Schema keys are strings; only a pattern can restrict them, not a numeric range",
            "i8 key overflow",
        ),
        Sample::json(
            "COMBOS_UP",
            with("intKeys", json!({"small": {"-1": "x"}, "wide": {"0": [256]}, "levels": {"1": "LOW"}})),
            "u8 overflow in a value of an integer-keyed map",
        ),
        Sample::json(
            "COMBOS_UP",
            with("stamps", json!({"ids": ["00000000000000000000000000000001"], "days": {"2": "2021-02-29"}})),
            "a simple-form uuid in a list, no leap day in 2021",
        ),
        Sample::json(
            "COMBOS_UP",
            with("stamps", json!({"ids": [], "days": {}, "at": "2024-01-01T00:00:00+00:00", "link": "https://x.example/"})),
            "formats inside options",
        ),
        Sample::type_error(
            "COMBOS_DOWN",
            with("dir", json!({"name": "a", "entries": {"b": {"entries": {}}}})),
            "a name missing one level down a recursive map",
        ),
        Sample::json(
            "COMBOS_UP",
            with("chain", json!({"t": "Link", "c": {"value": 1}})),
            "a client leaves out the recursive option",
        ),
        Sample::type_error(
            "COMBOS_DOWN",
            with("chain", json!({"t": "Link", "c": {"value": 1, "next": {"t": "Bogus"}}})),
            "an unknown tag deep in a recursive chain",
        ),
        Sample::json(
            "COMBOS_UP",
            with("settings", json!({})),
            "every field defaulted by the container",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("settings", json!({"limit": null})),
            "null for a container-defaulted number",
        ),
        Sample::json(
            "COMBOS_UP",
            with("shouting", json!({"id": 1})),
            "a client leaves out the option and the default",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("shouting", json!({"ID": 1})),
            "the case rule does not apply to a renamed field",
        ),
        Sample::type_error(
            "COMBOS_UP",
            with("slot", json!([1])),
            "a tuple struct's option position cannot be left out",
        ),
        Sample::type_error(
            "COMBOS_DOWN",
            with("holder", json!({"left": 1, "right": "2"})),
            "the wrong type inside a newtype of a generic",
        ),
    ]);
    samples
}

fn others() -> Vec<Sample> {
    let value = OthersUp {
        colors: vec![Color::Red, Color::Green, Color::Unknown],
        ops: vec![Op::Add(-1), Op::Reset, Op::Unsupported],
        signals: vec![Signal::Start { at: 1 }, Signal::Stop, Signal::Unrecognized],
        packets: vec![Packet::Data("d".into()), Packet::Ping, Packet::Other],
    };
    let mut samples =
        Sample::both::<OthersUp, OthersDown>(&value, "every variant, catch-alls by their own name")
            .to_vec();
    let json = serde_json::to_value(&value).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j
    };
    samples.extend([
        Sample::json(
            "OTHERS_UP",
            with("colors", json!(["purple", "RED", ""])),
            "unknown names read as the catch-all",
        ),
        Sample::json(
            "OTHERS_UP",
            with("colors", json!([{"red": null}])),
            "a declared unit variant as a key with null",
        ),
        Sample::views_refuse(
            "OTHERS_UP",
            with("colors", json!([{"purple": null}])),
            "serde also reads an unknown name as a key with null; the views take the string form",
            "an unknown name as a key with null",
        ),
        Sample::type_error(
            "OTHERS_UP",
            with("colors", json!([1])),
            "a number is no variant name",
        ),
        Sample::never_serialized(
            "OTHERS_DOWN",
            with("colors", json!(["purple"])),
            "the server writes the catch-all by its own name",
        ),
        Sample::json(
            "OTHERS_UP",
            with("ops", json!(["Multiply", {"Add": 2}])),
            "an unknown name beside a variant with data",
        ),
        Sample::json(
            "OTHERS_UP",
            with("ops", json!(["Add"])),
            "the name of a variant with data is not a catch-all",
        ),
        Sample::type_error(
            "OTHERS_UP",
            with("ops", json!([{"Add": "x"}])),
            "wrong content for a variant with data",
        ),
        Sample::json(
            "OTHERS_UP",
            with("signals", json!([{"kind": "blink"}, {"kind": "Start"}])),
            "unknown tags read as the catch-all",
        ),
        Sample::json(
            "OTHERS_UP",
            with("signals", json!([{"kind": "start"}])),
            "a declared tag without its fields is not a catch-all",
        ),
        Sample::type_error("OTHERS_UP", with("signals", json!([{"at": 1}])), "no tag"),
        Sample::never_serialized(
            "OTHERS_DOWN",
            with("signals", json!([{"kind": "blink"}])),
            "the server writes the catch-all's own tag",
        ),
        Sample::json(
            "OTHERS_UP",
            with("packets", json!([{"t": "Pong"}, {"t": "data"}])),
            "unknown adjacent tags read as the catch-all",
        ),
        Sample::json(
            "OTHERS_UP",
            with("packets", json!([{"t": "Data"}])),
            "a declared adjacent tag without its content",
        ),
    ]);
    samples
}

/// Counts the corpus's shapes: the payload definitions (one per Rust type, its client-side
/// `…Input` twin and a family's `…Down` message counted with it) that samples reach in both
/// directions. A family's `…Up` and `…Down` messages are one shape.
fn shapes_in_both_directions(manifest: &twinwire::Manifest, samples: &[Sample]) -> Vec<String> {
    use twinwire::Direction;
    fn refs(schema: &serde_json::Value, out: &mut Vec<String>) {
        match schema {
            serde_json::Value::Object(map) => {
                if let Some(target) = map
                    .get("$ref")
                    .and_then(|r| r.as_str())
                    .and_then(twinwire::manifest::ref_target)
                {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let shape = |name: &str| {
        let name = name.strip_suffix("Input").unwrap_or(name);
        let family = name
            .strip_suffix("Down")
            .or_else(|| name.strip_suffix("Up"));
        family.unwrap_or(name).to_owned()
    };
    let mut seen: BTreeMap<String, BTreeSet<Direction>> = BTreeMap::new();
    for sample in samples {
        let message = manifest.message(sample.kind).unwrap();
        let Some(payload) = &message.payload else {
            continue;
        };
        let mut todo = Vec::new();
        refs(payload, &mut todo);
        let mut reached = BTreeSet::new();
        while let Some(name) = todo.pop() {
            if reached.insert(name.clone()) {
                refs(&manifest.defs[&name], &mut todo);
            }
        }
        for name in reached {
            seen.entry(shape(&name))
                .or_default()
                .insert(message.direction);
        }
    }
    seen.into_iter()
        .filter(|(_, directions)| directions.len() == 2)
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn corpus_round_trips_through_schema_typescript_and_guards() {
    let samples: Vec<Sample> = [
        renames(),
        enums(),
        optionals(),
        flatten(),
        maps(),
        sequences(),
        recursive(),
        smalls(),
        formats(),
        integers(),
        constraints(),
        nulls(),
        generics(),
        combos(),
        others(),
    ]
    .concat();
    let manifest = Corpus::manifest().unwrap();
    // The corpus must not silently shrink: at least 60 shapes, each sampled both ways.
    let shapes = shapes_in_both_directions(&manifest, &samples);
    assert!(
        shapes.len() >= 60,
        "only {} shapes are sampled in both directions: {shapes:?}",
        shapes.len()
    );
    round_trip("corpus", manifest, verdict, &samples);
}

fn chat_verdict(kind: &str, payload: Option<&serde_json::Value>) -> Option<Verdict> {
    use chat_protocol::*;
    twinwire_corpus::dispatch!(kind, payload;
        Authenticate, JoinRoom, LeaveRoom, SendMessage, TypingStart, TypingStop, AuthSuccess,
        RoomList, UserJoined, UserLeft, ChatMessage, UserTyping, GetMessages, Messages,
        Calculate, CalculateResult,
    );
    None
}

#[test]
fn chat_round_trips_through_schema_typescript_and_guards() {
    use chat_protocol::*;
    let message = ChatMessage {
        id: "1".into(),
        room_id: "general".into(),
        user_id: "u".into(),
        user_name: "Ünïcødé 🦀".into(),
        text: "<b>not html</b>".into(),
        attachment: Some(Attachment {
            url: "https://example.com/cat.png".into(),
            name: None,
        }),
        timestamp: 1_700_000_000_000,
    };
    let samples = vec![
        Sample::of(&Authenticate { token: "t".into() }, "authenticate"),
        Sample::of(
            &Authenticate {
                token: String::new(),
            },
            "empty token",
        ),
        Sample::of(
            &SendMessage {
                room_id: "general".into(),
                text: "hi".into(),
                attachment: Some(Attachment {
                    url: "not a url".into(),
                    name: Some(String::new()),
                }),
            },
            "bad attachment",
        ),
        Sample::json(
            "SEND_MESSAGE",
            json!({"roomId": "r", "text": "hi"}),
            "attachment omitted by a client",
        ),
        Sample::type_error("SEND_MESSAGE", json!({"roomId": "r"}), "text missing"),
        Sample::of(&message, "chat message"),
        Sample::of(
            &ChatMessage {
                timestamp: MAX_SAFE + 1,
                ..message.clone()
            },
            "timestamp beyond 2^53",
        ),
        Sample::of(
            &ChatMessage {
                attachment: None,
                ..message.clone()
            },
            "the server leaves out an empty attachment",
        ),
        Sample::never_serialized(
            "CHAT_MESSAGE",
            json!({"id": "1", "roomId": "r", "userId": "u", "userName": "n", "text": "t", "attachment": null, "timestamp": 1}),
            "the server never sends `attachment: null`",
        ),
        Sample::json("GET_MESSAGES", json!({"roomId": "r"}), "defaulted limit"),
        Sample::of(
            &GetMessages {
                room_id: "r".into(),
                limit: 101,
            },
            "limit too large",
        ),
        Sample::of(
            &Messages {
                room_id: "r".into(),
                messages: vec![message],
            },
            "RPC response",
        ),
        Sample::of(
            &Calculate {
                operation: Operation::Multiply,
                a: 1.5,
                b: -2.0,
            },
            "calculate",
        ),
        Sample::type_error(
            "CALCULATE",
            json!({"operation": "divide", "a": 1, "b": 2}),
            "unknown operation",
        ),
        Sample::of(
            &RoomList {
                rooms: vec![RoomInfo {
                    id: "g".into(),
                    name: "General".into(),
                    user_count: u32::MAX,
                }],
            },
            "room list",
        ),
        Sample::json(
            "USER_TYPING",
            json!({"roomId": "r", "userId": "u", "userName": "n", "typing": "yes"}),
            "typing is a boolean",
        ),
    ];
    round_trip("chat", Chat::manifest().unwrap(), chat_verdict, &samples);
}

#[test]
fn hostile_names_round_trip_through_schema_typescript_and_guards() {
    use twinwire_corpus::hostile::*;
    let object = Object {
        r#type: "t".into(),
        with_dash: 1,
        digits: true,
        proto: Some("p".into()),
        constructor: 2,
        to_string: "s".into(),
        quoted: false,
        empty: 3,
        pointer: String::new(),
    };
    let samples = vec![
        Sample::of(
            &object,
            "keys that need quoting, inherited names, a pointer-escaped key",
        ),
        Sample::json(
            "weird/type with space",
            json!({"type": "t", "with-dash": 1, "123start": true, "constructor": 2, "toString": "s", "a\"b\\c": false, "": 3, "a/b~c": "x"}),
            "`__proto__` omitted by a client",
        ),
        Sample::json(
            "weird/type with space",
            json!({"type": "t", "with-dash": 1, "123start": true, "__proto__": null, "toString": "s", "a\"b\\c": false, "": 3, "a/b~c": "x"}),
            "`constructor` missing: must not be found on the prototype",
        ),
        Sample::of(
            &delete {
                r#match: vec![r#await {
                    r#async: "a".into(),
                }],
            },
            "keyword type and field names",
        ),
        Sample::of(&Meta, "payload-less message named like a client type"),
        Sample::of(&Type { größe_cm: 180 }, "non-ASCII field"),
        Sample::of(&OnOpen, "named like a hook"),
        Sample::of(&Issue { promise: 1 }, "named like an import"),
        Sample::of(&Größe { wert: 1.5 }, "non-ASCII message name"),
        Sample::of(&Array { object: vec![1] }, "named like a global"),
        Sample::type_error(
            "ARRAY",
            json!({"object": {}}),
            "wrong type under a global's name",
        ),
    ];
    round_trip(
        "hostile",
        Hostile::manifest().unwrap(),
        twinwire_corpus::hostile::verdict,
        &samples,
    );
}
