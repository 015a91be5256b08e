-- synthetic.default.numbers on real Trino: the emulator's lazily generated 10-million-row
-- table, here on the blackhole connector (compose/trino/etc/catalog/synthetic.properties).
-- 10 splits x 1000 pages x 1000 rows, each page delayed 10 ms: the first rows come at once,
-- the whole table takes minutes, so query_max_run_time and cancellation can be checked.
-- (Blackhole rows are constant, not 0..n-1; no check reads their values.)
CREATE SCHEMA IF NOT EXISTS synthetic.default;
CREATE TABLE synthetic.default.numbers (id bigint)
WITH (split_count = 10, pages_per_split = 1000, rows_per_page = 1000, page_processing_delay = '10ms');
