;; Memory64 probe: an i64-indexed memory; run() stores 41 at i64 address 8, loads it,
;; and adds memory.size (an i64, 1 page) for 41 + 1 = 42.
(module
  (memory i64 1)
  (func (export "run") (result i32)
    (i32.store (i64.const 8) (i32.const 41))
    (i32.add
      (i32.load (i64.const 8))
      (i32.wrap_i64 (memory.size)))))
