//! EXPLAIN in Trino's shapes: one `Query Plan` varchar cell (or `Valid` for TYPE VALIDATE),
//! with the text derived from DataFusion's optimized plan.

use std::time::Instant;

use datafusion::logical_expr::{Expr, LogicalPlan};
use futures::StreamExt;
use serde_json::{Value, json};

use super::Inner;
use super::catalogs::system::VERSION;
use super::output::table;
use super::query::{Planned, plan_query};
use super::resolve::{TableRef, qualify};
use super::sql::{Cursor, shift, tokenize};
use super::statements;
use super::types::{TrinoType, field_type};
use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution};

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Logical,
    Distributed,
    Io,
    Validate,
}

/// Nodes deeper than this are summarised, so a huge plan cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

pub async fn run(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("EXPLAIN")?;
    let parametric = session.parametric_datetime;
    if c.keyword("ANALYZE") {
        let _verbose = c.keyword("VERBOSE");
        if c.peek().map(|t| &t.token) == Some(&datafusion::sql::sqlparser::tokenizer::Token::LParen)
        {
            return Err(TrinoError::new(
                "NOT_SUPPORTED",
                "EXPLAIN ANALYZE doesn't support TYPE or FORMAT options",
            ));
        }
        let text = analyze(inner, c, session).await?;
        return Ok(table(
            &[("Query Plan", TrinoType::Varchar(None))],
            vec![vec![Value::String(text)]],
            parametric,
        ));
    }
    let (kind, json_format) = options(c)?;
    let base = c.location();
    let rest = c.sql.get(c.offset()..).unwrap_or_default();
    if c.at_end() {
        return Err(c.error("<query>"));
    }
    let target = inner_statement(inner, c, session).await?;
    let planned = match &target.query {
        Some(q) => Some(
            plan_query(inner, q, session)
                .await
                .map_err(|e| shift(e, target.base.unwrap_or(base)))?,
        ),
        None => None,
    };
    let text = match kind {
        Kind::Validate => {
            return Ok(table(
                &[("Valid", TrinoType::Boolean)],
                vec![vec![Value::Bool(true)]],
                parametric,
            ));
        }
        Kind::Io => io_json(
            planned.as_ref().map(|p| p.tables.as_slice()).unwrap_or(&[]),
            target.output.as_ref(),
        ),
        Kind::Logical | Kind::Distributed => match &planned {
            Some(p) if json_format => plan_json(p, kind == Kind::Distributed),
            Some(p) => plan_text(p, kind == Kind::Distributed, target.output.as_ref(), None),
            None => rest.trim().to_string(),
        },
    };
    Ok(table(
        &[("Query Plan", TrinoType::Varchar(None))],
        vec![vec![Value::String(text)]],
        parametric,
    ))
}

fn options(c: &mut Cursor) -> Result<(Kind, bool), TrinoError> {
    let mut kind = Kind::Distributed;
    let mut json_format = false;
    let mut io_format_given = false;
    if c.token(&datafusion::sql::sqlparser::tokenizer::Token::LParen) {
        loop {
            if c.keyword("TYPE") {
                kind = match c.peek_keyword().as_deref() {
                    Some("LOGICAL") => Kind::Logical,
                    Some("DISTRIBUTED") => Kind::Distributed,
                    Some("IO") => Kind::Io,
                    Some("VALIDATE") => Kind::Validate,
                    _ => return Err(c.error("'DISTRIBUTED', 'IO', 'LOGICAL', 'VALIDATE'")),
                };
                c.pos += 1;
            } else if c.keyword("FORMAT") {
                json_format = match c.peek_keyword().as_deref() {
                    Some("TEXT") => false,
                    Some("JSON") => true,
                    Some("GRAPHVIZ") => {
                        return Err(TrinoError::new(
                            "NOT_SUPPORTED",
                            "GRAPHVIZ format is not supported",
                        ));
                    }
                    _ => return Err(c.error("'GRAPHVIZ', 'JSON', 'TEXT'")),
                };
                io_format_given = true;
                c.pos += 1;
            } else {
                return Err(c.error("'FORMAT', 'TYPE'"));
            }
            if c.token(&datafusion::sql::sqlparser::tokenizer::Token::Comma) {
                continue;
            }
            c.expect_token(
                &datafusion::sql::sqlparser::tokenizer::Token::RParen,
                "')', ','",
            )?;
            break;
        }
    }
    if kind == Kind::Io && io_format_given && !json_format {
        return Err(TrinoError::new(
            "NOT_SUPPORTED",
            "EXPLAIN (TYPE IO) supports only FORMAT JSON",
        ));
    }
    Ok((kind, json_format))
}

/// The statement being explained: its query part and, for writes, the target table.
struct Target {
    query: Option<String>,
    base: Option<(u32, u32)>,
    output: Option<TableRef>,
}

async fn inner_statement(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Target, TrinoError> {
    let start = c.pos;
    let rest = |c: &Cursor| {
        (
            c.sql.get(c.offset()..).unwrap_or_default().to_string(),
            c.location(),
        )
    };
    let first = c.peek_keyword().unwrap_or_default();
    let is_paren =
        c.peek().map(|t| &t.token) == Some(&datafusion::sql::sqlparser::tokenizer::Token::LParen);
    if is_paren || matches!(first.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE") {
        let (q, base) = rest(c);
        return Ok(Target {
            query: Some(q),
            base: Some(base),
            output: None,
        });
    }
    if c.keywords(&["INSERT", "INTO"]) {
        let (parts, loc) = c.qualified_name()?;
        let t = qualify(&parts, session, loc)?;
        inner.check_table(&t, session, loc, super::resolve::Access::Insert)?;
        if c.peek().map(|x| &x.token) == Some(&datafusion::sql::sqlparser::tokenizer::Token::LParen)
            && !matches!(
                c.peek_keyword_at(1).as_deref(),
                Some("SELECT" | "WITH" | "VALUES")
            )
        {
            while !c.at_end() && !c.token(&datafusion::sql::sqlparser::tokenizer::Token::RParen) {
                c.pos += 1;
            }
        }
        let (q, base) = rest(c);
        return Ok(Target {
            query: Some(q),
            base: Some(base),
            output: Some(t),
        });
    }
    if c.keywords(&["CREATE", "TABLE"]) {
        let _ = c.keywords(&["IF", "NOT", "EXISTS"]);
        let (parts, loc) = c.qualified_name()?;
        let t = qualify(&parts, session, loc)?;
        while !c.at_end() && !c.keyword("AS") {
            c.pos += 1;
        }
        if !c.at_end() {
            let (q, base) = rest(c);
            return Ok(Target {
                query: Some(q),
                base: Some(base),
                output: Some(t),
            });
        }
    }
    c.pos = start;
    // Other statements are only parsed: EXPLAIN never executes them.
    let first_ok = matches!(
        first.as_str(),
        "SHOW" | "DESCRIBE" | "DESC" | "USE" | "SET" | "RESET" | "CREATE" | "DROP"
    );
    if !first_ok {
        return Err(super::sql::unknown_statement(c));
    }
    Ok(Target {
        query: None,
        base: None,
        output: None,
    })
}

impl Cursor<'_> {
    fn peek_keyword_at(&self, ahead: usize) -> Option<String> {
        self.toks.get(self.pos + ahead).and_then(|t| t.keyword())
    }
}

async fn analyze(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<String, TrinoError> {
    let base = c.location();
    let rest = c.sql.get(c.offset()..).unwrap_or_default().to_string();
    let started = Instant::now();
    let execution = Box::pin(statements::run(inner, &rest, session))
        .await
        .map_err(|e| shift(e, base))?;
    let analysis = started.elapsed();
    let mut rows = 0u64;
    let mut stream = execution.rows;
    while let Some(batch) = stream.next().await {
        rows += batch?.len() as u64;
    }
    let total = started.elapsed();
    let stats = format!(
        "Queued: 0.00ns, Analysis: {}, Planning: 0.00ns, Execution: {}",
        duration(analysis.as_secs_f64()),
        duration((total - analysis).as_secs_f64())
    );
    let toks = tokenize(&rest)?;
    let mut sub = Cursor::new(&rest, toks);
    let target = inner_statement(inner, &mut sub, session).await.ok();
    let planned = match target.as_ref().and_then(|t| t.query.clone()) {
        Some(q) if target.as_ref().and_then(|t| t.output.as_ref()).is_none() => {
            plan_query(inner, &q, session).await.ok()
        }
        _ => None,
    };
    Ok(match planned {
        Some(p) => plan_text(&p, true, None, Some((stats, rows))),
        None => format!(
            "Trino version: {VERSION}\n{stats}\nFragment 0 [SINGLE]\n    Output: {rows} rows\n    Output layout: [rows]\n    Output partitioning: SINGLE []\n    TableCommit[]\n        Layout: [rows:bigint]"
        ),
    })
}

fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.2}ms", secs * 1000.0)
    } else {
        format!("{secs:.2}s")
    }
}

/// Trino's text tree: `└─ ` for the last child, `├─ ` otherwise, details under `│   `.
fn plan_text(
    p: &Planned,
    distributed: bool,
    output: Option<&TableRef>,
    analyzed: Option<(String, u64)>,
) -> String {
    let optimized = p.state.optimize(&p.plan).unwrap_or_else(|_| p.plan.clone());
    let layout = |names: &[String], types: &[TrinoType]| {
        names
            .iter()
            .zip(types)
            .map(|(n, t)| format!("{n}:{}", t.display(true)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut root = Node {
        title: match output {
            Some(t) => format!("TableCommit[target = {}]", t.qualified()),
            None => format!("Output[columnNames = [{}]]", p.names.join(", ")),
        },
        details: vec![
            format!("Layout: [{}]", layout(&p.names, &p.types)),
            ESTIMATES.into(),
        ],
        children: vec![node(&optimized, &p.tables, 0)],
    };
    if let Some(t) = output {
        root.details = vec!["Layout: [rows:bigint]".into(), ESTIMATES.into()];
        root.children = vec![Node {
            title: format!("TableWriter[table = {}]", t.qualified()),
            details: vec![ESTIMATES.into()],
            children: root.children,
        }];
    }
    let mut out = format!("Trino version: {VERSION}\n");
    let indent = if distributed { "    " } else { "" };
    if let Some((stats, _)) = &analyzed {
        out.push_str(stats);
        out.push('\n');
    }
    if distributed {
        out.push_str("Fragment 0 [SINGLE]\n");
        if let Some((_, rows)) = &analyzed {
            out.push_str(&format!("    Output: {rows} rows\n"));
        }
        out.push_str(&format!("    Output layout: [{}]\n", p.names.join(", ")));
        out.push_str("    Output partitioning: SINGLE []\n");
    }
    render(&root, indent, "", "", &mut out);
    out.trim_end().to_string()
}

const ESTIMATES: &str = "Estimates: {rows: ? (?), cpu: ?, memory: ?, network: ?}";

struct Node {
    title: String,
    details: Vec<String>,
    children: Vec<Node>,
}

fn render(n: &Node, indent: &str, head: &str, tail: &str, out: &mut String) {
    out.push_str(&format!("{indent}{head}{}\n", n.title));
    let bar = if n.children.is_empty() {
        "    "
    } else {
        "│   "
    };
    for d in &n.details {
        out.push_str(&format!("{indent}{tail}{bar}{d}\n"));
    }
    let count = n.children.len();
    for (i, child) in n.children.iter().enumerate() {
        let last = i + 1 == count;
        let (h, t) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        render(
            child,
            indent,
            &format!("{tail}{h}"),
            &format!("{tail}{t}"),
            out,
        );
    }
}

fn expr_text(e: &Expr, tables: &[TableRef]) -> String {
    let mut s = e.to_string();
    for t in tables {
        s = s.replace(&format!("{}.", t.qualified()), "");
    }
    s
}

fn node(plan: &LogicalPlan, tables: &[TableRef], depth: usize) -> Node {
    let schema = plan.schema();
    let layout = schema
        .fields()
        .iter()
        .map(|f| format!("{}:{}", f.name(), field_type(f).display(true)))
        .collect::<Vec<_>>()
        .join(", ");
    let exprs = |es: &[Expr]| {
        es.iter()
            .map(|e| expr_text(e, tables))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut details = vec![format!("Layout: [{layout}]"), ESTIMATES.to_string()];
    let title = match plan {
        LogicalPlan::Projection(p) => {
            for (e, f) in p.expr.iter().zip(schema.fields()) {
                if !matches!(e, Expr::Column(_)) {
                    details.push(format!("{} := {}", f.name(), expr_text(e, tables)));
                }
            }
            "Project[]".to_string()
        }
        LogicalPlan::Filter(f) => format!(
            "Filter[filterPredicate = {}]",
            expr_text(&f.predicate, tables)
        ),
        LogicalPlan::Aggregate(a) => {
            for (e, f) in a
                .aggr_expr
                .iter()
                .zip(schema.fields().iter().skip(a.group_expr.len()))
            {
                details.push(format!("{} := {}", f.name(), expr_text(e, tables)));
            }
            format!("Aggregate[keys = [{}]]", exprs(&a.group_expr))
        }
        LogicalPlan::Sort(s) => {
            let keys: Vec<String> = s
                .expr
                .iter()
                .map(|k| {
                    format!(
                        "{} {}",
                        expr_text(&k.expr, tables),
                        if k.asc { "ASC" } else { "DESC" }
                    )
                })
                .collect();
            match s.fetch {
                Some(n) => format!("TopN[count = {n}, orderBy = [{}]]", keys.join(", ")),
                None => format!("Sort[orderBy = [{}]]", keys.join(", ")),
            }
        }
        LogicalPlan::Limit(_) => "Limit[]".to_string(),
        LogicalPlan::TableScan(t) => {
            let name = t.table_name.to_string().replace('.', ":");
            for f in schema.fields() {
                details.push(format!(
                    "{} := {}:{}",
                    f.name(),
                    name.split(':').next().unwrap_or_default(),
                    f.name()
                ));
            }
            if !t.filters.is_empty() {
                details.push(format!("filters := {}", exprs(&t.filters)));
            }
            format!("TableScan[table = {name}]")
        }
        LogicalPlan::Join(j) => {
            let on: Vec<String> =
                j.on.iter()
                    .map(|(l, r)| format!("({} = {})", expr_text(l, tables), expr_text(r, tables)))
                    .collect();
            format!("{:?}Join[criteria = {}]", j.join_type, on.join(" AND "))
        }
        LogicalPlan::Union(_) => "Union[]".to_string(),
        LogicalPlan::Values(v) => format!("Values[rows = {}]", v.values.len()),
        LogicalPlan::EmptyRelation(_) => "Values[rows = 1]".to_string(),
        LogicalPlan::Window(_) => "Window[]".to_string(),
        LogicalPlan::Distinct(_) => "Aggregate[keys = [all]]".to_string(),
        LogicalPlan::SubqueryAlias(s) if depth < MAX_DEPTH => {
            return node(&s.input, tables, depth + 1);
        }
        other => other.display().to_string(),
    };
    let children = if depth < MAX_DEPTH {
        plan.inputs()
            .into_iter()
            .map(|c| node(c, tables, depth + 1))
            .collect()
    } else {
        Vec::new()
    };
    Node {
        title,
        details,
        children,
    }
}

fn node_json(n: &Node, id: &mut usize) -> Value {
    let my_id = *id;
    *id += 1;
    let children: Vec<Value> = n.children.iter().map(|c| node_json(c, id)).collect();
    let name = n.title.split('[').next().unwrap_or_default();
    json!({
        "id": my_id.to_string(),
        "name": name,
        "descriptor": {},
        "outputs": [],
        "details": n.details.iter().skip(2).collect::<Vec<_>>(),
        "estimates": [],
        "children": children,
    })
}

fn plan_json(p: &Planned, distributed: bool) -> String {
    let optimized = p.state.optimize(&p.plan).unwrap_or_else(|_| p.plan.clone());
    let root = Node {
        title: "Output[]".into(),
        details: vec![],
        children: vec![node(&optimized, &p.tables, 0)],
    };
    let mut id = 0;
    let mut tree = node_json(&root, &mut id);
    tree["outputs"] = Value::Array(
        p.names
            .iter()
            .zip(&p.types)
            .map(|(n, t)| json!({"symbol": n, "type": t.display(true)}))
            .collect(),
    );
    let value = if distributed {
        json!({"0": tree})
    } else {
        tree
    };
    jackson_pretty(&value, 0)
}

fn estimate() -> Value {
    json!({"outputRowCount": "NaN", "outputSizeInBytes": "NaN", "cpuCost": "NaN", "maxMemory": "NaN", "networkCost": "NaN"})
}

fn table_json(t: &TableRef) -> Value {
    json!({"catalog": t.catalog, "schemaTable": {"schema": t.schema, "table": t.table}})
}

fn io_json(tables: &[TableRef], output: Option<&TableRef>) -> String {
    let mut seen: Vec<&TableRef> = Vec::new();
    for t in tables {
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    let inputs: Vec<Value> = seen
        .iter()
        .map(|t| json!({"table": table_json(t), "columnConstraints": [], "estimate": estimate()}))
        .collect();
    let mut doc = serde_json::Map::new();
    doc.insert("inputTableColumnInfos".into(), Value::Array(inputs));
    if let Some(t) = output {
        doc.insert(
            "outputTable".into(),
            json!({"catalogName": t.catalog, "schemaTable": {"schema": t.schema, "table": t.table}}),
        );
    }
    doc.insert("estimate".into(), estimate());
    jackson_pretty(&Value::Object(doc), 0)
}

/// Jackson's default pretty printer: `"key" : value`, two-space indent, `[ {` arrays.
fn jackson_pretty(v: &Value, level: usize) -> String {
    let pad = "  ".repeat(level + 1);
    let end_pad = "  ".repeat(level);
    match v {
        Value::Object(m) if m.is_empty() => "{ }".into(),
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, val)| {
                    format!(
                        "{pad}{} : {}",
                        Value::String(k.clone()),
                        jackson_pretty(val, level + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{end_pad}}}", items.join(",\n"))
        }
        Value::Array(a) if a.is_empty() => "[ ]".into(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|x| jackson_pretty(x, level)).collect();
            format!("[ {} ]", items.join(", "))
        }
        other => other.to_string(),
    }
}
