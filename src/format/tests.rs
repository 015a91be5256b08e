//! Exact outputs of the collector for every format, truncation and shaping rule.

use serde_json::{Value, json};

use super::{Collector, FinishInfo, Format, Rendered, Truncation, summary_line};
use crate::trino::{Column, RowSink};

fn col(name: &str, type_name: &str) -> Column {
    Column {
        name: name.into(),
        type_name: type_name.into(),
        type_signature: None,
    }
}

fn info() -> FinishInfo {
    FinishInfo {
        query_id: "20240115_100000_00001_abcde".into(),
        duration_ms: 42,
        update_type: None,
        update_count: None,
    }
}

/// Run `rows` through a collector; returns what `row` answered for each.
fn collect(
    format: Format,
    limit: usize,
    budget: usize,
    columns: &[Column],
    rows: Vec<Value>,
) -> (Rendered, Vec<bool>) {
    let mut c = Collector::new(format, limit, budget);
    c.columns(columns);
    let mut answers = Vec::new();
    for r in rows {
        let cells = match r {
            Value::Array(cells) => cells,
            other => vec![other],
        };
        answers.push(c.row(cells));
    }
    (c.finish(info()), answers)
}

fn render(format: Format, columns: &[Column], rows: Vec<Value>) -> Rendered {
    collect(format, 1000, 4 << 20, columns, rows).0
}

fn id_name() -> Vec<Column> {
    vec![col("id", "bigint"), col("name", "varchar")]
}

/// Columns and one row covering the awkward values.
fn awkward() -> (Vec<Column>, Vec<Value>) {
    let columns = vec![
        col("n", "bigint"),
        col("s", "varchar"),
        col("d", "decimal(10, 2)"),
        col("x", "double"),
        col("ts", "timestamp(6) with time zone"),
        col("a", "array(varchar)"),
        col("m", "map(varchar, bigint)"),
        col("b", "boolean"),
        col("z", "varchar"),
    ];
    let rows = vec![
        json!([
            9_223_372_036_854_775_807_i64,
            "a,b \"q\"\nnext|pipe",
            "12345678.90",
            "NaN",
            "2024-01-15 10:00:00.123456 UTC",
            ["x", null],
            {"k": 1},
            true,
            null
        ]),
        json!([-1, "", "0.10", 1.5, null, [], {}, false, "Zürich 😀"]),
    ];
    (columns, rows)
}

#[test]
fn format_names_are_exact() {
    assert_eq!("json".parse(), Ok(Format::Json));
    assert_eq!("csv".parse(), Ok(Format::Csv));
    assert_eq!("markdown".parse(), Ok(Format::Markdown));
    for bad in ["JSON", "Csv", " json", "json ", "", "md", "table"] {
        assert!(bad.parse::<Format>().is_err(), "{bad:?}");
    }
    assert_eq!(Format::default(), Format::Json);
    assert_eq!(Format::Markdown.to_string(), "markdown");
    let err = "xml".parse::<Format>().err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("unknown format 'xml': use one of json, csv, markdown")
    );
}

#[test]
fn json_text_has_the_seed_layout() {
    let r = render(
        Format::Json,
        &id_name(),
        vec![json!([1, "Alice"]), json!([2, "Bob"])],
    );
    assert_eq!(
        r.text,
        [r#"{
  "columns": ["id", "name"],
  "rows": [
    [1, "Alice"],
    [2, "Bob"]
  ],
  "row_count": 2,
  "truncated": false
}"#]
    );
}

#[test]
fn json_text_without_rows_or_columns() {
    let r = render(Format::Json, &id_name(), vec![]);
    assert_eq!(
        r.text,
        [r#"{
  "columns": ["id", "name"],
  "rows": [],
  "row_count": 0,
  "truncated": false
}"#]
    );
    let r = render(Format::Json, &[], vec![]);
    assert_eq!(
        r.text,
        ["{\n  \"columns\": [],\n  \"rows\": [],\n  \"row_count\": 0,\n  \"truncated\": false\n}"]
    );
}

#[test]
fn json_text_keeps_trino_encoding() {
    let (columns, rows) = awkward();
    let r = render(Format::Json, &columns, rows);
    assert_eq!(
        r.text,
        [r#"{
  "columns": ["n", "s", "d", "x", "ts", "a", "m", "b", "z"],
  "rows": [
    [9223372036854775807, "a,b \"q\"\nnext|pipe", "12345678.90", "NaN", "2024-01-15 10:00:00.123456 UTC", ["x",null], {"k":1}, true, null],
    [-1, "", "0.10", 1.5, null, [], {}, false, "Zürich 😀"]
  ],
  "row_count": 2,
  "truncated": false
}"#]
    );
    assert_json_text_matches_structured(&r);
}

#[test]
fn csv_text_quotes_only_when_needed() {
    let (columns, rows) = awkward();
    let r = render(Format::Csv, &columns, rows);
    assert_eq!(
        r.text,
        [
            "n,s,d,x,ts,a,m,b,z\n\
             9223372036854775807,\"a,b \"\"q\"\"\nnext|pipe\",12345678.90,NaN,2024-01-15 10:00:00.123456 UTC,\"[\"\"x\"\",null]\",\"{\"\"k\"\":1}\",true,\n\
             -1,\"\",0.10,1.5,,[],{},false,Zürich 😀\n",
            "2 rows returned, 42 ms, query 20240115_100000_00001_abcde",
        ]
    );
}

#[test]
fn csv_header_is_quoted_like_fields() {
    let r = render(
        Format::Csv,
        &[col("a,b", "bigint"), col("", "bigint"), col(" c", "bigint")],
        vec![json!([1, 2, 3])],
    );
    assert_eq!(r.text[0], "\"a,b\",\"\",\" c\"\n1,2,3\n");
}

#[test]
fn markdown_text_escapes_cells() {
    let (columns, rows) = awkward();
    let r = render(Format::Markdown, &columns, rows);
    assert_eq!(
        r.text,
        [
            "| n | s | d | x | ts | a | m | b | z |\n\
             |---|---|---|---|----|---|---|---|---|\n\
             | 9223372036854775807 | a,b \"q\"<br>next\\|pipe | 12345678.90 | NaN | 2024-01-15 10:00:00.123456 UTC | [\"x\",null] | {\"k\":1} | true | NULL |\n\
             | -1 |  | 0.10 | 1.5 | NULL | [] | {} | false | Zürich 😀 |\n",
            "2 rows returned, 42 ms, query 20240115_100000_00001_abcde",
        ]
    );
}

#[test]
fn markdown_matches_the_seed_layout() {
    let r = render(
        Format::Markdown,
        &[
            col("id", "bigint"),
            col("name", "varchar"),
            col("created_at", "varchar"),
        ],
        vec![
            json!([1, "Alice", "2024-01-15T10:00:00Z"]),
            json!([2, "Bob", "2024-01-15T11:00:00Z"]),
        ],
    );
    assert_eq!(
        r.text[0],
        "| id | name | created_at |\n\
         |----|------|------------|\n\
         | 1 | Alice | 2024-01-15T10:00:00Z |\n\
         | 2 | Bob | 2024-01-15T11:00:00Z |\n"
    );
}

#[test]
fn markdown_header_is_escaped_and_separator_counts_chars() {
    let r = render(
        Format::Markdown,
        &[
            col("a|b", "bigint"),
            col("é\nü", "bigint"),
            col("", "bigint"),
        ],
        vec![],
    );
    assert_eq!(r.text[0], "| a\\|b | é<br>ü |  |\n|------|--------|--|\n");
}

#[test]
fn no_columns_gives_an_empty_table() {
    for format in [Format::Csv, Format::Markdown] {
        let mut c = Collector::new(format, 10, 1000);
        let r = c.finish(FinishInfo {
            update_type: Some("CREATE TABLE".into()),
            ..info()
        });
        assert_eq!(
            r.text,
            [
                "",
                "0 rows returned, 42 ms, query 20240115_100000_00001_abcde; CREATE TABLE"
            ]
        );
        c = Collector::new(format, 10, 1000);
        c.columns(&[]);
        assert!(c.row(vec![]));
        let r = c.finish(info());
        assert_eq!(r.text[0], "");
        assert_eq!(r.row_count, 1);
    }
}

#[test]
fn summary_lines() {
    let i = info();
    assert_eq!(
        summary_line(1, None, 10, 100, &i),
        "1 row returned, 42 ms, query 20240115_100000_00001_abcde"
    );
    assert_eq!(
        summary_line(0, None, 10, 100, &i),
        "0 rows returned, 42 ms, query 20240115_100000_00001_abcde"
    );
    assert_eq!(
        summary_line(10, Some(Truncation::Limit), 10, 100, &i),
        "10 rows returned, truncated at the limit of 10 rows, 42 ms, query 20240115_100000_00001_abcde"
    );
    assert_eq!(
        summary_line(3, Some(Truncation::ByteBudget), 10, 4096, &i),
        "3 rows returned, truncated at the response budget of 4096 bytes, 42 ms, query 20240115_100000_00001_abcde"
    );
    let insert = FinishInfo {
        update_type: Some("INSERT".into()),
        update_count: Some(3),
        ..info()
    };
    assert_eq!(
        summary_line(1, None, 10, 100, &insert),
        "1 row returned, 42 ms, query 20240115_100000_00001_abcde; INSERT: 3 rows"
    );
    let one = FinishInfo {
        update_type: Some("DELETE".into()),
        update_count: Some(1),
        ..info()
    };
    assert!(summary_line(1, None, 10, 100, &one).ends_with("; DELETE: 1 row"));
    let weird = FinishInfo {
        query_id: "q\nid".into(),
        update_count: Some(2),
        ..info()
    };
    assert_eq!(
        summary_line(0, None, 10, 100, &weird),
        "0 rows returned, 42 ms, query q id; 2 rows updated"
    );
}

#[test]
fn limit_stops_at_limit_plus_one() {
    let rows: Vec<Value> = (0..5).map(|i| json!([i, "x"])).collect();
    let (r, answers) = collect(Format::Csv, 3, 1 << 20, &id_name(), rows);
    assert_eq!(answers, [true, true, true, false, false]);
    assert_eq!(r.row_count, 3);
    assert_eq!(r.truncated, Some(Truncation::Limit));
    assert_eq!(r.text[0], "id,name\n0,x\n1,x\n2,x\n");
    assert_eq!(
        r.text[1],
        "3 rows returned, truncated at the limit of 3 rows, 42 ms, query 20240115_100000_00001_abcde"
    );
    assert_eq!(r.structured["stats"]["truncated"], json!(true));
    assert_eq!(r.structured["stats"]["truncated_by"], json!("limit"));
    assert_eq!(r.structured["stats"]["limit_applied"], json!(3));
}

#[test]
fn exactly_limit_rows_is_not_truncated() {
    let rows: Vec<Value> = (0..3).map(|i| json!([i, "x"])).collect();
    let (r, answers) = collect(Format::Json, 3, 1 << 20, &id_name(), rows);
    assert_eq!(answers, [true, true, true]);
    assert_eq!(r.truncated, None);
    assert!(r.text[0].ends_with("\"truncated\": false\n}"));
}

#[test]
fn json_text_names_the_cap_that_hit() {
    let rows: Vec<Value> = (0..3).map(|i| json!([i, "x"])).collect();
    let (r, _) = collect(Format::Json, 2, 1 << 20, &id_name(), rows);
    assert_eq!(
        r.text[0],
        r#"{
  "columns": ["id", "name"],
  "rows": [
    [0, "x"],
    [1, "x"]
  ],
  "row_count": 2,
  "truncated": true,
  "truncated_by": "limit"
}"#
    );
    assert_json_text_matches_structured(&r);
}

#[test]
fn budget_cuts_before_the_row_that_would_not_fit() {
    let header = "id,name\n";
    let budget = header.len() + 2 * "0,xxxx\n".len() + 3;
    let rows: Vec<Value> = (0..5).map(|i| json!([i, "xxxx"])).collect();
    let (r, answers) = collect(Format::Csv, 100, budget, &id_name(), rows);
    assert_eq!(answers, [true, true, false, false, false]);
    assert_eq!(r.truncated, Some(Truncation::ByteBudget));
    assert_eq!(r.text[0], "id,name\n0,xxxx\n1,xxxx\n");
    assert_eq!(
        r.text[1],
        format!(
            "2 rows returned, truncated at the response budget of {budget} bytes, 42 ms, query 20240115_100000_00001_abcde"
        )
    );
    assert_eq!(r.structured["stats"]["truncated_by"], json!("byte_budget"));
    assert_eq!(r.structured["rows"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_row_that_fits_exactly_is_kept() {
    let budget = "id,name\n0,xxxx\n".len();
    let (r, answers) = collect(
        Format::Csv,
        100,
        budget,
        &id_name(),
        vec![json!([0, "xxxx"])],
    );
    assert_eq!(answers, [true]);
    assert_eq!(r.truncated, None);
    assert_eq!(r.text[0].len(), budget);
}

#[test]
fn main_text_never_exceeds_the_budget() {
    let rows: Vec<Value> = (0..40).map(|i| json!([i, "ü|x\n".repeat(i % 7)])).collect();
    for format in [Format::Json, Format::Csv, Format::Markdown] {
        let full = render(format, &id_name(), rows.clone());
        // Large enough for the header and the JSON tail.
        for budget in (150..full.text[0].len() + 10).step_by(7) {
            let (r, _) = collect(format, 1000, budget, &id_name(), rows.clone());
            assert!(r.text[0].len() <= budget, "{format} {budget}");
            if r.text[0].len() < full.text[0].len() {
                assert_eq!(
                    r.truncated,
                    Some(Truncation::ByteBudget),
                    "{format} {budget}"
                );
            } else {
                assert_eq!(r.truncated, None, "{format} {budget}");
            }
            if format == Format::Json {
                assert_json_text_matches_structured(&r);
            }
        }
    }
}

#[test]
fn json_budget_truncation_is_reported_in_text() {
    let rows: Vec<Value> = (0..100).map(|i| json!([i, "name"])).collect();
    let (r, _) = collect(Format::Json, 1000, 400, &id_name(), rows);
    assert_eq!(r.truncated, Some(Truncation::ByteBudget));
    assert!(r.text[0].len() <= 400);
    assert!(r.text[0].ends_with("\"truncated\": true,\n  \"truncated_by\": \"byte_budget\"\n}"));
    assert_json_text_matches_structured(&r);
}

#[test]
fn budget_smaller_than_the_header_keeps_no_rows() {
    let (r, answers) = collect(Format::Markdown, 10, 5, &id_name(), vec![json!([1, "a"])]);
    assert_eq!(answers, [false]);
    assert_eq!(r.row_count, 0);
    assert_eq!(r.truncated, Some(Truncation::ByteBudget));
    assert_eq!(r.text[0], "| id | name |\n|----|------|\n");
}

#[test]
fn ragged_rows_are_padded_or_cut() {
    let (r, answers) = collect(
        Format::Csv,
        10,
        1 << 20,
        &id_name(),
        vec![
            json!([1]),
            json!([2, "b", "extra"]),
            json!([]),
            json!([4, "d"]),
        ],
    );
    assert_eq!(answers, [true, true, true, true]);
    assert_eq!(r.ragged_rows, 3);
    assert_eq!(r.text[0], "id,name\n1,\n2,b\n,\n4,d\n");
    assert_eq!(r.structured["rows"][0], json!({"id": 1, "name": null}));
    assert_eq!(r.structured["rows"][1], json!({"id": 2, "name": "b"}));
}

#[test]
fn rows_before_columns_do_not_panic() {
    let mut c = Collector::new(Format::Markdown, 10, 1000);
    assert!(c.row(vec![json!(1)]));
    c.columns(&id_name());
    let r = c.finish(info());
    assert_eq!(r.row_count, 1);
    assert_eq!(r.ragged_rows, 1);
}

#[test]
fn structured_output_is_query_output() {
    let r = render(
        Format::Markdown,
        &[col("id", "bigint"), col("price", "decimal(10, 2)")],
        vec![json!([1, "9.99"])],
    );
    assert_eq!(
        serde_json::to_string(&r.structured).unwrap_or_default(),
        r#"{"columns":[{"name":"id","type":"bigint"},{"name":"price","type":"decimal(10, 2)"}],"rows":[{"id":1,"price":"9.99"}],"row_count":1,"stats":{"row_count":1,"truncated":false,"limit_applied":1000,"duration_ms":42,"query_id":"20240115_100000_00001_abcde"}}"#
    );
}

#[test]
fn structured_stats_carry_truncation_and_updates() {
    let mut c = Collector::new(Format::Json, 1, 1000);
    c.columns(&[col("rows", "bigint")]);
    assert!(c.row(vec![json!(3)]));
    assert!(!c.row(vec![json!(4)]));
    let r = c.finish(FinishInfo {
        update_type: Some("INSERT".into()),
        update_count: Some(3),
        ..info()
    });
    assert_eq!(
        serde_json::to_string(&r.structured["stats"]).unwrap_or_default(),
        r#"{"row_count":1,"truncated":true,"truncated_by":"limit","limit_applied":1,"duration_ms":42,"query_id":"20240115_100000_00001_abcde","update_type":"INSERT","update_count":3}"#
    );
}

#[test]
fn duplicate_and_empty_column_names_get_unique_keys() {
    let columns = [
        col("a", "bigint"),
        col("a", "bigint"),
        col("", "bigint"),
        col("a_2", "bigint"),
        col("a", "bigint"),
    ];
    let r = render(Format::Json, &columns, vec![json!([1, 2, 3, 4, 5])]);
    assert_eq!(
        serde_json::to_string(&r.structured["rows"]).unwrap_or_default(),
        r#"[{"a":1,"a_3":2,"_col2":3,"a_2":4,"a_4":5}]"#
    );
    // Names themselves are untouched in the text and the column list.
    assert!(r.text[0].contains(r#""columns": ["a", "a", "", "a_2", "a"]"#));
    assert_eq!(
        r.structured["columns"][2],
        json!({"name": "", "type": "bigint"})
    );
    assert_json_text_matches_structured(&r);
}

#[test]
fn row_values_become_objects_everywhere() {
    let columns = [
        col("r", "row(a bigint, b varchar)"),
        col("q", r#"row("first name" varchar, "x""y" bigint)"#),
        col("t", "row(bigint, varchar)"),
        col("arr", "array(row(x integer, y varchar))"),
        col("m", "map(varchar, row(n bigint, inner row(v double)))"),
    ];
    let row = json!([
        [1, "x"],
        ["Ann", 2],
        [3, "t"],
        [[1, "a"], [2, "b"]],
        {"k": [5, ["NaN"]]}
    ]);
    let r = render(
        Format::Json,
        &columns,
        vec![row.clone(), json!([null, null, null, null, null])],
    );
    assert_eq!(
        r.structured["rows"][0],
        json!({
            "r": {"a": 1, "b": "x"},
            "q": {"first name": "Ann", "x\"y": 2},
            "t": [3, "t"],
            "arr": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}],
            "m": {"k": {"n": 5, "inner": {"v": "NaN"}}}
        })
    );
    assert!(r.text[0].contains(
        r#"[{"a":1,"b":"x"}, {"first name":"Ann","x\"y":2}, [3,"t"], [{"x":1,"y":"a"},{"x":2,"y":"b"}], {"k":{"n":5,"inner":{"v":"NaN"}}}]"#
    ));
    assert_json_text_matches_structured(&r);

    let r = render(Format::Markdown, &columns, vec![row.clone()]);
    assert!(r.text[0].contains(r#"| {"a":1,"b":"x"} | {"first name":"Ann","x\"y":2} | [3,"t"] |"#));
    let r = render(Format::Csv, &columns, vec![row]);
    assert!(r.text[0].starts_with("r,q,t,arr,m\n\"{\"\"a\"\":1,\"\"b\"\":\"\"x\"\"}\","));
}

#[test]
fn unparsable_types_leave_values_alone() {
    let columns = [
        col("r", "row(a bigint"),
        col("s", "row(a bigint, b bigint)"),
    ];
    let r = render(Format::Json, &columns, vec![json!([[1], [1]])]);
    assert_eq!(r.structured["rows"][0], json!({"r": [1], "s": [1]}));
}

#[test]
fn floats_render_as_serde_json_does() {
    let r = render(
        Format::Csv,
        &[col("x", "double")],
        vec![
            json!([1e300]),
            json!([0.1]),
            json!([-2.5e-8]),
            json!(["-Infinity"]),
        ],
    );
    assert_eq!(r.text[0], "x\n1e+300\n0.1\n-2.5e-8\n-Infinity\n");
}

/// The JSON text parses, and its rows equal the structured rows cell by cell.
fn assert_json_text_matches_structured(r: &Rendered) {
    let text: Value = match serde_json::from_str(&r.text[0]) {
        Ok(v) => v,
        Err(e) => panic!("JSON text does not parse: {e}\n{}", r.text[0]),
    };
    let keys: Vec<&str> = text
        .as_object()
        .map_or(vec![], |o| o.keys().map(String::as_str).collect());
    let expected_keys: &[&str] = if r.truncated.is_some() {
        &["columns", "rows", "row_count", "truncated", "truncated_by"]
    } else {
        &["columns", "rows", "row_count", "truncated"]
    };
    assert_eq!(keys, expected_keys);
    assert_eq!(text["row_count"], json!(r.row_count));
    assert_eq!(text["truncated"], json!(r.truncated.is_some()));
    assert_eq!(text["row_count"], r.structured["row_count"]);
    let names: Vec<Value> = r.structured["columns"]
        .as_array()
        .map_or(vec![], |c| c.iter().map(|c| c["name"].clone()).collect());
    assert_eq!(text["columns"], Value::Array(names));
    let text_rows = text["rows"].as_array().cloned().unwrap_or_default();
    let objects = r.structured["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(text_rows.len(), objects.len());
    for (cells, object) in text_rows.iter().zip(&objects) {
        let values: Vec<Value> = object
            .as_object()
            .map_or(vec![], |o| o.values().cloned().collect());
        assert_eq!(cells, &Value::Array(values));
    }
}
