;; Host-import round trips (module "host", 8 imports in a fixed order) with call_* wrappers.
;; checksum() folds h = h*1000003 + x (i64, wrapping) over x = -7, 0x123456789, 10, 1000,
;; 123, 0x100000005 taken from the value-returning imports; expected 4121302867893096928.
(module
  (import "host" "identity_i32" (func $identity_i32 (param i32) (result i32)))
  (import "host" "identity_i64" (func $identity_i64 (param i64) (result i64)))
  (import "host" "identity_f32" (func $identity_f32 (param f32) (result f32)))
  (import "host" "identity_f64" (func $identity_f64 (param f64) (result f64)))
  (import "host" "add_i32" (func $add_i32 (param i32 i32) (result i32)))
  (import "host" "add_i64" (func $add_i64 (param i64 i64) (result i64)))
  (import "host" "record" (func $record (param i32)))
  (import "host" "trap" (func $trap))

  (func (export "call_identity_i32") (param i32) (result i32)
    (call $identity_i32 (local.get 0)))
  (func (export "call_identity_i64") (param i64) (result i64)
    (call $identity_i64 (local.get 0)))
  (func (export "call_identity_f32") (param f32) (result f32)
    (call $identity_f32 (local.get 0)))
  (func (export "call_identity_f64") (param f64) (result f64)
    (call $identity_f64 (local.get 0)))
  (func (export "call_add_i32") (param i32 i32) (result i32)
    (call $add_i32 (local.get 0) (local.get 1)))
  (func (export "call_add_i64") (param i64 i64) (result i64)
    (call $add_i64 (local.get 0) (local.get 1)))
  (func (export "call_record") (param i32)
    (call $record (local.get 0)))
  (func (export "call_trap")
    (call $trap))

  ;; h = h * 1000003 + x
  (func $mix (param $h i64) (param $x i64) (result i64)
    (i64.add (i64.mul (local.get $h) (i64.const 1000003)) (local.get $x)))

  (func (export "checksum") (result i64)
    (local $h i64)
    ;; -7: sign must survive the i32 round trip
    (local.set $h (call $mix (local.get $h)
      (i64.extend_i32_s (call $identity_i32 (i32.const -7)))))
    ;; 0x123456789: bits above 32 must survive the i64 round trip
    (local.set $h (call $mix (local.get $h)
      (call $identity_i64 (i64.const 0x123456789))))
    ;; 2.5 * 4 = 10
    (local.set $h (call $mix (local.get $h)
      (i64.trunc_f32_s (f32.mul (call $identity_f32 (f32.const 2.5)) (f32.const 4)))))
    ;; 0.125 * 8000 = 1000
    (local.set $h (call $mix (local.get $h)
      (i64.trunc_f64_s (f64.mul (call $identity_f64 (f64.const 0.125)) (f64.const 8000)))))
    ;; 100 + 23 = 123
    (local.set $h (call $mix (local.get $h)
      (i64.extend_i32_s (call $add_i32 (i32.const 100) (i32.const 23)))))
    ;; 0x100000000 + 5 = 0x100000005
    (local.set $h (call $mix (local.get $h)
      (call $add_i64 (i64.const 0x100000000) (i64.const 5))))
    local.get $h))
