//! Engine tests: see also `test-kit/tests/engine.rs`.
