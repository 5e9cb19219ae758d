;; Values across the wire: identities per type, floats JSON cannot hold, several results, none.
(module
  (func (export "i32_id") (param i32) (result i32) local.get 0)
  (func (export "i64_id") (param i64) (result i64) local.get 0)
  (func (export "f32_id") (param f32) (result f32) local.get 0)
  (func (export "f64_id") (param f64) (result f64) local.get 0)
  (func (export "f32_nan") (result f32) f32.const nan)
  (func (export "f64_neg_inf") (result f64) f64.const -inf)
  (func (export "pair") (result i32 i64)
    i32.const -1
    i64.const 0x7fffffffffffffff)
  (func (export "nothing")))
