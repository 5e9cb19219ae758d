;; Multi-memory probe: two memories; run() stores 40 into $a, reads 2 from $b's data
;; segment, and returns their sum 42 (40 means the data segment for $b was not applied).
(module
  (memory $a 1)
  (memory $b 1)
  (data (memory $b) (i32.const 100) "\02")
  (func (export "run") (result i32)
    (i32.store $a (i32.const 100) (i32.const 40))
    (i32.add
      (i32.load $a (i32.const 100))
      (i32.load8_u $b (i32.const 100)))))
