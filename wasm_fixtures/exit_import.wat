;; Imports a host-provided `exit` so scenarios can test a host function that
;; raises/terminates from inside a wasm call. call_exit(code) just forwards.
(module
  (import "host" "exit" (func $exit (param i32)))
  (func (export "call_exit") (param $code i32)
    local.get $code
    call $exit))
