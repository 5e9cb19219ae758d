;; Legacy exception-handling probe (pre-2023 try/catch/end form, written flat because
;; wasm-tools 1.262 rejects the folded (do ...) form): callee throws tag $e with 42, run() returns it.
(module
  (tag $e (param i32))
  (func $thrower (param $v i32)
    (throw $e (local.get $v)))
  (func (export "run") (result i32)
    try (result i32)
      i32.const 42
      call $thrower
      ;; only reached if nothing was thrown
      i32.const 0
    catch $e
      ;; the tag payload (42) is on the stack here
    end))
