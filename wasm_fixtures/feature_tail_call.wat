;; Tail-call proposal probe: run() = 42 via 1,000,000 return_call steps, which would
;; overflow the stack if return_call were not a real tail call.
(module
  (func $count (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else
        (return_call $count
          (i32.sub (local.get $n) (i32.const 1))
          (i32.add (local.get $acc) (i32.const 1))))))
  (func (export "run") (result i32)
    (call $count (i32.const 1000000) (i32.const -999958))))
