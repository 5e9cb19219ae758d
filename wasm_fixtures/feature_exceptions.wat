;; Exception-handling probe (current proposal, exnref era): a callee throws tag $e
;; with payload 42; run() catches it with try_table/catch and returns the payload.
(module
  (tag $e (param i32))
  (func $thrower (param $v i32)
    (throw $e (local.get $v)))
  (func (export "run") (result i32)
    (block $caught (result i32)
      (try_table (catch $e $caught)
        (call $thrower (i32.const 42)))
      ;; only reached if nothing was thrown
      (i32.const 0))))
