;; Host functions that misbehave in native code: one never returns (signals blocked, so only
;; SIGKILL ends it), one writes megabytes of hostile bytes to stdout.
(module
  (import "host" "block" (func $block))
  (import "host" "flood" (func $flood (param i32)))
  (func (export "call_block") call $block)
  (func (export "call_flood") (param $megabytes i32)
    local.get $megabytes
    call $flood))
