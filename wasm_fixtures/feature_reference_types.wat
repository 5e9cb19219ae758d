;; Reference-types probe: an externref table and a second (funcref) table.
;; run() = 40*is_null(ext[0]) + (1 - is_null(funcs[0])) + call_indirect funcs[0] = 40+1+1 = 42.
(module
  (type $ret_i32 (func (result i32)))
  (table $ext 1 externref)
  (table $funcs 1 funcref)
  (elem (table $funcs) (i32.const 0) func $one)
  (func $one (type $ret_i32) (i32.const 1))
  (func (export "run") (result i32)
    (i32.add
      (i32.add
        (i32.mul (ref.is_null (table.get $ext (i32.const 0))) (i32.const 40))
        (i32.sub (i32.const 1) (ref.is_null (table.get $funcs (i32.const 0)))))
      (call_indirect $funcs (type $ret_i32) (i32.const 0)))))
