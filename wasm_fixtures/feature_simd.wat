;; SIMD (v128) probe: run() adds two i32x4 vectors (one loaded from memory) and sums
;; the four lanes: (1+8)+(2+8)+(3+8)+(4+8) = 42.
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "run") (result i32)
    (local $v v128)
    (local.set $v
      (i32x4.add (v128.load (i32.const 0)) (i32x4.splat (i32.const 8))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v))))))
