;; Memory with no declared maximum, for store-limit / resource-limiter scenarios.
;; grow_forever() grows 1024 pages (64 MiB) at a time, writing the first and last byte
;; of each new chunk, until memory.grow fails, then returns the page count (64513 if unlimited).
(module
  (memory (export "memory") 1)
  (func (export "grow_forever") (result i32)
    (local $old i32)
    (block $full
      (loop $again
        (local.set $old (memory.grow (i32.const 1024)))
        (br_if $full (i32.eq (local.get $old) (i32.const -1)))
        ;; first byte of the new chunk: old * 65536
        (i32.store8 (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1))
        ;; last byte of the new chunk: (old + 1024) * 65536 - 1
        (i32.store8
          (i32.sub
            (i32.mul (i32.add (local.get $old) (i32.const 1024)) (i32.const 65536))
            (i32.const 1))
          (i32.const 1))
        br $again))
    memory.size))
