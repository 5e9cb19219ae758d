;; Threads probe: shared memory plus atomics. run() atomically stores 40, does
;; i32.atomic.rmw.add of 2 (old value 40 is checked) and atomically loads 42.
(module
  (memory 1 1 shared)
  (func (export "run") (result i32)
    (i32.atomic.store (i32.const 64) (i32.const 40))
    (if (i32.ne (i32.atomic.rmw.add (i32.const 64) (i32.const 2)) (i32.const 40))
      (then unreachable))
    (i32.atomic.load (i32.const 64))))
