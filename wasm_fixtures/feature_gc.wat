;; GC proposal probe: run() allocates a struct {i32, mut i32} with struct.new,
;; updates field 1 with struct.set and returns field0 + field1 = 40 + 2 = 42.
(module
  (type $pair (struct (field i32) (field (mut i32))))
  (func (export "run") (result i32)
    (local $p (ref null $pair))
    (local.set $p (struct.new $pair (i32.const 40) (i32.const 0)))
    (struct.set $pair 1 (local.get $p) (i32.const 2))
    (i32.add
      (struct.get $pair 0 (local.get $p))
      (struct.get $pair 1 (local.get $p)))))
