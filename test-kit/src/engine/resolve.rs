//! Name resolution on the parsed query, before DataFusion sees it: every table reference is
//! qualified with the session catalog/schema and checked like Trino (catalog, schema, table,
//! access), with the location of the reference; output column names are derived Trino-style.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr, TableFactor,
    UnaryOperator, Value, Visit, VisitMut, Visitor, VisitorMut,
};

use super::Inner;
use super::catalogs::info_schema;
use crate::errors::TrinoError;
use crate::model::ClientSession;

/// A fully qualified table reference found in a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub catalog: String,
    pub schema: String,
    pub table: String,
}

impl TableRef {
    pub fn qualified(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.table)
    }
}

/// What a statement intends to do with a table, for access checks.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    Select,
    Insert,
    Show,
}

/// Qualifies a name with the session defaults; `loc` is where the name starts.
pub fn qualify(
    parts: &[String],
    session: &ClientSession,
    loc: (u32, u32),
) -> Result<TableRef, TrinoError> {
    let missing_catalog = || {
        TrinoError::new(
            "MISSING_CATALOG_NAME",
            "Catalog must be specified when session catalog is not set",
        )
        .at(loc.0, loc.1)
    };
    let missing_schema = || {
        TrinoError::new(
            "MISSING_SCHEMA_NAME",
            "Schema must be specified when session schema is not set",
        )
        .at(loc.0, loc.1)
    };
    let lower = |s: &Option<String>| s.as_ref().map(|v| v.to_lowercase());
    match parts {
        [t] => Ok(TableRef {
            catalog: lower(&session.catalog).ok_or_else(missing_catalog)?,
            schema: lower(&session.schema).ok_or_else(missing_schema)?,
            table: t.clone(),
        }),
        [s, t] => Ok(TableRef {
            catalog: lower(&session.catalog).ok_or_else(missing_catalog)?,
            schema: s.clone(),
            table: t.clone(),
        }),
        [c, s, t] => Ok(TableRef {
            catalog: c.clone(),
            schema: s.clone(),
            table: t.clone(),
        }),
        _ => Err(TrinoError::new(
            "SYNTAX_ERROR",
            format!("Too many dots in table name: {}", parts.join(".")),
        )
        .at(loc.0, loc.1)),
    }
}

impl Inner {
    /// Checks that a qualified table exists and the user may access it, like Trino's analyzer.
    pub fn check_table(
        &self,
        t: &TableRef,
        session: &ClientSession,
        loc: (u32, u32),
        access: Access,
    ) -> Result<(), TrinoError> {
        let catalog = self.catalog(&t.catalog).ok_or_else(|| {
            TrinoError::new(
                "CATALOG_NOT_FOUND",
                format!("Catalog '{}' not found", t.catalog),
            )
            .at(loc.0, loc.1)
        })?;
        let schema = catalog.schema(&t.schema).ok_or_else(|| {
            TrinoError::new(
                "SCHEMA_NOT_FOUND",
                format!("Schema '{}' does not exist", t.schema),
            )
            .at(loc.0, loc.1)
        })?;
        if !schema.table_exist(&t.table) {
            return Err(TrinoError::new(
                "TABLE_NOT_FOUND",
                format!("Table '{}' does not exist", t.qualified()),
            )
            .at(loc.0, loc.1));
        }
        self.check_access(t, session, access)
    }

    /// `memory.restricted` is readable only by `admin` (the PERMISSION_DENIED fixture), except
    /// `inbox`, a drop box whose columns everyone may see and insert into but not select (as
    /// a user with only INSERT privilege on Trino).
    pub fn check_access(
        &self,
        t: &TableRef,
        session: &ClientSession,
        access: Access,
    ) -> Result<(), TrinoError> {
        let drop_box = t.table == "inbox" && !matches!(access, Access::Select);
        if t.catalog == "memory" && t.schema == "restricted" && session.user != "admin" && !drop_box
        {
            let what = match access {
                Access::Select => "select from table",
                Access::Insert => "insert into table",
                Access::Show => "show columns of table",
            };
            return Err(TrinoError::new(
                "PERMISSION_DENIED",
                format!("Access Denied: Cannot {what} {}", t.qualified()),
            ));
        }
        Ok(())
    }
}

/// Names of all CTEs declared anywhere in the query.
fn cte_names(query: &Query) -> HashSet<String> {
    struct Ctes(HashSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    self.0.insert(cte.alias.name.value.to_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Ctes(HashSet::new());
    let _ = Visit::visit(query, &mut v);
    v.0
}

struct Qualifier<'a> {
    inner: &'a Inner,
    session: &'a ClientSession,
    ctes: HashSet<String>,
    tables: Vec<TableRef>,
}

impl VisitorMut for Qualifier<'_> {
    type Break = TrinoError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<TrinoError> {
        let TableFactor::Table {
            name, args: None, ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let idents: Vec<&Ident> = name.0.iter().filter_map(ObjectNamePart::as_ident).collect();
        let Some(first) = idents.first() else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<String> = idents.iter().map(|i| i.value.to_lowercase()).collect();
        if parts.len() == 1 && self.ctes.contains(&parts[0]) {
            return ControlFlow::Continue(());
        }
        let loc = (first.span.start.line as u32, first.span.start.column as u32);
        let span = first.span;
        let resolved = match qualify(&parts, self.session, loc).and_then(|t| {
            self.inner
                .check_table(&t, self.session, loc, Access::Select)
                .map(|_| t)
        }) {
            Ok(t) => t,
            Err(e) => return ControlFlow::Break(e),
        };
        let quoted = |v: &str| Ident {
            value: v.to_string(),
            quote_style: Some('"'),
            span,
        };
        *name = ObjectName(
            [&resolved.catalog, &resolved.schema, &resolved.table]
                .iter()
                .map(|p| ObjectNamePart::Identifier(quoted(p)))
                .collect(),
        );
        self.tables.push(resolved);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<TrinoError> {
        hide_columns_comment(select);
        ControlFlow::Continue(())
    }
}

/// `SELECT *` over `information_schema.columns` leaves out the hidden `comment` column.
fn hide_columns_comment(select: &mut Select) {
    let [from] = select.from.as_slice() else {
        return;
    };
    if !from.joins.is_empty() {
        return;
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return;
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| i.value.as_str())
        .collect();
    if parts.len() != 3 || parts[1] != info_schema::SCHEMA || parts[2] != "columns" {
        return;
    }
    let mut items = Vec::new();
    for item in select.projection.drain(..) {
        match item {
            SelectItem::Wildcard(_) => items.extend(
                info_schema::COLUMNS_VISIBLE
                    .iter()
                    .map(|c| SelectItem::UnnamedExpr(Expr::Identifier(Ident::new(*c)))),
            ),
            other => items.push(other),
        }
    }
    select.projection = items;
}

/// Qualifies every table reference in `query` (in place) and returns the tables read.
pub fn qualify_query(
    inner: &Inner,
    query: &mut Query,
    session: &ClientSession,
) -> Result<Vec<TableRef>, TrinoError> {
    let mut q = Qualifier {
        inner,
        session,
        ctes: cte_names(query),
        tables: Vec::new(),
    };
    match VisitMut::visit(query, &mut q) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(q.tables),
    }
}

/// How one projection item names its output column(s).
#[derive(Debug, Clone)]
pub enum OutputItem {
    /// Alias or plain column reference: the name as written; `cast` as for `Expr`.
    Named(String, Option<String>),
    /// Any other expression: `_colN`; `int` marks integer-literal arithmetic Trino types
    /// `integer`; `cast` is the target type text of a top-level `CAST`, which Trino reports
    /// as the column type (Arrow loses e.g. `char(n)`).
    Expr { int: bool, cast: Option<String> },
    /// `*` or `t.*`: names come from the plan.
    Wildcard,
}

/// Output naming of the query's first SELECT, when its shape allows it.
pub fn output_items(query: &Query) -> Option<Vec<OutputItem>> {
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::Select(s) => return Some(s.projection.iter().map(item).collect()),
            SetExpr::SetOperation { left, .. } => body = left.as_ref(),
            SetExpr::Query(q) => body = q.body.as_ref(),
            SetExpr::Values(v) => {
                let n = v.rows.first().map(|r| r.len())?;
                return Some(
                    v.rows
                        .first()?
                        .iter()
                        .map(|e| OutputItem::Expr {
                            int: int_literal(e, 0),
                            cast: None,
                        })
                        .take(n)
                        .collect(),
                );
            }
            _ => return None,
        }
    }
}

fn cast_target(e: &Expr) -> Option<String> {
    match e {
        Expr::Cast { data_type, .. } => Some(data_type.to_string().to_lowercase()),
        Expr::Nested(inner) => cast_target(inner),
        _ => None,
    }
}

fn item(item: &SelectItem) -> OutputItem {
    match item {
        SelectItem::ExprWithAlias { alias, expr } => {
            OutputItem::Named(alias.value.clone(), cast_target(expr))
        }
        SelectItem::UnnamedExpr(Expr::Identifier(id)) => OutputItem::Named(id.value.clone(), None),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(ids)) => match ids.last() {
            Some(id) => OutputItem::Named(id.value.clone(), None),
            None => OutputItem::Expr {
                int: false,
                cast: None,
            },
        },
        SelectItem::UnnamedExpr(e) => OutputItem::Expr {
            int: int_literal(e, 0),
            cast: cast_target(e),
        },
        SelectItem::ExprWithAliases { .. } => OutputItem::Expr {
            int: false,
            cast: None,
        },
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => OutputItem::Wildcard,
    }
}

/// Integer literals that fit in 32 bits, and +, -, * of them, are Trino `integer`.
fn int_literal(e: &Expr, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<i32>().is_ok(),
            _ => false,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => int_literal(expr, depth + 1),
        Expr::Nested(inner) => int_literal(inner, depth + 1),
        Expr::BinaryOp { left, op, right } => {
            use datafusion::sql::sqlparser::ast::BinaryOperator as B;
            matches!(op, B::Plus | B::Minus | B::Multiply)
                && int_literal(left, depth + 1)
                && int_literal(right, depth + 1)
        }
        _ => false,
    }
}
