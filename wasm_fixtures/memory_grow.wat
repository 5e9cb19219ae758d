;; Bounded linear memory (1 page initial, 16 max). grow(delta) returns memory.grow's
;; result (-1 past the max); size() is the page count; touch(page) stores page+1000 in
;; the page's last word and loads it back (traps if the page is not allocated).
(module
  (memory (export "memory") 1 16)
  (func (export "grow") (param $delta i32) (result i32)
    (memory.grow (local.get $delta)))
  (func (export "size") (result i32)
    memory.size)
  (func (export "touch") (param $page i32) (result i32)
    (local $addr i32)
    ;; last 4-byte word of the page: page * 65536 + 65532
    (local.set $addr
      (i32.add (i32.mul (local.get $page) (i32.const 65536)) (i32.const 65532)))
    (i32.store (local.get $addr) (i32.add (local.get $page) (i32.const 1000)))
    (i32.load (local.get $addr))))
