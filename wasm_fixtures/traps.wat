;; One export per trap kind. Returning ()->(): unreachable, oob_store.
;; All others are ()->i32 (the i32 is never produced; each call traps).
(module
  (type $void_to_i32 (func (result i32)))
  (type $i32_to_i32 (func (param i32) (result i32)))
  (memory 1 1)
  (table 2 funcref)
  ;; slot 0 holds a ()->i32 function, slot 1 stays null
  (elem (i32.const 0) $forty_two)
  ;; operands live in mutable globals so no compiler can fold the trapping op away
  (global $zero (mut i32) (i32.const 0))
  (global $minus_one (mut i32) (i32.const -1))
  (global $int_min (mut i32) (i32.const 0x80000000))
  (global $nan (mut f32) (f32.const nan))

  (func $forty_two (type $void_to_i32)
    i32.const 42)

  (func $recurse (param $depth i32) (result i32)
    ;; non-tail recursion: the add after the call keeps every frame alive
    (i32.add
      (call $recurse (i32.add (local.get $depth) (i32.const 1)))
      (i32.const 1)))

  (func (export "unreachable")
    unreachable)

  (func (export "div_by_zero") (result i32)
    (i32.div_u (i32.const 1) (global.get $zero)))

  (func (export "int_overflow") (result i32)
    (i32.div_s (global.get $int_min) (global.get $minus_one)))

  (func (export "oob_load") (result i32)
    ;; memory is exactly one page, so address 65536 is one past the end
    (i32.load (i32.add (i32.const 65536) (global.get $zero))))

  (func (export "oob_store")
    (i32.store (i32.add (i32.const 65536) (global.get $zero)) (i32.const 7)))

  (func (export "stack_overflow") (result i32)
    (call $recurse (i32.const 0)))

  (func (export "indirect_null") (result i32)
    (call_indirect (type $void_to_i32) (i32.add (i32.const 1) (global.get $zero))))

  (func (export "indirect_bad_sig") (result i32)
    ;; slot 0 is ()->i32 but we call it as (i32)->i32
    (call_indirect (type $i32_to_i32) (i32.const 5) (global.get $zero)))

  (func (export "bad_conversion") (result i32)
    (i32.trunc_f32_s (global.get $nan))))
