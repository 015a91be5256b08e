//! Queries: parse, qualify names, plan with DataFusion, check operators the way Trino's
//! analyzer does, name output columns Trino-style, and stream encoded rows.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Ident, Query, SelectItem, SetExpr, Statement,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use futures::StreamExt;

use super::Inner;
use super::encode::encode_batch;
use super::errmap::{map_error, map_runtime};
use super::resolve::{OutputItem, TableRef, output_items, qualify_query};
use super::sql::{Tok, parser_error, tokenize};
use super::types::{TrinoType, field_type};
use crate::errors::TrinoError;
use crate::model::{ClientSession, RowStream};

/// Nesting limit handed to sqlparser (Trino accepts deep nesting, but not unbounded).
const RECURSION_LIMIT: usize = 200;
/// Operators per statement; longer chains would nest expression trees too deeply.
const MAX_OPERATORS: usize = 20_000;

/// A query that passed analysis.
pub struct Planned {
    pub plan: LogicalPlan,
    pub names: Vec<String>,
    pub types: Vec<TrinoType>,
    pub tables: Vec<TableRef>,
    pub state: SessionState,
}

/// Parses one query statement; `lower_quoted` lower-cases quoted identifiers, since Trino
/// resolves names case-insensitively even when quoted.
pub fn parse_query(sql: &str, lower_quoted: bool) -> Result<Query, TrinoError> {
    let dialect = GenericDialect {};
    let mut tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| parser_error(sql, &e.to_string()))?;
    if lower_quoted {
        for t in &mut tokens {
            if let Token::Word(w) = &mut t.token
                && w.quote_style.is_some()
            {
                w.value = w.value.to_lowercase();
            }
        }
    }
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let statements = parser
        .parse_statements()
        .map_err(|e| parser_error(sql, &e.to_string()))?;
    let mut statements = statements.into_iter();
    match (statements.next(), statements.next()) {
        (Some(Statement::Query(q)), None) => Ok(*q),
        (Some(_), None) => Err(TrinoError::new(
            "NOT_SUPPORTED",
            "This statement is not supported",
        )),
        (None, _) => Err(TrinoError::new(
            "SYNTAX_ERROR",
            "mismatched input '<EOF>'. Expecting: <query>",
        )
        .at(1, 1)),
        (Some(_), Some(_)) => {
            Err(TrinoError::new("SYNTAX_ERROR", "mismatched input ';'. Expecting: <EOF>").at(1, 1))
        }
    }
}

/// Analyses a query for `session`.
pub async fn plan_query(
    inner: &Inner,
    sql: &str,
    session: &ClientSession,
) -> Result<Planned, TrinoError> {
    let toks = tokenize(sql)?;
    let operators = toks
        .iter()
        .filter(|t| {
            matches!(
                t.token,
                Token::Plus
                    | Token::Minus
                    | Token::Mul
                    | Token::Div
                    | Token::Eq
                    | Token::StringConcat
            ) || matches!(t.keyword().as_deref(), Some("AND" | "OR"))
        })
        .count();
    if operators > MAX_OPERATORS {
        return Err(TrinoError::new(
            "GENERIC_USER_ERROR",
            "Statement is too large (stack overflow during analysis)",
        ));
    }
    let original = parse_query(sql, false)?;
    let items = output_items(&original);
    drop(original);
    let mut query = parse_query(sql, true)?;
    alias_unnamed(&mut query);
    let tables = qualify_query(inner, &mut query, session)?;
    let state = inner.session_state(session);
    let statement = DfStatement::Statement(Box::new(Statement::Query(Box::new(query))));
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| map_error(&e, sql, &toks))?;
    check_operators(&plan, &toks)?;
    let (names, types) = output_columns(plan.schema(), items.as_deref());
    Ok(Planned {
        plan,
        names,
        types,
        tables,
        state,
    })
}

/// DataFusion names unaliased expressions after their text and refuses two equal names
/// (`CAST(x AS double), CAST(x AS real)`); Trino names them by position. Give each a
/// temporary unique alias; `output_columns` then applies Trino's `_colN`.
fn alias_unnamed(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    for (i, item) in select.projection.iter_mut().enumerate() {
        if let SelectItem::UnnamedExpr(expr) = item
            && !matches!(
                expr,
                SqlExpr::Identifier(_) | SqlExpr::CompoundIdentifier(_)
            )
        {
            let expr = std::mem::replace(
                expr,
                SqlExpr::value(datafusion::sql::sqlparser::ast::Value::Null),
            );
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::new(format!("__expr_{i}")),
            };
        }
    }
}

/// Trino's output names: aliases and column references as written, `_colN` otherwise.
fn output_columns(
    schema: &DFSchema,
    items: Option<&[OutputItem]>,
) -> (Vec<String>, Vec<TrinoType>) {
    let fields = schema.fields();
    let mut names: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    let mut types: Vec<TrinoType> = fields.iter().map(|f| field_type(f)).collect();
    let Some(items) = items else {
        return (names, types);
    };
    let wildcards = items
        .iter()
        .filter(|i| matches!(i, OutputItem::Wildcard))
        .count();
    let fixed = items.len() - wildcards;
    let fits = match wildcards {
        0 => fields.len() == fixed,
        1 => fields.len() >= fixed,
        _ => false,
    };
    if !fits {
        return (names, types);
    }
    let expanded = fields.len() - fixed;
    let mut pos = 0;
    for item in items {
        match item {
            OutputItem::Wildcard => pos += expanded,
            OutputItem::Named(n, cast) => {
                names[pos] = n.clone();
                apply_cast(&mut types[pos], cast.as_deref());
                pos += 1;
            }
            OutputItem::Expr { int, cast } => {
                names[pos] = format!("_col{pos}");
                if *int && types[pos] == TrinoType::BigInt {
                    types[pos] = TrinoType::Integer;
                }
                apply_cast(&mut types[pos], cast.as_deref());
                pos += 1;
            }
        }
    }
    (names, types)
}

/// A top-level `CAST(x AS char(n))` or `varchar(n)` is that type in Trino, while Arrow only
/// knows "string"; other casts already come back with the right Arrow type.
fn apply_cast(ty: &mut TrinoType, cast: Option<&str>) {
    let Some(Ok(target)) = cast.map(TrinoType::parse) else {
        return;
    };
    if matches!(ty, TrinoType::Varchar(_) | TrinoType::Char(_))
        && matches!(target, TrinoType::Varchar(_) | TrinoType::Char(_))
    {
        *ty = target;
    }
}

/// Trino rejects comparing or combining numbers with strings or booleans instead of casting.
fn check_operators(plan: &LogicalPlan, toks: &[Tok]) -> Result<(), TrinoError> {
    let mut found: Option<TrinoError> = None;
    let _ = plan.apply(|node| {
        let inputs = node.inputs();
        let schema = match inputs.as_slice() {
            [one] => one.schema().clone(),
            [l, r] => match l.schema().join(r.schema()) {
                Ok(s) => Arc::new(s),
                Err(_) => return Ok(TreeNodeRecursion::Continue),
            },
            _ => return Ok(TreeNodeRecursion::Continue),
        };
        node.apply_expressions(|e| {
            e.apply(|x| {
                if let Expr::BinaryExpr(b) = x
                    && let Some(err) = operator_mismatch(&b.left, b.op, &b.right, &schema, toks)
                {
                    found = Some(err);
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found.map_or(Ok(()), Err)
}

fn operator_mismatch(
    left: &Expr,
    op: Operator,
    right: &Expr,
    schema: &DFSchema,
    toks: &[Tok],
) -> Option<TrinoError> {
    let symbol = match op {
        Operator::Eq => "=",
        Operator::NotEq => "<>",
        Operator::Lt => "<",
        Operator::LtEq => "<=",
        Operator::Gt => ">",
        Operator::GtEq => ">=",
        Operator::Plus => "+",
        Operator::Minus => "-",
        Operator::Multiply => "*",
        Operator::Divide => "/",
        Operator::Modulo => "%",
        _ => return None,
    };
    let (lt, rt) = (left.get_type(schema).ok()?, right.get_type(schema).ok()?);
    let kind = |t: &DataType| {
        if t.is_numeric() {
            1
        } else if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            2
        } else if matches!(t, DataType::Boolean) {
            3
        } else {
            0
        }
    };
    let (lk, rk) = (kind(&lt), kind(&rt));
    if lk == 0 || rk == 0 || lk == rk {
        return None;
    }
    let describe = |e: &Expr| -> String {
        match e {
            Expr::Literal(ScalarValue::Utf8(Some(s)), _) => {
                format!("varchar({})", s.chars().count())
            }
            Expr::Literal(ScalarValue::Int64(Some(v)), _) if i32::try_from(*v).is_ok() => {
                "integer".into()
            }
            other => match other.to_field(schema) {
                Ok((_, f)) => field_type(&f).compact(),
                Err(_) => "unknown".into(),
            },
        }
    };
    let message = format!(
        "Cannot apply operator: {} {symbol} {}",
        describe(left),
        describe(right)
    );
    let err = TrinoError::new("TYPE_MISMATCH", message);
    match operator_location(toks, symbol, left, right) {
        Some((l, c)) => Some(err.at(l, c)),
        None => Some(err),
    }
}

/// The operator token next to a string literal operand, else the first such operator.
fn operator_location(toks: &[Tok], symbol: &str, left: &Expr, right: &Expr) -> Option<(u32, u32)> {
    let is_op =
        |t: &Tok| t.token.to_string() == symbol || (symbol == "<>" && t.token == Token::Neq);
    let literal = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _) => Some(s.clone()),
        _ => None,
    };
    for (i, t) in toks.iter().enumerate() {
        if let Token::SingleQuotedString(s) = &t.token {
            if literal(right).as_ref() == Some(s) && i > 0 && is_op(&toks[i - 1]) {
                return Some((toks[i - 1].line, toks[i - 1].col));
            }
            if literal(left).as_ref() == Some(s) && toks.get(i + 1).is_some_and(is_op) {
                return Some((toks[i + 1].line, toks[i + 1].col));
            }
        }
    }
    toks.iter().find(|t| is_op(t)).map(|t| (t.line, t.col))
}

/// Physical planning; errors that Trino raises only while running (division by zero found
/// by constant folding) are deferred into the row stream.
pub async fn physical(
    planned: &Planned,
    toks: &[Tok],
    sql: &str,
) -> Result<Result<Arc<dyn ExecutionPlan>, TrinoError>, TrinoError> {
    match planned.state.create_physical_plan(&planned.plan).await {
        Ok(p) => Ok(Ok(p)),
        Err(e) => {
            let err = map_error(&e, sql, toks);
            if matches!(
                err.name,
                "DIVISION_BY_ZERO" | "INVALID_CAST_ARGUMENT" | "NUMERIC_VALUE_OUT_OF_RANGE"
            ) {
                Ok(Err(TrinoError {
                    location: None,
                    ..err
                }))
            } else {
                Err(err)
            }
        }
    }
}

/// Streams the rows of a planned query, encoded for the client.
pub async fn rows(planned: &Planned, sql: &str, parametric: bool) -> Result<RowStream, TrinoError> {
    let toks = tokenize(sql)?;
    let plan = match physical(planned, &toks, sql).await? {
        Ok(p) => p,
        Err(deferred) => {
            return Ok(Box::pin(futures::stream::once(
                async move { Err(deferred) },
            )));
        }
    };
    let stream =
        execute_stream(plan, planned.state.task_ctx()).map_err(|e| map_error(&e, sql, &toks))?;
    let types = planned.types.clone();
    Ok(Box::pin(stream.map(move |batch| match batch {
        Ok(b) => Ok(encode_batch(&b, &types, parametric)),
        Err(e) => Err(map_runtime(&e)),
    })))
}
